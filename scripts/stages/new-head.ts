/**
 * A new model's head on a frozen student (issue 17 item 4): an L2 logistic
 * regression over feature blocks of the frozen student, each standardised and
 * scaled to row norm ≈ 1: the trunk's hidden activations h ("deep"), a new
 * wide column over the same idf-weighted id features (scripts/distill/wide.ts,
 * with the bundle's own idf g = sqrt(wide_norm)) when the bundle has a wide
 * part, and the existing models' logits ("heads": linear in the student's own
 * columns, so they fold into the new column at no graph cost). Which blocks
 * and C are chosen on held-out log-loss: on a validation set when one is
 * given, else by stratified K-fold cross-validation within the N labelled
 * prompts (small N has no separate validation split). The fit is folded into
 * one more output column (w2, b2, wide): every existing weight is copied
 * unchanged. Also the K-fold C choice reused by the TF-IDF baseline at small
 * N. Pure maths; no I/O, never sees test rows.
 */
import { mulberry32, permutation } from "../../src/core/random.js";
import { forward, type StudentWeights } from "../../src/core/student.js";
import { fitLogistic, softplus, type LinearFit } from "../lib/linear/logistic.js";
import type { LinearOperator } from "../lib/linear/operator.js";
import { CsrRows, type CsrMatrix } from "../lib/linear/sparse.js";
import { wideLogits, wideMatrix } from "../distill/wide.js";

/**
 * Feature sets: trunk activations h ("deep"), a new wide column, the existing
 * models' logits ("heads"), and their mean ("mean": one shared-difficulty
 * feature, scaled by MEAN_SCALE so its L2 prior is MEAN_SCALE² times weaker).
 */
export const ALL_HEAD_PARTS = ["deep", "wide", "deep+wide", "deep+heads", "deep+wide+heads", "mean", "mean+deep", "mean+deep+wide", "mean+deep+heads", "mean+deep+wide+heads"] as const;
export type HeadParts = (typeof ALL_HEAD_PARTS)[number];
/** The candidates add-model tries by default (chosen on validation: docs/student.md, "Onboarding a new model"). */
export const HEAD_PARTS: HeadParts[] = ["deep", "wide", "deep+wide", "deep+heads", "deep+wide+heads"];
export const MEAN_SCALE = 4;
/** Inverse L2 strengths tried (C·Σloss + ½‖w‖², the TF-IDF baseline's convention). */
export const HEAD_CS = [0.03, 0.1, 0.3, 1, 3, 10, 30, 100];
export const HEAD_FOLDS = 5;

/** One labelled prompt for the new model: featurizer output and its success rate in [0, 1]. */
export interface HeadExample {
  ids: Int32Array;
  dense: Float32Array;
  y: number;
}

/** The new output column in the student's own layout (raw h, wide table with idf folded in). */
export interface NewHead {
  w2: Float64Array; // H
  b2: number;
  /** V; null when the bundle has no wide part (or the chosen parts leave it out: then zeros). */
  wide: Float64Array | null;
  parts: HeadParts;
  C: number;
  /** How the choice was made and its held-out mean log-loss. */
  selection: { by: "val" | `cv-${number}`; loss: number; tried: Array<{ parts: HeadParts; C: number; loss: number }> };
  /** Held-out logits of the chosen fit (out-of-fold with CV, validation rows otherwise): honest scores for calibration. */
  heldOut: Float64Array;
}

/** A row-subset operator over [dense block | sparse block]; either block may be left out. */
class BlockRows implements LinearOperator {
  readonly rows: number;
  readonly cols: number;
  private readonly sparse: CsrRows | null;
  constructor(
    private readonly dense: Float64Array | null,
    private readonly H: number,
    wide: CsrMatrix | null,
    private readonly idx: Int32Array,
  ) {
    this.rows = idx.length;
    this.sparse = wide ? new CsrRows(wide, idx) : null;
    this.cols = (dense ? H : 0) + (wide ? wide.cols : 0);
  }
  forward(v: Float64Array, out: Float64Array): void {
    const { dense, H, idx } = this;
    out.fill(0);
    const off = dense ? H : 0;
    if (this.sparse) this.sparse.forward(v.subarray(off), out);
    if (!dense) return;
    for (let k = 0; k < this.rows; k++) {
      const row = idx[k] * H;
      let s = 0;
      for (let j = 0; j < H; j++) s += dense[row + j] * v[j];
      out[k] += s;
    }
  }
  adjoint(r: Float64Array, out: Float64Array): void {
    const { dense, H, idx } = this;
    const off = dense ? H : 0;
    if (this.sparse) this.sparse.adjoint(r, out.subarray(off));
    if (!dense) return;
    out.fill(0, 0, H);
    for (let k = 0; k < this.rows; k++) {
      const row = idx[k] * H;
      const rk = r[k];
      for (let j = 0; j < H; j++) out[j] += dense[row + j] * rk;
    }
  }
}

