// Known-answer tests for src/core/report: a hand-made 11-row log with every
// expected figure worked out by hand in the comments (Wilson intervals are the
// textbook 3/4 and 2/4 values), plus report assembly and schema checks.
import { describe, expect, it } from "vitest";
import type { JoinedDecision } from "../../src/core/decision-record.js";
import type { Policy } from "../../src/core/policy.js";
import { ExperimentReport, experimentReport } from "../../src/core/report/experiment-report.js";
import { diffBootstrap, wilson } from "../../src/core/report/stats.js";
import { calibration, variantDifference, variantStats } from "../../src/core/report/variant-stats.js";

let seq = 0;
function row(variant: string, policy: Policy, chosen: string | null, p: { small: number; big: number }, reward: number | null, realised: number | null, extra: Partial<JoinedDecision> = {}): JoinedDecision {
  return {
    decision_id: `d${seq++}`,
    ts: 1_700_000_000_000 + seq,
    key_id: "k",
    experiment: "exp",
    variant,
    bundle_id: "b1",
    policy,
    candidates: [
      { model: "small", p: p.small, cost: 0.001, utility: null },
      { model: "big", p: p.big, cost: 0.01, utility: null },
    ],
    chosen,
    propensity: 1,
    explored: false,
    prompt_hmac: "h",
    input_tokens: 10,
    prompt_text: null,
    reward,
    realised_cost: realised,
    ...extra,
  };
}

const FIXED: Policy = { type: "fixed", model: "big" };
const THR: Policy = { type: "threshold", min_p: 0.7 };

// control: always "big". Rewards 1,1,0,·,1 → 3 successes of 4 with feedback.
const control = [
  row("control", FIXED, "big", { small: 0.5, big: 0.95 }, 1, 0.01),
  row("control", FIXED, "big", { small: 0.5, big: 0.85 }, 1, 0.012),
  row("control", FIXED, "big", { small: 0.5, big: 0.85 }, 0, 0.01),
  row("control", FIXED, "big", { small: 0.5, big: 0.55 }, null, 0.008),
  row("control", FIXED, "big", { small: 0.5, big: 0.95 }, 1, 0.01),
];
// treat: small,small,big,abstain,small,small. Feedback on rows 1,2,3,5 → 2 successes of 4.
const treat = [
  row("treat", THR, "small", { small: 0.75, big: 0.9 }, 1, 0.001),
  row("treat", THR, "small", { small: 0.72, big: 0.9 }, 0, 0.001),
  row("treat", THR, "big", { small: 0.6, big: 0.9 }, 1, 0.01),
  row("treat", THR, null, { small: 0.1, big: 0.2 }, null, null),
  row("treat", THR, "small", { small: 0.15, big: 0.12 }, 0, 0.002),
  row("treat", THR, "small", { small: 0.78, big: 0.9 }, null, null), // no feedback: cost falls back to logged 0.001
];

describe("Wilson interval", () => {
  it("matches textbook values", () => {
    const a = wilson(3, 4);
    expect(a.value).toBe(0.75);
    expect(a.lo).toBeCloseTo(0.300642, 5);
    expect(a.hi).toBeCloseTo(0.954413, 5);
    const b = wilson(2, 4);
    expect(b.lo).toBeCloseTo(0.150039, 5);
    expect(b.hi).toBeCloseTo(0.849961, 5);
  });
  it("has the closed forms at 0/n and n/n: z²/(n+z²) and n/(n+z²)", () => {
    const z2 = 1.959963984540054 ** 2;
    expect(wilson(0, 10).lo).toBe(0);
    expect(wilson(0, 10).hi).toBeCloseTo(z2 / (10 + z2), 12);
    expect(wilson(10, 10).lo).toBeCloseTo(10 / (10 + z2), 12);
    expect(wilson(10, 10).hi).toBeCloseTo(1, 12);
  });
  it("is all-null with no data", () => {
    expect(wilson(0, 0)).toEqual({ value: null, lo: null, hi: null });
  });
});

