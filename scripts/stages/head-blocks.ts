/**
 * Building blocks of the new-head fit (scripts/stages/new-head.ts): standardised
 * dense feature blocks, a row-subset operator over [dense | sparse wide]
 * columns, stratified folds, and the K-fold C path with pooled out-of-fold
 * margins (also the TF-IDF baseline's C choice at small N). Pure maths; no I/O.
 */
import { mulberry32, permutation } from "../../src/core/random.js";
import { fitLogistic, softplus, type LinearFit } from "../lib/linear/logistic.js";
import type { LinearOperator } from "../lib/linear/operator.js";
import { CsrRows, type CsrMatrix } from "../lib/linear/sparse.js";

/** A row-subset operator over [dense block | sparse block]; either block may be left out. */
export class BlockRows implements LinearOperator {
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

/** Row indices 0..n−1 (an operator over all of a design's rows, or the rows to split into folds). */
export const allRows = (n: number) => Int32Array.from({ length: n }, (_, i) => i);

/** Stratified fold of each row (by majority label), seeded: class counts per fold differ by ≤ 1. */
export function stratifiedFolds(y: ArrayLike<number>, k: number, seed: number): Int32Array {
  const order = permutation(y.length, mulberry32(seed));
  const fold = new Int32Array(y.length);
  let a = 0;
  let b = 0;
  for (const i of order) fold[i] = y[i] > 0.5 ? a++ % k : b++ % k;
  return fold;
}

export const meanLoss = (z: ArrayLike<number>, y: ArrayLike<number>) => {
  let s = 0;
  for (let i = 0; i < z.length; i++) s += softplus(z[i]) - y[i] * z[i];
  return s / Math.max(1, z.length);
};

/**
 * K-fold C choice for one operator family: foldOps(train, test) gives the
 * design on a fold's training and held-out rows (one call per fold, so a design
 * fitted on the training rows' labels, like new-head's "rate" block, never sees
 * the held-out ones). Each fold walks C upward with warm starts. Returns the
 * pooled out-of-fold log-loss and margins per C.
 */
export function cvPath(foldOps: (train: Int32Array, test: Int32Array) => [LinearOperator, LinearOperator], y: ArrayLike<number>, Cs: number[], folds: Int32Array, k: number): Array<{ C: number; loss: number; oof: Float64Array }> {
  const n = y.length;
  const grid = [...Cs].sort((p, q) => p - q);
  const oof = grid.map(() => new Float64Array(n));
  for (let f = 0; f < k; f++) {
    const tr = allRows(n).filter((i) => folds[i] !== f);
    const te = allRows(n).filter((i) => folds[i] === f);
    if (te.length === 0 || tr.length === 0) continue;
    const [opTr, opTe] = foldOps(tr, te);
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

/** A dense feature block (h or the existing logits): standardised on the training rows, scaled to row norm ≈ 1. */
export interface Block {
  width: number;
  mu: Float64Array;
  sd: Float64Array;
  scale: number;
}

/**
 * Centres each column on the training rows; "dim" scales each column to unit
 * variance, "block" divides every column by the block's RMS spread (keeps the
 * trunk's own geometry: high-variance directions stay cheaper under the L2 prior).
 */
export function fitBlock(x: Float64Array, n: number, width: number, norm: "dim" | "block" = "dim"): Block {
  const mu = new Float64Array(width);
  const sd = new Float64Array(width);
  for (let i = 0; i < n; i++) for (let j = 0; j < width; j++) mu[j] += x[i * width + j] / n;
  for (let i = 0; i < n; i++) for (let j = 0; j < width; j++) sd[j] += (x[i * width + j] - mu[j]) ** 2 / n;
  if (norm === "block") sd.fill(sd.reduce((a, v) => a + v, 0) / width);
  for (let j = 0; j < width; j++) sd[j] = Math.sqrt(sd[j]) > 1e-8 ? Math.sqrt(sd[j]) : 1;
  return { width, mu, sd, scale: 1 / Math.sqrt(width) };
}

/** Rows of the chosen blocks side by side, each standardised and scaled. */
export function denseDesign(parts: Array<{ x: Float64Array; b: Block }>, n: number): { data: Float64Array; width: number } {
  const width = parts.reduce((a, p) => a + p.b.width, 0);
  const data = new Float64Array(n * width);
  for (let i = 0; i < n; i++) {
    let o = i * width;
    for (const { x, b } of parts) for (let j = 0; j < b.width; j++) data[o++] = ((x[i * b.width + j] - b.mu[j]) / b.sd[j]) * b.scale;
  }
  return { data, width };
}
