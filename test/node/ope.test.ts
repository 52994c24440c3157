// Off-policy evaluation against a known world: contexts have a difficulty
// d ~ U(0,1); each model's true P(success) is linear in d and its cost is fixed
// (realised cost = cost × U(0.5,1.5), mean cost). The logged p IS the true p,
// so q̂ is exact in expectation. Logging is ε-greedy around a threshold policy
// with the true propensities. A target policy's true success rate and mean cost
// are integrals over d, computed exactly (piecewise-linear integrands, midpoint
// rule on a fine grid; cross-checked against a closed form).
import { describe, expect, it } from "vitest";
import type { JoinedDecision } from "../../src/core/decision-record.js";
import { choose, type Policy, type Scored } from "../../src/core/policy.js";
import { mulberry32 } from "../../src/core/random.js";
import { defaultLambdaGrid, evaluatePolicy, opeGrid, opeRows, targetModel } from "../../src/core/report/ope.js";

const MODELS = [
  { model: "small", cost: 0.001, p: (d: number) => 0.9 - 0.7 * d },
  { model: "mid", cost: 0.004, p: (d: number) => 0.95 - 0.45 * d },
  { model: "big", cost: 0.01, p: (d: number) => 0.97 - 0.25 * d },
];
const LOGGING: Policy = { type: "threshold", min_p: 0.85 };

const cands = (d: number): Scored[] => MODELS.map((m) => ({ model: m.model, p: m.p(d), cost: m.cost }));

function simulate(n: number, eps: number, seed: number): JoinedDecision[] {
  const rng = mulberry32(seed);
  const rows: JoinedDecision[] = [];
  for (let i = 0; i < n; i++) {
    const d = rng();
    const cs = cands(d);
    const greedy = (choose(cs, LOGGING) as { model: string }).model;
    const explored = rng() < eps;
    const action = explored ? cs[Math.floor(rng() * cs.length)].model : greedy;
    const propensity = (1 - eps) * (action === greedy ? 1 : 0) + eps / cs.length;
    const c = cs.find((x) => x.model === action)!;
    const reward = rng() < c.p ? 1 : 0;
    rows.push({
      decision_id: `r${i}`,
      ts: i,
      key_id: "k",
      experiment: "ope",
      variant: "explore",
      bundle_id: "b",
      policy: LOGGING,
      candidates: cs.map((x) => ({ ...x, utility: null })),
      chosen: action,
      propensity,
      explored,
      prompt_hmac: "h",
      input_tokens: 1,
      prompt_text: null,
      reward,
      realised_cost: c.cost * (0.5 + rng()),
    });
  }
  return rows;
}

/** Exact value of a policy in the world: ∫₀¹ p(d, π(d)) dd and ∫₀¹ cost(π(d)) dd. */
function truth(policy: Policy, steps = 40_000): { success: number; cost: number } {
  let s = 0;
  let c = 0;
  for (let i = 0; i < steps; i++) {
    const d = (i + 0.5) / steps;
    const cs = cands(d);
    const m = (choose(cs, policy) as { model: string }).model;
    const pick = cs.find((x) => x.model === m)!;
    s += pick.p;
    c += pick.cost;
  }
  return { success: s / steps, cost: c / steps };
}

const EPS = 0.3;
const N = 20_000;
const rows = simulate(N, EPS, 20240601);
const prepared = opeRows(rows).rows;

describe("truth of the known world", () => {
  it("the integrator agrees with the closed form for threshold 0.7", () => {
    // small while .9−.7d ≥ .7 (d ≤ 2/7), mid while .95−.45d ≥ .7 (d ≤ 5/9), else big
    const F = (a: number, b: number, c0: number, c1: number) => c0 * (b - a) - (c1 * (b * b - a * a)) / 2;
    const s = F(0, 2 / 7, 0.9, 0.7) + F(2 / 7, 5 / 9, 0.95, 0.45) + F(5 / 9, 1, 0.97, 0.25);
    const c = 0.001 * (2 / 7) + 0.004 * (5 / 9 - 2 / 7) + 0.01 * (4 / 9);
    const t = truth({ type: "threshold", min_p: 0.7 });
    expect(t.success).toBeCloseTo(s, 5);
    expect(t.cost).toBeCloseTo(c, 6);
  });
});

