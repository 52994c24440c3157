/**
 * Student size / architecture sweep behind docs/student.md. For one dataset it
 * trains a large label-only bag model as a proxy teacher, attaches its logits
 * to every row, then trains each candidate student (α-mixed teacher + labels)
 * and records test AUROC, fidelity to the teacher (logit MSE, Pearson), ONNX
 * bytes (fp32/fp16) and single-prompt latency (featurize + onnxruntime-node,
 * 1 thread, batch 1). An experiment, not a product stage: the `distill-sweep`
 * command (wired by scripts/cli.ts). Owns measurement only; no bundle writing.
 */
import { defineCommand } from "citty";
import { readFile, writeFile } from "node:fs/promises";
import { featurize, type FeaturizerSpec } from "../../src/core/featurizer.js";
import { forward, type StudentWeights } from "../../src/core/student.js";
import { closeSession, loadSession } from "../lib/ort-node.js";
import { IO, exportStudent } from "../onnx/export-student.js";
import { runDistill, type DistillResult } from "../stages/distill.js";
import { DEFAULT_FEATURIZER, type DistillInputRow, type DistillRow, toDistillRow } from "../distill/dataset.js";
import { scorePrompts } from "../../src/core/scoring.js";
import { nodeRunModel } from "../bundle/score-node.js";
import type { TrainConfigInput } from "../distill/trainer.js";

export interface SweepCandidate {
  name: string;
  featurizer: FeaturizerSpec;
  train: TrainConfigInput;
}

export interface SweepRow {
  name: string;
  buckets: number;
  dim: number;
  hidden: number;
  params: number;
  onnx_fp32_bytes: number;
  onnx_fp16_bytes: number;
  test_auroc: number | null;
  val_auroc: number | null;
  teacher_mse: number | null;
  teacher_pearson: number | null;
  best_epoch: number;
  train_prompts_per_sec: number;
  us_per_prompt: number; // featurize + ORT, batch 1, median
}

/** Median µs per prompt of featurize + ORT run (batch 1, 1 thread) over `texts`. */
export async function latencyUs(w: StudentWeights, spec: FeaturizerSpec, texts: string[]): Promise<number> {
  const session = await loadSession(exportStudent(w, "float32"), { threads: 1 });
  const run = nodeRunModel(session, IO);
  const times: number[] = [];
  try {
    for (let rep = 0; rep < 2; rep++) {
      for (const t of texts) {
        const t0 = performance.now();
        await scorePrompts(run, spec, [t]);
        if (rep === 1) times.push((performance.now() - t0) * 1000); // first pass warms up
      }
    }
  } finally {
    await closeSession(session);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

/** Adds `teacher` logits from a trained student to every row (proxy teacher). */
export function attachTeacher(rows: DistillRow[], res: DistillResult): DistillRow[] {
  return rows.map((r) => {
    const f = featurize(r.text, res.featurizer);
    const z = forward(res.weights, f.ids, f.dense).logits;
    return { ...r, teacher: Object.fromEntries(res.models.map((m, i) => [m, z[i]])) };
  });
}

export function summarise(c: SweepCandidate, res: DistillResult, us: number): SweepRow {
  const w = res.weights;
  const { buckets: V, dim: D, dense: F, hidden: H, outputs: M } = w.shape;
  return {
    name: c.name,
    buckets: V,
    dim: D,
    hidden: H,
    params: V * D + (D + F) * H + H + H * M + M,
    onnx_fp32_bytes: exportStudent(w, "float32").length,
    onnx_fp16_bytes: exportStudent(w, "float16").length,
    test_auroc: res.metrics.test.mean_auroc,
    val_auroc: res.metrics.val.mean_auroc,
    teacher_mse: res.metrics.test.mean_teacher_mse,
    teacher_pearson: mean(Object.values(res.metrics.test.per_model).map((m) => m.teacher_pearson)),
    best_epoch: res.training.bestEpoch,
    train_prompts_per_sec: Math.round(res.training.promptsPerSec),
    us_per_prompt: Math.round(us),
  };
}

function mean(xs: (number | null)[]): number | null {
  const v = xs.filter((x): x is number => x !== null);
  return v.length ? v.reduce((a, b) => a + b, 0) / v.length : null;
}

const spec = (buckets: number): FeaturizerSpec => ({ ...DEFAULT_FEATURIZER, buckets });

export const BAG_CANDIDATES: SweepCandidate[] = [
  { name: "bag-4k-d16-h32", featurizer: spec(1 << 12), train: { dim: 16, hidden: 32 } },
  { name: "bag-16k-d16-h32", featurizer: spec(1 << 14), train: { dim: 16, hidden: 32 } },
  { name: "bag-64k-d16-h32", featurizer: spec(1 << 16), train: { dim: 16, hidden: 32 } },
  { name: "bag-64k-d32-h64", featurizer: spec(1 << 16), train: { dim: 32, hidden: 64 } },
  { name: "bag-256k-d32-h64", featurizer: spec(1 << 18), train: { dim: 32, hidden: 64 } },
];

export const TEACHER: SweepCandidate = { name: "proxy-teacher-bag-256k-d64-h128", featurizer: spec(1 << 18), train: { dim: 64, hidden: 128 } };

export async function runSweep(rawRows: DistillInputRow[], candidates = BAG_CANDIDATES, alpha = 0.5, log = (s: string) => console.error(s)): Promise<{ teacher: SweepRow; rows: SweepRow[] }> {
  const rows = rawRows.map(toDistillRow);
  const latencyTexts = rows.filter((r) => r.split === "test").slice(0, 200).map((r) => r.text);
  log(`teacher ${TEACHER.name}`);
  const tRes = runDistill({ rows, featurizer: TEACHER.featurizer, train: { seed: 7, ...TEACHER.train }, progress: { mode: "none" } });
  const teacherRow = summarise(TEACHER, tRes, await latencyUs(tRes.weights, TEACHER.featurizer, latencyTexts));
  const withT = attachTeacher(rows, tRes);
  const out: SweepRow[] = [];
  for (const c of candidates) {
    const res = runDistill({ rows: withT, models: tRes.models, featurizer: c.featurizer, train: { seed: 1, alpha, ...c.train }, progress: { mode: "none" } });
    const row = summarise(c, res, await latencyUs(res.weights, c.featurizer, latencyTexts));
    log(JSON.stringify(row));
    out.push(row);
  }
  return { teacher: teacherRow, rows: out };
}

export default defineCommand({
  meta: { name: "distill-sweep", description: "Bag-student size sweep against a proxy teacher (docs/student.md)" },
  args: {
    data: { type: "string", required: true, description: "outcomes or DistillRow JSONL" },
    out: { type: "string", required: true, description: "JSON results file" },
    alpha: { type: "string", default: "0.5", description: "teacher weight for the students" },
  },
  async run({ args }) {
    const text = await readFile(args.data, "utf8");
    const rows = text.split("\n").filter((l) => l.trim()).map((l) => JSON.parse(l) as DistillInputRow);
    const res = await runSweep(rows, BAG_CANDIDATES, Number(args.alpha));
    await writeFile(args.out, `${JSON.stringify(res, null, 2)}\n`);
    console.log(JSON.stringify(res, null, 2));
  },
});
