/**
 * Tests for the distill trainer (scripts/distill): analytic gradients against
 * central finite differences on a tiny network, the standardiser fold against
 * the reference forward(), seeded determinism, early stopping with best-weight
 * restore, input validation, learnability on synthetic token-driven data,
 * and the wide part (TF-IDF-like per-model linear terms over the same ids).
 */
import { describe, expect, it } from "vitest";
import { featurize, type FeaturizerSpec } from "../../src/core/featurizer.js";
import { forward } from "../../src/core/student.js";
import { mulberry32, type Rng } from "../../src/core/random.js";
import { type Example, type Params, Workspace, clearGrads, forwardInto, lossAndGrad, newGrads } from "../../scripts/distill/network.js";
import { fitStandardizer, foldToWeights, initParams, mergeMembers } from "../../scripts/distill/params.js";
import { trainStudent } from "../../scripts/distill/trainer.js";
import { bucketIdf, fitWide, wideLogits, wideMatrix } from "../../scripts/distill/wide.js";
import { runDistill } from "../../scripts/stages/distill.js";
import type { DistillRow } from "../../scripts/distill/dataset.js";

const shape = { buckets: 7, dim: 3, dense: 2, hidden: 5, outputs: 3 };

function tinyExamples(rng: Rng): Example[] {
  const nan = NaN;
  const mk = (ids: number[], dense: number[], teacher?: number[], label?: number[]): Example => ({
    ids: Int32Array.from(ids),
    dense: Float32Array.from(dense),
    teacher: teacher && Float32Array.from(teacher),
    label: label && Float32Array.from(label),
  });
  return [
    mk([0, 2, 2, 5], [1.5, 3], [0.3, nan, -1.2], [1, 0.5, nan]),
    mk([6], [0.2, 10], undefined, [0, nan, 0.25]),
    mk([], [2, 7], [1, 2, nan], [nan, 1, 0]),
    mk([1, 3, 4, 1], [rng() * 4, rng() * 9], [nan, -0.5, 0.7], undefined),
  ];
}

function tinyParams(): { p: Params; ex: Example[] } {
  const rng = mulberry32(7);
  const ex = tinyExamples(rng);
  const p = initParams(shape, rng, { embStd: 1 }, ex);
  for (let i = 0; i < p.w2.length; i++) p.w2[i] *= 10; // make the output layer matter
  for (let i = 0; i < p.b1.length; i++) p.b1[i] = 0.3 * (rng() - 0.3);
  return { p, ex };
}

describe("analytic gradients", () => {
  it("match central finite differences on a tiny network (teacher + labels, masks, empty prompt)", () => {
    const { p, ex } = tinyParams();
    const std = fitStandardizer(ex, shape.dense);
    const ws = new Workspace(shape);
    const idx = [0, 1, 2, 3];
    const g = newGrads(shape);
    clearGrads(g, shape.dim);
    const alpha = 0.35;
    lossAndGrad(p, std, ex, idx, alpha, ws, g);
    const lossAt = () => lossAndGrad(p, std, ex, idx, alpha, ws, null).loss;
    const h = 1e-6;
    let checked = 0;
    let worst = 0;
    for (const key of ["emb", "w1", "b1", "w2", "b2"] as const) {
      const w = p[key];
      const an = g[key];
      for (let i = 0; i < w.length; i++) {
        const orig = w[i];
        w[i] = orig + h;
        const up = lossAt();
        w[i] = orig - h;
        const down = lossAt();
        w[i] = orig;
        const num = (up - down) / (2 * h);
        const err = Math.abs(num - an[i]) / Math.max(1e-4, Math.abs(num) + Math.abs(an[i]));
        worst = Math.max(worst, err);
        expect(err, `${key}[${i}] numeric ${num} analytic ${an[i]}`).toBeLessThan(1e-5);
        checked++;
      }
    }
    expect(checked).toBe(7 * 3 + 5 * 5 + 5 + 5 * 3 + 3);
    expect(g.touched.slice().sort()).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(worst).toBeLessThan(1e-5);
  });

  it("only touched embedding rows carry gradient", () => {
    const { p, ex } = tinyParams();
    const std = fitStandardizer(ex, shape.dense);
    const g = newGrads(shape);
    clearGrads(g, shape.dim);
    lossAndGrad(p, std, ex, [1], 0, new Workspace(shape), g);
    expect(g.touched).toEqual([6]);
    for (let r = 0; r < 6; r++) for (let d = 0; d < 3; d++) expect(g.emb[r * 3 + d]).toBe(0);
    clearGrads(g, shape.dim);
    expect(g.emb.every((v) => v === 0)).toBe(true);
  });
});

