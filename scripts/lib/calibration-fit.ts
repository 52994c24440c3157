/**
 * Fits the calibration maps that src/core/calibration.ts applies: Platt
 * scaling (P = σ(a·s + b), fitted by damped Newton, optionally MAP under a
 * Gaussian prior and with a ≥ 0) and isotonic regression (pool-adjacent-
 * violators, emitted as the {kind:"isotonic", x, y} interpolation table), and
 * the student's rule for choosing between them. Must be fitted on a
 * calibration split that neither trained nor selected the predictor; this
 * file cannot enforce that, callers do.
 */
import type { Calibration } from "../../src/core/calibration.js";

/**
 * Gaussian prior for MAP Platt, on the standardised score z = (s − mean)/sd:
 * slope α = a·sd ~ N(0, slopeSd²) (centred on "no signal"), log-odds at the
 * mean score β = b + a·mean ~ N(base-rate log-odds, interceptSd²). The
 * penalty is added to the summed log-loss, so its weight relative to the
 * data falls as 1/n: small cal splits shrink toward the base rate, large
 * ones barely move.
 */
export interface PlattPrior {
  slopeSd: number;
  interceptSd: number;
}

/**
 * The student's calibration prior. slopeSd 1: a one-sd move of the score
 * shifting log-odds by ±1 is a priori typical; with ~50 cal rows this shrinks
 * α by ~10 %, with 10 rows by ~⅓, with 500 by ~1 %. interceptSd 2: weak.
 */
export const STUDENT_PLATT_PRIOR: PlattPrior = { slopeSd: 1, interceptSd: 2 };

export interface PlattOptions {
  /**
   * Platt (1999) prior-corrected targets (N₊+1)/(N₊+2) and 1/(N₋+2) instead of
   * 1/0: keeps a and b finite on separable calibration sets. Default true.
   */
  smoothTargets?: boolean;
  maxIter?: number;
  /** MAP instead of maximum likelihood (default: none, plain Platt). */
  prior?: PlattPrior;
  /** Constrain a ≥ 0 so the map can never invert the score (default false). */
  monotone?: boolean;
}

/**
 * Minimise mean log-loss (+ prior penalty / n) of σ(a·s + b) by Newton with
 * step halving. With `monotone`, an unconstrained optimum at a < 0 is
 * replaced by the optimum on a = 0 (the objective is convex, so the
 * constrained optimum lies on that boundary): a constant, base-rate map.
 */
export function fitPlatt(scores: ArrayLike<number>, labels: ArrayLike<number>, opts: PlattOptions = {}): Calibration & { kind: "platt" } {
  const n = scores.length;
  if (labels.length !== n) throw new Error("fitPlatt: length mismatch");
  if (n === 0) throw new Error("fitPlatt: no rows");
  const { smoothTargets = true, maxIter = 100, prior, monotone = false } = opts;
  let pos = 0;
  for (let i = 0; i < n; i++) pos += labels[i];
  const neg = n - pos;
  const hiT = smoothTargets ? (pos + 1) / (pos + 2) : 1;
  const loT = smoothTargets ? 1 / (neg + 2) : 0;
  const t = new Float64Array(n);
  for (let i = 0; i < n; i++) t[i] = labels[i] === 1 ? hiT : loT;
  const b0 = Math.log((pos + 1) / (neg + 1));
  // Prior precisions in raw-score units (0 without a prior): pa on a, pb on b + a·mean.
  let mean = 0;
  for (let i = 0; i < n; i++) mean += scores[i] / n;
  let sd = 0;
  for (let i = 0; i < n; i++) sd += (scores[i] - mean) ** 2 / n;
  sd = Math.sqrt(sd);
  const pa = prior ? (sd * sd) / prior.slopeSd ** 2 : 0;
  const pb = prior ? 1 / prior.interceptSd ** 2 : 0;
  const run = (fixA: boolean) => newtonPlatt(scores, t, { b0, mean, pa, pb, fixA, maxIter });
  if (!monotone) return run(false);
  // A constant score carries no slope to fit; a negative optimum is clamped to the a = 0 boundary.
  const free = sd > 0 ? run(false) : null;
  return free && free.a >= 0 ? free : run(true);
}

interface NewtonSetup {
  b0: number;
  mean: number;
  pa: number;
  pb: number;
  fixA: boolean;
  maxIter: number;
}

