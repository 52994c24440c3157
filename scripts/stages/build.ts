/**
 * `build`, the composition of the stages in order (scripts/stages/README.md):
 * read outcomes and pool, assign splits by ingest's rule; with a probes
 * block, ingest → per-model probes → teacher logits (runTeacherStage); distill
 * the student (probe-distilled when teacher logits are given, label-supervised
 * otherwise; cached by content hash under .cache/pipeline); calibrate on the
 * cal split; choose the output-length estimator on val; export; evaluate on
 * test; write the bundle. Owns the order and the distill cache, no stage's
 * logic. The CLI shell is scripts/commands/build.ts. Must not promote (that
 * is a separate, deliberate step).
 */
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { ProbeLayer } from "../../src/core/manifest.js";
import { toDistillRow, type DistillRow } from "../distill/dataset.js";
import { weightsFromOnnx } from "../distill/weights-io.js";
import { OutcomeRow, PoolConfig } from "../formats/outcomes.js";
import { readJsonFile, readJsonl, sha256File, writeJsonl } from "../lib/jsonl.js";
import { exportStudent } from "../onnx/export-student.js";
import { DEFAULT_IPS_CLIP, type BuildConfig } from "./build-config.js";
import { writeBuildBundle } from "./bundle.js";
import { calibrateStudent, calibrationWarnings } from "./calibrate.js";
import { runDistill, trainingSummary } from "./distill.js";
import { evaluateForBuild } from "./evaluate.js";
import { crossfitSelect } from "./crossfit.js";
import { checkLoggedRow, loggedWeights, mergeLoggedRows } from "../lib/ope/weights.js";
import { assignSplit, runIngest } from "./ingest.js";
import { chooseOutputLength } from "./output-length.js";
import { loadProbesInput, runProbes, type ProbesResult } from "./probes.js";
import { TeacherLogitRow, teacherRows } from "./teacher-logits.js";

/**
 * The build's teacher stages, run when the config has a `probes` block:
 * ingest → one probe set per pool model on that model's own activations →
 * teacher logits (+ calibrated p) for every row with activations → the
 * teacher JSONL the distill stage reads. Returns the layer each model's probe
 * chose on validation.
 */
export async function runTeacherStage(cfg: BuildConfig, models: string[], log: (m: string) => void): Promise<{ layers: { model: string; layer: ProbeLayer }[] }> {
  if (!cfg.probes || !cfg.teacher) throw new Error("teacher stage needs both a probes and a teacher block");
  const ingest = await runIngest({ outcomes: cfg.data, pool: cfg.pool, cacheDir: ".cache" });
  const dataset = join(ingest.dir, "dataset.jsonl");
  const probes: Record<string, ProbesResult> = {};
  for (const m of models) {
    log(`[build] probes: ${m} on layers ${cfg.probes.layers.join(",")}`);
    const input = await loadProbesInput({ dataset, activations: cfg.probes.activations, teacher: m, layers: cfg.probes.layers });
    probes[m] = runProbes({ ...input, options: { bootstrapReps: cfg.probes.bootstrap_reps, seed: cfg.seed, stackLayers: cfg.probes.stack_layers }, onProgress: log });
  }
  await writeJsonl(cfg.teacher.logits, teacherRows(probes));
  return { layers: models.map((m) => ({ model: m, layer: probes[m].models[m].probe.layer })) };
}

/**
 * The config's logged files (pipeline pull output): each row checked to hold
 * only the chosen model's outcome, put in the train split (never val, cal or
 * test: those stay the base data's, so selection and calibration are not
 * judged on rows the old policy chose), weighted per scripts/lib/ope/weights.ts.
 */
export async function readLoggedRows(cfg: BuildConfig): Promise<{ rows: OutcomeRow[]; weights: Map<OutcomeRow, number>; files: { name: string; sha256: string; rows: number }[] }> {
  const rows: OutcomeRow[] = [];
  const weights = new Map<OutcomeRow, number>();
  const shas: string[] = [];
  const counts: number[] = [];
  for (const f of cfg.logged ?? []) {
    const fileRows: OutcomeRow[] = [];
    for await (const { value, line } of readJsonl(f.file, OutcomeRow)) {
      checkLoggedRow(value, `${f.file}:${line}`);
      fileRows.push({ ...value, split: "train" });
    }
    const w = loggedWeights(fileRows.map((r) => r.logged!.propensity), { clip: cfg.ips_clip ?? DEFAULT_IPS_CLIP, scale: f.weight, mode: cfg.logged_weighting ?? "ips" });
    fileRows.forEach((r, i) => weights.set(r, w[i]));
    rows.push(...fileRows);
    counts.push(fileRows.length);
    shas.push(await sha256File(f.file));
  }
  return { rows, weights, files: (cfg.logged ?? []).map((f, i) => ({ name: f.file, sha256: shas[i], rows: counts[i] })) };
}

/**
 * Everything of `build` before export and evaluation: rows (base + logged),
 * the trained student (cached), its calibration and output lengths. The
 * simulator (scripts/simulate) stops here; runBuild goes on to evaluate and
 * write the bundle.
 */
