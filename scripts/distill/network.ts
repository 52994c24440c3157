/**
 * Training-time maths for the bag student: float64 master parameters, the
 * standardised forward pass, the distillation + label loss and its analytic
 * gradients. Mirrors src/core/student.ts forward() (which stays the reference
 * for inference); owns no optimiser, no clock and no I/O.
 *
 * Loss over a set S of examples (a mini-batch, or a whole split for eval):
 *   L = α · Σ w·(z − t)² / nT  +  (1 − α) · Σ w·BCE(σ(z), y) / nL
 * where the sums run over the non-NaN teacher entries t and the non-NaN
 * label entries y, w is the example's weight (1 unless set: logged rows carry
 * their clipped inverse propensity, docs/loop.md), and nT / nL are the summed
 * weights of those entries (their counts when every w is 1); a term with no
 * entries contributes 0. A masked (NaN) entry adds nothing, so a head the row
 * did not observe gets no gradient from it.
 */
import type { StudentShape } from "../../src/core/student.js";

/** One featurised prompt. teacher/label have one entry per pool model; NaN = missing/masked. */
export interface Example {
  ids: Int32Array;
  dense: Float32Array;
  teacher?: Float32Array;
  label?: Float32Array;
  /** Fixed per-model logit offset added to the output (the fitted wide part); not trained here. */
  offset?: Float64Array;
  /** Sample weight of both loss terms (default 1); > 0 and finite (the trainer checks). */
  weight?: number;
  /** The row's task, when the data names one (only the task prior reads it: scripts/distill/task-prior.ts). */
  task?: string;
}

/** Master parameters in float64, same layouts as StudentWeights. */
export interface Params {
  shape: StudentShape;
  emb: Float64Array; // V×D
  w1: Float64Array; // (D+F)×H
  b1: Float64Array; // H
  w2: Float64Array; // H×M
  b2: Float64Array; // M
}

/** Dense-feature standardisation applied before w1 during training (folded in at export). */
export interface Standardizer {
  mean: Float64Array; // F
  std: Float64Array; // F, never 0
}

/** Gradient buffers; emb is dense storage but only `touched` rows are non-zero. */
export interface Grads {
  emb: Float64Array;
  w1: Float64Array;
  b1: Float64Array;
  w2: Float64Array;
  b2: Float64Array;
  touched: number[];
  isTouched: Uint8Array; // V
}

export interface LossParts {
  loss: number;
  sq: number; // Σ w·(z − t)²
  nT: number; // Σ w over teacher entries
  bce: number; // Σ w·BCE
  nL: number; // Σ w over label entries
}

export function zeroParams(shape: StudentShape): Params {
  const { buckets: V, dim: D, dense: F, hidden: H, outputs: M } = shape;
  return {
    shape,
    emb: new Float64Array(V * D),
    w1: new Float64Array((D + F) * H),
    b1: new Float64Array(H),
    w2: new Float64Array(H * M),
    b2: new Float64Array(M),
  };
}

export function newGrads(shape: StudentShape): Grads {
  const p = zeroParams(shape);
  return { emb: p.emb, w1: p.w1, b1: p.b1, w2: p.w2, b2: p.b2, touched: [], isTouched: new Uint8Array(shape.buckets) };
}

/** Clears dense grads fully and the embedding grads only on touched rows. */
export function clearGrads(g: Grads, dim: number): void {
  g.w1.fill(0);
  g.b1.fill(0);
  g.w2.fill(0);
  g.b2.fill(0);
  for (const r of g.touched) {
    g.emb.fill(0, r * dim, (r + 1) * dim);
    g.isTouched[r] = 0;
  }
  g.touched.length = 0;
}

/** log(1 + e^z) without overflow. */
export function softplus(z: number): number {
  return Math.max(z, 0) + Math.log1p(Math.exp(-Math.abs(z)));
}

export function sigmoid(z: number): number {
  return z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z));
}

/** Scratch buffers reused across examples to keep the hot loop allocation-free. */
export class Workspace {
  readonly x: Float64Array;
  readonly pre: Float64Array;
  readonly h: Float64Array;
  readonly z: Float64Array;
  readonly dz: Float64Array;
  readonly dpre: Float64Array;
  constructor(readonly shape: StudentShape) {
    const { dim: D, dense: F, hidden: H, outputs: M } = shape;
    this.x = new Float64Array(D + F);
    this.pre = new Float64Array(H);
    this.h = new Float64Array(H);
    this.z = new Float64Array(M);
    this.dz = new Float64Array(M);
    this.dpre = new Float64Array(H);
  }
}

