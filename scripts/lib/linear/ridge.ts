/**
 * Ridge regression on any LinearOperator by conjugate gradient:
 *   minimise (1/2n)·‖A·w + b − y‖² + (λ/2)·‖w‖²   (intercept b unpenalised).
 * CG runs on the normal equations of the augmented variable [w; b]; the
 * matrix is SPD for λ > 0, each iteration is one forward + one adjoint
 * product, and a warm start along a λ path begins from the previous solution.
 * Deterministic; no I/O.
 */
import { dot, maxAbs } from "./lbfgs.js";
import { meanOf, startingPoint, type FitOptions, type LinearFit } from "./logistic.js";
import type { LinearOperator } from "./operator.js";

export function fitRidge(op: LinearOperator, y: ArrayLike<number>, opts: FitOptions): LinearFit {
  const n = op.rows;
  const d = op.cols;
  if (y.length !== n) throw new Error("fitRidge: target length mismatch");
  if (n === 0) throw new Error("fitRidge: no rows");
  const { lambda, gtol = 1e-8, maxIter = 500 } = opts;
  if (!(lambda > 0)) throw new Error("fitRidge: lambda must be > 0");
  // z = A·w + b is tracked incrementally from here on.
  const { x, z } = startingPoint(op, opts.init, () => meanOf(y));
  // Residual of the normal equations = −∇objective.
  const e = new Float64Array(n);
  const res = new Float64Array(d + 1);
  const negGradient = (): void => {
    let es = 0;
    for (let k = 0; k < n; k++) {
      e[k] = y[k] - z[k];
      es += e[k];
    }
    op.adjoint(e, res);
    for (let j = 0; j < d; j++) res[j] = res[j] / n - lambda * x[j];
    res[d] = es / n;
  };
  const cached = opts.init?.margins?.length === n && opts.init.dataGrad?.length === d + 1 ? opts.init.dataGrad : undefined;
  if (cached) {
    // Same rows, new λ: only the penalty part of the gradient changes.
    for (let j = 0; j < d; j++) res[j] = -cached[j] - lambda * x[j];
    res[d] = -cached[d];
  } else negGradient();
  const p = Float64Array.from(res);
  const u = new Float64Array(n);
  const Mp = new Float64Array(d + 1);
  let rr = dot(res, res);
  let iter = 0;
  let converged = maxAbs(res) <= gtol;
  while (!converged && iter < maxIter) {
    iter++;
    op.forward(p.subarray(0, d), u);
    let us = 0;
    for (let k = 0; k < n; k++) {
      u[k] += p[d];
      us += u[k];
    }
    op.adjoint(u, Mp);
    for (let j = 0; j < d; j++) Mp[j] = Mp[j] / n + lambda * p[j];
    Mp[d] = us / n;
    const pMp = dot(p, Mp);
    if (!(pMp > 0)) break;
    const alpha = rr / pMp;
    for (let j = 0; j <= d; j++) {
      x[j] += alpha * p[j];
      res[j] -= alpha * Mp[j];
    }
    for (let k = 0; k < n; k++) z[k] += alpha * u[k];
    const rrNew = dot(res, res);
    converged = maxAbs(res) <= gtol;
    const beta = rrNew / rr;
    for (let j = 0; j <= d; j++) p[j] = res[j] + beta * p[j];
    rr = rrNew;
  }
  let loss = 0;
  let ww = 0;
  for (let k = 0; k < n; k++) loss += (z[k] - y[k]) ** 2;
  for (let j = 0; j < d; j++) ww += x[j] * x[j];
  // Data-term gradient Aᵀ(z − y)/n from the CG residual (res = −dataGrad − λw).
  const dataGrad = new Float64Array(d + 1);
  for (let j = 0; j < d; j++) dataGrad[j] = -res[j] - lambda * x[j];
  dataGrad[d] = -res[d];
  return {
    dataGrad,
    w: x.slice(0, d),
    b: x[d],
    iterations: iter,
    converged,
    objective: loss / (2 * n) + 0.5 * lambda * ww,
    gradMax: maxAbs(res),
    margins: z,
  };
}
