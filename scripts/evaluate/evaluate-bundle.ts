/**
 * evaluateBundle: scores an evaluation set with a bundle's student, fits the
 * reference baselines on the bundle's training data, and computes every
 * number the evaluation report and the manifest's `metrics` carry. Pure of
 * file I/O (the command reads files; report.ts writes them) and
 * deterministic: ORT on CPU, seeded bootstraps, deterministic baselines —
 * the same inputs and seed give identical results.
 *
 * Rows and splits:
 *   split "test": evaluate on rows with split "test"; "all": on every row.
 *   Validation rows (for choosing λ / threshold / budget with
 *   selectOnValidation): rows with split "val" in the evaluation data if
 *   there are any, else trainRows' "val" rows, else trainRows' "cal" rows,
 *   else none (no parameter is chosen; router_* headlines are null).
 *   With split "all" the validation rows are also evaluation rows — the
 *   report says so. A bundle whose build chose its default policy's
 *   parameter on cross-fitted rows (givenParam) keeps that parameter for the
 *   headline router; val then only reports it.
 * Teacher (optional): with `teacher`, the result gains `teacher` and the
 *   manifest metrics gain teacher_* / fidelity_* keys; without it both are
 *   exactly as before.
 */
import type { Manifest } from "../../src/core/manifest.js";
import type { OutcomeRow } from "../formats/outcomes.js";
import { fitBaselines, type BaselineInfo } from "./baselines.js";
import { aurocTargetMet, modelEval, type ModelEval } from "./model-metrics.js";
import { routingEval, type RoutingEval, type SplitArrays } from "./routing-eval.js";
import { scoreRows, type ScoredSet } from "./score.js";
import { bundleCostError, meanOver, type CostError } from "./cost-error.js";
import { teacherEval, teacherHeadlineMetrics, teacherPerModelMetrics, type TeacherEval, type TeacherMap } from "./teacher.js";

/** The manifest's `metrics` block (src/core/manifest.ts exports only the schema). */
export type Metrics = Manifest["metrics"];

export type EvalSplit = "test" | "all";
export type ValSource = "data:val" | "train-data:val" | "train-data:cal" | "none";

export interface EvaluateInput {
  manifest: Manifest;
  onnx: Uint8Array;
  /** The evaluation data file's rows (all splits; `split` picks which are evaluated). */
  rows: OutcomeRow[];
  /** The bundle's training data (baselines fit on its "train" rows; see baselines.ts). */
  trainRows: OutcomeRow[];
  split: EvalSplit;
  seed: number;
  /** Bootstrap resamples (default 1000). */
  reps?: number;
  /** Recorded in metrics as provenance of the numbers. */
  data?: { name: string; sha256: string };
  /** Probe-distilled bundles: the teacher per row id (see teacher.ts); adds fidelity, teacher AUROC and a teacher-probe router. */
  teacher?: TeacherMap;
}

export interface EvalResult {
  bundle_id: string;
  split: EvalSplit;
  seed: number;
  reps: number;
  models: string[];
  counts: { rows_in_file: number; evaluated: number; routed: number; dropped_incomplete: number; val_rows: number; val_source: ValSource };
  baselines: BaselineInfo;
  per_model: Record<string, ModelEval>;
  routing: RoutingEval;
  targets: {
    auroc: { met: boolean; per_model: Record<string, boolean> };
    /** Validation-chosen student router reaches the best single model's accuracy (− COST_TARGET_TOLERANCE) at ≤ COST_TARGET_PCT of its cost (issue 17). */
    cost: { met: boolean; router_acc: number | null; best_single_acc: number; cost_pct: number | null; limit_pct: number };
  };
  /** Per-row arrays of the evaluation split (not written to metrics.json). */
  scored: ScoredSet;
  manifestMetrics: Metrics;
  /** Only when a teacher was given. */
  teacher?: TeacherEval;
  /** Expected vs realised cost per model (empty when no row has a measured length); the bundle's output_length. */
  costError?: Record<string, CostError>;
  outputLength?: Manifest["output_length"];
}

export const COST_TARGET_PCT = 70;
/** Accuracy the router may give up against the best single model in the cost target (half a point). */
export const COST_TARGET_TOLERANCE = 0.005;

function pickValidation(input: EvaluateInput): { rows: OutcomeRow[]; source: ValSource } {
  const fromData = input.rows.filter((r) => r.split === "val");
  if (fromData.length > 0) return { rows: fromData, source: "data:val" };
  const tv = input.trainRows.filter((r) => r.split === "val");
  if (tv.length > 0) return { rows: tv, source: "train-data:val" };
  const tc = input.trainRows.filter((r) => r.split === "cal");
  if (tc.length > 0) return { rows: tc, source: "train-data:cal" };
  return { rows: [], source: "none" };
}

type Predictions = ReturnType<ReturnType<typeof fitBaselines>["predict"]>;

function arrays(s: ScoredSet, b: Predictions): SplitArrays {
  return { models: s.models, success: s.success, cost: s.cost, tasks: s.tasks, p: { student: s.p, tfidf: b.tfidf, length: b.length } };
}

const col = (m: number[][], j: number) => m.map((r) => r[j]);
const nn = (x: number | null | undefined): number | null => (x === undefined || x === null || !Number.isFinite(x) ? null : x);

/**
 * The default policy's parameter when the build chose it on cross-fitted rows
 * (provenance.trainer.policy_selection is set, scripts/stages/crossfit.ts):
 * the headline router is then the shipped policy, not a re-choice on val.
 */