/** Stratified fold of each row (by majority label), seeded: class counts per fold differ by ≤ 1. */
export function stratifiedFolds(y: ArrayLike<number>, k: number, seed: number): Int32Array {
  const order = permutation(y.length, mulberry32(seed));
  const fold = new Int32Array(y.length);
  let a = 0;
  let b = 0;
  for (const i of order) fold[i] = y[i] > 0.5 ? a++ % k : b++ % k;
  return fold;
}

const meanLoss = (z: ArrayLike<number>, y: ArrayLike<number>) => {
  let s = 0;
  for (let i = 0; i < z.length; i++) s += softplus(z[i]) - y[i] * z[i];
  return s / Math.max(1, z.length);
};

/**
 * K-fold C choice for one operator family: makeOp(rows) gives the design on a
 * row subset. Each fold walks C upward with warm starts. Returns the pooled
 * out-of-fold log-loss and margins per C.
 */
export function cvPath(makeOp: (rows: Int32Array) => LinearOperator, y: ArrayLike<number>, Cs: number[], folds: Int32Array, k: number): Array<{ C: number; loss: number; oof: Float64Array }> {
  const n = y.length;
  const grid = [...Cs].sort((p, q) => p - q);
  const oof = grid.map(() => new Float64Array(n));
  for (let f = 0; f < k; f++) {
    const tr = Int32Array.from({ length: n }, (_, i) => i).filter((i) => folds[i] !== f);
    const te = Int32Array.from({ length: n }, (_, i) => i).filter((i) => folds[i] === f);
    if (te.length === 0 || tr.length === 0) continue;
    const opTr = makeOp(tr);
    const opTe = makeOp(te);
    const yTr = Float64Array.from(tr, (i) => y[i]);
    const z = new Float64Array(te.length);
    let prev: LinearFit | undefined;
    grid.forEach((C, c) => {
      prev = fitLogistic(opTr, yTr, { lambda: 1 / (C * tr.length), init: prev, gtol: 1e-5, maxIter: 300 });
      opTe.forward(prev.w, z);
      te.forEach((i, t) => (oof[c][i] = z[t] + prev!.b));
    });
  }
  return grid.map((C, c) => ({ C, loss: meanLoss(oof[c], y), oof: oof[c] }));
}

/** Trunk hidden activations h (float32 forward of the frozen student) of each example, row-major n×H. */
export function hiddenOf(weights: StudentWeights, xs: Array<{ ids: Int32Array; dense: Float32Array }>): Float64Array {
  const H = weights.shape.hidden;
  const out = new Float64Array(xs.length * H);
  xs.forEach((x, i) => out.set(forward(weights, x.ids, x.dense).h, i * H));
  return out;
}

/** A dense feature block (h or the existing logits): standardised on the training rows, scaled to row norm ≈ 1. */
interface Block {
  width: number;
  mu: Float64Array;
  sd: Float64Array;
  scale: number;
}

function fitBlock(x: Float64Array, n: number, width: number): Block {
  const mu = new Float64Array(width);
  const sd = new Float64Array(width);
  for (let i = 0; i < n; i++) for (let j = 0; j < width; j++) mu[j] += x[i * width + j] / n;
  for (let i = 0; i < n; i++) for (let j = 0; j < width; j++) sd[j] += (x[i * width + j] - mu[j]) ** 2 / n;
  for (let j = 0; j < width; j++) sd[j] = Math.sqrt(sd[j]) > 1e-8 ? Math.sqrt(sd[j]) : 1;
  return { width, mu, sd, scale: 1 / Math.sqrt(width) };
}

/** Rows of the chosen blocks side by side, each standardised and scaled. */
function denseDesign(parts: Array<{ x: Float64Array; b: Block }>, n: number): { data: Float64Array; width: number } {
  const width = parts.reduce((a, p) => a + p.b.width, 0);
  const data = new Float64Array(n * width);
  for (let i = 0; i < n; i++) {
    let o = i * width;
    for (const { x, b } of parts) for (let j = 0; j < b.width; j++) data[o++] = ((x[i * b.width + j] - b.mu[j]) / b.sd[j]) * b.scale;
  }
  return { data, width };
}

