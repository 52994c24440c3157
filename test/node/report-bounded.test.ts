// The bounded-memory report path (core/report/summary.ts: sufficient
// statistics + OPE streamed in pages) gives the same report as the in-memory
// reference experimentReport on random logs with every edge the log can
// hold: rows without a variant, abstains, a chosen model missing from the
// candidates, scores and 0/1 successes, feedback with and without a cost,
// zero propensities, two bundles, equal timestamps. Both the bootstrap
// (small) and the Welch (large) cost difference are covered. The worker's
// SQL is checked against the same reference in test/worker/trust-report.test.ts.
import { describe, expect, it } from "vitest";
import type { JoinedDecision } from "../../src/core/decision-record.js";
import { choose, type Policy } from "../../src/core/policy.js";
import { mulberry32 } from "../../src/core/random.js";
import { ExperimentReport, experimentReport, NO_VARIANT, type ReportOptions } from "../../src/core/report/experiment-report.js";
import { defaultLambdaGrid, LAMBDA_ANCHOR_ROWS, opeRows, OpeStream } from "../../src/core/report/ope.js";
import { hash32, hash32Sql, OPE_MAX_ROWS, sampleThreshold } from "../../src/core/report/ope-sampling.js";
import { boundedReport, summarise, type ReportSource } from "../../src/core/report/summary.js";
import { samples } from "../../src/core/report/variant-stats.js";
import { expectClose } from "../worker/report-fixtures.js";

const MODELS = [
  { model: "small", cost: 2e-6, q: 0.55 },
  { model: "mid", cost: 9e-6, q: 0.75 },
  { model: "big", cost: 4e-5, q: 0.9 },
];
const VARIANTS: { name: string | null; policy: Policy; eps: number }[] = [
  { name: "control", policy: { type: "fixed", model: "big" }, eps: 0 },
  { name: "threshold", policy: { type: "threshold", min_p: 0.7 }, eps: 0 },
  { name: "explore", policy: { type: "utility", lambda: 3000 }, eps: 0.3 },
  { name: null, policy: { type: "threshold", min_p: 0.6 }, eps: 0.5 },
];

/** A random joined log shaped as the worker's D1 join returns it (realised_cost = cost_usd ?? logged cost, 0 for abstains). */
function randomLog(n: number, seed: number): JoinedDecision[] {
  const rng = mulberry32(seed);
  const rows: JoinedDecision[] = [];
  for (let i = 0; i < n; i++) {
    const v = VARIANTS[Math.floor(rng() * (rng() < 0.05 ? 4 : 3))];
    const tokens = 10 + Math.floor(rng() * 2000);
    const cs = MODELS.map((m) => ({ model: m.model, p: Math.min(0.99, Math.max(0, m.q + 0.3 * (rng() - 0.5))), cost: m.cost * tokens, utility: null }));
    const greedy = (choose(cs, v.policy) as { model: string }).model;
    const explored = v.eps > 0 && rng() < v.eps;
    const roll = rng();
    const chosen = roll < 0.03 ? null : roll < 0.04 ? "ghost" : explored ? cs[Math.floor(rng() * cs.length)].model : greedy;
    const propensity = roll < 0.06 && v.eps > 0 ? 0 : v.eps === 0 ? 1 : (1 - v.eps) * (chosen === greedy ? 1 : 0) + v.eps / cs.length;
    const expected = cs.find((c) => c.model === chosen)?.cost ?? null;
    const hasFb = chosen !== null && rng() < 0.6;
    const score = rng() < 0.3;
    const p = cs.find((c) => c.model === chosen)?.p ?? 0.5;
    const reward = hasFb ? (score ? Math.round(rng() * 1000) / 1000 : rng() < p ? 1 : 0) : null;
    const costUsd = hasFb && rng() < 0.5 ? (expected ?? 1e-5) * (0.5 + rng()) : null;
    rows.push({
      decision_id: `d${String(i).padStart(6, "0")}`,
      ts: 1_700_000_000_000 + Math.floor(i / 3), // three rows share each timestamp
      key_id: "k",
      experiment: "exp",
      variant: v.name,
      bundle_id: rng() < 0.8 ? "b1" : "b2",
      policy: v.policy,
      candidates: cs,
      chosen,
      propensity,
      explored,
      prompt_hmac: "h",
      input_tokens: tokens,
      prompt_text: null,
      reward,
      realised_cost: costUsd ?? (chosen === null ? 0 : expected),
    });
  }
  return rows;
}

