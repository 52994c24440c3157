/**
 * The student network: mean-pooled hashed n-gram embeddings concatenated with
 * dense surface features, one ReLU layer, one logit per pool model ("deep"),
 * plus an optional "wide" part: per-model sparse linear weights over the same
 * ids, TF-IDF-like (see wideTerm), added to the deep logits, and an optional
 * "task prior": a softmax over the training data's tasks, scored from the
 * hidden layer h (or by a second wide table over the same ids and norm), times
 * a per-task, per-model logit table, added to the logits (a prompt's task carries most of a model's
 * success rate, which the text parts alone rank less well: docs/student.md).
 * This TypeScript forward pass is the reference the ONNX export is checked
 * against (round-trip test) and what the trainer differentiates. Pure math.
 */
export interface StudentShape {
  buckets: number; // V
  dim: number; // D
  dense: number; // F
  hidden: number; // H
  outputs: number; // M
}

export interface StudentWeights {
  shape: StudentShape;
  emb: Float32Array; // V×D
  w1: Float32Array; // (D+F)×H
  b1: Float32Array; // H
  w2: Float32Array; // H×M
  b2: Float32Array; // M
  /** Optional wide part: V×M per-id weights with idf folded in (scripts/distill/wide.ts). */
  wide?: Float32Array;
  /** V: weight of one occurrence of an id in the wide part's norm (idf², ≥ 1). Present iff wide is. */
  wideNorm?: Float32Array;
  /** Wide part weighted exactly as TF-IDF: 1 + ln(count) per distinct id, L2 norm over distinct ids (see wideTerm). */
  wideTfidf?: boolean;
  /** Optional task prior (input "ids" needs the wide part: it shares wideNorm and wideTfidf). */
  task?: TaskPrior;
}

/**
 * p = softmax(score + bias) over T tasks; logits[m] += Σ_t p_t · prior[t, m].
 * score: h·table (input "hidden", table H×T) or the wide formula over the ids
 * with this table (input "ids", table V×T, idf folded in as the wide table).
 */
export interface TaskPrior {
  input: TaskInput;
  table: Float32Array;
  bias: Float32Array; // T
  prior: Float32Array; // T×M
}
export type TaskInput = "hidden" | "ids";

/** What a task classifier reads: the prompt's ids (with the wide part's norm) and its hidden activations. */
export interface TaskSource {
  ids: ArrayLike<number>;
  h: ArrayLike<number>;
  norm?: ArrayLike<number>;
  tfidf?: boolean;
}

export interface Activations {
  x: Float32Array; // D+F pooled input
  h: Float32Array; // H after ReLU
  logits: Float32Array; // M
}

/**
 * Wide logits of one id list (repeats count):
 *   out_m = Σ_t table[id_t, m] / sqrt(max(1, Σ_t norm[id_t])).
 * With tfidf, over the distinct ids j with count c_j (TF-IDF's sublinear tf and norm):
 *   out_m = Σ_j s_j·table[j, m] / sqrt(max(1, Σ_j s_j²·norm[j])),  s_j = 1 + ln c_j.
 * The max(1, ·) only matters for an empty prompt (0 / 1 = 0): norm entries are ≥ 1.
 */
export function wideTerm(table: ArrayLike<number>, norm: ArrayLike<number>, ids: ArrayLike<number>, outputs: number, out: { [m: number]: number; fill(v: number): unknown }, tfidf = false): void {
  out.fill(0);
  let n2 = 0;
  if (tfidf) {
    const counts = new Map<number, number>();
    for (let t = 0; t < ids.length; t++) counts.set(ids[t], (counts.get(ids[t]) ?? 0) + 1);
    for (const [id, c] of counts) {
      const sj = 1 + Math.log(c);
      const off = id * outputs;
      for (let m = 0; m < outputs; m++) out[m] += sj * table[off + m];
      n2 += sj * sj * norm[id];
    }
    const inv = 1 / Math.sqrt(Math.max(1, n2));
    for (let m = 0; m < outputs; m++) out[m] *= inv;
    return;
  }
  for (let t = 0; t < ids.length; t++) {
    const off = ids[t] * outputs;
    for (let m = 0; m < outputs; m++) out[m] += table[off + m];
    n2 += norm[ids[t]];
  }
  const inv = 1 / Math.sqrt(Math.max(1, n2));
  for (let m = 0; m < outputs; m++) out[m] *= inv;
}

