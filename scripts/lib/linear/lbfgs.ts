/**
 * Limited-memory BFGS direction (two-loop recursion) over Float64Array
 * parameter vectors. Owns only the curvature-pair memory; the objective, line
 * search and stopping rule belong to the caller (see logistic.ts), because for
 * linear models the line search can be done on cached margins in O(rows).
 */
export class LbfgsMemory {
  private readonly s: Float64Array[] = [];
  private readonly y: Float64Array[] = [];
  private readonly rho: number[] = [];

  constructor(private readonly size = 10) {}

  /** Store (s, y) unless the curvature condition sᵀy > 0 fails (keeps H positive definite). */
  push(s: Float64Array, y: Float64Array): void {
    const sy = dot(s, y);
    if (!(sy > 1e-12 * Math.sqrt(dot(s, s) * dot(y, y)))) return;
    if (this.s.length === this.size) {
      this.s.shift();
      this.y.shift();
      this.rho.shift();
    }
    this.s.push(s);
    this.y.push(y);
    this.rho.push(1 / sy);
  }

  /** p = −H·g with the standard γ = sᵀy / yᵀy initial scaling. */
  direction(g: Float64Array): Float64Array {
    const m = this.s.length;
    const q = Float64Array.from(g);
    const alpha = new Float64Array(m);
    for (let i = m - 1; i >= 0; i--) {
      alpha[i] = this.rho[i] * dot(this.s[i], q);
      axpy(-alpha[i], this.y[i], q);
    }
    if (m > 0) {
      const yl = this.y[m - 1];
      const gamma = 1 / (this.rho[m - 1] * dot(yl, yl));
      for (let j = 0; j < q.length; j++) q[j] *= gamma;
    }
    for (let i = 0; i < m; i++) {
      const beta = this.rho[i] * dot(this.y[i], q);
      axpy(alpha[i] - beta, this.s[i], q);
    }
    for (let j = 0; j < q.length; j++) q[j] = -q[j];
    return q;
  }
}

export function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

/** y += a·x */
export function axpy(a: number, x: Float64Array, y: Float64Array): void {
  for (let i = 0; i < y.length; i++) y[i] += a * x[i];
}

export function maxAbs(a: Float64Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
}
