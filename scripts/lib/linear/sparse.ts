/**
 * Compressed-sparse-row matrices and the row-subset operator over them, so
 * the same logistic solver trains on TF-IDF features. Owns storage layout
 * only; no feature extraction here (see scripts/lib/tfidf.ts).
 */
import type { LinearOperator } from "./operator.js";

export interface CsrMatrix {
  rows: number;
  cols: number;
  indptr: Int32Array; // rows + 1
  indices: Int32Array; // column of each stored value
  values: Float32Array;
}

/** Build a CSR matrix from per-row (column, value) lists. */
export function csrFromRows(rowEntries: Array<Array<[number, number]>>, cols: number): CsrMatrix {
  const indptr = new Int32Array(rowEntries.length + 1);
  rowEntries.forEach((r, i) => (indptr[i + 1] = indptr[i] + r.length));
  const nnz = indptr[rowEntries.length];
  const indices = new Int32Array(nnz);
  const values = new Float32Array(nnz);
  rowEntries.forEach((r, i) => {
    let p = indptr[i];
    for (const [c, v] of r) {
      if (c < 0 || c >= cols) throw new Error(`csrFromRows: column ${c} out of range`);
      indices[p] = c;
      values[p++] = v;
    }
  });
  return { rows: rowEntries.length, cols, indptr, indices, values };
}

export class CsrRows implements LinearOperator {
  readonly rows: number;
  readonly cols: number;
  private readonly rowIndex: Int32Array;

  constructor(
    private readonly m: CsrMatrix,
    rowIndex?: ArrayLike<number>,
  ) {
    this.rowIndex = rowIndex ? Int32Array.from(rowIndex) : Int32Array.from({ length: m.rows }, (_, i) => i);
    this.rows = this.rowIndex.length;
    this.cols = m.cols;
  }

  forward(v: Float64Array, out: Float64Array): void {
    const { indptr, indices, values } = this.m;
    for (let k = 0; k < this.rows; k++) {
      const r = this.rowIndex[k];
      let s = 0;
      for (let p = indptr[r]; p < indptr[r + 1]; p++) s += values[p] * v[indices[p]];
      out[k] = s;
    }
  }

  adjoint(r: Float64Array, out: Float64Array): void {
    const { indptr, indices, values } = this.m;
    out.fill(0);
    for (let k = 0; k < this.rows; k++) {
      const row = this.rowIndex[k];
      const rk = r[k];
      if (rk === 0) continue;
      for (let p = indptr[row]; p < indptr[row + 1]; p++) out[indices[p]] += rk * values[p];
    }
  }
}

/** Row subset of a CSR matrix (copies; shares no buffers with the source). */
export function subsetCsr(m: CsrMatrix, rows: ArrayLike<number>): CsrMatrix {
  const n = rows.length;
  const indptr = new Int32Array(n + 1);
  for (let i = 0; i < n; i++) indptr[i + 1] = indptr[i] + (m.indptr[rows[i] + 1] - m.indptr[rows[i]]);
  const indices = new Int32Array(indptr[n]);
  const values = new Float32Array(indptr[n]);
  for (let i = 0; i < n; i++) {
    const r = rows[i];
    indices.set(m.indices.subarray(m.indptr[r], m.indptr[r + 1]), indptr[i]);
    values.set(m.values.subarray(m.indptr[r], m.indptr[r + 1]), indptr[i]);
  }
  return { rows: n, cols: m.cols, indptr, indices, values };
}
