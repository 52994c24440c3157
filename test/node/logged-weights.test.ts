/**
 * Sample weights of logged rows (issue 19 item 4): a row's weight reaches the
 * loss and its gradient exactly like repeating the row, a head the row did not
 * observe gets no gradient from it, and the IPS weights are clipped and
 * normalised as docs/loop.md says.
 */
import { describe, expect, it } from "vitest";
import { mulberry32 } from "../../src/core/random.js";
import { type Example, Workspace, clearGrads, lossAndGrad, newGrads, type Grads } from "../../scripts/distill/network.js";
import { fitStandardizer, initParams } from "../../scripts/distill/params.js";
import { featuriseRows, type DistillRow } from "../../scripts/distill/dataset.js";
import { trainStudent } from "../../scripts/distill/trainer.js";
import { checkLoggedRow, loggedWeights, mergeLoggedRows } from "../../scripts/lib/ope/weights.js";
import type { OutcomeRow } from "../../scripts/formats/outcomes.js";

const shape = { buckets: 6, dim: 3, dense: 2, hidden: 4, outputs: 3 };
const nan = NaN;
const mk = (ids: number[], dense: number[], label: number[], weight?: number): Example => ({
  ids: Int32Array.from(ids),
  dense: Float32Array.from(dense),
  label: Float32Array.from(label),
  ...(weight !== undefined ? { weight } : {}),
});

function gradOf(ex: Example[], idx: number[], base: Example[]) {
  const rng = mulberry32(3);
  const p = initParams(shape, rng, { embStd: 1 }, base);
  for (let i = 0; i < p.w2.length; i++) p.w2[i] *= 5;
  const std = fitStandardizer(base, shape.dense);
  const g = newGrads(shape);
  clearGrads(g, shape.dim);
  const loss = lossAndGrad(p, std, ex, idx, 0, new Workspace(shape), g).loss;
  return { loss, g };
}

const flat = (g: Grads) => [...g.emb, ...g.w1, ...g.b1, ...g.w2, ...g.b2];

describe("logged-row weights in the loss", () => {
  const a = [0, 2, 5];
  const b = [1, 4];
  const base = [mk(a, [1, 2], [1, nan, nan]), mk(b, [0.5, 3], [0, 1, 0.25])];

  it("a weight of 3 gives the loss and gradient of the row repeated 3 times", () => {
    const weighted = gradOf([mk(a, [1, 2], [1, nan, nan], 3), base[1]], [0, 1], base);
    const repeated = gradOf([base[0], base[1]], [0, 0, 0, 1], base);
    expect(weighted.loss).toBeCloseTo(repeated.loss, 12);
    const fw = flat(weighted.g);
    const fr = flat(repeated.g);
    expect(fw.length).toBe(fr.length);
    for (let i = 0; i < fw.length; i++) expect(fw[i]).toBeCloseTo(fr[i], 12);
    // And it differs from the unweighted pair, so the weight did something.
    const plain = gradOf(base, [0, 1], base);
    expect(Math.abs(plain.loss - weighted.loss)).toBeGreaterThan(1e-3);
  });

  it("heads a logged row did not observe get no gradient from it", () => {
    const { g } = gradOf([mk(a, [1, 2], [nan, 1, nan], 7)], [0], base);
    expect(g.b2[1]).not.toBe(0);
    expect(g.b2[0]).toBe(0);
    expect(g.b2[2]).toBe(0);
    for (let j = 0; j < shape.hidden; j++) {
      expect(g.w2[j * shape.outputs + 0]).toBe(0);
      expect(g.w2[j * shape.outputs + 2]).toBe(0);
    }
  });

  it("featuriseRows carries the row weight and the trainer refuses a bad one or a wide part", () => {
    const spec = { kind: "hashed-ngram-v1" as const, buckets: 64, word_ngrams: [1], char_ngrams: [], max_features: 32, lowercase: true, seed: 1 };
    const f = featuriseRows([{ text: "a b", labels: { m: 1 }, weight: 2.5 }, { text: "c", labels: { m: 0 } }], ["m"], spec);
    expect(f.examples.map((e) => e.weight)).toEqual([2.5, undefined]);
    const ex = f.examples;
    expect(() => trainStudent({ train: [{ ...ex[0], weight: NaN }, ex[1]], val: [], buckets: 64, outputs: 1 }, { maxEpochs: 1 })).toThrow(/weight NaN/);
    expect(() => trainStudent({ train: ex, val: [], buckets: 64, outputs: 1 }, { maxEpochs: 1, wide: true })).toThrow(/wide: true does not support weighted rows/);
  });
});

describe("loggedWeights", () => {
  it("clips 1/propensity and normalises to the file's mean weight", () => {
    const w = loggedWeights([1, 0.5, 0.01], { clip: 10, scale: 1, mode: "ips" });
    // raw 1, 2, 10 (100 clipped): mean 13/3
    expect(w.map((x) => x * (13 / 3))).toEqual([1, 2, 10].map((x) => expect.closeTo(x, 12)));
    expect(w.reduce((s, x) => s + x, 0) / 3).toBeCloseTo(1, 12);
    expect(loggedWeights([1, 0.5], { clip: 10, scale: 0.5, mode: "none" })).toEqual([0.5, 0.5]);
    expect(() => loggedWeights([0], { clip: 10, scale: 1, mode: "ips" })).toThrow(/propensity/);
  });

  it("checkLoggedRow accepts exactly one outcome, the chosen model's", () => {
    const logged = { decision_id: "d", ts: 0, chosen: "m1", propensity: 0.5, explored: false, bundle_id: "b", policy: null };
    const ok: OutcomeRow = { id: "r", prompt: "x", outcomes: { m1: { n: 1, k: 1 } }, logged };
    expect(() => checkLoggedRow(ok, "f")).not.toThrow();
    expect(() => checkLoggedRow({ ...ok, outcomes: { m2: { n: 1, k: 1 } } }, "f")).toThrow(/exactly one outcome/);
    expect(() => checkLoggedRow({ ...ok, logged: undefined }, "f")).toThrow(/no "logged" block/);
  });
});

describe("mergeLoggedRows", () => {
  it("merged rows give the same gradient as the rows they replace", () => {
    const spec = { kind: "hashed-ngram-v1" as const, buckets: 6, word_ngrams: [1], char_ngrams: [], max_features: 8, lowercase: true, seed: 3 };
    const rows: DistillRow[] = [
      { text: "sum two numbers", labels: { m1: 1 }, weight: 2 },
      { text: "sum two numbers", labels: { m1: 0 }, weight: 0.5 },
      { text: "sum two numbers", labels: { m2: 1 }, weight: 1 },
      { text: "other prompt", labels: { m1: 1 }, weight: 3 },
    ];
    const merged = mergeLoggedRows(rows);
    expect(merged).toHaveLength(3);
    expect(merged[0]).toMatchObject({ labels: { m1: 0.8 }, weight: 2.5 });
    const models = ["m1", "m2", "m3"];
    const grad = (rs: DistillRow[]) => {
      const ex = featuriseRows(rs, models, spec).examples.map((e) => ({ ...e, dense: Float32Array.from([0.5, 1]) }));
      return gradOf(ex, ex.map((_, i) => i), [mk([0], [0, 1], [1, 0, 1]), mk([1], [1, 3], [0, 1, 0])]);
    };
    const a = flat(grad(rows).g);
    const b = flat(grad(merged).g);
    // Labels are float32 in an Example, so the merged 0.8 is off by ~1e-8: equal to 7 places, not 12.
    for (let i = 0; i < a.length; i++) expect(b[i]).toBeCloseTo(a[i], 7);
  });
});
