/**
 * Off-policy evaluation of routing policies from the decision log: IPS and
 * doubly-robust estimates of a target policy's success rate and mean cost,
 * with normal-approximation 95% intervals over the per-row terms, and grids
 * over utility λ and threshold min_p. Pure: no I/O, no clock.
 *
 * Assumptions (the estimates are only as good as these):
 * - `propensity` is the TRUE probability with which the logging policy chose
 *   the logged model given the logged candidates (e.g. ε-greedy:
 *   (1−ε)·1[greedy] + ε/K). Rounded, clipped or guessed propensities bias IPS/DR.
 * - Support: a deterministic logging policy (propensity 1, never explores)
 *   gives no information about the models it never picks, so the target
 *   policy's disagreeing rows contribute nothing and IPS is biased towards 0.
 *   Only ε-greedy (exploring) variants support OPE; the experiment report
 *   therefore feeds only those.
 * - Feedback is missing at random given the context: only rows with a reward
 *   and propensity > 0 count (the numbers of excluded rows are reported).
 * - The target policy is evaluated with core `choose()` semantics on the
 *   LOGGED candidates' p and cost (no abstain threshold), so it is the policy
 *   the worker would have applied to the same scores. `targetModel` calls
 *   policy.ts `pick`, the routing rules `choose()` itself uses, without
 *   building a reason string per row; a test pins it to `choose()`.
 * - DR's outcome model q̂ is the logged calibrated p (success) and the logged
 *   expected cost (cost) of the target's model; a model missing from the
 *   candidates gets q̂ = 0, which keeps DR unbiased (it reduces to IPS there).
 */
import { z } from "zod";
import type { JoinedDecision } from "../decision-record.js";
import { pick, Policy, type Scored } from "../policy.js";
import { rowCost } from "./variant-stats.js";
import { meanInterval } from "./stats.js";

export const Estimate = z.object({
  value: z.number().nullable(),
  lo: z.number().nullable(),
  hi: z.number().nullable(),
  se: z.number().nullable(),
});
export type Estimate = z.infer<typeof Estimate>;

export const OpeMetric = z.object({ ips: Estimate, dr: Estimate });
export type OpeMetric = z.infer<typeof OpeMetric>;

export const PolicyEstimate = z.object({
  policy: Policy,
  n: z.number().int(),
  match_rate: z.number().nullable().meta({ description: "share of rows where the target picks the logged model" }),
  success: OpeMetric,
  cost: OpeMetric,
});
export type PolicyEstimate = z.infer<typeof PolicyEstimate>;

export const OpeSample = z.object({
  rows_used: z.number().int(),
  excluded_no_feedback: z.number().int(),
  excluded_zero_propensity: z.number().int(),
  excluded_abstain: z.number().int(),
});
export type OpeSample = z.infer<typeof OpeSample>;

/** One usable logged row, pre-digested for repeated evaluation. */
export interface OpeRow {
  cands: Scored[];
  action: string;
  propensity: number;
  reward: number;
  cost: number;
}

/** Keeps rows with feedback, a chosen model and propensity > 0; counts the rest. */
export function opeRows(rows: JoinedDecision[]): { rows: OpeRow[]; sample: OpeSample } {
  const out: OpeRow[] = [];
  let noFb = 0;
  let zeroProp = 0;
  let abstain = 0;
  for (const r of rows) {
    if (r.chosen === null) abstain++;
    else if (r.reward === null) noFb++;
    else if (!(r.propensity > 0)) zeroProp++;
    else {
      out.push({
        cands: r.candidates, // LoggedCandidate has model, p and cost: used as Scored without copying
        action: r.chosen,
        propensity: r.propensity,
        reward: r.reward,
        cost: rowCost(r) ?? 0,
      });
    }
  }
  return {
    rows: out,
    sample: { rows_used: out.length, excluded_no_feedback: noFb, excluded_zero_propensity: zeroProp, excluded_abstain: abstain },
  };
}

/** The model `choose(cands, policy)` routes to (no abstain threshold): policy.ts `pick`, the same code. */
export function targetModel(cands: Scored[], policy: Policy): string {
  return policy.type === "fixed" ? policy.model : pick(cands, policy).model.model;
}

