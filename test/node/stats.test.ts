// Known-answer tests for scripts/lib/stats and scripts/lib/calibration-fit:
// hand-computed values and textbook examples (inputs scikit-learn/scipy document).
import { describe, expect, it } from "vitest";
import {
  auroc,
  averageRanks,
  brier,
  ece,
  logloss,
  mse,
  pearson,
  spearman,
  withinGroupAuroc,
} from "../../scripts/lib/stats/metrics.js";
import { bootstrapCI, bootstrapMany, quantileSorted, take } from "../../scripts/lib/stats/bootstrap.js";
import { probabilityMetrics } from "../../scripts/lib/stats/report.js";
import { TieGroups, aurocCounts, countsOf, spearmanCounts } from "../../scripts/lib/stats/resample.js";
import { mulberry32 } from "../../src/core/random.js";
import { fitIsotonic, fitPlatt } from "../../scripts/lib/calibration-fit.js";
import { IsotonicCalibration, PlattCalibration, calibrate } from "../../src/core/calibration.js";

describe("ranks and AUROC", () => {
  it("averages tied ranks", () => {
    expect(Array.from(averageRanks([10, 20, 20, 5]))).toEqual([2, 3.5, 3.5, 1]);
  });
  it("matches the classic 4-point example", () => {
    expect(auroc([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1])).toBeCloseTo(0.75, 12);
  });
  it("counts a tie between a positive and a negative as one half", () => {
    // pairs: (.5,.5)=.5, (.5,.2)=1, (.9,.5)=1, (.9,.2)=1 → 3.5/4
    expect(auroc([0.5, 0.5, 0.2, 0.9], [1, 0, 0, 1])).toBeCloseTo(0.875, 12);
    expect(auroc([1, 1, 1, 1], [0, 1, 0, 1])).toBeCloseTo(0.5, 12);
  });
  it("is null when one class is absent", () => {
    expect(auroc([0.1, 0.2], [1, 1])).toBeNull();
    expect(auroc([], [])).toBeNull();
  });
  it("within-group AUROC weights by group size and skips one-class groups", () => {
    const scores = [0.1, 0.9, 0.9, 0.1, 0.5, 0.3, 0.7];
    const labels = [0, 1, 0, 1, 0, 1, 1];
    const groups = ["a", "a", "b", "b", "b", "c", "c"];
    // a: 1.0 (n=2); b: 0.0 (n=3); c: one class, skipped → (2·1 + 3·0)/5
    expect(withinGroupAuroc(scores, labels, groups)).toBeCloseTo(0.4, 12);
    expect(withinGroupAuroc([0.1, 0.2], [1, 1], ["x", "x"])).toBeNull();
  });
  it("within-group AUROC rules: a minimum per class drops sparse groups; pair weighting pools pairs", () => {
    // a: AUROC 1.0, n=2, 1 pos × 1 neg; d: AUROC 0.5, n=4, 2 pos × 2 neg
    const scores = [0.1, 0.9, 0.2, 0.8, 0.6, 0.4];
    const labels = [0, 1, 0, 0, 1, 1];
    const groups = ["a", "a", "d", "d", "d", "d"];
    expect(withinGroupAuroc(scores, labels, groups)).toBeCloseTo((2 * 1 + 4 * 0.5) / 6, 12);
    expect(withinGroupAuroc(scores, labels, groups, { minPerClass: 2 })).toBeCloseTo(0.5, 12);
    expect(withinGroupAuroc(scores, labels, groups, { minPerClass: 3 })).toBeNull();
    expect(withinGroupAuroc(scores, labels, groups, { weight: "pairs" })).toBeCloseTo((1 * 1 + 4 * 0.5) / 5, 12);
  });
});

describe("correlations", () => {
  it("pearson on a small hand example", () => {
    expect(pearson([1, 2, 3], [2, 4, 7])).toBeCloseTo(5 / Math.sqrt(2 * (114 / 9)), 12);
    expect(pearson([1, 1, 1], [1, 2, 3])).toBeNull();
  });
  it("spearman handles ties (scipy: 0.8207826816681233)", () => {
    expect(spearman([1, 2, 3, 4, 5], [5, 6, 7, 8, 7])).toBeCloseTo(0.8207826816681233, 12);
    expect(spearman([1, 2, 3], [30, 20, 10])).toBeCloseTo(-1, 12);
  });
});

