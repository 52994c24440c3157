/**
 * Evaluation metrics for probabilistic binary predictors and rankers: AUROC
 * (tie-aware), within-group AUROC, Spearman, Pearson, Brier, ECE with its
 * reliability bins, and clipped log-loss. Pure math on plain arrays; no I/O,
 * no randomness (bootstrap lives in bootstrap.ts).
 *
 * Undefined metrics return null rather than NaN so results stay JSON-safe and
 * callers must decide what "no answer" means (e.g. AUROC with one class).
 */

export type Labels = ArrayLike<number>; // 0/1
export type Scores = ArrayLike<number>;

/**
 * Average ranks (1-based) with ties sharing the mean of the ranks they span,
 * which is what makes AUROC and Spearman correct in the presence of ties.
 */
export function averageRanks(values: ArrayLike<number>): Float64Array {
  const n = values.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => values[a] - values[b]);
  const ranks = new Float64Array(n);
  let i = 0;
  while (i < n) {
    let j = i + 1;
    while (j < n && values[order[j]] === values[order[i]]) j++;
    const avg = (i + 1 + j) / 2; // mean of ranks i+1..j
    for (let k = i; k < j; k++) ranks[order[k]] = avg;
    i = j;
  }
  return ranks;
}

/** Area under the ROC curve via Mann–Whitney U; null if a class is absent. */
export function auroc(scores: Scores, labels: Labels): number | null {
  const n = scores.length;
  if (labels.length !== n) throw new Error("auroc: length mismatch");
  const ranks = averageRanks(scores);
  let pos = 0;
  let rankSum = 0;
  for (let i = 0; i < n; i++) {
    if (labels[i] === 1) {
      pos++;
      rankSum += ranks[i];
    }
  }
  const neg = n - pos;
  if (pos === 0 || neg === 0) return null;
  return (rankSum - (pos * (pos + 1)) / 2) / (pos * neg);
}

/** How groups enter `withinGroupAuroc`; the defaults are the headline rule. */
export interface GroupRule {
  /** A group is scored only with at least this many of each class (default 1). */
  minPerClass?: number;
  /** "size": weight = group size (default); "pairs": weight = positives × negatives, i.e. the pooled within-group pair ordering. */
  weight?: "size" | "pairs";
}

/**
 * AUROC computed inside each group and averaged with weights equal to group
 * size. Groups with a single class carry no ranking information and are
 * skipped (their weight is dropped, not counted as 0.5). Null if no group
 * qualifies. `rule` exists for sensitivity checks: a group with one positive
 * among hundreds still gets its full size as weight under the default rule.
 */
export function withinGroupAuroc(scores: Scores, labels: Labels, groups: ArrayLike<string | number>, rule: GroupRule = {}): number | null {
  const minPerClass = Math.max(1, rule.minPerClass ?? 1);
  const byGroup = new Map<string | number, number[]>();
  for (let i = 0; i < scores.length; i++) {
    const g = groups[i];
    let list = byGroup.get(g);
    if (!list) byGroup.set(g, (list = []));
    list.push(i);
  }
  let total = 0;
  let weight = 0;
  for (const idx of byGroup.values()) {
    let pos = 0;
    for (const i of idx) pos += labels[i] === 1 ? 1 : 0;
    const neg = idx.length - pos;
    if (Math.min(pos, neg) < minPerClass) continue;
    const a = auroc(
      idx.map((i) => scores[i]),
      idx.map((i) => labels[i]),
    );
    if (a === null) continue;
    const w = rule.weight === "pairs" ? pos * neg : idx.length;
    total += a * w;
    weight += w;
  }
  return weight === 0 ? null : total / weight;
}

/** Pearson correlation; null when either side has zero variance or n < 2. */
export function pearson(x: ArrayLike<number>, y: ArrayLike<number>): number | null {
  const n = x.length;
  if (y.length !== n) throw new Error("pearson: length mismatch");
  if (n < 2) return null;
  let mx = 0;
  let my = 0;
  for (let i = 0; i < n; i++) {
    mx += x[i];
    my += y[i];
  }
  mx /= n;
  my /= n;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    const dx = x[i] - mx;
    const dy = y[i] - my;
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
  }
  if (sxx === 0 || syy === 0) return null;
  return sxy / Math.sqrt(sxx * syy);
}

/** Spearman rank correlation = Pearson on average ranks (tie-correct). */
export function spearman(x: ArrayLike<number>, y: ArrayLike<number>): number | null {
  if (x.length !== y.length) throw new Error("spearman: length mismatch");
  return pearson(averageRanks(x), averageRanks(y));
}

/** Mean squared error of probabilities against 0/1 outcomes; null if empty. */
export function brier(probs: Scores, labels: Labels): number | null {
  const n = probs.length;
  if (labels.length !== n) throw new Error("brier: length mismatch");
  if (n === 0) return null;
  let s = 0;
  for (let i = 0; i < n; i++) s += (probs[i] - labels[i]) ** 2;
  return s / n;
}

/** Mean negative log-likelihood with probabilities clipped to [eps, 1-eps]. */
export function logloss(probs: Scores, labels: Labels, eps = 1e-7): number | null {
  const n = probs.length;
  if (labels.length !== n) throw new Error("logloss: length mismatch");
  if (n === 0) return null;
  let s = 0;
  for (let i = 0; i < n; i++) {
    const p = Math.min(1 - eps, Math.max(eps, probs[i]));
    s -= labels[i] === 1 ? Math.log(p) : Math.log(1 - p);
  }
  return s / n;
}

export interface ReliabilityBin {
  lo: number;
  hi: number;
  mean_p: number | null; // null for an empty bin
  frac_pos: number | null;
  count: number;
}

export interface EceResult {
  ece: number | null;
  bins: ReliabilityBin[];
}

/**
 * Expected calibration error over equal-width probability bins
 * [k/B, (k+1)/B), the last bin closed at 1. ECE = Σ (count/n)·|mean_p − frac_pos|.
 */
export function ece(probs: Scores, labels: Labels, nBins = 10): EceResult {
  const n = probs.length;
  if (labels.length !== n) throw new Error("ece: length mismatch");
  const sumP = new Float64Array(nBins);
  const sumY = new Float64Array(nBins);
  const count = new Int32Array(nBins);
  for (let i = 0; i < n; i++) {
    const p = probs[i];
    const b = Math.min(nBins - 1, Math.max(0, Math.floor(p * nBins)));
    sumP[b] += p;
    sumY[b] += labels[i];
    count[b]++;
  }
  const bins: ReliabilityBin[] = [];
  let e = 0;
  for (let b = 0; b < nBins; b++) {
    const c = count[b];
    const meanP = c > 0 ? sumP[b] / c : null;
    const frac = c > 0 ? sumY[b] / c : null;
    if (meanP !== null && frac !== null) e += (c / n) * Math.abs(meanP - frac);
    bins.push({ lo: b / nBins, hi: (b + 1) / nBins, mean_p: meanP, frac_pos: frac, count: c });
  }
  return { ece: n === 0 ? null : e, bins };
}

/** Mean squared error for regression outputs (success-rate predictions). */
export function mse(pred: ArrayLike<number>, target: ArrayLike<number>): number | null {
  const n = pred.length;
  if (target.length !== n) throw new Error("mse: length mismatch");
  if (n === 0) return null;
  let s = 0;
  for (let i = 0; i < n; i++) s += (pred[i] - target[i]) ** 2;
  return s / n;
}
