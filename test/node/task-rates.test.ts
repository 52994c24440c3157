/**
 * The "rate" block of a new head (scripts/stages/task-rates.ts, new-head.ts):
 * empirical-Bayes task logits sit between the pool's prediction and the
 * observed rate as the outcomes grow, and a CV fold's held-out logits never
 * depend on that fold's own labels (the rates are refitted inside every fold).
 */
import { describe, expect, it } from "vitest";
import { featurize, type FeaturizerSpec } from "../../src/core/featurizer.js";
import { mulberry32 } from "../../src/core/random.js";
import type { StudentWeights } from "../../src/core/student.js";
import { stratifiedFolds } from "../../scripts/stages/head-blocks.js";
import { fitNewHead } from "../../scripts/stages/new-head.js";
import { meanTaskLogits, rateFeature, taskRates } from "../../scripts/stages/task-rates.js";
import { randomStudent } from "./random-student.js";

const logit = (q: number) => Math.log(q / (1 - q));

/** n rows with hard tasks (p one-hot over T) and success rates drawn at each task's true rate. */
function rows(n: number, truth: number[], seed: number) {
  const T = truth.length;
  const rng = mulberry32(seed);
  const p = new Float64Array(n * T);
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const t = i % T;
    p[i * T + t] = 1;
    y[i] = rng() < truth[t] ? 1 : 0;
  }
  return { p, y };
}

describe("taskRates", () => {
  const rbar = Float64Array.from([-1.5, 0, 1.5]);

  it("follows the observed rates when every task has many outcomes", () => {
    const truth = [0.3, 0.5, 0.9];
    const { p, y } = rows(30000, truth, 1);
    const r = taskRates(p, y, null, rbar);
    truth.forEach((q, t) => expect(r[t]).toBeCloseTo(logit(q), 1));
  });

  it("falls back on the pool's difficulty for a task without outcomes", () => {
    // Task 2 never appears: its logit is a + b·r̄_2 from the other two tasks' fit, above task 1's (r̄ is increasing).
    const { p, y } = rows(40, [0.2, 0.6], 2);
    const p3 = new Float64Array(40 * 3);
    for (let i = 0; i < 40; i++) for (let t = 0; t < 2; t++) p3[i * 3 + t] = p[i * 2 + t];
    const r = taskRates(p3, y, null, rbar);
    expect(r[2]).toBeGreaterThan(r[1]);
    expect(r[1]).toBeGreaterThan(r[0]);
    // No outcomes, no evidence: the prior variance moves the observed tasks but not task 2 (the continuity correction's half-counts are not data).
    const loose = taskRates(p3, y, null, rbar, 100);
    const tight = taskRates(p3, y, null, rbar, 0.01);
    expect(loose[2]).toBeCloseTo(tight[2], 12);
    expect(loose[0]).not.toBeCloseTo(tight[0], 3);
  });

  it("shrinks a small task toward the pool: its estimate lies between the prediction and the observed logit", () => {
    const { p, y } = rows(12, [0.2, 0.5, 0.8], 3);
    const r = taskRates(p, y, null, rbar);
    const loose = taskRates(p, y, null, rbar, 1e6);
    const tight = taskRates(p, y, null, rbar, 1e-6);
    for (let t = 0; t < 3; t++) {
      expect(r[t]).toBeGreaterThanOrEqual(Math.min(loose[t], tight[t]) - 1e-9);
      expect(r[t]).toBeLessThanOrEqual(Math.max(loose[t], tight[t]) + 1e-9);
    }
  });

  it("uses only the rows it is given, and mean task logits average the prior's columns", () => {
    const { p, y } = rows(60, [0.2, 0.5, 0.8], 4);
    const some = Int32Array.from({ length: 30 }, (_, i) => i);
    const y2 = Float64Array.from(y, (v, i) => (i >= 30 ? 1 - v : v));
    expect(taskRates(p, y2, some, rbar)).toEqual(taskRates(p, y, some, rbar));
    expect(Array.from(meanTaskLogits([1, 3, -2, 0], 2, 2))).toEqual([2, -1]);
    expect(Array.from(rateFeature(Float64Array.from([0.5, 0.5, 1, 0]), Float64Array.from([2, 4])))).toEqual([3, 2]);
  });
});

describe("the rate block inside cross-validation", () => {
  const spec: FeaturizerSpec = { kind: "hashed-ngram-v1", buckets: 512, word_ngrams: [1], char_ngrams: [3], max_features: 64, lowercase: true, seed: 3 };
  const base = randomStudent(5, { buckets: spec.buckets, dim: 8, hidden: 16, outputs: 2, wide: true });
  const rng = mulberry32(6);
  const T = 3;
  const w: StudentWeights = { ...base, task: { input: "hidden", table: Float32Array.from({ length: 16 * T }, () => (rng() - 0.5) * 2), bias: new Float32Array(T), prior: Float32Array.from({ length: T * 2 }, () => (rng() - 0.5) * 4) } };
  const ex = Array.from({ length: 60 }, (_, i) => {
    const f = featurize(`prompt ${i} ${["alpha", "beta", "gamma"][i % 3]} ${"x".repeat(i % 7)}`, spec);
    return { ids: f.ids, dense: f.dense, y: rng() < 0.5 ? 1 : 0 };
  });

  it("a fold's held-out logits do not move when only that fold's labels change", () => {
    const y = ex.map((x) => x.y);
    const folds = stratifiedFolds(y, 5, 1);
    // Successes of fold 0 become 0.9: same majority label, so the same folds; every other fold's fit is unchanged.
    const moved = ex.map((x, i) => (folds[i] === 0 && x.y === 1 ? { ...x, y: 0.9 } : x));
    const a = fitNewHead(w, ex, { parts: ["rate+heads"], Cs: [1], seed: 1 });
    const b = fitNewHead(w, moved, { parts: ["rate+heads"], Cs: [1], seed: 1 });
    let changedElsewhere = 0;
    folds.forEach((f, i) => {
      if (f === 0) expect(b.heldOut[i]).toBeCloseTo(a.heldOut[i], 10);
      else if (Math.abs(b.heldOut[i] - a.heldOut[i]) > 1e-9) changedElsewhere++;
    });
    // The other folds' fits did see fold 0's labels, so their held-out logits move.
    expect(changedElsewhere).toBeGreaterThan(0);
  });
});
