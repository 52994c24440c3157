/**
 * Trivial reference predictors every probe must beat: the train base rate
 * ("majority class" as a probability, so AUROC is 0.5 and Brier/log-loss are
 * the no-skill values) and one-feature logistic fits (prompt log-length,
 * human difficulty). Fitted on train rows only; no I/O.
 */
import { fitLogistic, meanOf, sigmoid } from "./logistic.js";
import { SmallDenseOperator } from "./operator.js";

export interface ScalarBaseline {
  kind: "scalar-logistic";
  /** P = σ(w·(x − mean)/std + b) */
  mean: number;
  std: number;
  w: number;
  b: number;
}

export function fitMajorityBaseline(trainLabels: ArrayLike<number>): { kind: "majority"; p: number } {
  if (trainLabels.length === 0) throw new Error("fitMajorityBaseline: no rows");
  return { kind: "majority", p: meanOf(trainLabels) };
}

/** 1-D logistic regression with a tiny ridge so a separable feature stays finite. */
export function fitScalarBaseline(x: ArrayLike<number>, y: ArrayLike<number>, lambda = 1e-4): ScalarBaseline {
  const n = x.length;
  if (n === 0 || y.length !== n) throw new Error("fitScalarBaseline: bad input");
  const mean = meanOf(x);
  let ss = 0;
  for (let i = 0; i < n; i++) ss += (x[i] - mean) ** 2;
  const std = Math.sqrt(ss / n) || 1;
  const z = new Float64Array(n);
  for (let i = 0; i < n; i++) z[i] = (x[i] - mean) / std;
  const fit = fitLogistic(new SmallDenseOperator(z, n, 1), y, { lambda, gtol: 1e-10 });
  return { kind: "scalar-logistic", mean, std, w: fit.w[0], b: fit.b };
}

export function predictScalar(m: ScalarBaseline, x: number): number {
  return sigmoid((m.w * (x - m.mean)) / m.std + m.b);
}

/** The length feature: log(1 + characters). */
export const logLength = (text: string): number => Math.log1p(text.length);

export function fitLengthBaseline(trainTexts: string[], trainLabels: ArrayLike<number>): ScalarBaseline {
  return fitScalarBaseline(trainTexts.map(logLength), trainLabels);
}