describe("standardiser fold", () => {
  it("folded float32 weights reproduce the training network through forward()", () => {
    const { p, ex } = tinyParams();
    const std = fitStandardizer(ex, shape.dense);
    expect(Array.from(std.std).every((s) => s > 0)).toBe(true);
    const w = foldToWeights(p, std);
    const ws = new Workspace(shape);
    for (const e of ex) {
      const ref = forwardInto(p, std, e, ws);
      const got = forward(w, e.ids, e.dense).logits;
      for (let m = 0; m < shape.outputs; m++) expect(Math.abs(got[m] - ref[m])).toBeLessThan(1e-4 * (1 + Math.abs(ref[m])));
    }
  });
});

const spec: FeaturizerSpec = { kind: "hashed-ngram-v1", buckets: 4096, word_ngrams: [1, 2], char_ngrams: [3], max_features: 256, lowercase: true, seed: 12345 };
const filler = "the a of to and in is it for on with as was by at be this have from or one had word but not what all were when we".split(" ");

/** Model 0 succeeds iff "alpha" appears; model 1 iff "beta" appears and "gamma" doesn't; model 2 is masked half the time. */
function synthetic(n: number, seed: number): Example[] {
  const rng = mulberry32(seed);
  const out: Example[] = [];
  for (let i = 0; i < n; i++) {
    const words: string[] = [];
    const len = 5 + Math.floor(rng() * 25);
    for (let k = 0; k < len; k++) words.push(filler[Math.floor(rng() * filler.length)]);
    const a = rng() < 0.4;
    const b = rng() < 0.5;
    const c = rng() < 0.3;
    for (const [flag, wd] of [[a, "alpha"], [b, "beta"], [c, "gamma"]] as const) {
      if (flag) words.splice(Math.floor(rng() * words.length), 0, wd);
    }
    const f = featurize(words.join(" "), spec);
    // Success rates k/3 with noise: the true rate is 0.85 or 0.15.
    const rate = (p: boolean) => {
      let k = 0;
      for (let t = 0; t < 3; t++) if (rng() < (p ? 0.85 : 0.15)) k++;
      return k / 3;
    };
    const label = Float32Array.from([rate(a), rate(b && !c), rng() < 0.5 ? NaN : rate(a || c)]);
    out.push({ ids: f.ids, dense: f.dense, label, truth: [a, b && !c, a || c] } as Example & { truth: boolean[] });
  }
  return out;
}

/** AUROC by pairwise comparison (ties count half). */
function auroc(scores: number[], positive: boolean[]): number {
  let wins = 0;
  let pairs = 0;
  for (let i = 0; i < scores.length; i++) {
    if (!positive[i]) continue;
    for (let j = 0; j < scores.length; j++) {
      if (positive[j]) continue;
      pairs++;
      wins += scores[i] > scores[j] ? 1 : scores[i] === scores[j] ? 0.5 : 0;
    }
  }
  return wins / pairs;
}

const bytes = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

