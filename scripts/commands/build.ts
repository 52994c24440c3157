/**
 * `build --config <file>`: every stage in order — read outcomes and pool,
 * (with a probes block: ingest, per-model probes, teacher logits), distill the student (probe-distilled when teacher logits are given,
 * label-supervised otherwise), calibrate on the cal split, evaluate on test,
 * write the bundle. Stage results are cached by content hash under .cache/.
 * Must not promote (that is a separate, deliberate step).
 */
import { defineCommand } from "citty";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Manifest } from "../../src/core/manifest.js";
import { BuildConfig } from "../build/config.js";
import { calibrateStudent, calibrationWarnings, promptText } from "../build/calibrate-student.js";
import { goldenPrompts } from "../bundle/golden-prompts.js";
import { writeBundle } from "../bundle/write-bundle.js";
import { toDistillRow, type DistillRow } from "../distill/dataset.js";
import { weightsFromOnnx } from "../distill/weights-io.js";
import { OutcomeRow, PoolConfig } from "../formats/outcomes.js";
import { readJsonFile, readJsonl, sha256File } from "../lib/jsonl.js";
import { exportStudent } from "../onnx/export-student.js";
import { evaluateForBuild } from "../build/evaluate-for-build.js";
import { chooseOutputLength } from "../build/output-length.js";
import { runTeacherStage } from "../build/teacher-stage.js";
import { assignSplit } from "./ingest.js";
import { runDistill } from "./distill.js";
import { z } from "zod";

const TeacherRow = z.object({ id: z.string(), teacher: z.record(z.string(), z.number().finite().nullable()) });

