/**
 * Monotone calibration (issue 17): MAP Platt with a ≥ 0 and its shrinkage,
 * the isotonic data threshold, the served base-rate map for models without
 * signal, the manifest rules that enforce both, and the build's warning table.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { baseRateCalibration, calibrate, isConstant, servedCalibration, type CalibrationStats } from "../../src/core/calibration.js";
import { Manifest } from "../../src/core/manifest.js";
import { calibrationWarnings, validationAuroc } from "../../scripts/stages/calibrate.js";
import { fitMonotoneCalibration, fitPlatt, ISOTONIC_MIN, STUDENT_PLATT_PRIOR } from "../../scripts/lib/calibration-fit.js";
import { mulberry32, gaussian } from "../../src/core/random.js";

/** n rows with score ~ N(0,1) and P(y=1) = σ(slope·s + b). */
function sample(n: number, slope: number, b: number, seed: number): { s: number[]; y: number[] } {
  const rng = mulberry32(seed);
  const s: number[] = [];
  const y: number[] = [];
  for (let i = 0; i < n; i++) {
    const v = gaussian(rng);
    s.push(v);
    y.push(rng() < 1 / (1 + Math.exp(-(slope * v + b))) ? 1 : 0);
  }
  return { s, y };
}

/** Penalised mean log-loss the MAP fit minimises (smoothed targets as in fitPlatt). */
function mapObjective(s: number[], y: number[], a: number, b: number): number {
  const n = s.length;
  const pos = y.reduce((u, v) => u + v, 0);
  const hi = (pos + 1) / (pos + 2);
  const lo = 1 / (n - pos + 2);
  const mean = s.reduce((u, v) => u + v, 0) / n;
  const sd = Math.sqrt(s.reduce((u, v) => u + (v - mean) ** 2, 0) / n);
  const b0 = Math.log((pos + 1) / (n - pos + 1));
  let f = 0;
  s.forEach((v, i) => {
    const p = 1 / (1 + Math.exp(-(a * v + b)));
    const t = y[i] === 1 ? hi : lo;
    f -= t * Math.log(p) + (1 - t) * Math.log(1 - p);
  });
  f += ((a * sd) / STUDENT_PLATT_PRIOR.slopeSd) ** 2 / 2 + ((b + a * mean - b0) / STUDENT_PLATT_PRIOR.interceptSd) ** 2 / 2;
  return f / n;
}

describe("monotone MAP Platt", () => {
  it("an anti-correlated score gets slope 0 (constant P), where plain Platt inverts it", () => {
    const { s, y } = sample(60, -2, 0.3, 1);
    expect(fitPlatt(s, y).a).toBeLessThan(-1); // the old fit: an anti-router
    const c = fitPlatt(s, y, { prior: STUDENT_PLATT_PRIOR, monotone: true });
    expect(c.a).toBe(0);
    expect(isConstant(c)).toBe(true);
    // On the a = 0 boundary b is optimal, and moving a up from 0 only costs (KKT for the clamp).
    const f0 = mapObjective(s, y, 0, c.b);
    for (const db of [-0.01, 0.01]) expect(mapObjective(s, y, 0, c.b + db)).toBeGreaterThan(f0);
    expect(mapObjective(s, y, 1e-3, c.b)).toBeGreaterThan(f0);
  });

  it("is the minimum of the penalised objective when the slope is positive", () => {
    const { s, y } = sample(80, 1.5, -0.5, 2);
    const c = fitPlatt(s, y, { prior: STUDENT_PLATT_PRIOR, monotone: true });
    expect(c.a).toBeGreaterThan(0);
    const f0 = mapObjective(s, y, c.a, c.b);
    for (const [da, db] of [[1e-3, 0], [-1e-3, 0], [0, 1e-3], [0, -1e-3], [1e-3, -1e-3]]) {
      expect(mapObjective(s, y, c.a + da, c.b + db)).toBeGreaterThan(f0);
    }
  });

  it("shrinks the slope toward 0 on a tiny cal split and barely on a large one", () => {
    // Slope of the MAP fit over the maximum-likelihood fit on the same rows.
    const ratio = (d: { s: number[]; y: number[] }) => fitPlatt(d.s, d.y, { prior: STUDENT_PLATT_PRIOR, monotone: true }).a / fitPlatt(d.s, d.y).a;
    const tiny = ratio(sample(12, 1, 0, 3));
    const small = ratio(sample(50, 1, 0, 3));
    const large = ratio(sample(2000, 1, 0, 3));
    expect(tiny).toBeGreaterThan(0);
    expect(tiny).toBeLessThan(small);
    expect(small).toBeLessThan(large);
    expect(tiny).toBeLessThan(0.8);
    expect(large).toBeGreaterThan(0.99);
  });

  it("without options keeps the plain Platt fit (probes use it unchanged)", () => {
    const { s, y } = sample(40, 1, 0, 4);
    const plain = fitPlatt(s, y);
    expect(fitPlatt(s, y, { monotone: false })).toEqual(plain);
    expect(fitPlatt(s, y, { monotone: true }).a).toBe(plain.a); // positive already: nothing to clamp
  });

  it("a constant score gives the smoothed base rate", () => {
    const c = fitPlatt([1, 1, 1, 1], [1, 1, 1, 0], { prior: STUDENT_PLATT_PRIOR, monotone: true });
    expect(c.a).toBe(0);
    expect(calibrate(5, c)).toBeGreaterThan(0.5);
    expect(calibrate(5, c)).toBeLessThan(0.75);
  });
});

