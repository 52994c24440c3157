/**
 * The imputed head (scripts/stages/impute-head.ts) and what it stands on:
 * row weights in the logistic solver, the fixed-C head column, and the
 * imputer finding a new model that behaves like an existing one, with
 * either of its inputs; the task-centred outcomes it can also read.
 */
import { describe, expect, it } from "vitest";
import { featurize, type FeaturizerSpec } from "../../src/core/featurizer.js";
import { gaussian, mulberry32 } from "../../src/core/random.js";
import { forward, type StudentWeights } from "../../src/core/student.js";
import { fitLogistic } from "../../scripts/lib/linear/logistic.js";
import { SmallDenseOperator } from "../../scripts/lib/linear/operator.js";
import { auroc } from "../../scripts/lib/stats/metrics.js";
import { headLogit } from "../../scripts/stages/head-column.js";
import { fitImputedHead, IMPUTE_WEIGHT, IMPUTER_DEFAULT, taskCentred } from "../../scripts/stages/impute-head.js";
import { activations } from "../../scripts/stages/head-fold.js";
import { fitHeadColumn, fitNewHead } from "../../scripts/stages/new-head.js";
import { randomStudent } from "./random-student.js";

describe("fitLogistic with row weights", () => {
  const rng = mulberry32(3);
  const n = 60;
  const d = 3;
  const X = Float64Array.from({ length: n * d }, () => gaussian(rng));
  const y = Float64Array.from({ length: n }, (_, i) => (X[i * d] + 0.5 * gaussian(rng) > 0 ? 1 : 0));
  const op = new SmallDenseOperator(X, n, d);

  it("all-ones weights give the unweighted fit bit for bit", () => {
    const a = fitLogistic(op, y, { lambda: 0.01 });
    const b = fitLogistic(op, y, { lambda: 0.01, weights: new Float64Array(n).fill(1) });
    expect(Array.from(b.w)).toEqual(Array.from(a.w));
    expect(b.b).toBe(a.b);
  });

  it("weight 2 on a row is that row twice (λ per unit of weight)", () => {
    const om = Float64Array.from({ length: n }, (_, i) => (i < 20 ? 2 : 1));
    const dup = [...Array.from({ length: n }, (_, i) => i), ...Array.from({ length: 20 }, (_, i) => i)];
    const Xd = Float64Array.from(dup.flatMap((i) => Array.from(X.subarray(i * d, (i + 1) * d))));
    const a = fitLogistic(op, y, { lambda: 0.01, weights: om, gtol: 1e-10 });
    const b = fitLogistic(new SmallDenseOperator(Xd, dup.length, d), Float64Array.from(dup, (i) => y[i]), { lambda: 0.01, gtol: 1e-10 });
    for (let j = 0; j < d; j++) expect(a.w[j]).toBeCloseTo(b.w[j], 6);
    expect(a.b).toBeCloseTo(b.b, 6);
  });

  it("refuses negative, non-finite, all-zero or mis-sized weights", () => {
    for (const bad of [Float64Array.from({ length: n }, (_, i) => (i === 5 ? -1 : 1)), Float64Array.from({ length: n }, (_, i) => (i === 5 ? NaN : 1)), new Float64Array(n), new Float64Array(n - 1).fill(1)]) {
      expect(() => fitLogistic(op, y, { lambda: 0.01, weights: bad })).toThrow(/weight/);
    }
  });
});

const spec: FeaturizerSpec = { kind: "hashed-ngram-v1", buckets: 512, word_ngrams: [1], char_ngrams: [3], max_features: 64, lowercase: true, seed: 7 };
const T = 3;
/** Two existing models and a task prior over three tasks on h. */
function student(seed: number): StudentWeights {
  const w = randomStudent(seed, { buckets: spec.buckets, dim: 8, hidden: 16, outputs: 2, wide: true });
  const rng = mulberry32(seed + 1);
  const r = (k: number, s: number) => Float32Array.from({ length: k }, () => (rng() - 0.5) * 2 * s);
  return { ...w, task: { input: "hidden", table: r(16 * T, 1), bias: r(T, 1), prior: r(T * 2, 2) } };
}
const WORDS = ["alpha", "beta", "gamma", "delta", "sum", "poem", "graph", "story", "proof", "haiku", "table", "river"];
function texts(n: number, seed: number): string[] {
  const rng = mulberry32(seed);
  return Array.from({ length: n }, (_, i) => `${Array.from({ length: 2 + Math.floor(rng() * 5) }, () => WORDS[Math.floor(rng() * WORDS.length)]).join(" ")} ${i}`);
}

