/**
 * Distill-stage dataset: the row schema the distill command accepts (its own
 * DistillRow, or an outcomes row from scripts/formats/outcomes.ts), the rule
 * that assigns missing splits, and featurisation into trainer Examples.
 * No file I/O here (the command reads files); no training.
 */
import { z } from "zod";
import { featurize, type FeaturizerSpec } from "../../src/core/featurizer.js";
import { unitInterval } from "../../src/core/hash.js";
import { formatMessages } from "../../src/core/messages.js";
import { OutcomeRow, successRate } from "../formats/outcomes.js";
import type { Example } from "./network.js";

export const DistillRow = z
  .object({
    id: z.string().min(1).optional(),
    text: z.string(),
    split: z.string().min(1).optional().meta({ description: "train | val | test | unlabelled; any other split (e.g. cal) is held out" }),
    labels: z
      .record(z.string(), z.number().min(0).max(1).nullable())
      .default({})
      .meta({ description: "per-model success rate in [0,1]; null or absent = masked" }),
    teacher: z
      .record(z.string(), z.number().finite().nullable())
      .optional()
      .meta({ description: "per-model teacher logit; null or absent = missing" }),
    task: z.string().min(1).optional().meta({ description: "the row's task (benchmark, category); with train.taskPrior the student learns each task's success rates and a classifier for it" }),
    weight: z
      .number()
      .positive()
      .finite()
      .optional()
      .meta({ description: "sample weight of the row's loss terms (default 1); build sets it on logged rows (clipped inverse propensity, docs/loop.md)" }),
  })
  .strict();
export type DistillRow = z.infer<typeof DistillRow>;

/** Either format on input; outcomes rows are normalised by toDistillRow. */
export const DistillInputRow = z.union([DistillRow, OutcomeRow]);
// Note: an outcomes row is validated by OutcomeRow, so its split follows that enum.
export type DistillInputRow = z.infer<typeof DistillInputRow>;

export function toDistillRow(r: DistillInputRow): DistillRow {
  if ("text" in r) return r;
  const labels: Record<string, number> = {};
  for (const [m, o] of Object.entries(r.outcomes)) labels[m] = successRate(o);
  const text = r.prompt ?? formatMessages(r.messages ?? []);
  return { id: r.id, text, split: r.split, labels, ...(r.task ? { task: r.task } : {}) };
}

/** The bundle featurizer used when no spec is given (see docs/student.md for the sweep). */
export const DEFAULT_FEATURIZER: FeaturizerSpec = {
  kind: "hashed-ngram-v1",
  buckets: 1 << 16,
  word_ngrams: [1, 2],
  char_ngrams: [3, 4],
  max_features: 512,
  lowercase: true,
  seed: 0x9747b28c,
};

/**
 * Split for a row without one: a stable hash of its id (or text) gives
 * 80% train / 10% val / 10% test, so re-runs and other stages agree.
 */
export function assignSplit(r: DistillRow): string {
  if (r.split) return r.split;
  const u = unitInterval(`split|${r.id ?? r.text}`);
  return u < 0.8 ? "train" : u < 0.9 ? "val" : "test";
}

/** Union of models that have at least one label or teacher entry, sorted. */
export function modelsOf(rows: DistillRow[]): string[] {
  const s = new Set<string>();
  for (const r of rows) {
    for (const [m, v] of Object.entries(r.labels)) if (v !== null) s.add(m);
    for (const [m, v] of Object.entries(r.teacher ?? {})) if (v !== null) s.add(m);
  }
  return [...s].sort();
}

export interface Featurised {
  examples: Example[];
  splits: string[];
  ids: string[];
  truncated: number;
}

/** Featurises every row; labels/teacher become Float32Array(M) with NaN where missing. */
export function featuriseRows(rows: DistillRow[], models: string[], spec: FeaturizerSpec): Featurised {
  const examples: Example[] = [];
  const splits: string[] = [];
  const ids: string[] = [];
  let truncated = 0;
  for (const [i, r] of rows.entries()) {
    const f = featurize(r.text, spec);
    if (f.truncated) truncated++;
    const label = new Float32Array(models.length).fill(NaN);
    let anyTeacher = false;
    const teacher = new Float32Array(models.length).fill(NaN);
    for (const [m, name] of models.entries()) {
      const y = r.labels[name];
      if (y !== undefined && y !== null) label[m] = y;
      const t = r.teacher?.[name];
      if (t !== undefined && t !== null) {
        teacher[m] = t;
        anyTeacher = true;
      }
    }
    examples.push({ ids: f.ids, dense: f.dense, label, teacher: anyTeacher ? teacher : undefined, ...(r.weight !== undefined ? { weight: r.weight } : {}), ...(r.task ? { task: r.task } : {}) });
    splits.push(assignSplit(r));
    ids.push(r.id ?? `row-${i}`);
  }
  return { examples, splits, ids, truncated };
}