/**
 * The rows as a ReportSource, as D1 serves them: rowid = position in `rows` + 1, OPE rows in rowid order
 * in pages of `pageRows`, subsampled by the same hash of the rowid below rate 1.
 */
function memorySource(rows: JoinedDecision[], pageRows: number): ReportSource {
  const of = (v: string) => rows.filter((r) => (r.variant ?? NO_VARIANT) === v);
  return {
    summary: async () => summarise(rows),
    async *opePages(v, rate) {
      const keep = rows.map((r, i) => ({ r, rowid: i + 1 })).filter(({ r, rowid }) => (r.variant ?? NO_VARIANT) === v && hash32(rowid) < sampleThreshold(rate));
      const usable = opeRows(keep.map((k) => k.r)).rows;
      for (let i = 0; i < usable.length; i += pageRows) yield usable.slice(i, i + pageRows);
    },
    costs: async (v) => samples(of(v)).costs,
  };
}

async function both(rows: JoinedDecision[], opts: ReportOptions, pageRows: number) {
  const reference = experimentReport("exp", rows, opts);
  const bounded = await boundedReport("exp", memorySource(rows, pageRows), opts);
  return { reference, bounded };
}

describe("bounded report ≡ in-memory experimentReport", () => {
  it("small log: bootstrap cost difference, default λ grid, OPE over many small pages", async () => {
    const rows = randomLog(1500, 7);
    const { reference, bounded } = await both(rows, { seed: 3, variants: ["control", "threshold", "explore"] }, 7);
    expect(reference.differences.map((d) => d.mean_cost_method)).toEqual(["bootstrap", "bootstrap", "bootstrap"]);
    expect(reference.ope!.grid.sample.rows_used).toBeGreaterThan(100);
    expect(reference.ope!.grid.sample.excluded_zero_propensity).toBeGreaterThan(0);
    expect(reference.variants.map((v) => v.variant)).toContain(NO_VARIANT);
    expectClose(bounded, reference);
    expect(() => ExperimentReport.parse(bounded)).not.toThrow();
  });

  it("large log: Welch cost difference (bootstrap for the small no-variant arm), OPE rows beyond the λ anchor, pages of 2,000", async () => {
    const rows = randomLog(60_000, 11);
    const { reference, bounded } = await both(rows, { seed: 1, variants: ["control", "threshold", "explore"], opeMaxRows: Infinity }, 2000);
    expect(reference.differences.map((d) => [d.variant, d.mean_cost_method])).toEqual([
      ["threshold", "welch"],
      ["explore", "welch"],
      [NO_VARIANT, "bootstrap"],
    ]);
    expect(reference.ope!.grid.sample.rows_used).toBeGreaterThan(3 * LAMBDA_ANCHOR_ROWS);
    // The default λ grid comes from the first LAMBDA_ANCHOR_ROWS usable rows (here the same decades as from all of them).
    const exploring = [...rows.filter((r) => r.variant === "explore"), ...rows.filter((r) => r.variant === null)];
    expect(bounded.ope!.grid.utility.map((g) => g.x)).toEqual(defaultLambdaGrid(opeRows(exploring).rows.slice(0, LAMBDA_ANCHOR_ROWS)));
    expectClose(bounded, reference);
  });

  it("a given λ grid needs no anchor; no exploring variant gives the same note; no rows gives the empty report", async () => {
    const rows = randomLog(4000, 5);
    const grids = { lambdaGrid: [0, 10, 1e4, 1e6], thresholdGrid: [0.5, 0.8] };
    const g = await both(rows, { seed: 2, ...grids }, 100);
    expectClose(g.bounded, g.reference);
    const greedyOnly = rows.filter((r) => r.variant === "control" || r.variant === "threshold");
    const d = await both(greedyOnly, { seed: 2 }, 100);
    expect(d.bounded.ope).toBeNull();
    expectClose(d.bounded, d.reference);
    const e = await both([], { seed: 0, variants: ["control"] }, 100);
    expectClose(e.bounded, e.reference);
  });
});