describe("trainStudent", () => {
  const data = synthetic(1200, 1);
  const train = data.slice(0, 800);
  const val = data.slice(800, 1000);
  const test = data.slice(1000) as (Example & { truth: boolean[] })[];
  const cfg = { seed: 3, dim: 16, hidden: 16, maxEpochs: 25, lr: 1e-2, patience: 4 };

  it("learns token-driven success (label-only, α = 0): held-out AUROC is high", () => {
    const res = trainStudent({ train, val, buckets: spec.buckets, outputs: 3 }, cfg, { mode: "none" });
    for (const m of [0, 1, 2]) {
      const scores = test.map((e) => forward(res.weights, e.ids, e.dense).logits[m]);
      const a = auroc(scores, test.map((e) => e.truth[m]));
      expect(a, `model ${m}`).toBeGreaterThan(0.9);
    }
    expect(res.promptsPerSec).toBeGreaterThan(0);
    expect(res.history.length).toBeGreaterThan(1);
    // Best weights restored: their val loss is the recorded best.
    expect(res.history[res.bestEpoch - 1].valLoss).toBe(res.bestValLoss);
    expect(Math.min(...res.history.map((h) => h.valLoss))).toBeGreaterThanOrEqual(res.bestValLoss - 1e-4);
  });

  it("same seed → byte-identical weights; different seed → different weights", () => {
    const small = { ...cfg, maxEpochs: 3 };
    const a = trainStudent({ train, val, buckets: spec.buckets, outputs: 3 }, small, { mode: "none" }).weights;
    const b = trainStudent({ train, val, buckets: spec.buckets, outputs: 3 }, small, { mode: "none" }).weights;
    const c = trainStudent({ train, val, buckets: spec.buckets, outputs: 3 }, { ...small, seed: 4 }, { mode: "none" }).weights;
    for (const k of ["emb", "w1", "b1", "w2", "b2"] as const) expect(bytes(a[k]).equals(bytes(b[k])), k).toBe(true);
    expect(bytes(a.emb).equals(bytes(c.emb))).toBe(false);
  });

  it("distils teacher logits (α = 1): student tracks the teacher on held-out prompts", () => {
    const teacherW = trainStudent({ train, val, buckets: spec.buckets, outputs: 3 }, { ...cfg, seed: 9, maxEpochs: 6 }, { mode: "none" }).weights;
    const withT = (set: Example[]) =>
      set.map((e) => ({ ids: e.ids, dense: e.dense, teacher: forward(teacherW, e.ids, e.dense).logits }));
    const res = trainStudent({ train: withT(train), val: withT(val), buckets: spec.buckets, outputs: 3 }, { ...cfg, seed: 5, alpha: 1 }, { mode: "none" });
    let se = 0;
    let varT = 0;
    const tt = withT(test);
    const mean = tt.reduce((s, e) => s + e.teacher[0], 0) / tt.length;
    for (const e of tt) {
      se += (forward(res.weights, e.ids, e.dense).logits[0] - e.teacher[0]) ** 2;
      varT += (e.teacher[0] - mean) ** 2;
    }
    expect(1 - se / varT).toBeGreaterThan(0.9); // R² of student vs teacher logits
  });

  it("rejects bad input", () => {
    const bad = [{ ids: Int32Array.from([5000]), dense: new Float32Array(4), label: Float32Array.from([1, 0, 1]) }];
    expect(() => trainStudent({ train: bad, val: [], buckets: spec.buckets, outputs: 3 }, {}, { mode: "none" })).toThrow(/outside/);
    expect(() => trainStudent({ train: train.slice(0, 5), val: [], buckets: spec.buckets, outputs: 3 }, { alpha: 0.5 }, { mode: "none" })).toThrow(
      /no teacher/,
    );
  });
});