describe("fitHeadColumn", () => {
  it("with unit weights, is fitNewHead's column for the same single set and C", () => {
    const w = student(11);
    const xs = texts(80, 2).map((t) => featurize(t, spec));
    const y = xs.map((_, i) => (i % 3 === 0 ? 1 : 0));
    const viaNew = fitNewHead(w, xs.map((x, i) => ({ ...x, y: y[i] })), { parts: ["rate+task+heads"], Cs: [0.3] });
    const { column, score } = fitHeadColumn(w, activations(w, xs), y, "rate+task+heads", 0.3);
    const fresh = texts(20, 3).map((t) => featurize(t, spec));
    const z = score(activations(w, fresh));
    fresh.forEach((x, i) => {
      const a = forward(w, x.ids, x.dense);
      const p = activations(w, [x]).p;
      const served = headLogit(column, a.h, x.ids, w.wideNorm, w.wideTfidf, p);
      // The existing heads' wide parts fold into the column's wide table, so the column needs the prompt's ids.
      expect(served).toBeCloseTo(headLogit(viaNew, a.h, x.ids, w.wideNorm, w.wideTfidf, p), 6);
      expect(served).toBeCloseTo(z[i], 6);
    });
  });
});

describe("fitImputedHead", () => {
  // The new model copies existing model 0, whose outcomes follow its own logit: the imputer should find that from
  // 40 outcomes, and the head, fitted on 40 real + 260 imputed rows, should rank the unlabelled prompts by it.
  const w = student(5);
  const xs = texts(300, 9).map((t) => featurize(t, spec));
  const acts = activations(w, xs);
  const z0 = xs.map((_, i) => acts.z[i * 2]);
  const median = [...z0].sort((a, b) => a - b)[150];
  const rng = mulberry32(4);
  const sd = Math.sqrt(z0.reduce((a, z) => a + (z - median) ** 2, 0) / z0.length);
  const y0 = z0.map((z) => (z + 0.3 * sd * gaussian(rng) > median ? 1 : 0));
  const outcomes = Float64Array.from(xs.flatMap((_, i) => [y0[i], rng() < 0.5 ? 1 : 0]));
  const labels = Array.from({ length: 40 }, (_, k) => ({ row: k * 7, y: y0[k * 7] }));

  it("imputes every other pool row, serves one column, and ranks the unlabelled prompts like the copied model", () => {
    const head = fitImputedHead(w, { acts, outcomes }, labels, { seed: 2 });
    expect(head.imputation).toMatchObject({ imputed: 260, weight: IMPUTE_WEIGHT });
    expect(head.heldOut.length).toBe(40);
    expect(head.heldOut.every(Number.isFinite)).toBe(true);
    const rest = xs.map((_, i) => i).filter((i) => i % 7 !== 0 || i / 7 >= 40);
    const oracle = auroc(rest.map((i) => z0[i]), rest.map((i) => y0[i])) ?? NaN;
    const served = rest.map((i) => headLogit(head, acts.h.subarray(i * 16, (i + 1) * 16), xs[i].ids, w.wideNorm, w.wideTfidf, acts.p.subarray(i * T, (i + 1) * T)));
    expect(oracle).toBeGreaterThan(0.85);
    expect(auroc(served, rest.map((i) => y0[i]))).toBeGreaterThan(oracle - 0.03);
    // Out-of-fold logits (for calibration) carry the same signal on the labelled prompts.
    expect(auroc(Array.from(head.heldOut), labels.map((l) => l.y))).toBeGreaterThan(0.75);
  });

  it("with the outcomes alone (the inputs before session 8), still finds the copied model and records what it read", () => {
    const head = fitImputedHead(w, { acts, outcomes }, labels, { seed: 2, inputs: "outcomes" });
    expect(head.imputation).toMatchObject({ imputed: 260, weight: IMPUTE_WEIGHT, inputs: "outcomes" });
    expect(fitImputedHead(w, { acts, outcomes }, labels, { seed: 2 }).imputation.inputs).toBe(IMPUTER_DEFAULT);
    const rest = xs.map((_, i) => i).filter((i) => i % 7 !== 0 || i / 7 >= 40);
    const oracle = auroc(rest.map((i) => z0[i]), rest.map((i) => y0[i])) ?? NaN;
    const served = rest.map((i) => headLogit(head, acts.h.subarray(i * 16, (i + 1) * 16), xs[i].ids, w.wideNorm, w.wideTfidf, acts.p.subarray(i * T, (i + 1) * T)));
    expect(auroc(served, rest.map((i) => y0[i]))).toBeGreaterThan(oracle - 0.03);
    expect(() => fitImputedHead(w, { acts, outcomes }, labels, { inputs: "centred" as never })).toThrow(/imputer inputs must be/);
  });

  it("refuses repeated or out-of-range rows, too few labels and a bundle without a task prior", () => {
    expect(() => fitImputedHead(w, { acts, outcomes }, [...labels, labels[0]])).toThrow(/repeated/);
    expect(() => fitImputedHead(w, { acts, outcomes }, [{ row: 300, y: 1 }, ...labels])).toThrow(/out of range/);
    expect(() => fitImputedHead(w, { acts, outcomes }, labels.slice(0, 1))).toThrow(/at least 2/);
    const { task: _, ...plain } = w;
    expect(() => fitImputedHead(plain, { acts, outcomes }, labels)).toThrow(/task prior/);
  });
});

