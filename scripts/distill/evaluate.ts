/**
 * Split metrics for a trained student: per-model AUROC of the logit against
 * the majority label (success rate > 0.5; a tie is a failure, as in
 * scripts/formats/outcomes.ts), log-loss against the soft success rate, and
 * fidelity to teacher logits (MSE, Pearson) where teacher logits exist.
 * Takes a scoring function so any student architecture can be evaluated.
 * Pure: metrics come from scripts/lib/stats/metrics.ts; no I/O.
 */
import { auroc, mse, pearson } from "../lib/stats/metrics.js";
import { softplus } from "./network.js";
import type { Example } from "./network.js";

export type ScoreFn = (ex: Example) => ArrayLike<number>;

export interface ModelMetrics {
  n: number; // labelled examples
  positives: number;
  auroc: number | null;
  /** Mean BCE of sigmoid(logit) against the soft success rate. */
  bce: number | null;
  teacher_n: number;
  teacher_mse: number | null;
  teacher_pearson: number | null;
}

export interface SplitMetrics {
  n: number;
  mean_auroc: number | null;
  mean_teacher_mse: number | null;
  per_model: Record<string, ModelMetrics>;
}

const mean = (xs: (number | null)[]): number | null => {
  const v = xs.filter((x): x is number => x !== null);
  return v.length === 0 ? null : v.reduce((a, b) => a + b, 0) / v.length;
};

export function evaluateSplit(score: ScoreFn, examples: Example[], models: string[]): SplitMetrics {
  const logits = examples.map((ex) => score(ex));
  const per_model: Record<string, ModelMetrics> = {};
  for (const [m, name] of models.entries()) {
    const s: number[] = [];
    const y: number[] = [];
    let bce = 0;
    const ts: number[] = [];
    const tt: number[] = [];
    for (const [i, ex] of examples.entries()) {
      const z = logits[i][m];
      const rate = ex.label ? ex.label[m] : NaN;
      if (!Number.isNaN(rate)) {
        s.push(z);
        y.push(rate > 0.5 ? 1 : 0);
        bce += softplus(z) - rate * z;
      }
      const t = ex.teacher ? ex.teacher[m] : NaN;
      if (!Number.isNaN(t)) {
        ts.push(z);
        tt.push(t);
      }
    }
    per_model[name] = {
      n: s.length,
      positives: y.reduce((a, b) => a + b, 0),
      auroc: auroc(s, y),
      bce: s.length > 0 ? bce / s.length : null,
      teacher_n: ts.length,
      teacher_mse: mse(ts, tt),
      teacher_pearson: pearson(ts, tt),
    };
  }
  const pm = Object.values(per_model);
  return {
    n: examples.length,
    mean_auroc: mean(pm.map((p) => p.auroc)),
    mean_teacher_mse: mean(pm.map((p) => p.teacher_mse)),
    per_model,
  };
}
