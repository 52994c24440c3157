/**
 * Seeded random student weights for tests (export round trips, add-model):
 * Gaussian tables with the scales the tests rely on, and optionally a wide
 * part. Test helper only; draws in a fixed order so a seed always gives the
 * same weights.
 */
import { DENSE_FEATURES } from "../../src/core/featurizer.js";
import { gaussian, mulberry32 } from "../../src/core/random.js";
import type { StudentWeights } from "../../src/core/student.js";

export function randomStudent(seed: number, s: { buckets: number; dim: number; hidden: number; outputs: number; wide?: boolean }): StudentWeights {
  const rng = mulberry32(seed);
  const shape = { buckets: s.buckets, dim: s.dim, dense: DENSE_FEATURES, hidden: s.hidden, outputs: s.outputs };
  const arr = (n: number, sd: number) => Float32Array.from({ length: n }, () => gaussian(rng) * sd);
  const w: StudentWeights = {
    shape,
    emb: arr(shape.buckets * shape.dim, 1),
    w1: arr((shape.dim + shape.dense) * shape.hidden, 0.5),
    b1: arr(shape.hidden, 0.2),
    w2: arr(shape.hidden * shape.outputs, 0.5),
    b2: arr(shape.outputs, 0.5),
  };
  if (s.wide) {
    w.wide = arr(shape.buckets * shape.outputs, 0.3);
    w.wideNorm = Float32Array.from({ length: shape.buckets }, () => 1 + 3 * rng());
  }
  return w;
}
