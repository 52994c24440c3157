/**
 * Stage 4, distill: featurises a dataset (DistillRow or outcomes rows), trains
 * the student (scripts/distill/trainer.ts) and reports val/test metrics.
 * runDistill() trains in memory; writeDistill() writes student.onnx and
 * distill.json (the CLI shell is scripts/commands/distill.ts). Must not call
 * process.exit, calibrate or build bundles.
 */
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { FeaturizerSpec } from "../../src/core/featurizer.js";
import { forward, type StudentWeights } from "../../src/core/student.js";
import { exportStudent, type WeightDtype } from "../onnx/export-student.js";
import { DEFAULT_FEATURIZER, DistillInputRow, type DistillRow, featuriseRows, modelsOf, toDistillRow } from "../distill/dataset.js";
import { type SplitMetrics, evaluateSplit } from "../distill/evaluate.js";
import type { Example } from "../distill/network.js";
import type { ProgressOptions } from "../distill/progress.js";
import { type TrainConfigInput, type TrainResult, trainStudent } from "../distill/trainer.js";

export interface DistillInput {
  rows: (DistillRow | DistillInputRow)[];
  /** Output order of the student; default: every model with a label or teacher entry, sorted. */
  models?: string[];
  featurizer?: FeaturizerSpec;
  train?: TrainConfigInput;
  progress?: ProgressOptions;
}

export interface DistillResult {
  weights: StudentWeights;
  models: string[];
  featurizer: FeaturizerSpec;
  training: Omit<TrainResult, "weights">;
  metrics: { val: SplitMetrics; test: SplitMetrics };
  counts: { train: number; val: number; test: number; unlabelled_used: number; unlabelled_dropped: number; held_out: number; truncated: number };
}

export function runDistill(input: DistillInput): DistillResult {
  const rows = input.rows.map((r) => toDistillRow(r as DistillInputRow));
  const featurizer = FeaturizerSpec.parse(input.featurizer ?? DEFAULT_FEATURIZER);
  const models = input.models ?? modelsOf(rows);
  if (models.length === 0) throw new Error("distill: no models (no label or teacher entries in the data)");
  const alpha = input.train?.alpha ?? 0;
  const f = featuriseRows(rows, models, featurizer);
  const train: Example[] = [];
  const val: Example[] = [];
  const test: Example[] = [];
  let unlabelledUsed = 0;
  let unlabelledDropped = 0;
  let heldOut = 0;
  for (const [i, ex] of f.examples.entries()) {
    const s = f.splits[i];
    if (s === "train") train.push(ex);
    else if (s === "val") val.push(ex);
    else if (s === "test") test.push(ex);
    else if (s === "unlabelled") {
      if (alpha > 0 && ex.teacher) {
        // Unlabelled prompts carry signal only through the teacher.
        train.push({ ids: ex.ids, dense: ex.dense, teacher: ex.teacher });
        unlabelledUsed++;
      } else unlabelledDropped++;
    } else heldOut++; // e.g. a calibration split: never seen by the student
  }
  const { weights, ...training } = trainStudent(
    { train, val, buckets: featurizer.buckets, outputs: models.length },
    input.train ?? {},
    input.progress ?? {},
  );
  const score = (ex: Example) => forward(weights, ex.ids, ex.dense).logits;
  return {
    weights,
    models,
    featurizer,
    training,
    metrics: { val: evaluateSplit(score, val, models), test: evaluateSplit(score, test, models) },
    counts: { train: train.length, val: val.length, test: test.length, unlabelled_used: unlabelledUsed, unlabelled_dropped: unlabelledDropped, held_out: heldOut, truncated: f.truncated },
  };
}

/** The distill result as the manifest's provenance.trainer records it (flat, JSON-safe). */
export function trainingSummary(res: DistillResult): Record<string, string | number | boolean> {
  return {
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
    ...taskSummary(res.training.task),
  };
}

/** Prefix of provenance.trainer.task_prior when the prior was skipped (otherwise it holds the task names, comma-joined). */
const TASK_PRIOR_SKIPPED = "skipped: ";

/** The task prior's provenance: its tasks, the student's weight b and the classifier's validation accuracy, or why it was skipped. */
function taskSummary(task: DistillResult["training"]["task"]): Record<string, string | number> {
  if (!task) return {};
  if ("skipped" in task) return { task_prior: `${TASK_PRIOR_SKIPPED}${task.skipped}` };
  return { task_prior: taskPriorField(task.tasks), task_input: task.input, task_student_weight: task.studentWeight, ...(task.valAccuracy !== null ? { task_val_accuracy: Number(task.valAccuracy.toFixed(4)) } : {}) };
}

/**
 * The task names as one provenance string (the manifest's trainer record holds scalars only): joined by commas, as
 * every bundle so far was written, unless a name holds a comma or opens with "[", when it is a JSON array instead, so
 * that taskPriorNames can never split a name in two.
 */
export function taskPriorField(tasks: string[]): string {
  return tasks.some((t) => t.includes(",") || t.startsWith("[")) ? JSON.stringify(tasks) : tasks.join(",");
}

/** The task names a trainer provenance record (taskSummary's output, kept in manifest.provenance.trainer) names, or [] without a task prior. */
export function taskPriorNames(trainer: Record<string, unknown>): string[] {
  const t = trainer.task_prior;
  if (typeof t !== "string" || t.length === 0 || t.startsWith(TASK_PRIOR_SKIPPED)) return [];
  if (t.startsWith("[")) {
    // A bundle written before the JSON form whose first task name began with "[" lands here too: refuse it by name, not with a bare SyntaxError.
    let parsed: unknown = null;
    try {
      parsed = JSON.parse(t);
    } catch {
      parsed = null;
    }
    if (Array.isArray(parsed) && parsed.every((x) => typeof x === "string")) return parsed;
    throw new Error(`manifest provenance.trainer.task_prior: starts with "[" but is not a JSON array of task names: ${t.slice(0, 80)}`);
  }
  return t.split(",");
}

/** Writes <out>/student.onnx and <out>/distill.json (the standalone `distill` command's outputs); returns the ONNX size. */
export async function writeDistill(res: DistillResult, out: string, dtype: WeightDtype): Promise<number> {
  await mkdir(out, { recursive: true });
  const onnxBytes = exportStudent(res.weights, dtype, `preflight student; models=${res.models.join(",")}`);
  await writeFile(join(out, "student.onnx"), onnxBytes);
  const report = {
    models: res.models,
    featurizer: res.featurizer,
    shape: res.weights.shape,
    weight_dtype: dtype,
    onnx_bytes: onnxBytes.length,
    counts: res.counts,
    metrics: res.metrics,
    training: res.training,
  };
  await writeFile(join(out, "distill.json"), `${JSON.stringify(report, null, 2)}\n`);
  return onnxBytes.length;
}
