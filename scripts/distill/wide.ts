/**
 * The student's wide part: one sparse linear model per pool model over the
 * featurizer's hashed ids, weighted like TF-IDF so the student contains the
 * text baseline. For a prompt with id occurrences t (repeats count):
 *   wide_m = Σ_t g[id_t]·W[id_t, m] / sqrt(max(1, Σ_t g[id_t]²)),
 * g = smoothed idf over the training prompts (ln((1+N)/(1+df)) + 1 ≥ 1), i.e.
 * count·idf features divided by the occurrence-level L2 norm, which the ONNX
 * graph computes from ids and mask alone (no per-bucket scatter). Fitted per
 * model with the L2 logistic path (scripts/lib/linear), λ chosen on
 * validation log-loss. Exported with g folded into the table (U = g ⊙ W) and
 * g² as the norm table. Also chooses, on validation, the blend weight α of
 * logit = α·wide + (1 − α)·deep when both parts are trained on their own.
 * With `tfidf`, the features are TF-IDF's exactly on the same ids: (1 + ln
 * count)·g per distinct id over the L2 norm of those values (core wideTerm's
 * tfidf mode; the graph counts ids with a ScatterElements add).
 * Owns the fit and that choice only; never sees test rows; no I/O.
 */
import { fitPath } from "../lib/linear/path.js";
import { auroc } from "../lib/stats/metrics.js";
import { CsrRows, type CsrMatrix } from "../lib/linear/sparse.js";
import { wideTerm } from "../../src/core/student.js";
import type { Example } from "./network.js";

export interface WidePart {
  /** V×M, idf folded in: U[j, m] = g_j · W[j, m]. */
  table: Float64Array;
  /** V: g_j², the weight of one occurrence of id j in the norm (≥ 1). */
  norm: Float64Array;
  /** M: intercept per model. */
  bias: Float64Array;
  /** Per model: the chosen C (sklearn convention) and its validation log-loss; null with no labels. */
  chosen: Array<{ C: number; valLoss: number } | null>;
  /** TF-IDF weighting (sublinear count, norm over distinct ids) instead of counts and an occurrence norm. */
  tfidf: boolean;
}

export interface WideOptions {
  /** Inverse L2 strengths tried (C·Σloss + ½‖w‖², as the TF-IDF baseline). */
  Cs: number[];
  tfidf?: boolean;
  /** Only ids in at least this many training prompts get a weight (the rest stay exactly 0, which gzip removes); default 1. */
  minDf?: number;
}

/** Smoothed idf per bucket from document frequencies over the training prompts. */
export function bucketIdf(train: Example[], buckets: number): Float64Array {
  const df = new Float64Array(buckets);
  const seen = new Uint8Array(buckets);
  for (const ex of train) {
    for (const j of ex.ids) if (!seen[j]) (seen[j] = 1), df[j]++;
    for (const j of ex.ids) seen[j] = 0;
  }
  const N = train.length;
  return Float64Array.from(df, (d) => Math.log((1 + N) / (1 + d)) + 1);
}

/** The wide feature rows (count·g / occurrence norm, or TF-IDF's with `tfidf`) as CSR, sorted columns. */
export function wideMatrix(examples: Example[], g: Float64Array, tfidf = false): CsrMatrix {
  const indptr = new Int32Array(examples.length + 1);
  const idx: number[] = [];
  const val: number[] = [];
  examples.forEach((ex, r) => {
    const counts = new Map<number, number>();
    for (const j of ex.ids) counts.set(j, (counts.get(j) ?? 0) + 1);
    const tf = (c: number) => (tfidf ? 1 + Math.log(c) : c);
    let n2 = 0;
    if (tfidf) for (const [j, c] of counts) n2 += (tf(c) * g[j]) ** 2;
    else for (const j of ex.ids) n2 += g[j] * g[j];
    const inv = 1 / Math.sqrt(Math.max(1, n2));
    for (const [j, c] of [...counts].sort((a, b) => a[0] - b[0])) {
      idx.push(j);
      val.push(tf(c) * g[j] * inv);
    }
    indptr[r + 1] = idx.length;
  });
  return { rows: examples.length, cols: g.length, indptr, indices: Int32Array.from(idx), values: Float32Array.from(val) };
}

/** Rows of `set` with a label for output m (not NaN), and those labels. */
export function labelled(set: Example[], m: number): { rows: number[]; y: number[] } {
  const rows: number[] = [];
  const y: number[] = [];
  set.forEach((ex, i) => {
    const v = ex.label ? ex.label[m] : NaN;
    if (!Number.isNaN(v)) rows.push(i), y.push(v);
  });
  return { rows, y };
}

