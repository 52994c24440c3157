/**
 * A new model's head on a frozen student (issue 17 item 4): L2 logistic
 * regressions over feature blocks of the frozen student, each standardised and
 * scaled to row norm ≈ 1: the trunk's hidden activations h ("deep"), a new
 * wide column over the same idf-weighted id features (scripts/distill/wide.ts,
 * with the bundle's own idf g = sqrt(wide_norm)) when the bundle has a wide
 * part, the existing models' logits ("heads": linear in the student's own
 * columns, so they fold into the new column at no graph cost) and, when the
 * bundle has a task prior, its task probabilities ("task": their weights are
 * the new column of the prior's table) or one feature Σ_t p_t·r̂_t of the new
 * model's empirical-Bayes task logits r̂ ("rate", scripts/stages/task-rates.ts:
 * fitted on labels, so refitted inside every CV fold; r̂ scaled is the new
 * column of the prior's table). C is chosen per
 * candidate set on a held-out score (log-loss or AUROC): on a validation set
 * when one is given, else by stratified K-fold cross-validation (optionally
 * repeated) within the N labelled prompts, since small N has no separate
 * validation split. The served head is the best set, or an average of the
 * sets' fits; either way it folds into one more output column (w2, b2,
 * wide, task prior; head-column.ts appends it) and every existing weight is
 * copied unchanged (the fold lives in head-fold.ts). fitHeadColumn fits one
 * set at one C with optional row weights, for callers that choose
 * themselves (impute-head.ts). Pure maths; no I/O, never sees test rows.
 */
import { forward, type StudentWeights } from "../../src/core/student.js";
import { fitLogistic, type LinearFit } from "../lib/linear/logistic.js";
import type { CsrMatrix } from "../lib/linear/sparse.js";
import { auroc } from "../lib/stats/metrics.js";
import { wideMatrix } from "../distill/wide.js";
import { allRows, BlockRows, cvPath, denseDesign, fitBlock, meanLoss, stratifiedFolds, type Block } from "./head-blocks.js";
import { meanTaskLogits, rateFeature, taskRates } from "./task-rates.js";
import type { HeadColumn } from "./head-column.js";
import { type Acts, activations, blocksOf, type Blocks, foldColumn, meanOf, type Rate, taskCount } from "./head-fold.js";

/**
 * Feature sets: trunk activations h ("deep"), a new wide column, the existing
 * models' logits ("heads"), and their mean ("mean": one shared-difficulty
 * feature, scaled by MEAN_SCALE so its L2 prior is MEAN_SCALE² times weaker).
 */
export const ALL_HEAD_PARTS = ["deep", "wide", "deep+wide", "deep+heads", "deep+wide+heads", "heads", "wide+heads", "mean", "mean+deep", "mean+deep+wide", "mean+deep+heads", "mean+deep+wide+heads", "task+heads", "task+deep+heads", "task+deep+wide+heads", "task+mean", "task+mean+deep", "rate+heads", "rate+task+heads", "rate+wide+heads", "rate+deep+heads"] as const;
export type HeadParts = (typeof ALL_HEAD_PARTS)[number];
/** The candidates add-model tries by default (chosen on validation: docs/student.md, "Onboarding a new model"). */
export const HEAD_PARTS: HeadParts[] = ["deep", "wide", "deep+wide", "deep+heads", "deep+wide+heads"];
/**
 * The one set tried on a bundle with a task prior: the new model's per-task logits by empirical Bayes (one "rate"
 * feature) plus the existing heads' span. On validation it beat task+heads (free per-task offsets) at every N tried:
 * 74.8 / 84.9 / 88.1% of the full-data lift at N = 25 / 50 / 100 against 57.1 / 81.1 / 86.6% (docs/student.md,
 * "The rate block"). Choosing among several sets by cross-validation at N = 100 cost more than any set gained.
 */
export const HEAD_PARTS_TASK: HeadParts[] = ["rate+heads"];

