/**
 * Build stage between calibrate and evaluate, when the config has a `select`
 * block: chooses the default policy's parameter on K-fold cross-fitted rows
 * instead of the val split alone (issue 17; 525 val rows put the best single
 * model's accuracy 3 points off its test figure). The base data's train+val
 * rows are cut into K folds by a stable hash of the row id; for each fold the
 * build's own student (runDistill, same config; the fold is its early-stopping
 * and blend split) is trained on the other folds, calibrated on the cal split
 * (calibrateStudent, as the build does) and scores its fold. Over the ~4.5k
 * out-of-fold rows the no-harm rule (scripts/lib/routing/select.ts), capped
 * by an optional cost budget, picks the policy parameter, which the served
 * student then uses. Never reads test rows,
 * never writes a bundle; pure apart from training (no I/O).
 */
import { featurize } from "../../src/core/featurizer.js";
import { unitInterval } from "../../src/core/hash.js";
import type { Policy } from "../../src/core/policy.js";
import { modelP } from "../../src/core/scoring.js";
import { forward } from "../../src/core/student.js";
import { toDistillRow } from "../distill/dataset.js";
import { rowCost, rowSuccess } from "../evaluate/score.js";
import type { OutcomeRow, PoolConfig } from "../formats/outcomes.js";
import { bestSingle } from "../lib/routing/pareto.js";
import { selectNoHarmWithinBudget } from "../lib/routing/select.js";
import { completeRows, defaultGrid, policyFor, singleModels, sweep, type RoutingData } from "../lib/routing/simulate.js";
import type { BuildConfig } from "./build-config.js";
import { calibrateStudent, promptText } from "./calibrate.js";
import { runDistill } from "./distill.js";

export type SelectConfig = NonNullable<BuildConfig["select"]>;

/** Fold of a row id in 0..K−1 (stable: the same id always lands in the same fold). */
export function foldOf(id: string, folds: number): number {
  return Math.min(folds - 1, Math.floor(unitInterval(`crossfit|${id}`) * folds));
}

export interface CrossfitSelection {
  policy: Policy;
  /** Flat figures for provenance.trainer (policy_selection marks the parameter as chosen here; see evaluate-bundle givenParam). */
  summary: Record<string, string | number>;
  /** The out-of-fold routing data the rule was applied to. */
  oof: RoutingData;
}

/**
 * Out-of-fold calibrated P for every complete train+val row of the base data
 * (rows from logged files, which carry one outcome only, are left out).
 */
export function crossfitRouting(cfg: BuildConfig, rows: OutcomeRow[], pool: PoolConfig["models"], folds: number, log: (m: string) => void = () => {}): RoutingData {
  const models = pool.map((m) => m.id);
  const base = rows.filter((r) => (r.split === "train" || r.split === "val") && !r.logged);
  const calRows = rows.filter((r) => r.split === "cal");
  const out: RoutingData = { models, p: [], success: [], cost: [] };
  for (let k = 0; k < folds; k++) {
    const held = base.filter((r) => foldOf(r.id, folds) === k);
    const res = runDistill({
      rows: base.map((r) => ({ ...toDistillRow(r), split: foldOf(r.id, folds) === k ? "val" : "train" })),
      models,
      featurizer: cfg.featurizer,
      train: { ...cfg.train, seed: cfg.train.seed ?? cfg.seed, alpha: 0 },
      progress: { mode: "none" },
    });
    const { calibration } = calibrateStudent(res.weights, cfg.featurizer, models, calRows, cfg.calibration, { valRows: held, seed: cfg.seed, alpha: cfg.signal_alpha });
    for (const r of held) {
      const f = featurize(promptText(r), cfg.featurizer);
      const z = forward(res.weights, f.ids, f.dense).logits;
      out.p.push(models.map((m, j) => modelP(z, j, calibration[m])));
      out.success.push(models.map((m) => rowSuccess(r, m)));
      out.cost.push(pool.map((m) => rowCost(r, m, f.inputTokens)));
    }
    log(`[build] crossfit: fold ${k + 1}/${folds}, ${held.length} rows (best epoch ${res.training.bestEpoch})`);
  }
  return completeRows(out).data;
}

/**
 * Applies `select` to the out-of-fold rows and returns the default policy:
 * the no-harm rule, or with `budget` the most accurate point within that
 * share of the best single model's cost when it also passes no-harm.
 */
export function crossfitSelect(cfg: BuildConfig, rows: OutcomeRow[], pool: PoolConfig["models"], log?: (m: string) => void): CrossfitSelection {
  if (!cfg.select) throw new Error("crossfit: the config has no select block");
  if (cfg.teacher) throw new Error("crossfit: select with a teacher is not supported (fold students are label-only)");
  const { policy: kind, folds, tolerance, budget } = cfg.select;
  const oof = crossfitRouting(cfg, rows, pool, folds, log);
  const singles = singleModels(oof);
  const chosen = selectNoHarmWithinBudget(sweep(oof, kind, defaultGrid(oof, kind)), singles, tolerance, budget);
  const best = bestSingle(singles);
  return {
    policy: policyFor(kind, chosen.param),
    oof,
    summary: {
      policy_selection: `oof-${folds}fold-${kind}`,
      policy_rule: chosen.rule,
      policy_tolerance: tolerance,
      ...(budget === undefined ? {} : { policy_budget: budget }),
      policy_oof_rows: oof.success.length,
      policy_oof_acc: chosen.point.accuracy,
      policy_oof_cost_pct: (100 * chosen.point.cost) / best.cost,
      policy_oof_best_single: best.label,
      policy_oof_best_single_acc: best.accuracy,
    },
  };
}
