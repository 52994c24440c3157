/**
 * Fits the calibration maps that src/core/calibration.ts applies: Platt
 * scaling (P = σ(a·s + b), fitted by damped Newton) and isotonic regression
 * (pool-adjacent-violators, emitted as the {kind:"isotonic", x, y}
 * interpolation table). Must be fitted on a calibration split that neither
 * trained nor selected the probe; this file cannot enforce that, callers do.
 */
import type { Calibration } from "../../src/core/calibration.js";

export interface PlattOptions {
  /**
   * Platt (1999) prior-corrected targets (N₊+1)/(N₊+2) and 1/(N₋+2) instead of
   * 1/0: keeps a and b finite on separable calibration sets. Default true.
   */
  smoothTargets?: boolean;
  maxIter?: number;
}

/** Minimise mean log-loss of σ(a·s + b) by Newton with step halving. */
export function fitPlatt(scores: ArrayLike<number>, labels: ArrayLike<number>, opts: PlattOptions = {}): Calibration & { kind: "platt" } {
  const n = scores.length;
  if (labels.length !== n) throw new Error("fitPlatt: length mismatch");
  if (n === 0) throw new Error("fitPlatt: no rows");
  const { smoothTargets = true, maxIter = 100 } = opts;
  let pos = 0;
  for (let i = 0; i < n; i++) pos += labels[i];
  const neg = n - pos;
  const hiT = smoothTargets ? (pos + 1) / (pos + 2) : 1;
  const loT = smoothTargets ? 1 / (neg + 2) : 0;
  const t = new Float64Array(n);
  for (let i = 0; i < n; i++) t[i] = labels[i] === 1 ? hiT : loT;
  // Start at a = 0 and b = prior log-odds, as in Lin, Lin & Weng (2007).
  let a = 0;
  let b = Math.log((pos + 1) / (neg + 1));
  const objective = (a_: number, b_: number): number => {
    let f = 0;
    for (let i = 0; i < n; i++) {
      const z = a_ * scores[i] + b_;
      // t·log(1+e^-z) + (1−t)·log(1+e^z), stable for large |z|
      f += z >= 0 ? t[i] * Math.log1p(Math.exp(-z)) + (1 - t[i]) * (z + Math.log1p(Math.exp(-z))) : t[i] * (-z + Math.log1p(Math.exp(z))) + (1 - t[i]) * Math.log1p(Math.exp(z));
    }
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
    ga /= n;
    gb /= n;
    if (Math.max(Math.abs(ga), Math.abs(gb)) < 1e-12) break;
    const det = (haa * hbb - hab * hab) / (n * n);
    const da = ((hbb / n) * ga - (hab / n) * gb) / det;
    const db = ((haa / n) * gb - (hab / n) * ga) / det;
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