export function fitWide(train: Example[], val: Example[], buckets: number, outputs: number, opts: WideOptions): WidePart {
  const g = bucketIdf(train, buckets);
  const tfidf = opts.tfidf ?? false;
  const trainM = wideMatrix(train, g, tfidf);
  const valM = wideMatrix(val, g, tfidf);
  if ((opts.minDf ?? 1) > 1) {
    // df from the idf itself: g = ln((1+N)/(1+df)) + 1. Dropped ids keep their place in the norm (the graph's norm is
    // over every id); only their weight is held at 0, by zeroing their feature values.
    const N = train.length;
    const rare = (j: number) => (1 + N) / Math.exp(g[j] - 1) - 1 < opts.minDf! - 1e-6;
    for (const m of [trainM, valM]) for (let p = 0; p < m.indices.length; p++) if (rare(m.indices[p])) m.values[p] = 0;
  }
  const table = new Float64Array(buckets * outputs);
  const bias = new Float64Array(outputs);
  const chosen: WidePart["chosen"] = [];
  for (let m = 0; m < outputs; m++) {
    const tr = labelled(train, m);
    // No validation labels: choose C on the training rows themselves (in-sample, so the weakest C tends to win; recorded).
    const va = val.length > 0 ? labelled(val, m) : tr;
    const vaM = val.length > 0 ? valM : trainM;
    if (tr.rows.length === 0 || va.rows.length === 0) {
      chosen.push(null);
      continue;
    }
    const n = tr.rows.length;
    const path = fitPath("logistic", new CsrRows(trainM, tr.rows), tr.y, new CsrRows(vaM, va.rows), va.y, opts.Cs.map((C) => 1 / (C * n)), {
      rtol: 1e-4,
      maxIter: 300,
      patience: 1,
    });
    const { w, b, lambda, val: valLoss } = path.best;
    for (let j = 0; j < buckets; j++) table[j * outputs + m] = g[j] * w[j];
    bias[m] = b;
    chosen.push({ C: 1 / (lambda * n), valLoss });
  }
  return { table, norm: Float64Array.from(g, (x) => x * x), bias, chosen, tfidf };
}

/** Wide logits (without the bias) of one id list: core's wideTerm, in float64. */
export function wideLogits(w: { table: ArrayLike<number>; norm: ArrayLike<number>; tfidf?: boolean }, ids: ArrayLike<number>, outputs: number, out = new Float64Array(outputs)): Float64Array {
  wideTerm(w.table, w.norm, ids, outputs, out, w.tfidf);
  return out;
}

export interface BlendChoice {
  alpha: number;
  /** Mean over models of the validation AUROC (majority label) of each α tried. */
  tried: Array<{ alpha: number; valMeanAuroc: number }>;
}

/**
 * The α of α·wide + (1 − α)·deep with the highest mean validation AUROC
 * (ties: the earlier α in the grid). One α for every model: a per-model
 * weight would be fitted on a few hundred rows each. deep(ex) gives the deep
 * part's logits (bias included) for a validation example.
 */
export function chooseBlend(wide: WidePart, deep: (ex: Example) => ArrayLike<number>, val: Example[], grid: number[]): BlendChoice {
  const M = wide.bias.length;
  const wz = val.map((ex) => {
    const z = wideLogits(wide, ex.ids, M);
    for (let m = 0; m < M; m++) z[m] += wide.bias[m];
    return z;
  });
  const dz = val.map(deep);
  const tried = grid.map((alpha) => ({ alpha, valMeanAuroc: meanValAuroc(val, M, (i, m) => alpha * wz[i][m] + (1 - alpha) * dz[i][m]) }));
  let best = tried[0];
  for (const t of tried) if (t.valMeanAuroc > best.valMeanAuroc) best = t;
  return { alpha: best.alpha, tried };
}

/**
 * Mean over the M outputs of the AUROC of score(i, m) against the majority
 * label (> 0.5) on the rows of `set` labelled for m; NaN when no output has
 * one. What the trainer's grid choices (wide blend, task prior weight) rank by.
 */
export function meanValAuroc(set: Example[], M: number, score: (i: number, m: number) => number): number {
  let sum = 0;
  let k = 0;
  for (let m = 0; m < M; m++) {
    const { rows, y } = labelled(set, m);
    const a = auroc(rows.map((i) => score(i, m)), y.map((v) => (v > 0.5 ? 1 : 0)));
    if (a !== null && Number.isFinite(a)) (sum += a), k++;
  }
  return k > 0 ? sum / k : NaN;
}