describe("variant stats", () => {
  const c = variantStats("control", control);
  const t = variantStats("treat", treat);

  it("counts requests, feedback and abstains", () => {
    expect(c.requests).toBe(5);
    expect(c.with_feedback).toBe(4);
    expect(c.feedback_share).toBeCloseTo(0.8, 12);
    expect(t.requests).toBe(6);
    expect(t.with_feedback).toBe(4);
    expect(t.abstains).toBe(1);
    expect(c.policy).toEqual(FIXED);
    expect(c.bundles).toEqual(["b1"]);
  });

  it("success rate with Wilson 95% CI", () => {
    expect(c.success.value).toBe(0.75);
    expect(c.success.lo).toBeCloseTo(0.300642, 5);
    expect(t.success.value).toBe(0.5);
    expect(t.success.hi).toBeCloseTo(0.849961, 5);
  });

  it("mean cost, total cost and cost per success", () => {
    // control: (.01+.012+.01+.008+.01)/5 = .01; per success: (.01+.012+.01+.01)/3 = .014
    expect(c.mean_cost.value).toBeCloseTo(0.01, 12);
    expect(c.total_cost).toBeCloseTo(0.05, 12);
    expect(c.cost_per_success).toBeCloseTo(0.014, 12);
    // treat, routed rows: .001+.001+.01+.002+.001 = .015 over 5 → .003; per success (.001+.001+.01+.002)/2 = .007
    expect(t.mean_cost.value).toBeCloseTo(0.003, 12);
    expect(t.total_cost).toBeCloseTo(0.015, 12);
    expect(t.cost_per_success).toBeCloseTo(0.007, 12);
    // normal interval: sample sd of control costs = √((0+4e-6+0+4e-6+0)/4) = √2e-6; se = that/√5
    const se = Math.sqrt(2e-6 / 5);
    expect(c.mean_cost.lo).toBeCloseTo(0.01 - 1.959963984540054 * se, 12);
  });

  it("cost per success is null without a success", () => {
    const none = variantStats("x", [row("x", THR, "small", { small: 0.5, big: 0.9 }, 0, 0.001)]);
    expect(none.cost_per_success).toBeNull();
    expect(none.success.value).toBe(0);
  });

  it("model mix counts abstains as model null, sorted by count", () => {
    expect(t.model_mix.map((m) => [m.model, m.count])).toEqual([
      ["small", 4],
      ["big", 1],
      [null, 1],
    ]);
    const small = t.model_mix[0];
    expect(small.share).toBeCloseTo(4 / 6, 12);
    expect(small.with_feedback).toBe(3);
    expect(small.success_rate).toBeCloseTo(1 / 3, 12);
    expect(small.mean_cost).toBeCloseTo(0.00125, 12); // (.001+.001+.002+.001)/4
    expect(t.model_mix[2]).toEqual({ model: null, count: 1, share: 1 / 6, with_feedback: 0, success_rate: null, mean_cost: null });
  });

  it("calibration bins and ECE", () => {
    // control pairs (.95,1) (.85,1) (.85,0) (.95,1): bin 8 mean_p .85 obs .5; bin 9 mean_p .95 obs 1
    // ECE = .5·.35 + .5·.05 = .2; Brier = (.0025+.0225+.7225+.0025)/4 = .1875
    expect(c.calibration.n).toBe(4);
    expect(c.calibration.ece).toBeCloseTo(0.2, 12);
    expect(c.calibration.brier).toBeCloseTo(0.1875, 12);
    expect(c.calibration.bins).toHaveLength(10);
    expect(c.calibration.bins[8]).toMatchObject({ bin_lo: 0.8, bin_hi: 0.9, count: 2, observed: 0.5 });
    expect(c.calibration.bins[8].mean_p).toBeCloseTo(0.85, 12);
    expect(c.calibration.bins[9].mean_p).toBeCloseTo(0.95, 12);
    expect(c.calibration.bins[0]).toEqual({ bin_lo: 0, bin_hi: 0.1, mean_p: null, observed: null, count: 0 });
    // treat pairs (.75,1) (.72,0) (.9,1) (.15,0): bin 7 (.735 vs .5), bin 9 (.9 vs 1), bin 1 (.15 vs 0)
    // ECE = (2·.235 + .1 + .15)/4 = .18
    expect(t.calibration.ece).toBeCloseTo(0.18, 12);
    expect(t.calibration.bins[7].count).toBe(2);
    expect(t.calibration.bins[1].count).toBe(1);
  });

  it("puts p = 1 in the last bin and p = 0 in the first", () => {
    const cal = calibration([
      { p: 1, y: 1 },
      { p: 0, y: 0 },
    ]);
    expect(cal.bins[9].count).toBe(1);
    expect(cal.bins[0].count).toBe(1);
    expect(cal.ece).toBe(0);
  });
});

