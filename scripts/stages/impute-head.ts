/**
 * A new model's head from a few outcomes plus the pool's own outcome table
 * (add-model --pool-data; issue 17 item 4). When the N labelled prompts are
 * prompts the existing models were also run on, their outcomes there say far
 * more about a prompt's difficulty than any prompt feature: an "imputer", an L2
 * logistic regression of the new model's outcome on the existing models'
 * outcomes on the same prompt, those outcomes centred on each model's task
 * rate, and the rate feature of task-rates.ts (C by stratified K-fold
 * log-loss within N), fills in the new model's probable
 * outcome on every other pool prompt. The head (new-head.ts fitHeadColumn,
 * set IMPUTE_PARTS at IMPUTE_HEAD_C) is then fitted on the N real outcomes at
 * weight 1 and the imputed ones, as soft labels, at IMPUTE_WEIGHT. It folds
 * into one output column like any new head. The served prompt needs no
 * outcomes: only training uses the table.
 *
 * Out-of-fold logits for calibration come from the same recipe refitted per
 * fold, the imputer's C included (the held-out prompts' own outcomes never
 * reach the imputer, its C or the head). Pure maths; no I/O, never sees
 * test rows.
 */
import type { StudentWeights } from "../../src/core/student.js";
import { fitLogistic, sigmoid } from "../lib/linear/logistic.js";
import { allRows, BlockRows, cvPath, meanLoss, stratifiedFolds } from "./head-blocks.js";
import { type Acts, taskCount } from "./head-fold.js";
import { fitHeadColumn, HEAD_FOLDS, type HeadParts, type NewHead } from "./new-head.js";
import { meanTaskLogits, rateFeature, taskRates } from "./task-rates.js";

/** The head's feature set: the rate block, the existing heads' span and free per-task offsets (enough rows for them once imputed). */
export const IMPUTE_PARTS: HeadParts = "rate+task+heads";
/** C of the head on real + imputed rows (absolute prior, C·Σω convention). Chosen on validation: docs/student.md, "Imputed outcomes". */
export const IMPUTE_HEAD_C = 0.1;
/** Weight of an imputed row against a real outcome's 1 (validation: 0.3 gained as much as 1 at N = 100 and cost less at N = 500). */
export const IMPUTE_WEIGHT = 0.3;
/** The imputer's inverse L2 strengths, chosen by K-fold log-loss within the N outcomes. */
export const IMPUTER_CS = [0.03, 0.1, 0.3, 1, 3, 10];
/**
 * The imputer's default inputs. "outcomes+centred" since session 8: on val and cal (40 draws each at N = 100) it gained
 * +0.64 ± 0.12 and +0.74 ± 0.14 points of the lift over "outcomes", mostly on the models whose task profile differs
 * from the pool's (docs/student.md, "Task-centred outcomes in the imputer").
 */
export const IMPUTER_DEFAULT: ImputerInputs = "outcomes+centred";

/** The pool's prompts: the frozen student's activations and the existing models' outcomes (row-major P×M, 0/1; NaN where a model has none). */
export interface ImputePool {
  acts: Acts;
  outcomes: Float64Array;
}

/** One of the new model's outcomes: its pool row and success rate in [0, 1]. */
export interface PoolLabel {
  row: number;
  y: number;
}

/**
 * The imputer's inputs. "outcomes": each existing model's outcome and the rate feature. "outcomes+centred": also each
 * outcome minus that model's success rate on the prompt's task (task probabilities times the model's per-task rates
 * over the pool), so the imputer can weigh agreement within a task apart from agreement across tasks.
 */
export type ImputerInputs = "outcomes" | "outcomes+centred";
export const IMPUTER_INPUTS: ImputerInputs[] = ["outcomes", "outcomes+centred"];

export interface ImputeOptions {
  seed?: number;
  folds?: number;
  rateVar?: number;
  /** Default IMPUTER_DEFAULT. */
  inputs?: ImputerInputs;
}

/** How the head's training rows were filled in (recorded in the bundle's provenance by add-model). */
export interface Imputation {
  /** The imputer's C and its K-fold log-loss per C. */
  C: number;
  path: Array<{ C: number; loss: number }>;
  /** Pool rows imputed, and their weight in the head's fit. */
  imputed: number;
  /** What the imputer read. */
  inputs: ImputerInputs;
  weight: number;
}

export type ImputedHead = NewHead & { imputation: Imputation };

/**
 * The imputer's design fitted on `fit` (pool rows with labels): each existing model's outcome (a missing one takes the
 * column's mean on those rows), with "outcomes+centred" also its task-centred outcome, and the rate feature from their
 * labels; each column centred and scaled to unit variance on the fitting rows. Returns the design of any rows.
 */