export function givenParam(manifest: Manifest): number | undefined {
  if (typeof manifest.provenance.trainer.policy_selection !== "string") return undefined;
  const p = manifest.default_policy;
  if (p.type === "threshold") return p.min_p;
  if (p.type === "budget") return p.max_cost_usd;
  if (p.type === "utility" && p.lambda !== undefined) return p.lambda;
  throw new Error(`evaluate: policy_selection is set but the default policy ${JSON.stringify(p)} has no swept parameter`);
}

export async function evaluateBundle(input: EvaluateInput): Promise<EvalResult> {
  const { manifest, seed } = input;
  const reps = input.reps ?? 1000;
  const evalRows = input.split === "test" ? input.rows.filter((r) => r.split === "test") : input.rows;
  if (evalRows.length === 0) throw new Error(`evaluate: no rows with split "${input.split}" in the evaluation data (use --split all for an unsplit file)`);
  const models = manifest.pool.map((m) => m.id);
  const baselines = fitBaselines(input.trainRows, models);
  const scored = await scoreRows(manifest, input.onnx, evalRows);
  const base = baselines.predict(scored.texts);
  const ev = arrays(scored, base);
  const val = pickValidation(input);
  const valScored = val.rows.length > 0 ? await scoreRows(manifest, input.onnx, val.rows) : null;
  const valArrays = valScored ? arrays(valScored, baselines.predict(valScored.texts)) : null;

  const per_model: Record<string, ModelEval> = {};
  models.forEach((m, j) => {
    per_model[m] = modelEval(
      { student: col(scored.p, j), tfidf: col(base.tfidf, j), length: col(base.length, j), majority: col(base.majority, j), success: col(scored.success, j) },
      { seed, reps, majorityP: baselines.info.per_model[m].majority_p },
    );
  });
  const routing = routingEval(ev, valArrays, manifest.default_policy.type, givenParam(manifest));
  const teacher = input.teacher ? teacherEval(scored, valScored, input.teacher, { seed, reps }) : undefined;
  // Expected vs realised cost where outcomes carry measured output tokens (empty otherwise).
  const costErr = bundleCostError(manifest, evalRows);

  const kind = routing.headline_kind;
  const sweep = routing.sweeps.student[kind];
  const sim = routing.sims.student;
  const chosen = routing.selections?.student[kind] ?? null;
  const best = sweep.headlines.bestSingle;
  const routerAcc = chosen ? chosen.test.point.accuracy : null;
  const routerPct = chosen ? chosen.test.costPctOfBestSingle : null;
  const perAuroc = Object.fromEntries(models.map((m) => [m, aurocTargetMet(per_model[m])]));
  const targets: EvalResult["targets"] = {
    auroc: { met: models.every((m) => perAuroc[m]), per_model: perAuroc },
    cost: {
      met: routerAcc !== null && routerPct !== null && routerAcc >= best.accuracy - COST_TARGET_TOLERANCE - 1e-12 && routerPct <= COST_TARGET_PCT,
      router_acc: routerAcc,
      best_single_acc: best.accuracy,
      cost_pct: routerPct,
      limit_pct: COST_TARGET_PCT,
    },
  };

  const manifestMetrics: Metrics = {
    split: input.split,
    headline: {
      rows: sim.rows,
      best_single_acc: best.accuracy,
      best_single_cost: best.cost,
      cost_pct_at_best_single_acc: nn(sweep.headlines.costAtBestSingleAccuracyPct),
      acc_within_best_single_cost: nn(sweep.headlines.accuracyWithinBestSingleCost),
      auc: nn(sweep.auc),
      tfidf_auc: nn(routing.sweeps.tfidf[kind].auc),
      length_auc: nn(routing.sweeps.length[kind].auc),
      router_param: chosen ? chosen.param : null,
      router_acc: routerAcc,
      router_cost: chosen ? chosen.test.point.cost : null,
      router_cost_pct_of_best_single: nn(routerPct),
      oracle_acc: sim.oracle.accuracy,
      oracle_cost: sim.oracle.cost,
      random_acc: sim.random.accuracy,
      random_cost: sim.random.cost,
      ...(teacher ? teacherHeadlineMetrics(teacher, kind) : {}),
      ...(Object.keys(costErr).length ? { cost_mdape_mean: meanOver(costErr, "cost_mdape") } : {}),
    },
    per_model: Object.fromEntries(
      models.map((m) => {
        const e = per_model[m];
        return [
          m,
          {
            n: e.n,
            base_rate: e.base_rate,
            auroc: e.student.auroc.estimate,
            auroc_lo: e.student.auroc.lo,
            auroc_hi: e.student.auroc.hi,
            tfidf_auroc: e.tfidf.auroc.estimate,
            length_auroc: e.length.auroc.estimate,
            brier: e.student.brier.estimate,
            ece: e.student.ece.estimate,
            logloss: e.student.logloss.estimate,
            ...(teacher ? teacherPerModelMetrics(teacher, m) : {}),
            ...(costErr[m] ? { cost_mdape: costErr[m].cost_mdape, output_tokens_mdape: costErr[m].output_tokens_mdape, cost_error_n: costErr[m].n } : {}),
          },
        ];
      }),
    ),
    router_policy: kind,
    best_single_model: best.label,
    val_source: val.source,
    seed,
    ...(input.data ? { data: input.data } : {}),
  };

  return {
    bundle_id: manifest.bundle_id,
    split: input.split,
    seed,
    reps,
    models,
    counts: { rows_in_file: input.rows.length, evaluated: evalRows.length, routed: sim.rows, dropped_incomplete: sim.dropped, val_rows: val.rows.length, val_source: val.source },
    baselines: baselines.info,
    per_model,
    routing,
    targets,
    scored,
    manifestMetrics,
    costError: costErr,
    outputLength: manifest.output_length,
    ...(teacher ? { teacher } : {}),
  };
}
