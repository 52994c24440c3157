/**
 * Pipeline stage `add-model`: onboard one new model onto an existing bundle
 * from a few labelled prompts. Loads the bundle (verified like `promote`),
 * freezes its student (trunk, every existing head and wide column), fits only
 * the new model's head (scripts/stages/new-head.ts; with the pool's own
 * outcome table, scripts/stages/impute-head.ts), calibrates it
 * monotonically on its cross-fitted (out-of-fold) logits with the build's
 * small-n shrinkage and validation signal rule (there is no separate cal or
 * val split at small N, so the held-out folds play both parts), and writes a
 * NEW bundle through the bundle writer: one more ONNX output, the pool entry,
 * calibration, stats and a fresh golden file. Existing models' weights,
 * calibration and stats are copied unchanged. Never edits the source bundle;
 * never reads rows marked "test" (they stay for evaluation).
 */
import { existsSync, readFileSync } from "node:fs";
import { basename, join } from "node:path";
import { type Calibration, type CalibrationStats, servedCalibration } from "../../src/core/calibration.js";
import { featurize } from "../../src/core/featurizer.js";
import { GoldenRow, type Manifest, type PoolModel } from "../../src/core/manifest.js";
import { SIGNAL_ALPHA, validationAuroc } from "./calibrate.js";
import { writeBundle } from "../bundle/write-bundle.js";
import { verifyBundle } from "./promote.js";
import { weightsFromOnnx } from "../distill/weights-io.js";
import { rowText } from "../evaluate/score.js";
import { majorityLabel, OutcomeRow, successRate } from "../formats/outcomes.js";
import { readJsonl, sha256File } from "../lib/jsonl.js";
import type { StudentWeights } from "../../src/core/student.js";
import { fitMonotoneCalibration } from "../lib/calibration-fit.js";
import { taskPriorNames } from "./distill.js";
import { appendHead } from "./head-column.js";
import { fitImputedHead, type ImputedHead } from "./impute-head.js";
import { activations } from "./head-fold.js";
import { fitNewHead, type NewHead } from "./new-head.js";

export interface AddModelInput {
  /** Directory of the source bundle (manifest.json, student.onnx, golden.jsonl). */
  bundleDir: string;
  /** Outcome rows; those with an outcome for `model.id` and a split other than "test" are the N labelled prompts. */
  rows: OutcomeRow[];
  /** The new pool entry (id, prices, provider, default output tokens). */
  model: PoolModel;
  /** Root directory and id of the new bundle. */
  out: string;
  id: string;
  createdAt: string;
  /** Provenance of the outcomes file. */
  data?: { name: string; sha256: string; rows: number };
  calibration?: "platt" | "isotonic";
  seed?: number;
  /**
   * The source bundle's own outcome rows (its build data; rows split "test" are dropped). When given, the head is
   * fitted with the existing models' outcomes imputing the new model's on every pool prompt (impute-head.ts); the
   * labelled prompts must be pool prompts (what `label-plan` proposes). With `fallback`, a pool that cannot be used
   * (see `poolTable`) gives the plain head and the reason in `poolSkipped`, instead of an error: the command's
   * default, which finds the build data on its own and must not fail a user who never asked for it.
   */
  pool?: { rows: OutcomeRow[]; data?: { name: string; sha256: string; rows: number }; fallback?: boolean };
}

/** Share of the labelled prompts that must be pool prompts for --pool-data to be used (below it the imputer would learn from nothing). */
export const MIN_POOL_MATCH = 0.5;

/** Fewer labelled outcomes than this on one of the bundle's tasks leaves that task's offset to the other models (add-model warns). */
export const MIN_TASK_OUTCOMES = 3;

export interface AddModelResult {
  dir: string;
  manifest: Manifest;
  head: NewHead;
  n: number;
  positives: number;
  stats: CalibrationStats;
  /** Labelled outcomes per task of the bundle's task prior (empty without one): a task with few leans on the other models. */
  coverage: Record<string, number>;
  /** Why a pool given with `fallback` was not used (the plain head was fitted); absent when it was used or none was given. */
  poolSkipped?: string;
}

/** The bundle's output models in column order. */
export function outputModelsOf(m: Manifest): string[] {
  const out: string[] = [];
  for (const o of m.outputs) out[o.index] = o.model;
  if (out.length !== m.outputs.length || out.some((x) => x === undefined)) throw new Error("add-model: manifest outputs are not indices 0..M-1");
  return out;
}

