/**
 * `distill`: CLI shell over the distill stage (scripts/stages/distill.ts):
 * parse flags into a trainer config, train, write student.onnx +
 * distill.json, print a summary. Holds no stage logic.
 */
import { defineCommand } from "citty";
import { FeaturizerSpec } from "../../src/core/featurizer.js";
import { DistillInputRow } from "../distill/dataset.js";
import type { ProgressOptions } from "../distill/progress.js";
import type { TrainConfigInput } from "../distill/trainer.js";
import { readJsonFile, readJsonl } from "../lib/jsonl.js";
import type { WeightDtype } from "../onnx/export-student.js";
import { runDistill, writeDistill } from "../stages/distill.js";
import { optionalNumberFlag } from "../lib/flags.js";

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
      seed: optionalNumberFlag("seed", args.seed, { integer: true }),
      dim: optionalNumberFlag("dim", args.dim, { integer: true, min: 1 }),
      hidden: optionalNumberFlag("hidden", args.hidden, { integer: true, min: 1 }),
      alpha: optionalNumberFlag("alpha", args.alpha, { min: 0, max: 1 }),
      lr: optionalNumberFlag("lr", args.lr, { min: 0 }),
      batchSize: optionalNumberFlag("batch", args.batch, { integer: true, min: 1 }),
      maxEpochs: optionalNumberFlag("epochs", args.epochs, { integer: true, min: 1 }),
      patience: optionalNumberFlag("patience", args.patience, { integer: true, min: 0 }),
      weightDecay: optionalNumberFlag("weight-decay", args["weight-decay"], { min: 0 }),
    };
    const train = Object.fromEntries(Object.entries(cfg).filter(([, v]) => v !== undefined)) as TrainConfigInput;
    const res = runDistill({
      rows,
      models: args.models ? args.models.split(",").map((s) => s.trim()).filter(Boolean) : undefined,
      featurizer,
      train,
      progress: { mode: args.progress as ProgressOptions["mode"] },
    });
    const onnxBytes = await writeDistill(res, args.out, args.dtype as WeightDtype);
    console.log(
      JSON.stringify(
        {
          out: args.out,
          onnx_bytes: onnxBytes,
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