describe("variant differences", () => {
  it("success difference uses the two-proportion normal interval", () => {
    const d = variantDifference({ name: "control", rows: control }, { name: "treat", rows: treat }, 7);
    // .5 − .75 = −.25; se = √(.75·.25/4 + .5·.5/4) = √.109375
    expect(d.success_diff.value).toBeCloseTo(-0.25, 12);
    expect(d.success_diff.lo).toBeCloseTo(-0.898197, 5);
    expect(d.success_diff.hi).toBeCloseTo(0.398197, 5);
    expect(d.mean_cost_diff.value).toBeCloseTo(-0.007, 12);
    expect(d.mean_cost_diff.lo!).toBeLessThan(-0.007);
    expect(d.mean_cost_diff.hi!).toBeGreaterThan(-0.007);
  });
  it("bootstrap is reproducible from its seed and collapses on constant data", () => {
    const a = [1.3, 2.9, 3.1, 4.7, 5.2, 6.8, 0.4];
    const b = [2.2, 4.9, 6.1, 8.3, 1.7];
    expect(diffBootstrap(a, b, 3)).toEqual(diffBootstrap(a, b, 3));
    expect(diffBootstrap(a, b, 3)).not.toEqual(diffBootstrap(a, b, 4));
    expect(diffBootstrap([2, 2, 2], [5, 5], 1)).toEqual({ value: 3, lo: 3, hi: 3 });
  });
});

describe("experimentReport", () => {
  const other = { ...control[0], decision_id: "other", experiment: "something-else" };
  const rep = experimentReport("exp", [...treat, ...control, other], { seed: 11 });

  it("orders control first, compares every variant with it and validates against its schema", () => {
    expect(rep.control).toBe("control");
    expect(rep.variants.map((v) => v.variant)).toEqual(["control", "treat"]);
    expect(rep.differences).toHaveLength(1);
    expect(rep.differences[0]).toMatchObject({ variant: "treat", control: "control" });
    expect(rep.generated_from).toEqual({ rows: 11, with_feedback: 8, seed: 11 });
    expect(() => ExperimentReport.parse(rep)).not.toThrow();
    expect(JSON.parse(JSON.stringify(rep))).toEqual(rep);
  });

  it("has no OPE when no variant explored, and says why", () => {
    expect(rep.ope).toBeNull();
    expect(rep.ope_note).toMatch(/no variant logged exploration/);
  });

  it("honours a given variant order, listing variants with no traffic", () => {
    const r = experimentReport("exp", [...control, ...treat], { seed: 1, variants: ["treat", "ghost", "control"] });
    expect(r.variants.map((v) => [v.variant, v.requests])).toEqual([
      ["treat", 6],
      ["ghost", 0],
      ["control", 5],
    ]);
    expect(r.differences.map((d) => d.variant)).toEqual(["ghost", "control"]);
    expect(r.differences[0].success_diff.value).toBeNull();
    expect(() => ExperimentReport.parse(r)).not.toThrow();
  });

  it("runs OPE over exploring variants only", () => {
    const explore = treat.map((r, i) => ({ ...r, variant: "explore", decision_id: `e${i}`, propensity: i === 2 ? 0.1 : 0.9, explored: i === 2 }));
    const r = experimentReport("exp", [...control, ...explore], { seed: 2, lambdaGrid: [0, 100], thresholdGrid: [0.5] });
    expect(r.ope).not.toBeNull();
    expect(r.ope!.variants).toEqual(["explore"]);
    expect(r.ope!.grid.sample).toEqual({ rows_used: 4, rows_usable: 4, sampling_rate: 1, excluded_no_feedback: 1, excluded_zero_propensity: 0, excluded_abstain: 1 });
    expect(r.ope!.grid.utility.map((g) => g.x)).toEqual([0, 100]);
    expect(r.ope!.logged_policies.map((l) => l.variant)).toEqual(["control", "explore"]);
    expect(r.ope_note).toMatch(/only the exploring variants: explore/);
    expect(() => ExperimentReport.parse(r)).not.toThrow();
  });

  it("is empty but valid with no rows", () => {
    const r = experimentReport("nothing", [], { seed: 0 });
    expect(r.variants).toEqual([]);
    expect(r.control).toBeNull();
    expect(() => ExperimentReport.parse(r)).not.toThrow();
  });
});