describe("OPE subsample beyond OPE_MAX_ROWS", () => {
  it("evaluates about OPE_MAX_ROWS rows and stays within 4·se·√(1 − n/N) of the all-rows estimate", async () => {
    const rows = randomLog(90_000, 13);
    const opts = { seed: 1, variants: ["control", "threshold", "explore"] };
    const all = await boundedReport("exp", memorySource(rows, 2000), { ...opts, opeMaxRows: Infinity });
    const sub = await boundedReport("exp", memorySource(rows, 2000), opts);
    const N = all.ope!.grid.sample.rows_used;
    const n = sub.ope!.grid.sample.rows_used;
    expect(N).toBeGreaterThan(1.5 * OPE_MAX_ROWS);
    expect(sub.ope!.grid.sample).toMatchObject({ rows_usable: N, sampling_rate: OPE_MAX_ROWS / N });
    expect(Math.abs(n - OPE_MAX_ROWS)).toBeLessThan(4 * Math.sqrt(OPE_MAX_ROWS)); // Bernoulli(rate) count
    // Everything but OPE is exact.
    expectClose({ ...sub, ope: null }, { ...all, ope: null });
    const pairs = [...sub.ope!.grid.utility.map((g, i) => [g, all.ope!.grid.utility[i]]), ...sub.ope!.grid.threshold.map((g, i) => [g, all.ope!.grid.threshold[i]])];
    let checked = 0;
    for (const [s, a] of pairs) {
      expect(s.x).toBe(a.x);
      for (const m of ["success", "cost"] as const) {
        for (const e of ["ips", "dr"] as const) {
          const [es, ea] = [s[m][e], a[m][e]];
          if (es.value === null || ea.value === null) continue;
          expect(Math.abs(es.value - ea.value), `${m}.${e} at x=${s.x}`).toBeLessThanOrEqual(4 * es.se! * Math.sqrt(1 - n / N) + 1e-12);
          checked++;
        }
      }
    }
    expect(checked).toBeGreaterThan(50);
  });

  it("hash32 is a fixed 32-bit avalanche hash; its SQL twin is built from SQLite's integer operators only", () => {
    expect(hash32(2 ** 32 + 5)).toBe(hash32(5)); // the low 32 bits of the id
    const hs = Array.from({ length: 20_000 }, (_, i) => hash32(i + 1));
    expect(new Set(hs).size).toBe(hs.length); // a bijection on 32 bits: no collisions
    const kept = hs.filter((h) => h < sampleThreshold(0.25)).length;
    expect(Math.abs(kept - 5000)).toBeLessThan(4 * Math.sqrt(20_000 * 0.25 * 0.75));
    expect(hash32Sql("rowid")).not.toMatch(/\^|~|%/);
  });
});

describe("OpeStream", () => {
  it("gives identical estimates whatever the page size (the anchor is a row count, not a page)", () => {
    const prep = opeRows(randomLog(20_000, 3).filter((r) => r.variant === "explore"));
    const run = (page: number) => {
      const s = new OpeStream({ logged: [{ variant: "explore", policy: { type: "threshold", min_p: 0.7 } }] });
      for (let i = 0; i < prep.rows.length; i += page) s.add(prep.rows.slice(i, i + page));
      return s.finish(prep.sample);
    };
    expect(run(1)).toEqual(run(4999));
  });
});