export interface HeadOptions {
  Cs?: number[];
  folds?: number;
  seed?: number;
  /** Select on these rows (e.g. a validation split) instead of cross-validating within the training rows. */
  val?: HeadExample[];
  /** Candidate feature sets (default HEAD_PARTS; those needing a wide part are dropped without one). */
  parts?: HeadParts[];
}

/** Trunk activations h and existing logits z of each example (float32 forward of the frozen student), row-major. */
function activations(weights: StudentWeights, xs: Array<{ ids: Int32Array; dense: Float32Array }>): { h: Float64Array; z: Float64Array } {
  const { hidden: H, outputs: M } = weights.shape;
  const h = new Float64Array(xs.length * H);
  const z = new Float64Array(xs.length * M);
  xs.forEach((x, i) => {
    const a = forward(weights, x.ids, x.dense);
    h.set(a.h, i * H);
    z.set(a.logits, i * M);
  });
  return { h, z };
}

/** Fits the new head on the frozen student `weights`. */
export function fitNewHead(weights: StudentWeights, train: HeadExample[], opts: HeadOptions = {}): NewHead {
  if (train.length < 2) throw new Error(`add-model: need at least 2 labelled prompts, got ${train.length}`);
  const { hidden: H, buckets: V, outputs: M } = weights.shape;
  const Cs = opts.Cs ?? HEAD_CS;
  const hasWide = weights.wide !== undefined && weights.wideNorm !== undefined;
  const g = hasWide ? Float64Array.from(weights.wideNorm!, (x) => Math.sqrt(x)) : null;
  const aTr = activations(weights, train);
  const hB = fitBlock(aTr.h, train.length, H);
  const zB = fitBlock(aTr.z, train.length, M);
  const meanOf = (z: Float64Array) => Float64Array.from({ length: z.length / M }, (_, i) => z.subarray(i * M, (i + 1) * M).reduce((a, b) => a + b, 0) / M);
  const mB = { ...fitBlock(meanOf(aTr.z), train.length, 1), scale: MEAN_SCALE };
  const n = train.length;
  const y = Float64Array.from(train, (x) => x.y);
  const candidates = (opts.parts ?? HEAD_PARTS).filter((p) => hasWide || !p.includes("wide"));
  if (candidates.length === 0) throw new Error("add-model: no candidate head parts for a bundle without a wide part");
  const blocksOf = (p: HeadParts, a: { h: Float64Array; z: Float64Array }) => [...(p.includes("deep") ? [{ x: a.h, b: hB }] : []), ...(p.includes("heads") ? [{ x: a.z, b: zB }] : []), ...(p.includes("mean") ? [{ x: meanOf(a.z), b: mB }] : [])];
  const wideTr = g ? wideMatrix(train.map((x) => ({ ids: x.ids, dense: x.dense })), g, weights.wideTfidf) : null;
  const op = (p: HeadParts, d: { data: Float64Array; width: number }, wide: CsrMatrix | null, rows: Int32Array) => new BlockRows(d.width > 0 ? d.data : null, d.width, p.includes("wide") ? wide : null, rows);
  const all = Int32Array.from({ length: n }, (_, i) => i);
  const tried: NewHead["selection"]["tried"] = [];
  let best: { parts: HeadParts; C: number; loss: number; heldOut: Float64Array; fit?: LinearFit } | null = null;
  const k = Math.min(opts.folds ?? HEAD_FOLDS, n);
  const val = opts.val ?? [];
  const aVa = val.length > 0 ? activations(weights, val) : null;
  const wideVa = g && val.length > 0 ? wideMatrix(val.map((x) => ({ ids: x.ids, dense: x.dense })), g) : null;
  const folds = stratifiedFolds(y, k, opts.seed ?? 1);
  for (const parts of candidates) {
    const dTr = denseDesign(blocksOf(parts, aTr), n);
    if (aVa) {
      const dVa = denseDesign(blocksOf(parts, aVa), val.length);
      const yVa = Float64Array.from(val, (x) => x.y);
      const opVa = op(parts, dVa, wideVa, Int32Array.from({ length: val.length }, (_, i) => i));
      let prev: LinearFit | undefined;
      for (const C of [...Cs].sort((p, q) => p - q)) {
        prev = fitLogistic(op(parts, dTr, wideTr, all), y, { lambda: 1 / (C * n), init: prev, gtol: 1e-5, maxIter: 300 });
        const z = new Float64Array(val.length);
        opVa.forward(prev.w, z);
        for (let i = 0; i < z.length; i++) z[i] += prev.b;
        const loss = meanLoss(z, yVa);
        tried.push({ parts, C, loss });
        if (!best || loss < best.loss) best = { parts, C, loss, heldOut: z, fit: prev };
      }
    } else {
      for (const r of cvPath((rows) => op(parts, dTr, wideTr, rows), y, Cs, folds, k)) {
        tried.push({ parts, C: r.C, loss: r.loss });
        if (!best || r.loss < best.loss) best = { parts, C: r.C, loss: r.loss, heldOut: r.oof };
      }
    }
  }
  const chosen = best!;
  const fit = chosen.fit ?? fitLogistic(op(chosen.parts, denseDesign(blocksOf(chosen.parts, aTr), n), wideTr, all), y, { lambda: 1 / (chosen.C * n), gtol: 1e-6, maxIter: 500 });
  // Fold standardisation and block scales into raw-feature coefficients, then into the student's layout.
  const w2 = new Float64Array(H);
  const wide = g ? new Float64Array(V) : null;
  let b2 = fit.b;
  let at = 0;
  const raw = (b: Block) => {
    const c = new Float64Array(b.width);
    for (let j = 0; j < b.width; j++) {
      c[j] = (fit.w[at + j] * b.scale) / b.sd[j];
      b2 -= c[j] * b.mu[j];
    }
    at += b.width;
    return c;
  };
  if (chosen.parts.includes("deep")) raw(hB).forEach((c, j) => (w2[j] += c));
  if (chosen.parts.includes("heads") || chosen.parts.includes("mean")) {
    // Σ_m β_m·logit_m is linear in the student's own columns: fold it into w2, b2 and the wide table.
    const beta = chosen.parts.includes("heads") ? raw(zB) : new Float64Array(M);
    if (chosen.parts.includes("mean")) {
      const c = raw(mB)[0] / M;
      for (let m = 0; m < M; m++) beta[m] += c;
    }
    for (let m = 0; m < M; m++) {
      b2 += beta[m] * weights.b2[m];
      for (let j = 0; j < H; j++) w2[j] += beta[m] * weights.w2[j * M + m];
      if (wide && weights.wide) for (let v = 0; v < V; v++) wide[v] += beta[m] * weights.wide[v * M + m];
    }
  }
  if (wide && chosen.parts.includes("wide")) for (let v = 0; v < V; v++) wide[v] += g![v] * fit.w[at + v];
  return { w2, b2, wide, parts: chosen.parts, C: chosen.C, selection: { by: val.length > 0 ? "val" : `cv-${k}`, loss: chosen.loss, tried }, heldOut: chosen.heldOut };
}

