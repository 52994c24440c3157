/**
 * The student's task prior (src/core/student.ts TaskPrior): when the training
 * rows name their task (benchmark, category), a model's success rate on that
 * task ranks prompts better than the text parts do alone (docs/student.md,
 * "Task prior"). Fitted here after the student:
 *   - a task classifier: one-vs-rest L2 logistic per task, C chosen per task
 *     on validation log-loss, served as a softmax; over the student's hidden
 *     layer h (input "hidden": an H×T table, no per-id weights, so the
 *     bundle barely grows) or over the wide part's features (input "ids":
 *     same ids, idf and norm, fitWide with one-hot labels; a V×T table);
 *   - per task t and model m, the logit of the smoothed training success rate
 *     (TASK_SHRINK pseudo-outcomes at the model's overall rate);
 *   - the weight b of the student in b·student + Σ_t p_t·prior[t], chosen on
 *     mean validation AUROC from a grid (folded into the student's own
 *     weights by the trainer, so the graph only adds the prior).
 * Owns that fit only; never sees test rows; no I/O.
 */
import { fitPath } from "../lib/linear/path.js";
import { SmallDenseOperator } from "../lib/linear/operator.js";
import { taskProbs, type TaskInput } from "../../src/core/student.js";
import type { Example } from "./network.js";
import { fitWide, labelled, meanValAuroc } from "./wide.js";

/** Pseudo-outcomes at the model's overall rate added to each task's count (a rate from 5 outcomes moves half way). */
export const TASK_SHRINK = 5;
/** A task needs this many training rows to get a class of its own; rarer tasks' rows are negatives for every class. */
export const MIN_TASK_ROWS = 20;
/** Default grid of the student's weight b. */
export const TASK_BLEND = [0.1, 0.25, 0.5, 0.75, 1];

export interface TaskPriorFit {
  tasks: string[];
  input: TaskInput;
  /** H×T ("hidden", standardisation folded in) or V×T with idf folded in ("ids", as WidePart.table); T; T×M. */
  table: Float64Array;
  bias: Float64Array;
  prior: Float64Array;
  /** Training rows per task, and the classifier's per-task C and validation log-loss. */
  rows: number[];
  chosen: Array<{ C: number; valLoss: number } | null>;
  /** Share of validation rows (with a known task) whose most probable task is theirs; null without any. */
  valAccuracy: number | null;
  /** The student's weight and the mean validation AUROC of each weight tried. */
  studentWeight: number;
  tried: Array<{ weight: number; valMeanAuroc: number }>;
}

export interface TaskPriorOptions {
  input: TaskInput;
  /** Input "ids": only ids in at least this many training prompts get a weight (smaller gzipped bundles). */
  minDf?: number;
  Cs: number[];
  tfidf: boolean;
  grid: number[];
  /** The student's logits (bias and wide part included) and hidden activations for an example. */
  student: (ex: Example) => { logits: ArrayLike<number>; h: ArrayLike<number> };
}

const logit = (p: number) => Math.log(p / (1 - p));

/** Null (with the reason) when fewer than two tasks have MIN_TASK_ROWS training rows. */
export function fitTaskPrior(train: Example[], val: Example[], buckets: number, outputs: number, opts: TaskPriorOptions): TaskPriorFit | { skipped: string } {
  const counts = new Map<string, number>();
  for (const ex of train) if (ex.task) counts.set(ex.task, (counts.get(ex.task) ?? 0) + 1);
  const tasks = [...counts].filter(([, n]) => n >= MIN_TASK_ROWS).map(([t]) => t).sort();
  if (tasks.length < 2) return { skipped: `${tasks.length} task(s) with ≥ ${MIN_TASK_ROWS} training rows (${counts.size} named); a task prior needs 2` };
  const T = tasks.length;
  const M = outputs;
  const index = new Map(tasks.map((t, k) => [t, k]));
  // One-hot task labels; a row without a task stays unlabelled (NaN), a rare task's row is a negative everywhere.
  const oneHot = (ex: Example): Example => {
    const label = new Float32Array(T).fill(ex.task ? 0 : NaN);
    const k = ex.task ? index.get(ex.task) : undefined;
    if (k !== undefined) label[k] = 1;
    return { ids: ex.ids, dense: ex.dense, label };
  };
  // Every training example goes in, so the idf (and with it the norm) is exactly the wide part's.
  // The norm is the wide fit's (g² of the same idf); the hidden-layer classifier needs none.
  const clf: { table: Float64Array; bias: Float64Array; chosen: TaskPriorFit["chosen"]; norm?: Float64Array } = opts.input === "ids" ? fitWide(train.map(oneHot), val.map(oneHot), buckets, T, { Cs: opts.Cs, tfidf: opts.tfidf, minDf: opts.minDf }) : fitHidden(train.map(oneHot), val.map(oneHot), T, opts);
  const prior = new Float64Array(T * M);
  for (let m = 0; m < M; m++) {
    const s = new Float64Array(T);
    const n = new Float64Array(T);
    let sAll = 0;
    let nAll = 0;
    for (const ex of train) {
      const y = ex.label ? ex.label[m] : NaN;
      if (Number.isNaN(y)) continue;
      sAll += y;
      nAll++;
      const k = ex.task ? index.get(ex.task) : undefined;
      if (k !== undefined) (s[k] += y), n[k]++;
    }
    const overall = (sAll + 1) / (nAll + 2);
    for (let k = 0; k < T; k++) prior[k * M + m] = logit((s[k] + TASK_SHRINK * overall) / (n[k] + TASK_SHRINK));
  }
  const fit = { tasks, input: opts.input, table: clf.table, bias: clf.bias, prior, rows: tasks.map((t) => counts.get(t)!), chosen: clf.chosen };
  const served = { input: opts.input, table: clf.table, bias: clf.bias };
  const p = val.map((ex) => taskProbs(served, { ids: ex.ids, h: opts.student(ex).h, norm: clf.norm, tfidf: opts.tfidf }));
  const known = val.flatMap((ex, i) => (ex.task && index.has(ex.task) ? [i] : []));
  const valAccuracy = known.length ? known.filter((i) => argmax(p[i]) === index.get(val[i].task!)).length / known.length : null;
  const { weight, tried } = chooseStudentWeight(val, p, prior, T, M, opts);
  return { ...fit, valAccuracy, studentWeight: weight, tried };
}

