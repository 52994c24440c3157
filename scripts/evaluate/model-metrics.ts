/**
 * Per-model classification metrics on the evaluation rows: the student's
 * AUROC (seeded bootstrap 95% CI), Brier, ECE (+ reliability bins), log-loss,
 * and the baselines' AUROC on exactly the same rows and the same paired
 * resamples, plus the paired difference student − TF-IDF. Owns which rows
 * count (those where the model has an outcome); must not fit or score.
 */
import { bootstrapMany, take, type Interval } from "../lib/stats/bootstrap.js";
import { auroc, brier, ece, logloss, type ReliabilityBin } from "../lib/stats/metrics.js";

export interface ModelEval {
  /** Rows where this model has an outcome. */
  n: number;
  positives: number;
  base_rate: number | null;
  student: { auroc: Interval; brier: Interval; ece: Interval; logloss: Interval; reliability: ReliabilityBin[] };
  tfidf: { auroc: Interval; brier: number | null };
  length: { auroc: Interval; brier: number | null };
  majority: { p: number | null; brier: number | null; logloss: number | null };
  /** Paired bootstrap of AUROC(student) − AUROC(TF-IDF). */
  auroc_minus_tfidf: Interval;
}

export interface ModelScores {
  student: number[];
  tfidf: number[];
  length: number[];
  majority: number[];
  /** 0/1/NaN per row; NaN rows are left out. */
  success: number[];
}

const diff = (a: number | null, b: number | null) => (a === null || b === null ? null : a - b);

export function modelEval(s: ModelScores, opts: { seed: number; reps: number; majorityP: number | null }): ModelEval {
  const keep = s.success.flatMap((v, i) => (Number.isNaN(v) ? [] : [i]));
  const Y = Float64Array.from(keep, (i) => s.success[i]);
  const P = Float64Array.from(keep, (i) => s.student[i]);
  const T = Float64Array.from(keep, (i) => s.tfidf[i]);
  const L = Float64Array.from(keep, (i) => s.length[i]);
  const Mj = Float64Array.from(keep, (i) => s.majority[i]);
  const n = keep.length;
  const ci = bootstrapMany(
    n,
    {
      auroc: (i) => auroc(take(P, i), take(Y, i)),
      brier: (i) => brier(take(P, i), take(Y, i)),
      ece: (i) => ece(take(P, i), take(Y, i)).ece,
      logloss: (i) => logloss(take(P, i), take(Y, i)),
      tfidf: (i) => auroc(take(T, i), take(Y, i)),
      length: (i) => auroc(take(L, i), take(Y, i)),
      diff: (i) => {
        const y = take(Y, i);
        return diff(auroc(take(P, i), y), auroc(take(T, i), y));
      },
    },
    { seed: opts.seed, reps: opts.reps },
  );
  const positives = Y.reduce((a, b) => a + b, 0);
  return {
    n,
    positives,
    base_rate: n > 0 ? positives / n : null,
    student: { auroc: ci.auroc, brier: ci.brier, ece: ci.ece, logloss: ci.logloss, reliability: ece(P, Y).bins },
    tfidf: { auroc: ci.tfidf, brier: brier(T, Y) },
    length: { auroc: ci.length, brier: brier(L, Y) },
    majority: { p: opts.majorityP, brier: brier(Mj, Y), logloss: logloss(Mj, Y) },
    auroc_minus_tfidf: ci.diff,
  };
}

/** Target (a): student AUROC above TF-IDF's and its 95% CI entirely above 0.5. */
export function aurocTargetMet(e: ModelEval): boolean {
  const s = e.student.auroc;
  const t = e.tfidf.auroc.estimate;
  return s.estimate !== null && t !== null && s.estimate > t && s.lo !== null && s.lo > 0.5;
}