/** The candidate sets add-model tries on these weights when none are given. */
export function defaultHeadParts(weights: StudentWeights): HeadParts[] {
  return taskCount(weights) > 0 ? HEAD_PARTS_TASK : HEAD_PARTS;
}
export const MEAN_SCALE = 4;
/** Inverse L2 strengths tried (C·Σloss + ½‖w‖², the TF-IDF baseline's convention). */
export const HEAD_CS = [0.03, 0.1, 0.3, 1, 3, 10, 30, 100];
export const HEAD_FOLDS = 5;
/** Defaults of the choice (docs/student.md, "Onboarding a new model": compared on validation). */
export const HEAD_COMBINE: HeadCombine = "best";
export const HEAD_SELECT: HeadSelect = "loss";
/** Scale of the "task" block (the bundle's task probabilities; sets with it are tried only when the bundle has a task prior). */
export const HEAD_TASK_SCALE = 1;
/** Scale of the "rate" block (one feature: the empirical-Bayes task logits of scripts/stages/task-rates.ts under the bundle's task probabilities). */
export const HEAD_RATE_SCALE = 1;
/** Scale of the "heads" block: its L2 prior 16× weaker than deep's and wide's, so the fit leans on the existing heads' span. */
export const HEAD_HEADS_SCALE = 4;

/** One labelled prompt for the new model: featurizer output and its success rate in [0, 1]. */
export interface HeadExample {
  ids: Int32Array;
  dense: Float32Array;
  y: number;
}

/**
 * How the candidate fits become the served head. "best": the one set and C
 * with the lowest held-out score. "mean": each set at its own best C,
 * averaged with equal weights. "weighted": the same, weighted by
 * exp(−n·(loss − min loss)) (pseudo-BMA on held-out log-likelihood). An
 * average of linear heads is linear, so every mode folds into one column.
 */
export type HeadCombine = "best" | "mean" | "weighted";
/** Held-out score that picks C (and the set for "best"): mean log-loss, or AUROC of the held-out logits. */
export type HeadSelect = "loss" | "auroc";

/** One fitted candidate in the served head and its weight. */
export interface HeadMember {
  parts: HeadParts;
  C: number;
  loss: number;
  weight: number;
}

/** The fitted head: its output column (head-column.ts) and how it was chosen. */
export interface NewHead extends HeadColumn {
  /** The chosen set, or "mean(a,b,…)" / "weighted(…)" for an average of sets. */
  parts: string;
  /** C of the chosen set, or of the highest-weight member of an average. */
  C: number;
  members: HeadMember[];
  /** How the choice was made and the held-out mean log-loss of the served head. */
  selection: { by: "val" | `cv-${number}` | `cv-${number}x${number}`; score: HeadSelect; combine: HeadCombine; loss: number; tried: Array<{ parts: HeadParts; C: number; loss: number; auroc: number | null }> };
  /** Held-out logits of the served head (out-of-fold with CV, validation rows otherwise): honest scores for calibration. */
  heldOut: Float64Array;
}

/** Trunk hidden activations h (float32 forward of the frozen student) of each example, row-major n×H. */
export function hiddenOf(weights: StudentWeights, xs: Array<{ ids: Int32Array; dense: Float32Array }>): Float64Array {
  const H = weights.shape.hidden;
  const out = new Float64Array(xs.length * H);
  xs.forEach((x, i) => out.set(forward(weights, x.ids, x.dense).h, i * H));
  return out;
}

export interface HeadOptions {
  Cs?: number[];
  folds?: number;
  /** Repeats of the K-fold split (different seeds), averaged: less noise in the choice at small N. */
  repeats?: number;
  seed?: number;
  /** Select on these rows (e.g. a validation split) instead of cross-validating within the training rows. */
  val?: HeadExample[];
  /** Candidate feature sets (default defaultHeadParts(weights); those needing a wide part or a task prior are dropped without one). */
  parts?: HeadParts[];
  combine?: HeadCombine;
  selectBy?: HeadSelect;
  /** Scale of the "heads" block (default HEAD_HEADS_SCALE; 1 = row norm ≈ 1 like the other blocks): s > 1 makes its L2 prior s² times weaker. */
  headsScale?: number;
  /** Scale of the "task" block (default HEAD_TASK_SCALE). */
  taskScale?: number;
  /** Column scaling of the deep and heads blocks (head-blocks.ts fitBlock); default "dim". */
  blockNorm?: "dim" | "block";
  /** Prior variance of the "rate" block's task logits (default RATE_PRIOR_VAR, scripts/stages/task-rates.ts). */
  rateVar?: number;
}