describe("wide part", () => {
  const data = synthetic(1200, 2);
  const train = data.slice(0, 800);
  const val = data.slice(800, 1000);
  const test = data.slice(1000) as (Example & { truth: boolean[] })[];
  const V = spec.buckets;

  it.each([false, true])("the graph's formula (wideLogits) equals the CSR features the fit sees, row by row (tfidf %s)", (tfidf) => {
    const g = bucketIdf(train, V);
    expect(Math.min(...g)).toBeGreaterThanOrEqual(1); // so the norm's max(1, ·) only acts on empty prompts
    // A prompt with a repeated id, where the two weightings differ.
    const rows = [...val, { ids: Int32Array.from([7, 7, 7, 9]), dense: new Float32Array(4) }];
    const m = wideMatrix(rows, g, tfidf);
    const w = Float64Array.from({ length: V }, (_, j) => Math.sin(j));
    const table = Float64Array.from(w, (x, j) => x * g[j]); // one output
    const norm = Float64Array.from(g, (x) => x * x);
    rows.forEach((ex, r) => {
      let dot = 0;
      for (let p = m.indptr[r]; p < m.indptr[r + 1]; p++) dot += m.values[p] * w[m.indices[p]];
      expect(wideLogits({ table, norm, tfidf }, ex.ids, 1)[0]).toBeCloseTo(dot, 5);
    });
    // TF-IDF's sublinear count by hand on the repeated row: (1 + ln 3)·g7 and g9 over their L2 norm.
    const s7 = (1 + Math.log(3)) * g[7];
    const want = tfidf ? (s7 * w[7] + g[9] * w[9]) / Math.hypot(s7, g[9]) : (3 * g[7] * w[7] + g[9] * w[9]) / Math.sqrt(3 * g[7] ** 2 + g[9] ** 2);
    expect(wideLogits({ table, norm, tfidf }, rows[rows.length - 1].ids, 1)[0]).toBeCloseTo(want, 10);
    expect(Array.from(wideLogits({ table, norm, tfidf }, [], 1))).toEqual([0]);
  });

  it("labelTarget majority trains exactly as on the majority labels themselves", () => {
    // Soft rates around 0.5: 0.6 → 1, 0.5 → 0 (a tie is a failure), 0.4 → 0; NaN stays masked.
    const soft = (set: Example[]) => set.map((e, i) => ({ ...e, label: Float32Array.from(e.label!, (y, m) => (m === 2 && i % 5 === 0 ? NaN : y > 0.5 ? [0.6, 0.9][i % 2] : [0.4, 0.5][i % 2])) }));
    const hard = (set: Example[]) => set.map((e) => ({ ...e, label: Float32Array.from(e.label!, (y) => (Number.isNaN(y) ? NaN : y > 0.5 ? 1 : 0)) }));
    const small = { seed: 3, dim: 8, hidden: 8, maxEpochs: 2, wide: true, wideBlend: [0, 0.5, 1] };
    const a = trainStudent({ train: soft(train), val: soft(val), buckets: V, outputs: 3 }, { ...small, labelTarget: "majority" }, { mode: "none" }).weights;
    const b = trainStudent({ train: hard(soft(train)), val: hard(soft(val)), buckets: V, outputs: 3 }, small, { mode: "none" }).weights;
    const c = trainStudent({ train: soft(train), val: soft(val), buckets: V, outputs: 3 }, small, { mode: "none" }).weights;
    for (const k of ["emb", "w1", "w2", "b2", "wide"] as const) expect(bytes(a[k]!).equals(bytes(b[k]!)), k).toBe(true);
    expect(bytes(a.w2).equals(bytes(c.w2))).toBe(false);
  });

  it("wide alone (deep: false) learns token-driven success and ships the fit unchanged", () => {
    const res = trainStudent({ train, val, buckets: V, outputs: 3 }, { seed: 3, wide: true, deep: false }, { mode: "none" });
    const wide = fitWide(train, val, V, 3, { Cs: [0.1, 1, 10, 100] });
    expect(res.history).toEqual([]);
    expect(res.bestEpoch).toBe(0);
    expect(res.wide?.map((c) => c?.C)).toEqual(wide.chosen.map((c) => c?.C));
    for (const e of test.slice(0, 20)) {
      const z = wideLogits(wide, e.ids, 3);
      const got = forward(res.weights, e.ids, e.dense).logits;
      for (let m = 0; m < 3; m++) expect(got[m]).toBeCloseTo(z[m] + wide.bias[m], 4);
    }
    for (const m of [0, 1]) {
      const a = auroc(test.map((e) => forward(res.weights, e.ids, e.dense).logits[m]), test.map((e) => e.truth[m]));
      expect(a, `model ${m}`).toBeGreaterThan(0.85);
    }
  });

  it("blend mode ships α·wide + (1 − α)·deep with α the best mean validation AUROC of the grid", () => {
    const base = { seed: 3, dim: 8, hidden: 8, lr: 1e-2, maxEpochs: 4 };
    const wideOnly = trainStudent({ train, val, buckets: V, outputs: 3 }, { ...base, wide: true, deep: false }, { mode: "none" }).weights;
    const deepOnly = trainStudent({ train, val, buckets: V, outputs: 3 }, base, { mode: "none" }).weights;
    const res = trainStudent({ train, val, buckets: V, outputs: 3 }, { ...base, wide: true, wideBlend: [0, 0.3, 0.7, 1] }, { mode: "none" });
    const b = res.blend!;
    expect(b.tried.map((t) => t.alpha)).toEqual([0, 0.3, 0.7, 1]);
    expect(b.tried.find((t) => t.alpha === b.alpha)!.valMeanAuroc).toBe(Math.max(...b.tried.map((t) => t.valMeanAuroc)));
    for (const e of test.slice(0, 20)) {
      const z = forward(res.weights, e.ids, e.dense).logits;
      const zw = forward(wideOnly, e.ids, e.dense).logits;
      const zd = forward(deepOnly, e.ids, e.dense).logits;
      for (let m = 0; m < 3; m++) expect(z[m]).toBeCloseTo(b.alpha * zw[m] + (1 - b.alpha) * zd[m], 4);
    }
  });

  it("an ensemble of deep parts is one wider deep part whose logits are the members' mean", () => {
    const cfg = { dim: 4, hidden: 6, maxEpochs: 2, wide: true };
    const one = (seed: number) => trainStudent({ train, val, buckets: V, outputs: 3 }, { ...cfg, seed }, { mode: "none" }).weights;
    const [a, b] = [one(5), one(6)];
    const res = trainStudent({ train, val, buckets: V, outputs: 3 }, { ...cfg, seed: 5, ensemble: 2 }, { mode: "none" });
    expect(res.weights.shape).toMatchObject({ dim: 8, hidden: 12 });
    expect(res.members?.map((m) => m.seed)).toEqual([5, 6]);
    const deepOnly = (w: typeof a) => ({ ...w, wide: undefined, wideNorm: undefined });
    const merged = mergeMembers([deepOnly(a), deepOnly(b)]);
    for (const e of test.slice(0, 20)) {
      const za = forward(a, e.ids, e.dense).logits;
      const zb = forward(b, e.ids, e.dense).logits;
      const z = forward(res.weights, e.ids, e.dense).logits;
      const zm = forward(merged, e.ids, e.dense).logits;
      for (let m = 0; m < 3; m++) {
        expect(z[m]).toBeCloseTo((za[m] + zb[m]) / 2, 4);
        expect(zm[m]).toBeCloseTo((forward(deepOnly(a), e.ids, e.dense).logits[m] + forward(deepOnly(b), e.ids, e.dense).logits[m]) / 2, 4);
      }
    }
  });

  it("wide + deep: the deep part is kept only where it lowers validation loss below the wide part's", () => {
    const wideOnly = trainStudent({ train, val, buckets: V, outputs: 3 }, { seed: 3, wide: true, deep: false }, { mode: "none" });
    const both = trainStudent({ train, val, buckets: V, outputs: 3 }, { seed: 3, dim: 16, hidden: 16, lr: 1e-2, maxEpochs: 10, wide: true }, { mode: "none" });
    expect(both.weights.wide).toEqual(wideOnly.weights.wide);
    expect(both.bestValLoss).toBeLessThanOrEqual(wideOnly.bestValLoss + 1e-12);
    if (both.bestEpoch > 0) expect(both.history[both.bestEpoch - 1].valLoss).toBe(both.bestValLoss);
    expect(() => trainStudent({ train, val, buckets: V, outputs: 3 }, { deep: false }, { mode: "none" })).toThrow(/wide/);
  });
});

