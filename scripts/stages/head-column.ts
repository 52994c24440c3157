/**
 * A new model's head as one more output column of the frozen student
 * (scripts/stages/new-head.ts fits it): its float64 reference logit (the
 * bundle's task probabilities come from src/core/student.ts taskProbsOf) and
 * the student with the column appended (every existing weight copied bit for
 * bit). Pure maths; no I/O.
 */
import type { StudentWeights } from "../../src/core/student.js";
import { wideLogits } from "../distill/wide.js";

/** The new output column in the student's own layout (raw h, wide table with idf folded in, task-prior column). */
export interface HeadColumn {
  w2: Float64Array; // H
  b2: number;
  /** V; null when the bundle has no wide part (or the chosen parts leave it out: then zeros). */
  wide: Float64Array | null;
  /** T: the new column of the task prior's logit table; null when the bundle has none. */
  prior: Float64Array | null;
}

/**
 * The head's logit for one prompt from its trunk activations h and (with a
 * task prior) the bundle's task probabilities p, in float64 (the reference
 * the exported column is checked against).
 */
export function headLogit(head: HeadColumn, h: ArrayLike<number>, ids: ArrayLike<number>, wideNorm?: ArrayLike<number>, wideTfidf?: boolean, p?: ArrayLike<number>): number {
  let z = head.b2;
  for (let j = 0; j < head.w2.length; j++) z += head.w2[j] * h[j];
  if (head.wide && wideNorm) z += wideLogits({ table: head.wide, norm: wideNorm, tfidf: wideTfidf }, ids, 1)[0];
  if (head.prior) {
    if (!p) throw new Error("headLogit: the head has a task-prior column; pass the bundle's task probabilities");
    for (let t = 0; t < head.prior.length; t++) z += head.prior[t] * p[t];
  }
  return z;
}

/** The student with one more output column: every existing weight copied bit for bit, the new head appended last. */
export function appendHead(w: StudentWeights, head: HeadColumn): StudentWeights {
  const { hidden: H, buckets: V, outputs: M } = w.shape;
  const M1 = M + 1;
  const w2 = new Float32Array(H * M1);
  for (let j = 0; j < H; j++) {
    w2.set(w.w2.subarray(j * M, (j + 1) * M), j * M1);
    w2[j * M1 + M] = head.w2[j];
  }
  const b2 = new Float32Array(M1);
  b2.set(w.b2);
  b2[M] = head.b2;
  const out: StudentWeights = { ...w, shape: { ...w.shape, outputs: M1 }, w2, b2 };
  if (w.wide && w.wideNorm) {
    const wide = new Float32Array(V * M1);
    for (let j = 0; j < V; j++) {
      wide.set(w.wide.subarray(j * M, (j + 1) * M), j * M1);
      wide[j * M1 + M] = head.wide ? head.wide[j] : 0;
    }
    out.wide = wide;
    out.wideNorm = w.wideNorm;
  }
  if (w.task) {
    const T = w.task.bias.length;
    const prior = new Float32Array(T * M1);
    for (let t = 0; t < T; t++) {
      prior.set(w.task.prior.subarray(t * M, (t + 1) * M), t * M1);
      prior[t * M1 + M] = head.prior ? head.prior[t] : 0;
    }
    out.task = { ...w.task, prior };
  }
  return out;
}