/** Forward pass for one prompt; keeps intermediates for backprop. */
export function forward(w: StudentWeights, ids: ArrayLike<number>, dense: ArrayLike<number>): Activations {
  const { dim: D, dense: F, hidden: H, outputs: M } = w.shape;
  const x = new Float32Array(D + F);
  if (ids.length > 0) {
    for (let t = 0; t < ids.length; t++) {
      const off = ids[t] * D;
      for (let d = 0; d < D; d++) x[d] += w.emb[off + d];
    }
    for (let d = 0; d < D; d++) x[d] /= ids.length;
  }
  for (let f = 0; f < F; f++) x[D + f] = dense[f];
  const h = new Float32Array(H);
  for (let j = 0; j < H; j++) h[j] = w.b1[j];
  for (let i = 0; i < D + F; i++) {
    const xi = x[i];
    if (xi === 0) continue;
    const row = i * H;
    for (let j = 0; j < H; j++) h[j] += xi * w.w1[row + j];
  }
  for (let j = 0; j < H; j++) if (h[j] < 0) h[j] = 0;
  const logits = new Float32Array(M);
  if (w.wide && w.wideNorm) wideTerm(w.wide, w.wideNorm, ids, M, logits, w.wideTfidf);
  for (let m = 0; m < M; m++) logits[m] += w.b2[m];
  if (w.task) addTaskPrior(w.task.prior, taskProbsOf(w, ids, h), M, logits);
  for (let j = 0; j < H; j++) {
    const hj = h[j];
    if (hj === 0) continue;
    const row = j * M;
    for (let m = 0; m < M; m++) logits[m] += hj * w.w2[row + m];
  }
  return { x, h, logits };
}

/** The task probabilities of one prompt: softmax over the classifier's scores plus its bias. */
export function taskProbs(task: { input: TaskInput; table: ArrayLike<number>; bias: ArrayLike<number> }, x: TaskSource): Float64Array {
  const T = task.bias.length;
  const p = new Float64Array(T);
  if (task.input === "ids") {
    if (!x.norm) throw new Error("task prior over ids needs the wide part's norm");
    wideTerm(task.table, x.norm, x.ids, T, p, x.tfidf);
  } else {
    for (let j = 0; j < x.h.length; j++) {
      const hj = x.h[j];
      if (hj === 0) continue;
      for (let t = 0; t < T; t++) p[t] += hj * task.table[j * T + t];
    }
  }
  let max = -Infinity;
  for (let t = 0; t < T; t++) max = Math.max(max, (p[t] += task.bias[t]));
  let sum = 0;
  for (let t = 0; t < T; t++) sum += p[t] = Math.exp(p[t] - max);
  for (let t = 0; t < T; t++) p[t] /= sum;
  return p;
}

/** A student's task probabilities for one prompt from its ids and hidden activations h (empty without a task prior). */
export function taskProbsOf(w: StudentWeights, ids: ArrayLike<number>, h: ArrayLike<number>): Float64Array {
  return w.task ? taskProbs(w.task, { ids, h, norm: w.wideNorm, tfidf: w.wideTfidf }) : new Float64Array(0);
}

function addTaskPrior(prior: Float32Array, p: Float64Array, M: number, logits: Float32Array): void {
  for (let t = 0; t < p.length; t++) {
    const row = t * M;
    for (let m = 0; m < M; m++) logits[m] += p[t] * prior[row + m];
  }
}
