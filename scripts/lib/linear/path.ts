/**
 * Regularisation path with validation selection for one (layer, target):
 * fits λ from largest to smallest, warm-starting each fit from the previous
 * solution, scores every fit on the validation rows (log-loss for logistic,
 * MSE for ridge) and stops early once `patience` consecutive λs are worse
 * than the best by more than a flat-region tolerance. Owns λ-path policy only; never sees test rows.
 */
import { maxAbs } from "./lbfgs.js";
import { fitLogistic, meanOf, softplus, type LinearFit } from "./logistic.js";
import type { LinearOperator } from "./operator.js";
import { fitRidge } from "./ridge.js";

export type LinearKind = "logistic" | "ridge";

export interface PathOptions {
  /** Stop each fit when max|∇| ≤ rtol · max|∇ at w = 0| (the path's own scale). */
  rtol?: number;
  maxIter?: number;
  patience?: number;
  /** Relative val-loss rise treated as "flat" rather than "worse" (default 1e-4). */
  flatTol?: number;
}

export interface PathStep {
  lambda: number;
  val: number;
  iterations: number;
  converged: boolean;
}

export interface PathResult {
  kind: LinearKind;
  best: { lambda: number; w: Float64Array; b: number; val: number; trainMargins: Float64Array; valMargins: Float64Array };
  steps: PathStep[];
}

/** Validation loss of margins z against targets: mean log-loss or mean squared error. */
export function validationLoss(kind: LinearKind, z: ArrayLike<number>, y: ArrayLike<number>): number {
  let s = 0;
  for (let k = 0; k < z.length; k++) s += kind === "logistic" ? softplus(z[k]) - y[k] * z[k] : (z[k] - y[k]) ** 2;
  return s / Math.max(1, z.length);
}

/** max |gradient| of the data term at w = 0 with the intercept at its optimum. */
function zeroGradientScale(kind: LinearKind, op: LinearOperator, y: ArrayLike<number>): number {
  const m = meanOf(y);
  const r = new Float64Array(op.rows);
  for (let k = 0; k < r.length; k++) r[k] = m - y[k]; // σ(logit m) − y = m − y; same form for ridge
  const g = new Float64Array(op.cols);
  op.adjoint(r, g);
  return maxAbs(g) / Math.max(1, op.rows);
}

export function fitPath(
  kind: LinearKind,
  train: LinearOperator,
  yTrain: ArrayLike<number>,
  val: LinearOperator,
  yVal: ArrayLike<number>,
  lambdas: number[],
  { rtol = 1e-3, maxIter = 300, patience = 1, flatTol = 1e-4 }: PathOptions = {},
): PathResult {
  if (lambdas.length === 0) throw new Error("fitPath: empty lambda grid");
  const grid = [...lambdas].sort((a, b) => b - a);
  const gtol = rtol * Math.max(zeroGradientScale(kind, train, yTrain), 1e-12);
  const fit = kind === "logistic" ? fitLogistic : fitRidge;
  const steps: PathStep[] = [];
  let best: PathResult["best"] | null = null;
  let prev: LinearFit | undefined;
  let worse = 0;
  const zVal = new Float64Array(val.rows);
  for (const lambda of grid) {
    const f = fit(train, yTrain, { lambda, gtol, maxIter, init: prev });
    val.forward(f.w, zVal);
    for (let k = 0; k < zVal.length; k++) zVal[k] += f.b;
    const v = validationLoss(kind, zVal, yVal);
    steps.push({ lambda, val: v, iterations: f.iterations, converged: f.converged });
    if (best === null || v < best.val) {
      best = { lambda, w: f.w, b: f.b, val: v, trainMargins: f.margins, valMargins: Float64Array.from(zVal) };
      worse = 0;
    } else if (v > best.val * (1 + flatTol) && ++worse >= patience) break;
    // A rise within flatTol does not count: at the top of the grid w ≈ 0 and the
    // val loss is flat, so noise there must not end the path before any signal is fitted.
    prev = f;
  }
  return { kind, best: best!, steps };
}
