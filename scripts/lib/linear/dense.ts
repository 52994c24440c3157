/**
 * Dense float32 row-major feature matrices and the standardised row-subset
 * operator over them. This is the hot loop of probe training: the
 * standardisation (x − μ)/σ is folded into the products instead of copying a
 * 10k × 4096 matrix, and rows are processed four at a time so each weight
 * (forward) or accumulator (adjoint) load is shared by four rows.
 * Must not allocate per call beyond its scratch buffers.
 */
import type { LinearOperator } from "./operator.js";
import type { Standardizer } from "./standardizer.js";

export interface DenseMatrix {
  data: Float32Array;
  rows: number;
  cols: number;
}

/** Collect an iterable of feature rows (e.g. an activation reader) into one matrix. */
export function matrixFromRows(rows: Iterable<ArrayLike<number>>, cols: number): DenseMatrix {
  const chunks: Float32Array[] = [];
  for (const r of rows) {
    if (r.length !== cols) throw new Error(`matrixFromRows: row ${chunks.length} has ${r.length} values, expected ${cols}`);
    chunks.push(Float32Array.from(r));
  }
  const data = new Float32Array(chunks.length * cols);
  chunks.forEach((c, i) => data.set(c, i * cols));
  return { data, rows: chunks.length, cols };
}

/**
 * Matrices with the same rows side by side: row i of the result is row i of
 * each input, concatenated in order. `alloc` lets callers pick the buffer
 * (parallel selection wants a SharedArrayBuffer).
 */
export function hstack(ms: DenseMatrix[], alloc: (n: number) => Float32Array = (n) => new Float32Array(n)): DenseMatrix {
  const rows = ms[0]?.rows ?? 0;
  if (ms.some((m) => m.rows !== rows)) throw new Error(`hstack: row counts differ (${ms.map((m) => m.rows).join(", ")})`);
  const cols = ms.reduce((a, m) => a + m.cols, 0);
  const data = alloc(rows * cols);
  for (let i = 0; i < rows; i++) {
    let o = i * cols;
    for (const m of ms) { data.set(m.data.subarray(i * m.cols, (i + 1) * m.cols), o); o += m.cols; }
  }
  return { data, rows, cols };
}

/** A = standardise(X[rows, :]); rows may be any subset/order of X's rows. */
export class StandardizedRows implements LinearOperator {
  readonly rows: number;
  readonly cols: number;
  private readonly offsets: Int32Array; // row starts; int32 keeps the index math in small-integer mode
  private readonly scaled: Float64Array; // v / σ
  private readonly invStd: Float64Array;

  constructor(
    private readonly X: DenseMatrix,
    rowIndex: ArrayLike<number>,
    private readonly std: Standardizer,
  ) {
    if (std.cols !== X.cols) throw new Error("StandardizedRows: standardizer width mismatch");
    this.rows = rowIndex.length;
    this.cols = X.cols;
    if (X.rows * X.cols > 2 ** 31 - 1) throw new Error("StandardizedRows: matrix too large for int32 offsets");
    this.offsets = new Int32Array(this.rows);
    for (let k = 0; k < this.rows; k++) {
      const r = rowIndex[k];
      if (r < 0 || r >= X.rows) throw new Error(`StandardizedRows: row ${r} out of range`);
      this.offsets[k] = r * X.cols;
    }
    this.scaled = new Float64Array(this.cols);
    this.invStd = new Float64Array(this.cols);
    for (let j = 0; j < this.cols; j++) this.invStd[j] = 1 / std.std[j];
  }

  forward(v: Float64Array, out: Float64Array): void {
    const d = this.cols;
    const x = this.X.data;
    const u = this.scaled;
    const mean = this.std.mean;
    let shift = 0;
    for (let j = 0; j < d; j++) {
      u[j] = v[j] * this.invStd[j];
      shift -= mean[j] * u[j];
    }
    const off = this.offsets;
    const n = this.rows;
    let k = 0;
    for (; k + 3 < n; k += 4) {
      const o0 = off[k];
      const o1 = off[k + 1];
      const o2 = off[k + 2];
      const o3 = off[k + 3];
      let a0 = 0;
      let a1 = 0;
      let a2 = 0;
      let a3 = 0;
      for (let j = 0; j < d; j++) {
        const uj = u[j];
        a0 += x[o0 + j] * uj;
        a1 += x[o1 + j] * uj;
        a2 += x[o2 + j] * uj;
        a3 += x[o3 + j] * uj;
      }
      out[k] = a0 + shift;
      out[k + 1] = a1 + shift;
      out[k + 2] = a2 + shift;
      out[k + 3] = a3 + shift;
    }
    for (; k < n; k++) {
      const o = off[k];
      let a = 0;
      for (let j = 0; j < d; j++) a += x[o + j] * u[j];
      out[k] = a + shift;
    }
  }

  adjoint(r: Float64Array, out: Float64Array): void {
    const d = this.cols;
    const x = this.X.data;
    const off = this.offsets;
    const n = this.rows;
    out.fill(0);
    let total = 0;
    let k = 0;
    for (; k + 3 < n; k += 4) {
      const o0 = off[k];
      const o1 = off[k + 1];
      const o2 = off[k + 2];
      const o3 = off[k + 3];
      const r0 = r[k];
      const r1 = r[k + 1];
      const r2 = r[k + 2];
      const r3 = r[k + 3];
      total += r0 + r1 + r2 + r3;
      for (let j = 0; j < d; j++) out[j] += r0 * x[o0 + j] + r1 * x[o1 + j] + r2 * x[o2 + j] + r3 * x[o3 + j];
    }
    for (; k < n; k++) {
      const o = off[k];
      const rk = r[k];
      total += rk;
      for (let j = 0; j < d; j++) out[j] += rk * x[o + j];
    }
    const mean = this.std.mean;
    for (let j = 0; j < d; j++) out[j] = (out[j] - mean[j] * total) * this.invStd[j];
  }
}

/** Linear scores w·standardise(x) + b for the given rows. */
export function scoreRows(X: DenseMatrix, rows: ArrayLike<number>, std: Standardizer, w: Float64Array, b: number): Float64Array {
  const op = new StandardizedRows(X, rows, std);
  const out = new Float64Array(op.rows);
  op.forward(w, out);
  for (let k = 0; k < out.length; k++) out[k] += b;
  return out;
}