export async function addModel(input: AddModelInput): Promise<AddModelResult> {
  const manifest = await verifyBundle(input.bundleDir);
  const id = input.model.id;
  if (manifest.pool.some((p) => p.id === id)) throw new Error(`add-model: ${id} is already in bundle ${manifest.bundle_id}`);
  const weights = weightsFromOnnx(readFileSync(join(input.bundleDir, manifest.onnx.file)));
  const models = outputModelsOf(manifest);
  if (weights.shape.outputs !== models.length) throw new Error(`add-model: student has ${weights.shape.outputs} outputs, manifest ${models.length}`);

  const labelled = input.rows.filter((r) => r.outcomes[id] !== undefined && r.split !== "test");
  const examples = labelled.map((r) => {
    const f = featurize(rowText(r), manifest.featurizer);
    return { ids: f.ids, dense: f.dense, y: successRate(r.outcomes[id]) };
  });
  const table = input.pool ? poolTable(weights, models, manifest, labelled, input.pool.rows, id) : null;
  if (typeof table === "string" && !input.pool?.fallback) throw new Error(`add-model --pool-data: ${table}`);
  const poolSkipped = typeof table === "string" ? table : undefined;
  const head: NewHead | ImputedHead =
    table && typeof table !== "string"
      ? fitImputedHead(weights, { acts: activations(weights, table.feats), outcomes: table.outcomes }, table.labels, { seed: input.seed ?? 1 })
      : fitNewHead(weights, examples, { seed: input.seed ?? 1 });

  // Calibrate and check signal on the out-of-fold logits: honest scores from fits that never saw the row.
  const s = Array.from(head.heldOut);
  const y = labelled.map((r) => majorityLabel(r.outcomes[id]));
  const positives = y.reduce<number>((a, b) => a + b, 0);
  const fit = fitMonotoneCalibration(s, y, input.calibration ?? "platt");
  const v = validationAuroc(s, y, input.seed ?? 1, 1000, SIGNAL_ALPHA);
  const signal = v.lo !== null && v.lo > 0.5 ? "ok" : "none";
  const base = { n: s.length, positives, val_n: s.length, val_auroc: v.auroc, val_auroc_lo: v.lo, val_alpha: SIGNAL_ALPHA, signal } as const;
  const served: Calibration = servedCalibration(fit.calibration, base);
  const stats: CalibrationStats = signal === "ok" ? { ...base, method: fit.method } : { ...base, method: "base-rate", fitted: fit.calibration };

  const golden = readFileSync(join(input.bundleDir, "golden.jsonl"), "utf8").trim().split("\n").map((l) => GoldenRow.parse(JSON.parse(l)).prompt);
  const { created_at: _, ...provenance } = manifest.provenance;
  const imp = (head as Partial<ImputedHead>).imputation;
  const imputed = imp ? { imputer_C: imp.C, imputer_inputs: imp.inputs, imputed_rows: imp.imputed, imputed_weight: imp.weight, pool_data: input.pool?.data?.name ?? "given" } : {};
  const note = { model: id, n: s.length, positives, parts: head.parts, C: head.C, members: head.members.map((m) => `${m.parts}@C=${m.C}×${m.weight.toFixed(3)}`), selection: head.selection.by, score: head.selection.score, heldout_logloss: head.selection.loss, calibration: "on out-of-fold logits", from_bundle: manifest.bundle_id, ...imputed };
  const outputLength = manifest.output_length && { ...manifest.output_length, tokens: { ...manifest.output_length.tokens, [id]: input.model.default_output_tokens } };
  const out = await writeBundle({
    root: input.out,
    id: input.id,
    kind: manifest.kind,
    description: `${manifest.description} + ${id} onboarded from ${s.length} outcomes (new head on the frozen student: pipeline add-model).`,
    pool: [...manifest.pool, input.model],
    featurizer: manifest.featurizer,
    weights: appendHead(weights, head),
    dtype: manifest.onnx.weight_dtype,
    outputModels: [...models, id],
    calibration: { ...manifest.calibration, [id]: served },
    calibrationStats: manifest.calibration_stats && { ...manifest.calibration_stats, [id]: stats },
    defaultPolicy: manifest.default_policy,
    outputLength,
    provenance: { ...provenance, data: [...provenance.data, ...(input.data ? [input.data] : []), ...(input.pool?.data && !poolSkipped ? [input.pool.data] : [])], trainer: { ...provenance.trainer, [`add_model:${id}`]: JSON.stringify(note) } },
    // The source bundle's test metrics describe its own pool; the new model gets its cross-validated figures only.
    metrics: { ...manifest.metrics, per_model: { ...manifest.metrics.per_model, [id]: { cv_auroc: v.auroc, n: s.length, positives } } },
    goldenPrompts: golden,
    createdAt: input.createdAt,
  });
  const coverage = Object.fromEntries(taskPriorNames(manifest.provenance.trainer).map((t) => [t, labelled.filter((r) => r.task === t).length]));
  return { dir: out.dir, manifest: out.manifest, head, n: s.length, positives, stats, coverage, ...(poolSkipped ? { poolSkipped } : {}) };
}