/** The head's logit for one prompt from its trunk activations h, in float64 (the reference the exported column is checked against). */
export function headLogit(head: NewHead, h: ArrayLike<number>, ids: ArrayLike<number>, wideNorm?: ArrayLike<number>, wideTfidf?: boolean): number {
  let z = head.b2;
  for (let j = 0; j < head.w2.length; j++) z += head.w2[j] * h[j];
  if (head.wide && wideNorm) z += wideLogits({ table: head.wide, norm: wideNorm, tfidf: wideTfidf }, ids, 1)[0];
  return z;
}

/** The student with one more output column: every existing weight copied bit for bit, the new head appended last. */
export function appendHead(w: StudentWeights, head: NewHead): StudentWeights {
  const { hidden: H, buckets: V, outputs: M } = w.shape;
  const M1 = M + 1;
  const w2 = new Float32Array(H * M1);
  for (let j = 0; j < H; j++) {
    w2.set(w.w2.subarray(j * M, (j + 1) * M), j * M1);
    w2[j * M1 + M] = head.w2[j];
  }
  const b2 = new Float32Array(M1);
  b2.set(w.b2);
  b2[M] = head.b2;
  const out: StudentWeights = { ...w, shape: { ...w.shape, outputs: M1 }, w2, b2 };
  if (w.wide && w.wideNorm) {
    const wide = new Float32Array(V * M1);
    for (let j = 0; j < V; j++) {
      wide.set(w.wide.subarray(j * M, (j + 1) * M), j * M1);
      wide[j * M1 + M] = head.wide ? head.wide[j] : 0;
    }
    out.wide = wide;
    out.wideNorm = w.wideNorm;
  }
  return out;
}