const scaled = (b: Block, s: number): Block => ({ ...b, scale: b.scale * s });
const binary = (y: ArrayLike<number>) => Array.from(y, (v) => (v > 0.5 ? 1 : 0));

/** Fits the new head on the frozen student `weights`. */
export function fitNewHead(weights: StudentWeights, train: HeadExample[], opts: HeadOptions = {}): NewHead {
  if (train.length < 2) throw new Error(`add-model: need at least 2 labelled prompts, got ${train.length}`);
  const { hidden: H, outputs: M } = weights.shape;
  const Cs = [...(opts.Cs ?? HEAD_CS)].sort((p, q) => p - q);
  const combine = opts.combine ?? HEAD_COMBINE;
  const selectBy = opts.selectBy ?? HEAD_SELECT;
  const g = wideScale(weights);
  const hasWide = g !== null;
  const aTr = activations(weights, train);
  const T = taskCount(weights);
  const blocks = fitBlocks(aTr, train.length, weights, opts);
  const n = train.length;
  const y = Float64Array.from(train, (x) => x.y);
  const candidates = (opts.parts ?? defaultHeadParts(weights)).filter((p) => (hasWide || !p.includes("wide")) && (T > 0 || (!p.includes("task") && !p.includes("rate"))));
  if (candidates.length === 0) throw new Error("add-model: no candidate head parts for a bundle without a wide part");
  const wideTr = g ? wideMatrix(train.map((x) => ({ ids: x.ids, dense: x.dense })), g, weights.wideTfidf) : null;
  const op = (p: HeadParts, d: { data: Float64Array; width: number }, wide: CsrMatrix | null, rows: Int32Array) => new BlockRows(d.width > 0 ? d.data : null, d.width, p.includes("wide") ? wide : null, rows);
  const all = allRows(n);
  const k = Math.min(opts.folds ?? HEAD_FOLDS, n);
  const repeats = Math.max(1, opts.repeats ?? 1);
  const val = opts.val ?? [];
  const aVa = val.length > 0 ? activations(weights, val) : null;
  const wideVa = g && val.length > 0 ? wideMatrix(val.map((x) => ({ ids: x.ids, dense: x.dense })), g, weights.wideTfidf) : null;
  const yHeld = val.length > 0 ? Float64Array.from(val, (x) => x.y) : y;
  const foldSets = Array.from({ length: repeats }, (_, r) => stratifiedFolds(y, k, (opts.seed ?? 1) + 7919 * r));
  const tried: NewHead["selection"]["tried"] = [];
  // Per candidate set: every C's held-out logits (on val, or out-of-fold averaged over the repeats).
  // The "rate" block is fitted on labels, so its task logits come only from rows the fit may see: all N, or a fold's training rows.
  const rbar = T > 0 ? meanTaskLogits(weights.task!.prior, T, M) : new Float64Array(0);
  const rateBlock = (rows: Int32Array | null): Rate => fitRate(aTr.p, y, rows, rbar, opts.rateVar);
  const design = (parts: HeadParts, a: Acts, count: number, rate: Rate | null, e?: Float64Array) => designOf(parts, a, blocks, M, count, rate, e);
  const perSet = candidates.map((parts) => {
    const rate = parts.includes("rate") ? rateBlock(null) : null;
    const dTr = design(parts, aTr, n, rate);
    let path: Array<{ C: number; held: Float64Array; fit?: LinearFit }>;
    if (aVa) {
      const opVa = op(parts, design(parts, aVa, val.length, rate, rate ? rateFeature(aVa.p, rate.rates) : undefined), wideVa, allRows(val.length));
      let prev: LinearFit | undefined;
      path = Cs.map((C) => {
        prev = fitLogistic(op(parts, dTr, wideTr, all), y, { lambda: 1 / (C * n), init: prev, gtol: 1e-5, maxIter: 300 });
        const z = new Float64Array(val.length);
        opVa.forward(prev.w, z);
        for (let i = 0; i < z.length; i++) z[i] += prev.b;
        return { C, held: z, fit: prev };
      });
    } else {
      // A "rate" design is refitted on each fold's training rows; the others are label-free, so every fold shares dTr.
      const foldOps = (tr: Int32Array, te: Int32Array): [BlockRows, BlockRows] => {
        const d = rate ? design(parts, aTr, n, rateBlock(tr)) : dTr;
        return [op(parts, d, wideTr, tr), op(parts, d, wideTr, te)];
      };
      const runs = foldSets.map((folds) => cvPath(foldOps, y, Cs, folds, k));
      path = Cs.map((C, c) => ({ C, held: Float64Array.from({ length: n }, (_, i) => runs.reduce((a, r) => a + r[c].oof[i], 0) / repeats) }));
    }
    const scored = path.map((p) => ({ ...p, loss: meanLoss(p.held, yHeld), auroc: auroc(Array.from(p.held), binary(yHeld)) }));
    for (const p of scored) tried.push({ parts, C: p.C, loss: p.loss, auroc: p.auroc });
    // Lower is better; AUROC ties (common on a small held-out set) fall back to log-loss.
    const score = (p: (typeof scored)[number]) => (selectBy === "auroc" ? -(p.auroc ?? 0.5) + 1e-9 * p.loss : p.loss);
    const best = scored.reduce((a, b) => (score(b) < score(a) ? b : a));
    return { parts, dTr, rate, ...best, score: score(best) };
  });
  const first = perSet.reduce((a, b) => (b.score < a.score ? b : a));
  const minLoss = Math.min(...perSet.map((p) => p.loss));
  const raw = perSet.map((p) => (combine === "best" ? (p === first ? 1 : 0) : combine === "mean" ? 1 : Math.exp(-yHeld.length * (p.loss - minLoss))));
  // Weights below 1e-6 of the largest are dropped (their refit would cost time for nothing), the rest renormalised.
  const kept = perSet.map((p, i) => ({ ...p, weight: raw[i] })).filter((p) => p.weight > 1e-6 * Math.max(...raw));
  const total = kept.reduce((a, p) => a + p.weight, 0);
  const members = kept.map((p) => ({ ...p, weight: p.weight / total }));
  // The served head: the members' fits on all rows, each folded into the student's layout, averaged.
  const w2 = new Float64Array(H);
  const wide = g ? new Float64Array(weights.shape.buckets) : null;
  const prior = T > 0 ? new Float64Array(T) : null;
  let b2 = 0;
  const heldOut = new Float64Array(yHeld.length);
  for (const mem of members) {
    const fit = mem.fit ?? fitLogistic(op(mem.parts, mem.dTr, wideTr, all), y, { lambda: 1 / (mem.C * n), gtol: 1e-6, maxIter: 500 });
    const col = foldColumn(weights, fit, mem.parts, blocks, g, mem.rate);
    for (let j = 0; j < H; j++) w2[j] += mem.weight * col.w2[j];
    if (wide && col.wide) for (let v = 0; v < wide.length; v++) wide[v] += mem.weight * col.wide[v];
    if (prior && col.prior) for (let t = 0; t < T; t++) prior[t] += mem.weight * col.prior[t];
    b2 += mem.weight * col.b2;
    for (let i = 0; i < heldOut.length; i++) heldOut[i] += mem.weight * mem.held[i];
  }
  const top = members.reduce((a, b) => (b.weight > a.weight ? b : a));
  const parts = members.length === 1 ? members[0].parts : `${combine}(${members.map((m) => m.parts).join(",")})`;
  const by = aVa ? "val" : repeats > 1 ? (`cv-${k}x${repeats}` as const) : (`cv-${k}` as const);
  return {
    w2,
    b2,
    wide,
    prior,
    parts,
    C: top.C,
    members: members.map((m) => ({ parts: m.parts, C: m.C, loss: m.loss, weight: m.weight })),
    selection: { by, score: selectBy, combine, loss: meanLoss(heldOut, yHeld), tried },
    heldOut,
  };
}

