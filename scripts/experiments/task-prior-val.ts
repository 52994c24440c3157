/**
 * The task prior's choices on validation (docs/student.md, "v5: a task
 * prior"): trains a build config's student (train + val rows only; test rows
 * are dropped before training) with train-block overrides, and prints the
 * val mean AUROC, the task prior's b grid and val accuracy, and the fp16
 * student's raw and gzipped size. An experiment: writes nothing.
 *
 * Usage: tsx scripts/experiments/task-prior-val.ts --config configs/llmrouter-v5.json
 *          [--train '{"taskInput":"hidden"}']
 */
import { parseArgs } from "node:util";
import { gzipSync } from "node:zlib";
import { BuildConfig } from "../stages/build-config.js";
import { runDistill } from "../stages/distill.js";
import { OutcomeRow, PoolConfig } from "../formats/outcomes.js";
import { readJsonFile, readJsonl } from "../lib/jsonl.js";
import { exportStudent } from "../onnx/export-student.js";

const { values } = parseArgs({ options: { config: { type: "string" }, train: { type: "string", default: "{}" } } });
const cfg = await readJsonFile(values.config!, BuildConfig);
const pool = await readJsonFile(cfg.pool, PoolConfig);
const rows: OutcomeRow[] = [];
for await (const { value } of readJsonl(cfg.data, OutcomeRow)) if (value.split !== "test") rows.push(value);
const overrides = JSON.parse(values.train!) as Record<string, unknown>;
const res = runDistill({ rows, models: pool.models.map((m) => m.id), featurizer: cfg.featurizer, train: { ...cfg.train, seed: cfg.train.seed ?? cfg.seed, ...overrides }, progress: { mode: "none" } });
const onnx = exportStudent(res.weights, "float16");
const task = res.training.task;
console.log(
  JSON.stringify({
    overrides,
    val_mean_auroc: res.metrics.val.mean_auroc,
    task: task && ("skipped" in task ? task : { input: task.input, val_accuracy: task.valAccuracy, student_weight: task.studentWeight, tried: task.tried }),
    onnx_bytes: onnx.length,
    onnx_gzip_bytes: gzipSync(onnx, { level: 9 }).length,
  }),
);
