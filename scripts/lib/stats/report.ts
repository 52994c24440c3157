/**
 * The metric bundle every predictor (probe, ridge, baselines) is reported
 * with on a split: AUROC, Spearman, Brier, ECE, log-loss — each with a paired
 * seeded bootstrap 95% CI — plus the reliability table. Owns the choice of
 * which metric compares against which label; no fitting, no I/O.
 *   AUROC, Brier, ECE, log-loss: probability vs majority label (0/1)
 *   Spearman: probability vs success rate k/n (uses the graded signal)
 */
import { bootstrapMany, take, type Interval } from "./bootstrap.js";
import { brier, ece, logloss, mse, pearson, withinGroupAuroc, type ReliabilityBin } from "./metrics.js";
import { TieGroups, aurocCounts, countsOf, spearmanCounts } from "./resample.js";

export interface MetricSet {
  n: number;
  auroc: Interval;
  spearman: Interval;
  brier: Interval;
  ece: Interval;
  logloss: Interval;
  auroc_within_group?: Interval;
  reliability: ReliabilityBin[];
}

export interface RegressionSet {
  n: number;
  spearman: Interval;
  pearson: Interval;
  mse: Interval;
  /** How well the regression output ranks majority labels. */
  auroc: Interval;
}

export interface ReportOptions {
  seed: number;
  reps?: number;
  groups?: ArrayLike<string>;
}

/** p: probabilities, y: majority labels, rate: success rates — all aligned. */
export function probabilityMetrics(p: ArrayLike<number>, y: ArrayLike<number>, rate: ArrayLike<number>, opts: ReportOptions): MetricSet {
  const n = p.length;
  const P = Float64Array.from(p);
  const Y = Float64Array.from(y);
  const R = Float64Array.from(rate);
  // Rank statistics use the sort-free resample path (resample.ts): same values, O(n) per replicate.
  const tp = new TieGroups(P);
  const tr = new TieGroups(R);
  const stats: Record<string, (idx: Int32Array) => number | null> = {
    auroc: (i) => aurocCounts(tp, Y, countsOf(i, n)),
    spearman: (i) => spearmanCounts(tp, tr, countsOf(i, n)),
    brier: (i) => brier(take(P, i), take(Y, i)),
    ece: (i) => ece(take(P, i), take(Y, i)).ece,
    logloss: (i) => logloss(take(P, i), take(Y, i)),
  };
  const groups = opts.groups;
  if (groups) {
    stats.auroc_within_group = (i) => withinGroupAuroc(take(P, i), take(Y, i), Array.from(i, (k) => groups[k]));
  }
  const ci = bootstrapMany(n, stats, { seed: opts.seed, reps: opts.reps });
  const out: MetricSet = {
    n,
    auroc: ci.auroc,
    spearman: ci.spearman,
    brier: ci.brier,
    ece: ci.ece,
    logloss: ci.logloss,
    reliability: ece(P, Y).bins,
  };
  if (groups) out.auroc_within_group = ci.auroc_within_group;
  return out;
}

/** pred: regression outputs (predicted success rate). */
export function regressionMetrics(pred: ArrayLike<number>, y: ArrayLike<number>, rate: ArrayLike<number>, opts: ReportOptions): RegressionSet {
  const Q = Float64Array.from(pred);
  const Y = Float64Array.from(y);
  const R = Float64Array.from(rate);
  const n = Q.length;
  const tq = new TieGroups(Q);
  const tr = new TieGroups(R);
  const ci = bootstrapMany(
    n,
    {
      spearman: (i) => spearmanCounts(tq, tr, countsOf(i, n)),
      pearson: (i) => pearson(take(Q, i), take(R, i)),
      mse: (i) => mse(take(Q, i), take(R, i)),
      auroc: (i) => aurocCounts(tq, Y, countsOf(i, n)),
    },
    { seed: opts.seed, reps: opts.reps },
  );
  return { n: Q.length, ...ci };
}
