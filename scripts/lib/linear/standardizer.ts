/**
 * Per-column standardisation (x − mean) / std fitted on training rows only, so
 * no statistics leak from validation/calibration/test rows. Owns the fitted
 * parameters and their JSON form; it never copies the feature matrix — the
 * dense operator folds the transform into its products instead.
 */

/** A dense.ts DenseMatrix, named by shape here so dense.ts (which uses Standardizer) and this file do not import each other. */
type Matrix = { data: Float32Array; rows: number; cols: number };

export interface StandardizerJSON {
  mean: number[];
  std: number[];
}

export class Standardizer {
  constructor(
    readonly mean: Float64Array,
    /** Population std; columns with zero spread get 1 so they stay exactly 0 after centring. */
    readonly std: Float64Array,
  ) {
    if (mean.length !== std.length) throw new Error("Standardizer: mean/std length mismatch");
  }

  get cols(): number {
    return this.mean.length;
  }

  /** Two-pass (mean, then centred squares) in float64 for accuracy on float32 input. */
  static fit(X: Matrix, rows: ArrayLike<number>): Standardizer {
    const d = X.cols;
    const n = rows.length;
    if (n === 0) throw new Error("Standardizer.fit: no rows");
    const mean = new Float64Array(d);
    const data = X.data;
    for (let k = 0; k < n; k++) {
      const o = rows[k] * d;
      for (let j = 0; j < d; j++) mean[j] += data[o + j];
    }
    for (let j = 0; j < d; j++) mean[j] /= n;
    const ss = new Float64Array(d);
    for (let k = 0; k < n; k++) {
      const o = rows[k] * d;
      for (let j = 0; j < d; j++) {
        const c = data[o + j] - mean[j];
        ss[j] += c * c;
      }
    }
    const std = new Float64Array(d);
    for (let j = 0; j < d; j++) {
      const s = Math.sqrt(ss[j] / n);
      std[j] = s > 1e-12 * (1 + Math.abs(mean[j])) ? s : 1;
    }
    return new Standardizer(mean, std);
  }

  /** Standardise one raw feature vector (for serving-style use and tests). */
  transform(row: ArrayLike<number>): Float64Array {
    const out = new Float64Array(this.cols);
    for (let j = 0; j < out.length; j++) out[j] = (row[j] - this.mean[j]) / this.std[j];
    return out;
  }

  toJSON(): StandardizerJSON {
    return { mean: Array.from(this.mean), std: Array.from(this.std) };
  }

  static fromJSON(j: StandardizerJSON): Standardizer {
    return new Standardizer(Float64Array.from(j.mean), Float64Array.from(j.std));
  }
}
