/**
 * How a new head's fit becomes one output column of the frozen student
 * (scripts/stages/new-head.ts and impute-head.ts fit it): the frozen
 * student's activations of each prompt (trunk h, existing logits z, task
 * probabilities p), the dense blocks a feature set uses, and the fold of a
 * fit's coefficients back into the student's layout (standardisation and
 * scales undone, existing logits expanded into their own columns, the rate
 * block's task logits into the prior's column). Pure maths; no I/O, no
 * fitting or choosing.
 */
import { forward, taskProbsOf, type StudentWeights } from "../../src/core/student.js";
import type { LinearFit } from "../lib/linear/logistic.js";
import type { Block } from "./head-blocks.js";

/** Trunk activations h, existing logits z and task probabilities p (empty without a task prior) of each example, row-major. */
export function activations(weights: StudentWeights, xs: Array<{ ids: Int32Array; dense: Float32Array }>): Acts {
  const { hidden: H, outputs: M } = weights.shape;
  const T = taskCount(weights);
  const h = new Float64Array(xs.length * H);
  const z = new Float64Array(xs.length * M);
  const p = new Float64Array(xs.length * T);
  xs.forEach((x, i) => {
    const a = forward(weights, x.ids, x.dense);
    h.set(a.h, i * H);
    z.set(a.logits, i * M);
    if (T > 0) p.set(taskProbsOf(weights, x.ids, a.h), i * T);
  });
  return { h, z, p };
}

export interface Acts {
  h: Float64Array;
  z: Float64Array;
  p: Float64Array;
}

export const taskCount = (w: StudentWeights) => (w.task ? w.task.bias.length : 0);

/** The "rate" block of one fit: the task logits it was built from, the feature on the training rows and its standardisation. */
export interface Rate {
  rates: Float64Array;
  e: Float64Array;
  b: Block;
}

export interface Blocks {
  h: Block;
  z: Block;
  mean: Block;
  p: Block;
}

export const meanOf = (z: Float64Array, M: number) => Float64Array.from({ length: z.length / M }, (_, i) => z.subarray(i * M, (i + 1) * M).reduce((a, b) => a + b, 0) / M);

/** The dense blocks a feature set uses, in design order: deep, heads, mean, task (then "rate", added by the caller). */
export function blocksOf(p: string, a: Acts, b: Blocks, M: number): Array<{ x: Float64Array; b: Block }> {
  return [
    ...(p.includes("deep") ? [{ x: a.h, b: b.h }] : []),
    ...(p.includes("heads") ? [{ x: a.z, b: b.z }] : []),
    ...(p.includes("mean") ? [{ x: meanOf(a.z, M), b: b.mean }] : []),
    ...(p.includes("task") ? [{ x: a.p, b: b.p }] : []),
  ];
}

/** One fit's coefficients folded into the student's layout: standardisation and scales undone, existing logits expanded into their own columns. */
export function foldColumn(weights: StudentWeights, fit: LinearFit, parts: string, blocks: Blocks, g: Float64Array | null, rate: Rate | null): { w2: Float64Array; b2: number; wide: Float64Array | null; prior: Float64Array | null } {
  const { hidden: H, buckets: V, outputs: M } = weights.shape;
  const T = taskCount(weights);
  const w2 = new Float64Array(H);
  const wide = g ? new Float64Array(V) : null;
  const prior = T > 0 ? new Float64Array(T) : null;
  let b2 = fit.b;
  let at = 0;
  const raw = (b: Block) => {
    const c = new Float64Array(b.width);
    for (let j = 0; j < b.width; j++) {
      c[j] = (fit.w[at + j] * b.scale) / b.sd[j];
      b2 -= c[j] * b.mu[j];
    }
    at += b.width;
    return c;
  };
  if (parts.includes("deep")) raw(blocks.h).forEach((c, j) => (w2[j] += c));
  if (parts.includes("heads") || parts.includes("mean")) {
    // Σ_m β_m·logit_m is linear in the student's own columns: fold it into w2, b2 and the wide table.
    const beta = parts.includes("heads") ? raw(blocks.z) : new Float64Array(M);
    if (parts.includes("mean")) {
      const c = raw(blocks.mean)[0] / M;
      for (let m = 0; m < M; m++) beta[m] += c;
    }
    for (let m = 0; m < M; m++) {
      b2 += beta[m] * weights.b2[m];
      for (let j = 0; j < H; j++) w2[j] += beta[m] * weights.w2[j * M + m];
      if (wide && weights.wide) for (let v = 0; v < V; v++) wide[v] += beta[m] * weights.wide[v * M + m];
      if (prior) for (let t = 0; t < T; t++) prior[t] += beta[m] * weights.task!.prior[t * M + m];
    }
  }
  // Σ_t γ_t·p_t is the new column of the task prior's table itself.
  if (parts.includes("task")) raw(blocks.p).forEach((c, t) => (prior![t] += c));
  // c·Σ_t p_t·r̂_t is the task-logit vector r̂ scaled into the same column.
  if (rate) {
    const c = raw(rate.b)[0];
    for (let t = 0; t < T; t++) prior![t] += c * rate.rates[t];
  }
  if (wide && parts.includes("wide")) for (let v = 0; v < V; v++) wide[v] += g![v] * fit.w[at + v];
  return { w2, b2, wide, prior };
}
