/**
 * The one abstraction the solvers see: a linear map A (rows × cols) with
 * products A·v and Aᵀ·r. Dense standardised activations and sparse TF-IDF both
 * implement it, so logistic/ridge code is written once. Owns nothing else.
 */
export interface LinearOperator {
  readonly rows: number;
  readonly cols: number;
  /** out[k] = Σ_j A[k,j]·v[j]  (out has length rows) */
  forward(v: Float64Array, out: Float64Array): void;
  /** out[j] = Σ_k A[k,j]·r[k]  (out has length cols) */
  adjoint(r: Float64Array, out: Float64Array): void;
}

/** Explicit small dense operator (float64, row-major); for tests and 1-D baselines. */
export class SmallDenseOperator implements LinearOperator {
  constructor(
    readonly data: Float64Array,
    readonly rows: number,
    readonly cols: number,
  ) {
    if (data.length !== rows * cols) throw new Error("SmallDenseOperator: shape mismatch");
  }

  static fromRows(rows: number[][]): SmallDenseOperator {
    const cols = rows[0]?.length ?? 0;
    return new SmallDenseOperator(Float64Array.from(rows.flat()), rows.length, cols);
  }

  forward(v: Float64Array, out: Float64Array): void {
    const { data, rows, cols } = this;
    for (let k = 0; k < rows; k++) {
      let s = 0;
      for (let j = 0; j < cols; j++) s += data[k * cols + j] * v[j];
      out[k] = s;
    }
  }

  adjoint(r: Float64Array, out: Float64Array): void {
    const { data, rows, cols } = this;
    out.fill(0);
    for (let k = 0; k < rows; k++) {
      const rk = r[k];
      for (let j = 0; j < cols; j++) out[j] += data[k * cols + j] * rk;
    }
  }
}