/**
 * One set's head at one fixed C on rows whose activations are given, with optional row weights (the loss is the
 * weighted mean; λ = 1/(C·Σω), so C keeps the TF-IDF baseline's convention with Σω in place of n): no selection and no
 * held-out scores. Returns the column in the student's layout (the existing heads' wide parts fold into its wide
 * table) and a scorer of other rows from their activations alone, equal to the column's logit. For callers that choose
 * the set and C themselves (scripts/stages/impute-head.ts). Sets with a new wide part are refused: rows carry activations only.
 */
export function fitHeadColumn(weights: StudentWeights, acts: Acts, y: ArrayLike<number>, parts: HeadParts, C: number, opts: { rowWeights?: ArrayLike<number>; headsScale?: number; taskScale?: number; rateVar?: number } = {}): { column: HeadColumn; score: (a: Acts) => Float64Array } {
  if (parts.includes("wide")) throw new Error(`fitHeadColumn: set ${parts} needs the rows' ids`);
  const { hidden: H, outputs: M } = weights.shape;
  const T = taskCount(weights);
  const n = y.length;
  if ((parts.includes("task") || parts.includes("rate")) && T === 0) throw new Error(`fitHeadColumn: set ${parts} needs a bundle with a task prior`);
  const blocks = fitBlocks(acts, n, weights, opts);
  const rate = parts.includes("rate") ? fitRate(acts.p, y, null, meanTaskLogits(weights.task!.prior, T, M), opts.rateVar) : null;
  const d = designOf(parts, acts, blocks, M, n, rate);
  const W = opts.rowWeights ? Array.from(opts.rowWeights).reduce((a, b) => a + b, 0) : n;
  const fit = fitLogistic(new BlockRows(d.data, d.width, null, allRows(n)), y, { lambda: 1 / (C * W), weights: opts.rowWeights, gtol: 1e-6, maxIter: 500 });
  const score = (a: Acts) => {
    const rows = a.h.length / H;
    const x = designOf(parts, a, blocks, M, rows, rate, rate ? rateFeature(a.p, rate.rates) : undefined);
    const z = new Float64Array(rows);
    new BlockRows(x.data, x.width, null, allRows(rows)).forward(fit.w, z);
    return z.map((v) => v + fit.b);
  };
  return { column: foldColumn(weights, fit, parts, blocks, wideScale(weights), rate), score };
}