/**
 * The pool's outcome table for the imputed head: pool prompts (not test, one row per text) with the existing models'
 * majority outcomes; a labelled prompt outside the pool joins it with no outcomes. Returns the reason instead when
 * the table cannot teach the head (no task prior, no outcome for the bundle's models, too few labelled prompts in the
 * pool, a repeated labelled prompt); the caller refuses or falls back.
 */
function poolTable(weights: StudentWeights, models: string[], manifest: Manifest, labelled: OutcomeRow[], poolRows: OutcomeRow[], id: string): { feats: ReturnType<typeof featurize>[]; outcomes: Float64Array; labels: { row: number; y: number }[] } | string {
  if (!weights.task) return `bundle ${manifest.bundle_id} has no task prior; imputing outcomes needs one (drop --pool-data)`;
  const texts: string[] = [];
  const index = new Map<string, number>();
  const outcomes: number[] = [];
  const M = models.length;
  const add = (text: string, r: OutcomeRow | null) => {
    index.set(text, texts.length);
    texts.push(text);
    for (const m of models) outcomes.push(r?.outcomes[m] ? majorityLabel(r.outcomes[m]) : NaN);
  };
  for (const r of poolRows) if (r.split !== "test" && !index.has(rowText(r))) add(rowText(r), r);
  const covered = models.filter((m, j) => texts.some((_, i) => !Number.isNaN(outcomes[i * M + j])));
  if (covered.length === 0) return `no row has an outcome for any of the bundle's models (${models.join(", ")})`;
  const inPool = labelled.filter((r) => index.has(rowText(r))).length;
  if (inPool < MIN_POOL_MATCH * labelled.length) return `only ${inPool} of ${labelled.length} labelled prompts are pool prompts (need ${Math.ceil(MIN_POOL_MATCH * labelled.length)}); label prompts from \`pipeline label-plan\`, or drop --pool-data`;
  const labels = labelled.map((r) => {
    if (!index.has(rowText(r))) add(rowText(r), null);
    return { row: index.get(rowText(r))!, y: successRate(r.outcomes[id]) };
  });
  const seen = new Set<number>();
  const unique = labels.filter((l) => (seen.has(l.row) ? false : (seen.add(l.row), true)));
  if (unique.length < labels.length) return `${labels.length - unique.length} labelled prompts repeat another's text; give each prompt once`;
  return { feats: texts.map((t) => featurize(t, manifest.featurizer)), outcomes: Float64Array.from(outcomes), labels };
}

/** An outcomes file's rows and its provenance entry (sha256: the file's, when the caller has already hashed it). */
export async function readOutcomesFile(file: string, sha256?: string): Promise<{ rows: OutcomeRow[]; data: { name: string; sha256: string; rows: number } }> {
  const rows: OutcomeRow[] = [];
  for await (const { value } of readJsonl(file, OutcomeRow)) rows.push(value);
  return { rows, data: { name: basename(file), sha256: sha256 ?? (await sha256File(file)), rows: rows.length } };
}

/**
 * The pool's outcome table for the imputed head, from the command's --pool-data. An explicit file is used as given
 * (addModel refuses one that cannot teach the head). "auto" (the default) takes the bundle's own build data (the
 * manifest's first data entry, a path relative to the working directory) only when the file is there with the
 * recorded sha256, and with fallback; otherwise the plain head. "none" never imputes. `note` says what was decided.
 */
export async function resolvePoolData(flag: string, built: { name: string; sha256: string } | undefined): Promise<{ pool?: NonNullable<AddModelInput["pool"]>; note: string | null }> {
  if (flag === "none") return { note: null };
  if (flag !== "auto") return { pool: await readOutcomesFile(flag), note: null };
  const why = !built ? "the manifest names no build data" : !existsSync(built.name) ? `${built.name} (the bundle's build data) is not here` : (await sha256File(built.name)) !== built.sha256 ? `${built.name} is not the bundle's build data (sha256 differs)` : null;
  if (why || !built) return { note: `${why}; fitting the plain head (--pool-data <file> imputes from a pool's outcomes)` };
  // Its sha256 was just checked against the manifest's: readOutcomesFile need not hash it again.
  return { pool: { ...(await readOutcomesFile(built.name, built.sha256)), fallback: true }, note: `imputing from ${built.name} (the bundle's build data, sha256 matches); --pool-data none fits the plain head` };
}
