/**
 * Architecture comparison for docs/student.md: trains the tiny transformer
 * (BPE vocab + one attention block) against the same proxy teacher as the bag
 * sweep (sweep.ts) and measures test AUROC, teacher fidelity, ONNX bytes and
 * single-prompt latency (tokenise + onnxruntime-node, 1 thread, batch 1).
 * Measurement only; exported for a script runner, not wired into the CLI.
 */
import { featurize } from "../../src/core/featurizer.js";
import { closeSession, loadSession, runSession } from "../lib/ort-node.js";
import { IO } from "../onnx/export-student.js";
import { runDistill } from "../commands/distill.js";
import { packBatch } from "../../src/core/batch.js";
import { type DistillInputRow, toDistillRow } from "./dataset.js";
import { evaluateSplit } from "./evaluate.js";
import { TEACHER, attachTeacher } from "./sweep.js";
import type { TfExample } from "./transformer.js";
import { exportTransformer } from "./transformer-export.js";
import { encodeBpe, trainBpe, vocabSize } from "./transformer-tokenizer.js";
import { tfPredict, trainTransformer } from "./transformer-train.js";

export interface TfCompareConfig {
  merges: number;
  maxLen: number;
  dim: number;
  hidden: number;
  alpha: number;
  maxEpochs: number;
}

export async function compareTransformer(raw: DistillInputRow[], c: TfCompareConfig, log = (s: string) => console.error(s)) {
  const rows0 = raw.map(toDistillRow);
  const teacher = runDistill({ rows: rows0, featurizer: TEACHER.featurizer, train: { seed: 7, ...TEACHER.train }, progress: { mode: "none" } });
  const rows = attachTeacher(rows0, teacher);
  const models = teacher.models;
  const t0 = performance.now();
  const bpe = trainBpe(rows.filter((r) => r.split === "train").map((r) => r.text), c.merges);
  log(`bpe: ${vocabSize(bpe)} symbols in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  const cache = new Map<string, number[]>();
  const toEx = (r: (typeof rows)[number]): TfExample => ({
    ids: encodeBpe(bpe, r.text, c.maxLen, cache),
    dense: featurize(r.text, teacher.featurizer).dense,
    label: Float32Array.from(models, (m) => r.labels[m] ?? NaN),
    teacher: Float32Array.from(models, (m) => r.teacher?.[m] ?? NaN),
  });
  const split = (s: string) => rows.filter((r) => r.split === s).map(toEx);
  const [train, val, test] = [split("train"), split("val"), split("test")];
  const shape = { vocab: vocabSize(bpe), maxLen: c.maxLen, dim: c.dim, dense: 4, hidden: c.hidden, outputs: models.length };
  const res = trainTransformer(shape, train, val, { seed: 1, alpha: c.alpha, lr: 3e-3, batchSize: 64, maxEpochs: c.maxEpochs, patience: 2 }, log);
  const metrics = evaluateSplit((ex) => tfPredict(res.params, res.std, ex as TfExample), test, models);
  const bytes = exportTransformer(res.params, res.std);
  const session = await loadSession(bytes, { threads: 1 });
  const texts = rows.filter((r) => r.split === "test").slice(0, 200).map((r) => r.text);
  const times: number[] = [];
  for (let rep = 0; rep < 2; rep++) {
    for (const t of texts) {
      const s = performance.now();
      const f = { ids: encodeBpe(bpe, t, c.maxLen, cache), dense: featurize(t, teacher.featurizer).dense };
      const b = packBatch([f], 4);
      await runSession(session, {
        [IO.ids]: { type: "int64", data: b.ids, dims: [1, b.length] },
        [IO.mask]: { type: "float32", data: b.mask, dims: [1, b.length] },
        [IO.dense]: { type: "float32", data: b.dense, dims: [1, 4] },
      });
      if (rep === 1) times.push((performance.now() - s) * 1000);
    }
  }
  await closeSession(session);
  times.sort((a, b) => a - b);
  const pm = Object.values(metrics.per_model).map((m) => m.teacher_pearson ?? NaN);
  return {
    name: `tiny-transformer-bpe${vocabSize(bpe)}-L${c.maxLen}-d${c.dim}-h${c.hidden}`,
    params: Object.values(res.params).reduce((s: number, a) => s + (a instanceof Float64Array ? a.length : 0), 0),
    onnx_fp32_bytes: bytes.length,
    test_auroc: metrics.mean_auroc,
    teacher_mse: metrics.mean_teacher_mse,
    teacher_pearson: pm.reduce((a, b) => a + b, 0) / pm.length,
    best_epoch: res.bestEpoch,
    epochs: res.epochs,
    train_prompts_per_sec: Math.round(res.promptsPerSec),
    us_per_prompt: Math.round(times[Math.floor(times.length / 2)]),
    teacher_test_auroc: teacher.metrics.test.mean_auroc,
  };
}