describe("taskCentred", () => {
  // 6 prompts, 2 models, 2 tasks; model 1 has no outcome on prompt 2.
  const outcomes = Float64Array.from([1, 0, 1, 1, 0, NaN, 0, 1, 0, 0, 1, 1]);

  it("with one-hot tasks, subtracts each model's success rate on the prompt's task (over the prompts it has outcomes on)", () => {
    const p = Float64Array.from([1, 0, 1, 0, 1, 0, 0, 1, 0, 1, 0, 1]);
    const c = taskCentred({ acts: { h: new Float64Array(0), z: new Float64Array(0), p }, outcomes }, 2, 2);
    // Task 0 = prompts 0-2: model 0 rate 2/3, model 1 rate 1/2 (prompt 2 missing). Task 1 = prompts 3-5: 1/3 and 2/3.
    const rate = [[2 / 3, 1 / 2], [1 / 3, 2 / 3]];
    for (let i = 0; i < 6; i++) for (let j = 0; j < 2; j++) {
      const o = outcomes[i * 2 + j];
      if (Number.isNaN(o)) expect(c[i * 2 + j]).toBeNaN();
      else expect(c[i * 2 + j]).toBeCloseTo(o - rate[i < 3 ? 0 : 1][j], 12);
    }
  });

  it("with soft task probabilities, subtracts the probability-weighted rates", () => {
    const p = Float64Array.from([0.8, 0.2, 0.5, 0.5, 0.1, 0.9, 0.3, 0.7, 1, 0, 0.6, 0.4]);
    const c = taskCentred({ acts: { h: new Float64Array(0), z: new Float64Array(0), p }, outcomes }, 2, 2);
    for (let j = 0; j < 2; j++) {
      const rows = [0, 1, 2, 3, 4, 5].filter((i) => !Number.isNaN(outcomes[i * 2 + j]));
      const r = [0, 1].map((t) => rows.reduce((a, i) => a + p[i * 2 + t] * outcomes[i * 2 + j], 0) / rows.reduce((a, i) => a + p[i * 2 + t], 0));
      for (const i of rows) expect(c[i * 2 + j]).toBeCloseTo(outcomes[i * 2 + j] - (p[i * 2] * r[0] + p[i * 2 + 1] * r[1]), 12);
    }
  });
});