function argmax(a: ArrayLike<number>): number {
  let k = 0;
  for (let i = 1; i < a.length; i++) if (a[i] > a[k]) k = i;
  return k;
}

/** The b with the highest mean validation AUROC (majority label; ties: the earlier b); b = 1 without validation rows. */
function chooseStudentWeight(val: Example[], p: Float64Array[], prior: Float64Array, T: number, M: number, opts: TaskPriorOptions): { weight: number; tried: TaskPriorFit["tried"] } {
  if (val.length === 0) return { weight: 1, tried: [] };
  const z = val.map((ex) => opts.student(ex).logits);
  const pz = p.map((pi) => {
    const out = new Float64Array(M);
    for (let t = 0; t < T; t++) for (let m = 0; m < M; m++) out[m] += pi[t] * prior[t * M + m];
    return out;
  });
  const tried = opts.grid.map((weight) => ({ weight, valMeanAuroc: meanValAuroc(val, M, (i, m) => weight * z[i][m] + pz[i][m]) }));
  let best = tried[0];
  for (const t of tried) if (t.valMeanAuroc > best.valMeanAuroc) best = t;
  return { weight: best.weight, tried };
}

/**
 * One-vs-rest L2 logistic per task over the student's standardised hidden
 * activations, C per task on validation log-loss (the wide fit's path); the
 * standardisation is folded into the H×T table and the bias.
 */
function fitHidden(train: Example[], val: Example[], T: number, opts: TaskPriorOptions): { table: Float64Array; bias: Float64Array; chosen: TaskPriorFit["chosen"] } {
  const hOf = (set: Example[]) => set.map((ex) => opts.student(ex).h);
  const hTr = hOf(train);
  const hVa = hOf(val);
  const H = hTr[0]?.length ?? 0;
  const mu = new Float64Array(H);
  const sd = new Float64Array(H);
  for (const h of hTr) for (let j = 0; j < H; j++) mu[j] += h[j] / hTr.length;
  for (const h of hTr) for (let j = 0; j < H; j++) sd[j] += (h[j] - mu[j]) ** 2 / hTr.length;
  for (let j = 0; j < H; j++) sd[j] = Math.sqrt(sd[j]) || 1; // a dead unit: any scale, its weight stays 0
  const design = (hs: ArrayLike<number>[], rows: number[]) => new SmallDenseOperator(Float64Array.from(rows.flatMap((i) => Array.from({ length: H }, (_, j) => (hs[i][j] - mu[j]) / sd[j]))), rows.length, H);
  const table = new Float64Array(H * T);
  const bias = new Float64Array(T);
  const chosen: TaskPriorFit["chosen"] = [];
  for (let t = 0; t < T; t++) {
    const tr = labelled(train, t);
    const va = val.length > 0 ? labelled(val, t) : tr;
    const n = tr.rows.length;
    const path = fitPath("logistic", design(hTr, tr.rows), tr.y, design(val.length > 0 ? hVa : hTr, va.rows), va.y, opts.Cs.map((C) => 1 / (C * n)), { rtol: 1e-4, maxIter: 300, patience: 1 });
    const { w, b, lambda, val: valLoss } = path.best;
    let b0 = b;
    for (let j = 0; j < H; j++) {
      table[j * T + t] = w[j] / sd[j];
      b0 -= (w[j] * mu[j]) / sd[j];
    }
    bias[t] = b0;
    chosen.push({ C: 1 / (lambda * n), valLoss });
  }
  return { table, bias, chosen };
}