/** Forward pass for one example into ws.z (logits), with standardised dense features. */
export function forwardInto(p: Params, s: Standardizer, ex: Example, ws: Workspace): Float64Array {
  const { dim: D, dense: F, hidden: H, outputs: M } = p.shape;
  const { x, pre, h, z } = ws;
  x.fill(0);
  const L = ex.ids.length;
  if (L > 0) {
    for (let t = 0; t < L; t++) {
      const off = ex.ids[t] * D;
      for (let d = 0; d < D; d++) x[d] += p.emb[off + d];
    }
    for (let d = 0; d < D; d++) x[d] /= L;
  }
  for (let f = 0; f < F; f++) x[D + f] = (ex.dense[f] - s.mean[f]) / s.std[f];
  pre.set(p.b1);
  for (let i = 0; i < D + F; i++) {
    const xi = x[i];
    if (xi === 0) continue;
    const row = i * H;
    for (let j = 0; j < H; j++) pre[j] += xi * p.w1[row + j];
  }
  for (let j = 0; j < H; j++) h[j] = pre[j] > 0 ? pre[j] : 0;
  z.set(p.b2);
  if (ex.offset) for (let m = 0; m < M; m++) z[m] += ex.offset[m];
  for (let j = 0; j < H; j++) {
    const hj = h[j];
    if (hj === 0) continue;
    const row = j * M;
    for (let m = 0; m < M; m++) z[m] += hj * p.w2[row + m];
  }
  return z;
}

/** Weighted counts (Σ example weight) of the non-missing teacher and label entries of a set of examples. */
export function countTargets(examples: Example[], idx: ArrayLike<number>, from = 0, to = idx.length): { nT: number; nL: number } {
  let nT = 0;
  let nL = 0;
  for (let k = from; k < to; k++) {
    const ex = examples[idx[k]];
    const w = ex.weight ?? 1;
    if (ex.teacher) for (const t of ex.teacher) if (!Number.isNaN(t)) nT += w;
    if (ex.label) for (const y of ex.label) if (!Number.isNaN(y)) nL += w;
  }
  return { nT, nL };
}

/**
 * Loss over examples[idx[from..to)] and, when `g` is given, accumulates its
 * gradient into g (call clearGrads first). alpha weighs teacher MSE vs label BCE.
 */
export function lossAndGrad(
  p: Params,
  s: Standardizer,
  examples: Example[],
  idx: ArrayLike<number>,
  alpha: number,
  ws: Workspace,
  g: Grads | null,
  from = 0,
  to = idx.length,
): LossParts {
  const M = p.shape.outputs;
  const { nT, nL } = countTargets(examples, idx, from, to);
  const cT = nT > 0 ? (2 * alpha) / nT : 0;
  const cL = nL > 0 ? (1 - alpha) / nL : 0;
  let sq = 0;
  let bce = 0;
  for (let k = from; k < to; k++) {
    const ex = examples[idx[k]];
    const z = forwardInto(p, s, ex, ws);
    const dz = ws.dz;
    const w = ex.weight ?? 1;
    dz.fill(0);
    for (let m = 0; m < M; m++) {
      const t = ex.teacher ? ex.teacher[m] : NaN;
      if (!Number.isNaN(t)) {
        const e = z[m] - t;
        sq += w * e * e;
        dz[m] += cT * w * e;
      }
      const y = ex.label ? ex.label[m] : NaN;
      if (!Number.isNaN(y)) {
        bce += w * (softplus(z[m]) - y * z[m]);
        dz[m] += cL * w * (sigmoid(z[m]) - y);
      }
    }
    if (g) backward(p, ex, ws, g);
  }
  const loss = (nT > 0 ? (alpha * sq) / nT : 0) + (nL > 0 ? ((1 - alpha) * bce) / nL : 0);
  return { loss, sq, nT, bce, nL };
}

/** Backprop of ws.dz through the network for one example (after forwardInto). */
function backward(p: Params, ex: Example, ws: Workspace, g: Grads): void {
  const { dim: D, dense: F, hidden: H, outputs: M } = p.shape;
  const { x, h, pre, dz, dpre } = ws;
  for (let m = 0; m < M; m++) g.b2[m] += dz[m];
  for (let j = 0; j < H; j++) {
    const row = j * M;
    let acc = 0;
    const hj = h[j];
    for (let m = 0; m < M; m++) {
      if (hj !== 0) g.w2[row + m] += hj * dz[m];
      acc += p.w2[row + m] * dz[m];
    }
    dpre[j] = pre[j] > 0 ? acc : 0;
  }
  for (let j = 0; j < H; j++) g.b1[j] += dpre[j];
  for (let i = 0; i < D + F; i++) {
    const xi = x[i];
    if (xi === 0) continue;
    const row = i * H;
    for (let j = 0; j < H; j++) g.w1[row + j] += xi * dpre[j];
  }
  const L = ex.ids.length;
  if (L === 0) return;
  // dx for the pooled part, spread evenly over the L ids (repeats add up).
  const dx = ws.x; // x is no longer needed: reuse it for dx[0..D)
  for (let d = 0; d < D; d++) {
    const row = d * H;
    let acc = 0;
    for (let j = 0; j < H; j++) acc += p.w1[row + j] * dpre[j];
    dx[d] = acc / L;
  }
  for (let t = 0; t < L; t++) {
    const r = ex.ids[t];
    if (!g.isTouched[r]) {
      g.isTouched[r] = 1;
      g.touched.push(r);
    }
    const off = r * D;
    for (let d = 0; d < D; d++) g.emb[off + d] += dx[d];
  }
}