function estimate(terms: Float64Array): Estimate {
  if (terms.length === 0) return { value: null, lo: null, hi: null, se: null };
  const m = meanInterval(terms);
  return { value: m.value, lo: m.lo, hi: m.hi, se: m.se };
}

/** IPS and DR estimates of `policy`'s success rate and mean cost over prepared rows. */
export function evaluatePolicy(rows: OpeRow[], policy: Policy): PolicyEstimate {
  const n = rows.length;
  const ipsR = new Float64Array(n);
  const drR = new Float64Array(n);
  const ipsC = new Float64Array(n);
  const drC = new Float64Array(n);
  let matches = 0;
  for (let i = 0; i < n; i++) {
    const row = rows[i];
    const target = row.cands.length > 0 ? targetModel(row.cands, policy) : null;
    const t = target === null ? undefined : row.cands.find((c) => c.model === target);
    const qP = t ? t.p : 0;
    const qC = t ? t.cost : 0;
    drR[i] = qP;
    drC[i] = qC;
    if (target === row.action) {
      matches++;
      const w = 1 / row.propensity;
      ipsR[i] = w * row.reward;
      ipsC[i] = w * row.cost;
      // q̂(x, a) with a = π(x) is the same candidate's logged p and cost.
      drR[i] += w * (row.reward - qP);
      drC[i] += w * (row.cost - qC);
    }
  }
  return {
    policy,
    n,
    match_rate: n > 0 ? matches / n : null,
    success: { ips: estimate(ipsR), dr: estimate(drR) },
    cost: { ips: estimate(ipsC), dr: estimate(drC) },
  };
}

export const GridPoint = PolicyEstimate.extend({ x: z.number().meta({ description: "λ or min_p" }) });
export type GridPoint = z.infer<typeof GridPoint>;

export const OpeGrid = z.object({
  sample: OpeSample,
  utility: z.array(GridPoint),
  threshold: z.array(GridPoint),
});
export type OpeGrid = z.infer<typeof OpeGrid>;

/** min_p grid 0.05, 0.10, …, 0.95. */
export const DEFAULT_THRESHOLD_GRID: number[] = Array.from({ length: 19 }, (_, i) => Math.round((i + 1) * 5) / 100);

/**
 * λ grid scaled to the logged costs: 0 plus a 1–3 sequence from ~0.01/c to
 * ~10/c where c is the median positive candidate cost, so λ·cost spans
 * "cost barely matters" to "cost dominates". Falls back to 0…10⁵ with no costs.
 */
export function defaultLambdaGrid(rows: OpeRow[]): number[] {
  let n = 0;
  for (const r of rows) n += r.cands.length;
  const costs = new Float64Array(n);
  let k = 0;
  for (const r of rows) for (const c of r.cands) if (c.cost > 0) costs[k++] = c.cost;
  const pos = costs.subarray(0, k).sort(); // typed-array sort: numeric, no comparator
  const med = k > 0 ? pos[Math.floor(k / 2)] : 1e-4;
  const lo = Math.floor(Math.log10(0.01 / med));
  const hi = Math.ceil(Math.log10(10 / med));
  const grid = [0];
  for (let e = lo; e <= hi; e++) {
    grid.push(10 ** e);
    if (e < hi) grid.push(3 * 10 ** e);
  }
  return grid.map((x) => Number(x.toPrecision(6)));
}

/** Evaluates utility policies over `lambdaGrid` and threshold policies over `thresholdGrid`. */
export function opeGrid(rows: JoinedDecision[], grids: { lambdaGrid?: number[]; thresholdGrid?: number[] } = {}): OpeGrid {
  return opeGridPrepared(opeRows(rows), grids);
}

/** opeGrid over rows already prepared by `opeRows`. */
export function opeGridPrepared(prep: { rows: OpeRow[]; sample: OpeSample }, grids: { lambdaGrid?: number[]; thresholdGrid?: number[] } = {}): OpeGrid {
  const lambdas = grids.lambdaGrid ?? defaultLambdaGrid(prep.rows);
  const thresholds = grids.thresholdGrid ?? DEFAULT_THRESHOLD_GRID;
  return {
    sample: prep.sample,
    utility: lambdas.map((x) => ({ x, ...evaluatePolicy(prep.rows, { type: "utility", lambda: x }) })),
    threshold: thresholds.map((x) => ({ x, ...evaluatePolicy(prep.rows, { type: "threshold", min_p: x }) })),
  };
}