describe("IPS and DR on an ε-greedy log", () => {
  const targets: Policy[] = [
    { type: "threshold", min_p: 0.7 },
    { type: "utility", lambda: 50 },
    { type: "fixed", model: "big" },
    { type: "budget", max_cost_usd: 0.005 },
  ];
  for (const policy of targets) {
    it(`recovers the truth for ${JSON.stringify(policy)}`, () => {
      const t = truth(policy);
      const e = evaluatePolicy(prepared, policy);
      expect(e.n).toBe(N);
      for (const metric of ["success", "cost"] as const) {
        for (const est of ["ips", "dr"] as const) {
          const x = e[metric][est];
          // inside the 95% interval, and close in absolute terms
          expect(t[metric]).toBeGreaterThanOrEqual(x.lo!);
          expect(t[metric]).toBeLessThanOrEqual(x.hi!);
          const tol = metric === "success" ? 0.04 : 0.05 * t.cost; // absolute for rates, 5% for cost
          expect(Math.abs(x.value! - t[metric])).toBeLessThan(tol);
        }
        // q̂ is the true conditional mean, so DR's per-row terms vary less than IPS's
        expect(e[metric].dr.se!).toBeLessThan(e[metric].ips.se!);
      }
    });
  }

  it("the logging policy's own value: match rate ≈ 1 − ε + ε/K", () => {
    const e = evaluatePolicy(prepared, LOGGING);
    expect(e.match_rate!).toBeCloseTo(1 - EPS + EPS / 3, 1);
    const t = truth(LOGGING);
    expect(Math.abs(e.success.dr.value! - t.success)).toBeLessThan(0.01);
  });

  it("grids: every point's DR interval covers the truth for nearly all points", () => {
    const g = opeGrid(rows, { lambdaGrid: [0, 10, 30, 100, 300, 1000], thresholdGrid: [0.3, 0.5, 0.6, 0.7, 0.8, 0.9] });
    expect(g.sample.rows_used).toBe(N);
    let covered = 0;
    let total = 0;
    for (const [kind, pts] of [["utility", g.utility], ["threshold", g.threshold]] as const) {
      for (const pt of pts) {
        const pol: Policy = kind === "utility" ? { type: "utility", lambda: pt.x } : { type: "threshold", min_p: pt.x };
        const t = truth(pol, 5_000);
        for (const est of [pt.success.dr, pt.success.ips]) {
          total++;
          if (t.success >= est.lo! && t.success <= est.hi!) covered++;
          expect(Math.abs(est.value! - t.success)).toBeLessThan(4 * est.se! + 1e-9);
        }
      }
    }
    expect(covered / total).toBeGreaterThanOrEqual(0.85);
  });

  it("a default λ grid spans the cost scale and starts at 0", () => {
    const grid = defaultLambdaGrid(prepared);
    expect(grid[0]).toBe(0);
    for (let i = 1; i < grid.length; i++) expect(grid[i]).toBeGreaterThan(grid[i - 1]);
    // median candidate cost is .004: grid reaches ≤ .01/.004 and ≥ 10/.004
    expect(grid[1]).toBeLessThanOrEqual(2.5);
    expect(grid[grid.length - 1]).toBeGreaterThanOrEqual(2500);
  });
});

describe("support and exclusions", () => {
  it("a deterministic log gives no support to other actions: IPS for another policy is biased low", () => {
    const det = simulate(5_000, 0, 9);
    const target: Policy = { type: "fixed", model: "small" };
    const e = evaluatePolicy(opeRows(det).rows, target);
    expect(e.match_rate!).toBeLessThan(0.5);
    expect(e.success.ips.value!).toBeLessThan(truth(target).success - 0.2);
  });

  it("drops rows without feedback, with zero propensity or abstaining, and counts them", () => {
    const few = simulate(10, EPS, 3);
    few[0] = { ...few[0], reward: null };
    few[1] = { ...few[1], propensity: 0 };
    few[2] = { ...few[2], chosen: null, reward: null, realised_cost: null };
    const { rows: used, sample } = opeRows(few);
    expect(used).toHaveLength(7);
    expect(sample).toEqual({ rows_used: 7, rows_usable: 7, sampling_rate: 1, excluded_no_feedback: 1, excluded_zero_propensity: 1, excluded_abstain: 1 });
  });

  it("all-null estimates with no usable rows", () => {
    const e = evaluatePolicy([], { type: "threshold", min_p: 0.5 });
    expect(e.match_rate).toBeNull();
    expect(e.success.dr).toEqual({ value: null, lo: null, hi: null, se: null });
  });
});

describe("targetModel", () => {
  it("picks exactly what core choose() picks, ties included", () => {
    const rng = mulberry32(77);
    const ids = ["a", "b", "c", "d", "e", "f"];
    for (let trial = 0; trial < 2000; trial++) {
      const k = 1 + Math.floor(rng() * ids.length);
      // coarse grids make ties in p, cost and utility common
      const cs: Scored[] = ids.slice(0, k).map((model) => ({ model, p: Math.round(rng() * 5) / 5, cost: Math.round(rng() * 3) / 1000 }));
      if (rng() < 0.5) cs.reverse();
      const policies: Policy[] = [
        { type: "utility", lambda: [0, 100, 200, 1000][Math.floor(rng() * 4)] },
        { type: "utility", value_usd: [0.001, 0.005, 1][Math.floor(rng() * 3)] },
        { type: "threshold", min_p: Math.round(rng() * 5) / 5 },
        { type: "budget", max_cost_usd: Math.round(rng() * 3) / 1000 },
        { type: "fixed", model: "b" },
      ];
      for (const pol of policies) {
        const c = choose(cs, pol);
        expect(targetModel(cs, pol)).toBe(c.kind === "route" ? c.model : null);
      }
    }
  });
});