export async function runBuild(config: BuildConfig, opts: { createdAt: string; progress?: "auto" | "bar" | "lines" | "none" }) {
  let cfg = config;
  const rows: OutcomeRow[] = [];
  for await (const { value } of readJsonl(cfg.data, OutcomeRow)) rows.push(value);
  // Rows without a split get ingest's rule, so every stage agrees on the splits.
  for (const r of rows) r.split ??= Object.keys(r.outcomes).length === 0 ? "unlabelled" : assignSplit(r.id);
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
  if (cfg.teacher) for await (const { value } of readJsonl(cfg.teacher.logits, TeacherRow)) teacher.set(value.id, value.teacher);

  // Stage cache: same config, data, pool and teacher → same student; skip retraining.
  const key = createHash("sha256").update(JSON.stringify({ cfg, dataSha, poolSha, teacherSha, v: 1 })).digest("hex").slice(0, 16);
  const cacheDir = join(".cache", "pipeline", key);
  const cached = join(cacheDir, "student.f32.onnx");
  let weights;
  let training: Record<string, string | number | boolean>;
  if (existsSync(cached)) {
    weights = weightsFromOnnx(readFileSync(cached));
    training = JSON.parse(readFileSync(join(cacheDir, "training.json"), "utf8"));
    console.error(`[build] distill: cache hit ${cacheDir}`);
  } else {
    const distillRows: DistillRow[] = rows.map((r) => {
      const d = toDistillRow(r);
      const t = teacher.get(r.id);
      return t ? { ...d, teacher: t } : d;
    });
    const res = runDistill({
      rows: distillRows,
      models,
      featurizer: cfg.featurizer,
      train: { ...cfg.train, seed: cfg.train.seed ?? cfg.seed, alpha: cfg.teacher ? cfg.teacher.alpha : 0 },
      progress: { mode: opts.progress ?? "auto" },
    });
    weights = res.weights;
    training = {
      arch: res.training.config.wide ? (res.training.config.deep ? "hashed-ngram-wide-and-deep" : "hashed-ngram-wide") : "hashed-ngram-bag-mlp",
      ...(res.training.config.ensemble > 1 ? { ensemble: res.training.config.ensemble } : {}),
      seed: res.training.config.seed,
      dim: res.weights.shape.dim,
      hidden: res.weights.shape.hidden,
      alpha: res.training.config.alpha,
      best_epoch: res.training.bestEpoch,
      epochs_run: res.training.history.length,
      prompts_per_sec: Math.round(res.training.promptsPerSec),
      train_rows: res.counts.train,
      val_rows: res.counts.val,
      unlabelled_used: res.counts.unlabelled_used,
    };
    mkdirSync(cacheDir, { recursive: true });
    writeFileSync(cached, exportStudent(weights, "float32"));
    writeFileSync(join(cacheDir, "training.json"), JSON.stringify(training));
  }

  const calRows = rows.filter((r) => r.split === "cal");
  const valRows = rows.filter((r) => r.split === "val");
  const calibrated = calibrateStudent(weights, cfg.featurizer, models, calRows, cfg.calibration, { valRows, seed: cfg.seed, alpha: cfg.signal_alpha });
  const { calibration } = calibrated;
  for (const line of calibrationWarnings(calibrated)) console.error(line);
  // Expected output tokens: estimator chosen on val by cost MdAPE (scripts/build/output-length.ts); none without measured lengths.
  const lengths = chooseOutputLength(rows, pool.models, cfg.featurizer, cfg.data);
  if (lengths.chosen) console.error(`[build] output length: ${lengths.outputLength!.source}`);
  const draft = {
    pool: pool.models,
    featurizer: cfg.featurizer,
    outputModels: models,
    calibration,
    outputLength: lengths.outputLength,
  };
  const onnx = exportStudent(weights, cfg.dtype);
  const evaluation = await evaluateForBuild({ cfg, rows, draft, onnx, dataSha });
  const provenance: Omit<Manifest["provenance"], "created_at"> = {
    mode: cfg.teacher ? "probe-distilled" : "label-supervised",
    teacher: cfg.teacher ? cfg.teacher.layers : "none",
    data: [
      { name: cfg.data, sha256: dataSha, rows: rows.length },
      { name: cfg.pool, sha256: poolSha, rows: pool.models.length },
      ...(cfg.teacher && teacherSha ? [{ name: cfg.teacher.logits, sha256: teacherSha, rows: teacher.size }] : []),
    ],
    trainer: { ...training, calibration: `${cfg.calibration} on split cal (${calRows.length} rows)`, config: JSON.stringify(cfg) },
    licence: cfg.licence,
  };
  const golden = goldenPrompts(rows.filter((r) => r.split === "test").slice(0, cfg.golden_extra).map(promptText));
  return writeBundle({
    root: cfg.out,
    id: cfg.bundle_id,
    kind: "release",
    description: cfg.description,
    pool: pool.models,
    featurizer: cfg.featurizer,
    weights,
    dtype: cfg.dtype,
    outputModels: models,
    calibration,
    calibrationStats: calibrated.stats,
    defaultPolicy: evaluation.defaultPolicy,
    outputLength: draft.outputLength,
    provenance,
    metrics: evaluation.metrics,
    goldenPrompts: golden,
    createdAt: opts.createdAt,
  });
}

export default defineCommand({
  meta: { name: "build", description: "Run every stage (distill → calibrate → evaluate → bundle) from a build config" },
  args: {
    config: { type: "string", required: true, description: "build config JSON (see docs/pipeline.md)" },
    progress: { type: "enum", options: ["auto", "bar", "lines", "none"], default: "auto", description: "progress output" },
    "created-at": { type: "string", description: "ISO time to record (default: now); fixed values make builds reproducible" },
  },
  async run({ args }) {
    const cfg = await readJsonFile(args.config, BuildConfig);
    const out = await runBuild(cfg, { createdAt: args["created-at"] ?? new Date().toISOString(), progress: args.progress as "auto" });
    console.log(JSON.stringify({ bundle: out.manifest.bundle_id, dir: out.dir, headline: out.manifest.metrics.headline }, null, 2));
  },
});
