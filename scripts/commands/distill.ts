/**
 * `distill` stage: featurises a dataset (DistillRow or outcomes JSONL), trains
 * the bag student (scripts/distill/trainer.ts) and reports val/test metrics.
 * runDistill() is the programmatic API; the default export is the citty
 * command (wired by scripts/cli.ts), which writes student.onnx and
 * distill.json into --out. Must not call process.exit or build bundles.
 */
import { defineCommand } from "citty";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { FeaturizerSpec } from "../../src/core/featurizer.js";
import { forward, type StudentWeights } from "../../src/core/student.js";
import { readJsonFile, readJsonl } from "../lib/jsonl.js";
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

const num = (v: string | undefined): number | undefined => (v === undefined || v === "" ? undefined : Number(v));

export default defineCommand({
  meta: { name: "distill", description: "Train the hashed n-gram student on labels (and optional teacher logits); write student.onnx + distill.json" },
  args: {
    data: { type: "string", required: true, description: "JSONL of DistillRow {text, split?, labels, teacher?} or outcomes rows" },
    out: { type: "string", required: true, description: "output directory (student.onnx, distill.json)" },
    models: { type: "string", description: "comma-separated output order (default: all models in the data, sorted)" },
    featurizer: { type: "string", description: "featurizer spec JSON file (default: DEFAULT_FEATURIZER)" },
    dtype: { type: "enum", options: ["float32", "float16"], default: "float32", description: "ONNX weight dtype" },
    seed: { type: "string", description: "training seed (default 1)" },
    dim: { type: "string", description: "embedding dim (default 32)" },
    hidden: { type: "string", description: "hidden units (default 64)" },
    alpha: { type: "string", description: "teacher MSE weight in [0,1]; 0 = label-only (default)" },
    lr: { type: "string", description: "Adam learning rate (default 3e-3)" },
    batch: { type: "string", description: "mini-batch size (default 64)" },
    epochs: { type: "string", description: "max epochs (default 40)" },
    patience: { type: "string", description: "early-stopping patience in epochs (default 4)" },
    "weight-decay": { type: "string", description: "decoupled weight decay (default 0)" },
    progress: { type: "enum", options: ["auto", "bar", "lines", "none"], default: "auto", description: "progress output" },
  },
  async run({ args }) {
    const rows: DistillInputRow[] = [];
    for await (const { value } of readJsonl(args.data, DistillInputRow)) rows.push(value);
    const featurizer = args.featurizer ? await readJsonFile(args.featurizer, FeaturizerSpec) : undefined;
    const cfg: Record<string, number | undefined> = {
      seed: num(args.seed),
      dim: num(args.dim),
      hidden: num(args.hidden),
      alpha: num(args.alpha),
      lr: num(args.lr),
      batchSize: num(args.batch),
      maxEpochs: num(args.epochs),
      patience: num(args.patience),
      weightDecay: num(args["weight-decay"]),
    };
    const train = Object.fromEntries(Object.entries(cfg).filter(([, v]) => v !== undefined)) as TrainConfigInput;
    const res = runDistill({
      rows,
      models: args.models ? args.models.split(",").map((s) => s.trim()).filter(Boolean) : undefined,
      featurizer,
      train,
      progress: { mode: args.progress as ProgressOptions["mode"] },
    });
    await mkdir(args.out, { recursive: true });
    const dtype = args.dtype as WeightDtype;
    const onnxBytes = exportStudent(res.weights, dtype, `preflight student; models=${res.models.join(",")}`);
    await writeFile(join(args.out, "student.onnx"), onnxBytes);
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
    await writeFile(join(args.out, "distill.json"), `${JSON.stringify(report, null, 2)}\n`);
    console.log(
      JSON.stringify(
        {
          out: args.out,
          onnx_bytes: onnxBytes.length,
          best_epoch: res.training.bestEpoch,
          prompts_per_sec: Math.round(res.training.promptsPerSec),
          val_mean_auroc: res.metrics.val.mean_auroc,
          test_mean_auroc: res.metrics.test.mean_auroc,
          counts: res.counts,
        },
        null,
        2,
      ),
    );
  },
});