describe("OpenAPI", () => {
  it("ExperimentReport generates an OpenAPI 3.1 component", async () => {
    const { OpenAPIRegistry, OpenApiGeneratorV31 } = await import("@asteasolutions/zod-to-openapi");
    const r = new OpenAPIRegistry();
    r.registerPath({
      method: "get",
      path: "/v1/experiments/{name}/report",
      responses: { 200: { description: "report", content: { "application/json": { schema: ExperimentReport } } } },
    });
    const doc = new OpenApiGeneratorV31(r.definitions).generateDocument({ openapi: "3.1.0", info: { title: "t", version: "1" } });
    const schemas = (doc.components?.schemas ?? {}) as Record<string, { properties?: Record<string, unknown> }>;
    expect(Object.keys(schemas)).toEqual(expect.arrayContaining(["ExperimentReport", "VariantStats"]));
    expect(Object.keys(schemas.ExperimentReport.properties ?? {})).toEqual(
      expect.arrayContaining(["experiment", "variants", "differences", "ope", "generated_from"]),
    );
  });
});

describe("large-sample cost difference", () => {
  it("switches from the bootstrap to Welch above BOOTSTRAP_MAX_N costs", async () => {
    const { BOOTSTRAP_MAX_N } = await import("../../src/core/report/variant-stats.js");
    const big = (variant: string, cost: (i: number) => number) =>
      Array.from({ length: BOOTSTRAP_MAX_N / 2 + 1 }, (_, i) => row(variant, FIXED, "big", { small: 0.5, big: 0.9 }, i % 2, cost(i)));
    const a = big("control", (i) => 0.01 + (i % 3) * 0.001); // costs .01, .011, .012 equally often
    const b = big("treat", (i) => 0.02 + (i % 3) * 0.001);
    const d = variantDifference({ name: "control", rows: a }, { name: "treat", rows: b }, 1);
    expect(d.mean_cost_method).toBe("welch");
    expect(d.mean_cost_diff.value).toBeCloseTo(0.01, 4);
    // Welch se ≈ √(2·var/n) with var ≈ (2/3)e-6
    const n = a.length;
    expect(d.mean_cost_diff.hi! - d.mean_cost_diff.value!).toBeCloseTo(1.959963984540054 * Math.sqrt((2 * (2 / 3) * 1e-6 * n) / (n - 1) / n), 6);
    expect(variantDifference({ name: "control", rows: control }, { name: "treat", rows: treat }, 1).mean_cost_method).toBe("bootstrap");
  });
});