describe("probabilistic scores", () => {
  it("brier", () => {
    expect(brier([0.1, 0.9, 0.8, 0.3], [0, 1, 1, 0])).toBeCloseTo(0.0375, 12);
    expect(brier([], [])).toBeNull();
  });
  it("log-loss (sklearn example: 0.21616)", () => {
    expect(logloss([0.9, 0.1, 0.2, 0.65], [1, 0, 0, 1])).toBeCloseTo(0.2161616, 6);
  });
  it("log-loss clips certain mistakes instead of returning Infinity", () => {
    expect(logloss([0], [1], 1e-7)).toBeCloseTo(-Math.log(1e-7), 9);
  });
  it("ECE over 10 equal-width bins with reliability table", () => {
    const r = ece([0.05, 0.15, 0.15, 0.95], [0, 1, 0, 1]);
    // bin0: |.05−0|·1/4, bin1: |.15−.5|·2/4, bin9: |.95−1|·1/4
    expect(r.ece).toBeCloseTo(0.0125 + 0.175 + 0.0125, 12);
    expect(r.bins).toHaveLength(10);
    expect(r.bins[1]).toEqual({ lo: 0.1, hi: 0.2, mean_p: 0.15, frac_pos: 0.5, count: 2 });
    expect(r.bins[5]).toEqual({ lo: 0.5, hi: 0.6, mean_p: null, frac_pos: null, count: 0 });
    expect(ece([1], [1]).bins[9].count).toBe(1); // p = 1 lands in the last bin
  });
  it("mse", () => {
    expect(mse([1, 2], [1, 4])).toBe(2);
  });
});

describe("bootstrap", () => {
  const values = Array.from({ length: 100 }, (_, i) => i);
  const mean = (idx: Int32Array) => take(values, idx).reduce((a, b) => a + b, 0) / idx.length;

  it("quantiles interpolate like numpy's default", () => {
    expect(quantileSorted([1, 2, 3, 4], 0.5)).toBe(2.5);
    expect(quantileSorted([1, 2, 3, 4], 0.25)).toBe(1.75);
  });
  it("gives the plug-in estimate and a CI of the textbook width", () => {
    const ci = bootstrapCI(100, mean, { seed: 7 });
    expect(ci.estimate).toBe(49.5);
    // SE of the mean of 0..99 ≈ 28.87/10 → 95% width ≈ 2·1.96·2.887 ≈ 11.3
    expect(ci.lo!).toBeLessThan(49.5);
    expect(ci.hi!).toBeGreaterThan(49.5);
    expect(ci.hi! - ci.lo!).toBeGreaterThan(9.5);
    expect(ci.hi! - ci.lo!).toBeLessThan(13);
  });
  it("is reproducible for a seed and varies with it", () => {
    const a = bootstrapCI(100, mean, { seed: 1, reps: 200 });
    const b = bootstrapCI(100, mean, { seed: 1, reps: 200 });
    const c = bootstrapCI(100, mean, { seed: 2, reps: 200 });
    expect(a).toEqual(b);
    expect(c.lo).not.toBe(a.lo);
  });
  it("returns nulls when the statistic is undefined", () => {
    expect(bootstrapCI(5, () => null, { seed: 1 })).toEqual({ estimate: null, lo: null, hi: null });
    expect(bootstrapCI(0, mean, { seed: 1 })).toEqual({ estimate: null, lo: null, hi: null });
  });
  it("bootstrapMany gives each statistic the interval bootstrapCI gives on the same seed", () => {
    const max = (idx: Int32Array) => Math.max(...take(values, idx));
    const many = bootstrapMany(100, { mean, max, none: () => null }, { seed: 9, reps: 300 });
    expect(many.mean).toEqual(bootstrapCI(100, mean, { seed: 9, reps: 300 }));
    expect(many.max).toEqual(bootstrapCI(100, max, { seed: 9, reps: 300 }));
    expect(many.none).toEqual({ estimate: null, lo: null, hi: null });
  });
  it("probabilityMetrics scores a perfect ranker and its reliability table", () => {
    const m = probabilityMetrics([0.05, 0.15, 0.85, 0.95], [0, 0, 1, 1], [0, 0.25, 0.75, 1], { seed: 1, reps: 100 });
    expect(m.n).toBe(4);
    expect(m.auroc.estimate).toBe(1);
    expect(m.spearman.estimate).toBeCloseTo(1, 12);
    expect(m.brier.estimate).toBeCloseTo((0.05 ** 2 + 0.15 ** 2 + 0.15 ** 2 + 0.05 ** 2) / 4, 12);
    expect(m.reliability.reduce((s, b) => s + b.count, 0)).toBe(4);
    expect(m.auroc_within_group).toBeUndefined();
  });
  it("drops resamples that draw one class for AUROC", () => {
    const s = [0.1, 0.2, 0.3, 0.9];
    const y = [0, 0, 0, 1];
    const ci = bootstrapCI(4, (idx) => auroc(take(s, idx), take(y, idx)), { seed: 3, reps: 300 });
    expect(ci.estimate).toBe(1);
    expect(ci.lo).toBe(1); // every defined resample ranks the positive on top
  });
});