function imputerDesign(weights: StudentWeights, pool: Table, yPool: Float64Array, fit: Int32Array, rateVar?: number): (rows: ArrayLike<number>) => Float64Array {
  const M = weights.shape.outputs;
  const T = taskCount(weights);
  const e = rateFeature(pool.acts.p, taskRates(pool.acts.p, yPool, fit, meanTaskLogits(weights.task!.prior, T, M), rateVar));
  const width = imputerWidth(M, pool);
  const col = (i: number, j: number) => (j < M ? pool.outcomes[i * M + j] : pool.centred && j < 2 * M ? pool.centred[i * M + j - M] : e[i]);
  const mu = new Float64Array(width);
  const sd = new Float64Array(width);
  for (let j = 0; j < width; j++) {
    const v = Array.from(fit, (i) => col(i, j)).filter((x) => !Number.isNaN(x));
    mu[j] = v.length ? v.reduce((a, b) => a + b, 0) / v.length : 0;
    const s = v.length ? Math.sqrt(v.reduce((a, b) => a + (b - mu[j]) ** 2, 0) / v.length) : 0;
    sd[j] = s > 1e-8 ? s : 1;
  }
  return (rows) => {
    const out = new Float64Array(rows.length * width);
    for (let r = 0; r < rows.length; r++) for (let j = 0; j < width; j++) {
      const x = col(rows[r], j);
      out[r * width + j] = Number.isNaN(x) ? 0 : (x - mu[j]) / sd[j];
    }
    return out;
  };
}

/** The pool table with, for "outcomes+centred", each outcome minus its model's task rate on that prompt (NaN where missing). */
type Table = ImputePool & { centred: Float64Array | null };
const imputerWidth = (M: number, t: Table) => (t.centred ? 2 * M : M) + 1;

/**
 * Each existing model's outcome minus Σ_t p_t·r[t, m], where r[t, m] is model m's p-weighted success rate on task t over
 * the pool's prompts with an outcome for m: the part of the outcome its task does not explain. Uses only the existing
 * models' outcomes (never the new model's).
 */
export function taskCentred(pool: ImputePool, M: number, T: number): Float64Array {
  const P = pool.outcomes.length / M;
  const num = new Float64Array(T * M);
  const den = new Float64Array(T * M);
  for (let i = 0; i < P; i++) for (let j = 0; j < M; j++) {
    const o = pool.outcomes[i * M + j];
    if (Number.isNaN(o)) continue;
    for (let t = 0; t < T; t++) {
      num[t * M + j] += pool.acts.p[i * T + t] * o;
      den[t * M + j] += pool.acts.p[i * T + t];
    }
  }
  const out = new Float64Array(P * M);
  for (let i = 0; i < P; i++) for (let j = 0; j < M; j++) {
    let r = 0;
    for (let t = 0; t < T; t++) r += pool.acts.p[i * T + t] * (den[t * M + j] > 0 ? num[t * M + j] / den[t * M + j] : 0);
    out[i * M + j] = pool.outcomes[i * M + j] - r;
  }
  return out;
}

/** Fits the imputer on `fit` at C and returns the new model's success probability on `rows`. */
function impute(weights: StudentWeights, pool: Table, yPool: Float64Array, fit: Int32Array, C: number, rows: Int32Array, rateVar?: number): Float64Array {
  const design = imputerDesign(weights, pool, yPool, fit, rateVar);
  const width = imputerWidth(weights.shape.outputs, pool);
  const f = fitLogistic(new BlockRows(design(fit), width, null, allRows(fit.length)), Float64Array.from(fit, (i) => yPool[i]), { lambda: 1 / (C * fit.length), gtol: 1e-6, maxIter: 500 });
  const z = new Float64Array(rows.length);
  new BlockRows(design(rows), width, null, allRows(rows.length)).forward(f.w, z);
  return z.map((v) => sigmoid(v + f.b));
}

/** Activations of the given pool rows, in that order. */
function actsOf(a: Acts, rows: ArrayLike<number>, H: number, M: number, T: number): Acts {
  const pick = (x: Float64Array, w: number) => {
    const out = new Float64Array(rows.length * w);
    for (let r = 0; r < rows.length; r++) out.set(x.subarray(rows[r] * w, (rows[r] + 1) * w), r * w);
    return out;
  };
  return { h: pick(a.h, H), z: pick(a.z, M), p: pick(a.p, T) };
}

/** The head fitted on the labelled rows `fit` (real outcomes) and every other pool row outside `exclude`, imputed. */
function headOn(weights: StudentWeights, pool: Table, yPool: Float64Array, fit: Int32Array, C: number, exclude: Set<number>, rateVar?: number) {
  const { hidden: H, outputs: M } = weights.shape;
  const T = taskCount(weights);
  const P = pool.outcomes.length / M;
  const fitSet = new Set(fit);
  const rest = allRows(P).filter((i) => !fitSet.has(i) && !exclude.has(i));
  const q = impute(weights, pool, yPool, fit, C, rest, rateVar);
  const rows = [...fit, ...rest];
  const y = Float64Array.from(rows, (i, k) => (k < fit.length ? yPool[i] : q[k - fit.length]));
  const om = Float64Array.from(rows, (_, k) => (k < fit.length ? 1 : IMPUTE_WEIGHT));
  return { ...fitHeadColumn(weights, actsOf(pool.acts, rows, H, M, T), y, IMPUTE_PARTS, IMPUTE_HEAD_C, { rowWeights: om, rateVar }), imputed: rest.length };
}