/** The bundle's idf as the wide part's column scale g = sqrt(wide_norm), or null without a wide part. */
const wideScale = (w: StudentWeights) => (w.wide !== undefined && w.wideNorm !== undefined ? Float64Array.from(w.wideNorm, (x) => Math.sqrt(x)) : null);

/** Each dense block's standardisation on the n rows of a, with the blocks' scales (fitNewHead and fitHeadColumn share it). */
function fitBlocks(a: Acts, n: number, weights: StudentWeights, opts: { blockNorm?: "dim" | "block"; headsScale?: number; taskScale?: number }): Blocks {
  const { hidden: H, outputs: M } = weights.shape;
  return {
    h: fitBlock(a.h, n, H, opts.blockNorm),
    z: scaled(fitBlock(a.z, n, M, opts.blockNorm), opts.headsScale ?? HEAD_HEADS_SCALE),
    mean: { ...fitBlock(meanOf(a.z, M), n, 1), scale: MEAN_SCALE },
    p: scaled(fitBlock(a.p, n, taskCount(weights)), opts.taskScale ?? HEAD_TASK_SCALE),
  };
}

/** The "rate" block from the labels of `rows` (all when null): task logits, the feature on every row, standardised on those rows. */
function fitRate(p: Float64Array, y: ArrayLike<number>, rows: Int32Array | null, rbar: Float64Array, rateVar?: number): Rate {
  const rates = taskRates(p, y, rows, rbar, rateVar);
  const e = rateFeature(p, rates);
  const seen = rows ? Float64Array.from(rows, (i) => e[i]) : e;
  return { rates, e, b: { ...fitBlock(seen, seen.length, 1), scale: HEAD_RATE_SCALE } };
}

/** The design of `count` rows of a: the set's dense blocks, then the rate feature (e, default the fitted rows' own). */
const designOf = (parts: HeadParts, a: Acts, blocks: Blocks, M: number, count: number, rate: Rate | null, e?: Float64Array) => denseDesign([...blocksOf(parts, a, blocks, M), ...(rate ? [{ x: e ?? rate.e, b: rate.b }] : [])], count);
