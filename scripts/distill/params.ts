/**
 * Parameter lifecycle for the bag student: seeded initialisation, dense-feature
 * standardisation fitted on the training split, snapshots for early stopping,
 * and the final fold of the standardiser into w1/b1 so the exported weights
 * take the featurizer's raw dense features (as forward() and the ONNX graph do).
 * Pure maths: no clock, no I/O.
 */
import type { StudentShape, StudentWeights } from "../../src/core/student.js";
import { gaussian, type Rng } from "../../src/core/random.js";
import { type Example, type Params, type Standardizer, zeroParams } from "./network.js";

export interface InitConfig {
  /** Std of the embedding table entries. */
  embStd: number;
}

/** Logit of a probability, clamped away from 0 and 1. */
export function logit(p: number): number {
  const q = Math.min(Math.max(p, 1e-4), 1 - 1e-4);
  return Math.log(q / (1 - q));
}

/**
 * Small seeded init: emb ~ N(0, embStd²), w1 He-scaled, w2 ~ N(0, 0.01/H),
 * b1 = 0, b2 = the per-model base rate (labels) or mean teacher logit.
 */
export function initParams(shape: StudentShape, rng: Rng, cfg: InitConfig, train: Example[]): Params {
  const p = zeroParams(shape);
  const { dim: D, dense: F, hidden: H, outputs: M } = shape;
  for (let i = 0; i < p.emb.length; i++) p.emb[i] = gaussian(rng) * cfg.embStd;
  const s1 = Math.sqrt(2 / (D + F));
  for (let i = 0; i < p.w1.length; i++) p.w1[i] = gaussian(rng) * s1;
  const s2 = 0.1 / Math.sqrt(H);
  for (let i = 0; i < p.w2.length; i++) p.w2[i] = gaussian(rng) * s2;
  for (let m = 0; m < M; m++) {
    let ys = 0;
    let ny = 0;
    let ts = 0;
    let nt = 0;
    for (const ex of train) {
      const y = ex.label ? ex.label[m] : NaN;
      if (!Number.isNaN(y)) {
        ys += y;
        ny++;
      }
      const t = ex.teacher ? ex.teacher[m] : NaN;
      if (!Number.isNaN(t)) {
        ts += t;
        nt++;
      }
    }
    p.b2[m] = ny > 0 ? logit(ys / ny) : nt > 0 ? ts / nt : 0;
  }
  return p;
}

/** Mean and std of each dense feature over the training set (std < 1e-6 → 1). */
export function fitStandardizer(train: Example[], F: number): Standardizer {
  const mean = new Float64Array(F);
  const std = new Float64Array(F);
  const n = train.length;
  if (n === 0) return { mean, std: std.fill(1) };
  for (const ex of train) for (let f = 0; f < F; f++) mean[f] += ex.dense[f];
  for (let f = 0; f < F; f++) mean[f] /= n;
  for (const ex of train) for (let f = 0; f < F; f++) std[f] += (ex.dense[f] - mean[f]) ** 2;
  for (let f = 0; f < F; f++) {
    const s = Math.sqrt(std[f] / n);
    std[f] = s < 1e-6 ? 1 : s;
  }
  return { mean, std };
}

export function cloneParams(p: Params): Params {
  return {
    shape: { ...p.shape },
    emb: p.emb.slice(),
    w1: p.w1.slice(),
    b1: p.b1.slice(),
    w2: p.w2.slice(),
    b2: p.b2.slice(),
  };
}

/** Copies src into dst in place (same shape). */
export function copyParams(dst: Params, src: Params): void {
  dst.emb.set(src.emb);
  dst.w1.set(src.w1);
  dst.b1.set(src.b1);
  dst.w2.set(src.w2);
  dst.b2.set(src.b2);
}

/**
 * Folds x_f ↦ (x_f − μ_f)/σ_f into the first layer and rounds to float32:
 *   w1'[D+f, j] = w1[D+f, j] / σ_f,   b1'_j = b1_j − Σ_f μ_f / σ_f · w1[D+f, j].
 * The result computes the same logits as the training network on raw dense input.
 */
export function foldToWeights(p: Params, s: Standardizer): StudentWeights {
  const { dim: D, dense: F, hidden: H } = p.shape;
  const w1 = p.w1.slice();
  const b1 = p.b1.slice();
  for (let f = 0; f < F; f++) {
    const row = (D + f) * H;
    for (let j = 0; j < H; j++) {
      const w = p.w1[row + j] / s.std[f];
      w1[row + j] = w;
      b1[j] -= s.mean[f] * w;
    }
  }
  return {
    shape: { ...p.shape },
    emb: Float32Array.from(p.emb),
    w1: Float32Array.from(w1),
    b1: Float32Array.from(b1),
    w2: Float32Array.from(p.w2),
    b2: Float32Array.from(p.b2),
  };
}

/**
 * The average of K deep parts of one shape as one deep part of dim K·D and
 * hidden K·H: embeddings side by side, w1 block-diagonal on the pooled rows
 * (each member's dense rows feed only its own hidden block), w2 stacked and
 * divided by K, b2 averaged. forward() of the result is the members' mean logit.
 */
export function mergeMembers(ws: StudentWeights[]): StudentWeights {
  const K = ws.length;
  const { buckets: V, dim: D, dense: F, hidden: H, outputs: M } = ws[0].shape;
  const shape = { buckets: V, dim: K * D, dense: F, hidden: K * H, outputs: M };
  const emb = new Float32Array(V * K * D);
  const w1 = new Float32Array((K * D + F) * K * H);
  const b1 = new Float32Array(K * H);
  const w2 = new Float32Array(K * H * M);
  const b2 = new Float32Array(M);
  ws.forEach((w, k) => {
    for (let v = 0; v < V; v++) emb.set(w.emb.subarray(v * D, (v + 1) * D), v * K * D + k * D);
    for (let i = 0; i < D; i++) w1.set(w.w1.subarray(i * H, (i + 1) * H), (k * D + i) * K * H + k * H);
    for (let f = 0; f < F; f++) w1.set(w.w1.subarray((D + f) * H, (D + f + 1) * H), (K * D + f) * K * H + k * H);
    b1.set(w.b1, k * H);
    for (let i = 0; i < H * M; i++) w2[k * H * M + i] = w.w2[i] / K;
    for (let m = 0; m < M; m++) b2[m] += w.b2[m] / K;
  });
  return { shape, emb, w1, b1, w2, b2 };
}