describe("isotonic only with enough data", () => {
  const many = sample(ISOTONIC_MIN.n, 1, 0, 5);
  it("falls back to Platt below the minimum rows", () => {
    const few = sample(ISOTONIC_MIN.n - 1, 1, 0, 5);
    expect(fitMonotoneCalibration(few.s, few.y, "isotonic").method).toBe("platt");
    expect(fitMonotoneCalibration(many.s, many.y, "isotonic").method).toBe("isotonic");
    expect(fitMonotoneCalibration(many.s, many.y, "platt").method).toBe("platt");
  });
  it("falls back to Platt with too few positives", () => {
    const y = many.y.map((v, i) => (i < ISOTONIC_MIN.positives - 1 ? 1 : 0));
    expect(fitMonotoneCalibration(many.s, y, "isotonic").method).toBe("platt");
  });
});

describe("served map, manifest rules and warnings", () => {
  const stats = (signal: "ok" | "none"): CalibrationStats => ({ n: 50, positives: 20, method: signal === "ok" ? "platt" : "base-rate", val_n: 50, val_auroc: 0.52, val_auroc_lo: 0.4, val_alpha: 0.2, signal });
  const fitted = { kind: "platt" as const, a: 0.8, b: -0.1 };

  it("signal none serves the Laplace base rate whatever the score", () => {
    const c = servedCalibration(fitted, stats("none"));
    expect(c).toEqual(baseRateCalibration(50, 20));
    expect(calibrate(-9, c)).toBeCloseTo(21 / 52, 12);
    expect(calibrate(9, c)).toBeCloseTo(21 / 52, 12);
    expect(servedCalibration(fitted, stats("ok"))).toBe(fitted);
  });

  it("the manifest rejects an inverted or non-constant no-signal map once stats are present, and old manifests still parse", () => {
    const raw = JSON.parse(readFileSync("test/fixtures/bundles/fixture-tiny/manifest.json", "utf8"));
    const ids: string[] = raw.pool.map((p: { id: string }) => p.id);
    expect(Manifest.parse(raw).calibration_stats).toBeUndefined();
    const withStats = (cal: Record<string, unknown>, signal: "ok" | "none") => ({ ...raw, calibration: cal, calibration_stats: Object.fromEntries(ids.map((id) => [id, stats(signal)])) });
    const good = Object.fromEntries(ids.map((id) => [id, baseRateCalibration(50, 20)]));
    expect(Manifest.safeParse(withStats(good, "none")).success).toBe(true);
    expect(Manifest.safeParse(withStats(Object.fromEntries(ids.map((id) => [id, fitted])), "none")).success).toBe(false);
    expect(Manifest.safeParse(withStats(Object.fromEntries(ids.map((id) => [id, { kind: "platt", a: -0.5, b: 0 }])), "ok")).success).toBe(false);
    expect(Manifest.safeParse({ ...withStats(good, "none"), calibration_stats: {} }).success).toBe(false);
  });

  it("the build's warning table lists models without signal and flat maps, and nothing when all is well", () => {
    const flat = { ...stats("ok"), val_auroc_lo: 0.6 };
    const lines = calibrationWarnings({
      calibration: { a: baseRateCalibration(50, 20), b: fitted, c: { kind: "platt", a: 0, b: 0 } },
      stats: { a: stats("none"), b: { ...stats("ok"), val_auroc_lo: 0.6 }, c: flat },
    });
    expect(lines[0]).toMatch(/WARNING: 2 of 3 models/);
    expect(lines.slice(2).map((l) => l.split(" | ")[0].trim())).toEqual(["a", "c"]);
    expect(lines[2]).toMatch(/served constant base rate P=0\.404/);
    expect(calibrationWarnings({ calibration: { b: fitted }, stats: { b: flat } })).toEqual([]);
  });

  it("validation AUROC interval: a perfect score is signal, a constant one is not", () => {
    const y = Array.from({ length: 40 }, (_, i) => i % 2);
    expect(validationAuroc(y.map((v, i) => v + i * 1e-3), y, 1).lo).toBeGreaterThan(0.9);
    const flatScore = validationAuroc(y.map(() => 0), y, 1);
    expect(flatScore.auroc).toBe(0.5);
    expect(flatScore.lo).toBe(0.5);
  });
});