describe("runDistill", () => {
  it("featurises rows, routes splits (unlabelled → teacher-only train, other splits held out) and reports metrics", () => {
    const rng = mulberry32(21);
    const rows = Array.from({ length: 400 }, (_, i): DistillRow => {
      const a = rng() < 0.5;
      const text = `${a ? "alpha " : ""}${filler.slice(0, 3 + (i % 7)).join(" ")} item ${i}`;
      const split = i < 250 ? "train" : i < 300 ? "val" : i < 350 ? "test" : i < 380 ? "unlabelled" : "cal";
      return {
        id: `r${i}`,
        text,
        split,
        labels: split === "unlabelled" ? {} : { good: a ? 0.9 : 0.1, bad: null },
        teacher: { good: a ? 2 : -2, bad: 0 },
      };
    });
    const progressLines: string[] = [];
    const res = runDistill({
      rows,
      featurizer: spec,
      train: { seed: 1, dim: 8, hidden: 8, maxEpochs: 8, lr: 1e-2, alpha: 0.5 },
      progress: { mode: "lines", log: (l) => progressLines.push(l), intervalMs: 0 },
    });
    expect(res.models).toEqual(["bad", "good"]);
    expect(res.counts).toMatchObject({ train: 280, val: 50, test: 50, unlabelled_used: 30, held_out: 20 });
    expect(res.metrics.test.per_model.good.auroc).toBeGreaterThan(0.95);
    expect(res.metrics.test.per_model.bad.auroc).toBeNull(); // no labels at all for "bad"
    expect(res.metrics.test.per_model.bad.teacher_n).toBe(50);
    expect(res.weights.shape).toMatchObject({ buckets: spec.buckets, outputs: 2, dense: 4 });
    expect(progressLines.some((l) => /^epoch 1: train/.test(l))).toBe(true);
    expect(progressLines.some((l) => /prompts\/s, ETA/.test(l))).toBe(true);
  });
});