describe("calibration fitting (applied through src/core/calibration.ts)", () => {
  // Binary score: s=0 → 1 of 4 positive, s=1 → 3 of 4 positive.
  const s = [0, 0, 0, 0, 1, 1, 1, 1];
  const y = [1, 0, 0, 0, 1, 1, 1, 0];

  it("Platt without target smoothing recovers the group frequencies (MLE)", () => {
    const c = fitPlatt(s, y, { smoothTargets: false });
    expect(c.a).toBeCloseTo(2 * Math.log(3), 8);
    expect(c.b).toBeCloseTo(-Math.log(3), 8);
    expect(calibrate(0, c)).toBeCloseTo(0.25, 8);
    expect(calibrate(1, c)).toBeCloseTo(0.75, 8);
  });
  it("Platt's prior-corrected targets shrink toward 1/2: 1/3 and 2/3 here", () => {
    // targets 5/6 and 1/6 (N₊ = N₋ = 4): group means (5/6 + 3/6)/4 = 1/3 and (15/6 + 1/6)/4 = 2/3
    const c = fitPlatt(s, y);
    expect(calibrate(0, c)).toBeCloseTo(1 / 3, 8);
    expect(calibrate(1, c)).toBeCloseTo(2 / 3, 8);
  });
  it("Platt stays finite on separable data", () => {
    const c = fitPlatt([-2, -1, 1, 2], [0, 0, 1, 1]);
    expect(Number.isFinite(c.a) && c.a > 0).toBe(true);
    expect(PlattCalibration.safeParse(c).success).toBe(true);
  });
  it("isotonic PAV pools violators and emits a valid interpolation table", () => {
    // y = 1,0,0 | 1,0 | 1 → blocks {1,2,3}: 1/3, {4,5}: 1/2, {6}: 1
    const c = fitIsotonic([1, 2, 3, 4, 5, 6], [1, 0, 0, 1, 0, 1]);
    expect(c.x).toEqual([1, 3, 4, 5, 6]);
    c.y.forEach((v, i) => expect(v).toBeCloseTo([1 / 3, 1 / 3, 0.5, 0.5, 1][i], 12));
    expect(IsotonicCalibration.safeParse(c).success).toBe(true);
    expect(calibrate(2, c)).toBeCloseTo(1 / 3, 12);
    expect(calibrate(3.5, c)).toBeCloseTo((1 / 3 + 0.5) / 2, 12); // ramp between blocks
    expect(calibrate(-5, c)).toBeCloseTo(1 / 3, 12); // clamped below
    expect(calibrate(99, c)).toBe(1); // clamped above
  });
  it("isotonic pools tied scores and handles a single distinct score", () => {
    const c = fitIsotonic([0.2, 0.2, 0.7], [1, 0, 1]);
    expect(c.x).toEqual([0.2, 0.7]);
    expect(c.y).toEqual([0.5, 1]);
    expect(fitIsotonic([3, 3], [1, 0])).toEqual({ kind: "isotonic", x: [3, 3], y: [0.5, 0.5] });
  });
});

describe("sort-free resample statistics", () => {
  it("equal auroc/spearman on the expanded resample, ties included", () => {
    const rng = mulberry32(11);
    const n = 50;
    const p = Array.from({ length: n }, () => Math.round(rng() * 8) / 8); // many ties
    const r = Array.from({ length: n }, () => Math.round(rng() * 4) / 4);
    const y = r.map((v) => (v > 0.5 ? 1 : 0));
    const tp = new TieGroups(p);
    const tr = new TieGroups(r);
    for (let rep = 0; rep < 20; rep++) {
      const idx = Int32Array.from({ length: n }, () => Math.floor(rng() * n));
      const c = countsOf(idx, n);
      const a = auroc(take(p, idx), take(y, idx));
      const s = spearman(take(p, idx), take(r, idx));
      if (a === null) expect(aurocCounts(tp, y, c)).toBeNull();
      else expect(aurocCounts(tp, y, c)).toBeCloseTo(a, 12);
      if (s === null) expect(spearmanCounts(tp, tr, c)).toBeNull();
      else expect(spearmanCounts(tp, tr, c)).toBeCloseTo(s, 12);
    }
  });
});