function newtonPlatt(scores: ArrayLike<number>, t: Float64Array, o: NewtonSetup): Calibration & { kind: "platt" } {
  const n = scores.length;
  const { b0, mean, pa, pb, fixA, maxIter } = o;
  // Start at a = 0 and b = prior log-odds, as in Lin, Lin & Weng (2007).
  let a = 0;
  let b = b0;
  const objective = (a_: number, b_: number): number => {
    let f = 0;
    for (let i = 0; i < n; i++) {
      const z = a_ * scores[i] + b_;
      // t·log(1+e^-z) + (1−t)·log(1+e^z), stable for large |z|
      f += z >= 0 ? t[i] * Math.log1p(Math.exp(-z)) + (1 - t[i]) * (z + Math.log1p(Math.exp(-z))) : t[i] * (-z + Math.log1p(Math.exp(z))) + (1 - t[i]) * Math.log1p(Math.exp(z));
    }
    if (pa > 0 || pb > 0) f += (pa * a_ * a_ + pb * (b_ + a_ * mean - b0) ** 2) / 2;
    return f / n;
  };
  let f = objective(a, b);
  for (let it = 0; it < maxIter; it++) {
    let ga = 0;
    let gb = 0;
    let haa = 1e-12;
    let hab = 0;
    let hbb = 1e-12;
    for (let i = 0; i < n; i++) {
      const s = scores[i];
      const z = a * s + b;
      const p = z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z));
      const r = p - t[i];
      const w = p * (1 - p);
      ga += r * s;
      gb += r;
      haa += w * s * s;
      hab += w * s;
      hbb += w;
    }
    if (pa > 0 || pb > 0) {
      const r0 = b + a * mean - b0;
      ga += pa * a + pb * mean * r0;
      gb += pb * r0;
      haa += pa + pb * mean * mean;
      hab += pb * mean;
      hbb += pb;
    }
    ga /= n;
    gb /= n;
    if (fixA) ga = 0;
    if (Math.max(Math.abs(ga), Math.abs(gb)) < 1e-12) break;
    const det = (haa * hbb - hab * hab) / (n * n);
    const da = fixA ? 0 : ((hbb / n) * ga - (hab / n) * gb) / det;
    const db = fixA ? gb / (hbb / n) : ((haa / n) * gb - (hab / n) * ga) / det;
    let step = 1;
    let improved = false;
    while (step > 1e-10) {
      const fNew = objective(a - step * da, b - step * db);
      if (fNew <= f - 1e-4 * step * (ga * da + gb * db)) {
        a -= step * da;
        b -= step * db;
        f = fNew;
        improved = true;
        break;
      }
      step /= 2;
    }
    if (!improved) break;
  }
  return { kind: "platt", a, b };
}

/**
 * Isotonic (non-decreasing) regression of labels on scores by PAV, ties in
 * score pooled first. Each block contributes its score range's two ends with
 * the block mean, so calibrate()'s linear interpolation is flat within a block
 * and ramps only between blocks; outside the seen range it clamps.
 */
export function fitIsotonic(scores: ArrayLike<number>, labels: ArrayLike<number>): Calibration & { kind: "isotonic" } {
  const n = scores.length;
  if (labels.length !== n) throw new Error("fitIsotonic: length mismatch");
  if (n === 0) throw new Error("fitIsotonic: no rows");
  const order = Array.from({ length: n }, (_, i) => i).sort((p, q) => scores[p] - scores[q]);
  // Blocks as parallel stacks: sum of labels, weight, min score, max score.
  const sum: number[] = [];
  const wt: number[] = [];
  const lo: number[] = [];
  const hi: number[] = [];
  for (let k = 0; k < n; k++) {
    const i = order[k];
    const s = scores[i];
    const top = sum.length - 1;
    if (top >= 0 && hi[top] === s) {
      sum[top] += labels[i]; // tie in score: must share one value
      wt[top] += 1;
    } else {
      sum.push(labels[i]);
      wt.push(1);
      lo.push(s);
      hi.push(s);
    }
    // Merge backwards while the previous block's mean exceeds the last one's.
    while (sum.length > 1) {
      const m = sum.length - 1;
      if (sum[m - 1] / wt[m - 1] <= sum[m] / wt[m]) break;
      sum[m - 1] += sum[m];
      wt[m - 1] += wt[m];
      hi[m - 1] = hi[m];
      sum.pop();
      wt.pop();
      lo.pop();
      hi.pop();
    }
  }
  const x: number[] = [];
  const y: number[] = [];
  for (let m = 0; m < sum.length; m++) {
    const v = Math.min(1, Math.max(0, sum[m] / wt[m]));
    x.push(lo[m]);
    y.push(v);
    if (hi[m] !== lo[m]) {
      x.push(hi[m]);
      y.push(v);
    }
  }
  if (x.length === 1) {
    x.push(x[0]); // schema needs two points; a constant map is the honest answer
    y.push(y[0]);
  }
  return { kind: "isotonic", x, y };
}

/**
 * Isotonic needs data: PAV on a few dozen rows is a staircase of noise
 * (Niculescu-Mizil & Caruana 2005 find it overfits below ~1000 rows where
 * Platt does not). Below these counts the student falls back to Platt.
 */
export const ISOTONIC_MIN = { n: 500, positives: 50, negatives: 50 } as const;

/**
 * The student's monotone calibration: isotonic when asked for and the cal
 * rows meet ISOTONIC_MIN, else MAP Platt with a ≥ 0 (STUDENT_PLATT_PRIOR).
 * Either way the map is non-decreasing in the score: it can flatten a
 * useless score, never invert it.
 */
export function fitMonotoneCalibration(
  scores: ArrayLike<number>,
  labels: ArrayLike<number>,
  kind: "platt" | "isotonic",
): { calibration: Calibration; method: "platt" | "isotonic" } {
  let pos = 0;
  for (let i = 0; i < labels.length; i++) pos += labels[i];
  const n = labels.length;
  if (kind === "isotonic" && n >= ISOTONIC_MIN.n && pos >= ISOTONIC_MIN.positives && n - pos >= ISOTONIC_MIN.negatives) {
    return { calibration: fitIsotonic(scores, labels), method: "isotonic" };
  }
  return { calibration: fitPlatt(scores, labels, { prior: STUDENT_PLATT_PRIOR, monotone: true }), method: "platt" };
}