/** The imputer's C by stratified K-fold log-loss over the labelled pool rows `rows`; each fold's design (its rate feature included) sees its training rows only. */
function imputerC(weights: StudentWeights, pool: Table, yPool: Float64Array, rows: Int32Array, k: number, seed: number, rateVar?: number) {
  const width = imputerWidth(weights.shape.outputs, pool);
  const y = Float64Array.from(rows, (i) => yPool[i]);
  const path = cvPath(
    (tr, te) => {
      const design = imputerDesign(weights, pool, yPool, Int32Array.from(tr, (i) => rows[i]), rateVar);
      return [new BlockRows(design(Array.from(tr, (i) => rows[i])), width, null, allRows(tr.length)), new BlockRows(design(Array.from(te, (i) => rows[i])), width, null, allRows(te.length))];
    },
    y,
    IMPUTER_CS,
    stratifiedFolds(y, k, seed),
    k,
  );
  return { path, best: path.reduce((a, b) => (b.loss < a.loss ? b : a)) };
}

/** Fits the new model's head from its outcomes `labels` on pool rows and the pool's outcome table (bundles with a task prior only). */
export function fitImputedHead(weights: StudentWeights, poolIn: ImputePool, labels: PoolLabel[], opts: ImputeOptions = {}): ImputedHead {
  if (!weights.task) throw new Error("add-model: imputing outcomes needs a bundle with a task prior");
  const { hidden: H, outputs: M } = weights.shape;
  const T = taskCount(weights);
  const P = poolIn.outcomes.length / M;
  if (!Number.isInteger(P) || poolIn.acts.p.length !== P * T) throw new Error("add-model: pool activations and outcome table disagree in rows");
  const inputs = opts.inputs ?? IMPUTER_DEFAULT;
  if (!IMPUTER_INPUTS.includes(inputs)) throw new Error(`add-model: imputer inputs must be ${IMPUTER_INPUTS.join(" or ")}, got ${inputs}`);
  const pool: Table = { ...poolIn, centred: inputs === "outcomes+centred" ? taskCentred(poolIn, M, T) : null };
  if (labels.length < 2) throw new Error(`add-model: need at least 2 labelled prompts, got ${labels.length}`);
  const yPool = new Float64Array(P).fill(NaN);
  for (const l of labels) {
    if (!(l.row >= 0 && l.row < P) || !Number.isNaN(yPool[l.row])) throw new Error(`add-model: labelled pool row ${l.row} is out of range or repeated`);
    yPool[l.row] = l.y;
  }
  const lab = Int32Array.from(labels, (l) => l.row);
  const y = Float64Array.from(labels, (l) => l.y);
  const k = Math.min(opts.folds ?? HEAD_FOLDS, labels.length);
  const seed = opts.seed ?? 1;
  const { path, best } = imputerC(weights, pool, yPool, lab, k, seed, opts.rateVar);
  const served = headOn(weights, pool, yPool, lab, best.C, new Set(), opts.rateVar);
  // Out-of-fold logits: the whole recipe refitted without each fold, whose prompts are neither labelled nor imputed.
  const folds = stratifiedFolds(y, k, seed + 1);
  const heldOut = new Float64Array(labels.length);
  for (let f = 0; f < k; f++) {
    const te = allRows(labels.length).filter((i) => folds[i] === f);
    if (te.length === 0 || te.length === labels.length) continue;
    const tr = Int32Array.from(allRows(labels.length).filter((i) => folds[i] !== f), (i) => lab[i]);
    // The fold chooses its own imputer C on its training rows, so the held-out outcomes do not pick it either
    // (with too few rows for an inner K-fold, the C chosen on all N).
    const Cf = tr.length >= 2 * k ? imputerC(weights, pool, yPool, tr, k, seed, opts.rateVar).best.C : best.C;
    const { score } = headOn(weights, pool, yPool, tr, Cf, new Set(Array.from(te, (i) => lab[i])), opts.rateVar);
    const z = score(actsOf(pool.acts, Array.from(te, (i) => lab[i]), H, M, T));
    te.forEach((i, j) => (heldOut[i] = z[j]));
  }
  const loss = meanLoss(heldOut, y);
  return {
    ...served.column,
    parts: `${IMPUTE_PARTS} (imputed)`,
    C: IMPUTE_HEAD_C,
    members: [{ parts: IMPUTE_PARTS, C: IMPUTE_HEAD_C, loss, weight: 1 }],
    selection: { by: `cv-${k}`, score: "loss", combine: "best", loss, tried: [] },
    heldOut,
    imputation: { C: best.C, path: path.map((p) => ({ C: p.C, loss: p.loss })), imputed: served.imputed, weight: IMPUTE_WEIGHT, inputs },
  };
}