export async function trainForBuild(config: BuildConfig, opts: { progress?: "auto" | "bar" | "lines" | "none" }) {
  let cfg = config;
  const rows: OutcomeRow[] = [];
  for await (const { value } of readJsonl(cfg.data, OutcomeRow)) rows.push(value);
  // Rows without a split get ingest's rule, so every stage agrees on the splits.
  for (const r of rows) r.split ??= Object.keys(r.outcomes).length === 0 ? "unlabelled" : assignSplit(r.id);
  const logged = await readLoggedRows(cfg);
  rows.push(...logged.rows);
  const pool = await readJsonFile(cfg.pool, PoolConfig);
  const models = pool.models.map((m) => m.id);
  if (cfg.probes && cfg.teacher) {
    const quiet = opts.progress === "none";
    const { layers } = await runTeacherStage(cfg, models, (m) => quiet || console.error(m));
    cfg = { ...cfg, teacher: { ...cfg.teacher, layers } };
  }
  const dataSha = await sha256File(cfg.data);
  const poolSha = await sha256File(cfg.pool);
  const teacherSha = cfg.teacher ? await sha256File(cfg.teacher.logits) : null;
  const teacher = new Map<string, Record<string, number | null>>();
  if (cfg.teacher) for await (const { value } of readJsonl(cfg.teacher.logits, TeacherLogitRow)) teacher.set(value.id, value.teacher);

  // Stage cache: same config, data, pool and teacher → same student; skip retraining.
  const loggedShas = logged.files.length > 0 ? logged.files.map((f) => f.sha256) : undefined; // absent: the same key as before logged rows existed
  const key = createHash("sha256").update(JSON.stringify({ cfg, dataSha, poolSha, teacherSha, loggedShas, v: 1 })).digest("hex").slice(0, 16);
  const cacheDir = join(".cache", "pipeline", key);
  const cached = join(cacheDir, "student.f32.onnx");
  let weights;
  let training: Record<string, string | number | boolean>;
  if (existsSync(cached)) {
    weights = weightsFromOnnx(readFileSync(cached));
    training = JSON.parse(readFileSync(join(cacheDir, "training.json"), "utf8"));
    console.error(`[build] distill: cache hit ${cacheDir}`);
  } else {
    const toRow = (r: OutcomeRow): DistillRow => {
      const d = toDistillRow(r);
      const t = teacher.get(r.id);
      const w = logged.weights.get(r);
      return { ...d, ...(t ? { teacher: t } : {}), ...(w !== undefined ? { weight: w } : {}) };
    };
    // Logged rows of a recurring prompt and model merge into one weighted row (same gradient, scripts/lib/ope/weights.ts).
    const distillRows: DistillRow[] = [...rows.filter((r) => !logged.weights.has(r)).map(toRow), ...mergeLoggedRows(logged.rows.map(toRow))];
    const res = runDistill({
      rows: distillRows,
      models,
      featurizer: cfg.featurizer,
      train: { ...cfg.train, seed: cfg.train.seed ?? cfg.seed, alpha: cfg.teacher ? cfg.teacher.alpha : 0 },
      progress: { mode: opts.progress ?? "auto" },
    });
    weights = res.weights;
    training = trainingSummary(res);
    mkdirSync(cacheDir, { recursive: true });
    writeFileSync(cached, exportStudent(weights, "float32"));
    writeFileSync(join(cacheDir, "training.json"), JSON.stringify(training));
  }

  const calRows = rows.filter((r) => r.split === "cal");
  const valRows = rows.filter((r) => r.split === "val");
  const calibrated = calibrateStudent(weights, cfg.featurizer, models, calRows, cfg.calibration, { valRows, seed: cfg.seed, alpha: cfg.signal_alpha });
  const { calibration } = calibrated;
  for (const line of calibrationWarnings(calibrated)) console.error(line);
  // Expected output tokens: estimator chosen on val by cost MdAPE (scripts/stages/output-length.ts); none without measured lengths.
  const lengths = chooseOutputLength(rows, pool.models, cfg.featurizer, cfg.data);
  if (lengths.chosen) console.error(`[build] output length: ${lengths.outputLength!.source}`);
  const draft = {
    pool: pool.models,
    featurizer: cfg.featurizer,
    outputModels: models,
    calibration,
    outputLength: lengths.outputLength,
  };
  return { cfg, rows, pool, models, weights, training, calibrated, calRows, draft, dataSha, poolSha, teacherSha, teacherRows: teacher.size, loggedFiles: logged.files };
}

export async function runBuild(config: BuildConfig, opts: { createdAt: string; progress?: "auto" | "bar" | "lines" | "none" }) {
  const { cfg, rows, pool, models, weights, training, calibrated, calRows, draft, dataSha, poolSha, teacherSha, teacherRows, loggedFiles } = await trainForBuild(config, opts);
  const onnx = exportStudent(weights, cfg.dtype);
  // With a select block the default policy's parameter is chosen on cross-fitted train+val rows (scripts/stages/crossfit.ts).
  const chosenPolicy = cfg.select ? crossfitSelect(cfg, rows, pool.models, (m) => opts.progress === "none" || console.error(m)) : undefined;
  const evaluation = await evaluateForBuild({ cfg, rows, draft: { ...draft, chosenPolicy }, onnx, dataSha });
  return writeBuildBundle({
    cfg,
    rows,
    pool: pool.models,
    models,
    weights,
    calibrated,
    calRows: calRows.length,
    outputLength: draft.outputLength,
    evaluation,
    training: { ...training, ...chosenPolicy?.summary },
    inputs: { dataSha, poolSha, teacher: cfg.teacher && teacherSha ? { sha256: teacherSha, rows: teacherRows } : null, logged: loggedFiles },
    createdAt: opts.createdAt,
  });
}
