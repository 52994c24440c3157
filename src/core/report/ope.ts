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
import { pick, picker, Policy, type Scored } from "../policy.js";
import { rowCost } from "./variant-stats.js";
import { meanIntervalOf, RunningMoments } from "./stats.js";

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
  rows_used: z.number().int().meta({ description: "rows evaluated: every usable row, or the subsample when sampling_rate < 1" }),
  rows_usable: z.number().int().meta({ description: "rows with feedback on the chosen model and propensity > 0" }),
  sampling_rate: z.number().meta({ description: "1 = every usable row; below 1, a fixed hash subsample of about OPE_MAX_ROWS rows (docs/api.md)" }),
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
    sample: { rows_used: out.length, rows_usable: out.length, sampling_rate: 1, excluded_no_feedback: noFb, excluded_zero_propensity: zeroProp, excluded_abstain: abstain },
  };
}

/** The model `choose(cands, policy)` routes to (no abstain threshold): policy.ts `pick`, the same code. */
export function targetModel(cands: Scored[], policy: Policy): string {
  return policy.type === "fixed" ? policy.model : pick(cands, policy).model.model;
}

function estimate(m: RunningMoments): Estimate {
  if (m.n === 0) return { value: null, lo: null, hi: null, se: null };
  const i = meanIntervalOf(m.moments());
  return { value: i.value, lo: i.lo, hi: i.hi, se: i.se };
}

/**
 * IPS and DR terms of one target policy, accumulated row by row in constant
 * memory (Welford), so the rows can stream past in pages.
 */
export class PolicyAccumulator {
  private readonly ipsR = new RunningMoments();
  private readonly drR = new RunningMoments();
  private readonly ipsC = new RunningMoments();
  private readonly drC = new RunningMoments();
  private matches = 0;

  private readonly pick: ((cands: Scored[]) => Scored) | null;

  constructor(readonly policy: Policy) {
    this.pick = policy.type === "fixed" ? null : picker(policy);
  }

  add(row: OpeRow): void {
    // The picker hands back the candidate itself; only a fixed policy's model has to be looked up.
    const p = this.policy;
    const t = p.type === "fixed" ? row.cands.find((c) => c.model === p.model) : row.cands.length > 0 ? this.pick!(row.cands) : undefined;
    const target = p.type === "fixed" ? (row.cands.length > 0 ? p.model : null) : (t?.model ?? null);
    const qP = t ? t.p : 0;
    const qC = t ? t.cost : 0;
    if (target === row.action) {
      this.matches++;
      const w = 1 / row.propensity;
      this.ipsR.add(w * row.reward);
      this.ipsC.add(w * row.cost);
      // q̂(x, a) with a = π(x) is the same candidate's logged p and cost.
      this.drR.add(qP + w * (row.reward - qP));
      this.drC.add(qC + w * (row.cost - qC));
    } else {
      this.ipsR.add(0);
      this.ipsC.add(0);
      this.drR.add(qP);
      this.drC.add(qC);
    }
  }

  result(): PolicyEstimate {
    const n = this.ipsR.n;
    return {
      policy: this.policy,
      n,
      match_rate: n > 0 ? this.matches / n : null,
      success: { ips: estimate(this.ipsR), dr: estimate(this.drR) },
      cost: { ips: estimate(this.ipsC), dr: estimate(this.drC) },
    };
  }
}

/** IPS and DR estimates of `policy`'s success rate and mean cost over prepared rows. */
export function evaluatePolicy(rows: OpeRow[], policy: Policy): PolicyEstimate {
  const acc = new PolicyAccumulator(policy);
  for (const r of rows) acc.add(r);
  return acc.result();
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

/** opeGrid over rows already prepared by `opeRows` (the default λ grid from all of them). */
export function opeGridPrepared(prep: { rows: OpeRow[]; sample: OpeSample }, grids: { lambdaGrid?: number[]; thresholdGrid?: number[] } = {}): OpeGrid {
  const s = new OpeStream({ ...grids, logged: [], anchorRows: Infinity });
  s.add(prep.rows);
  return s.finish(prep.sample).grid;
}

/** Rows whose candidate costs anchor the default λ grid of a stream (see OpeStream). */
export const LAMBDA_ANCHOR_ROWS = 2000;

/**
 * The OPE grid and each variant's logged policy, evaluated over rows that
 * arrive in pages (`add`), in memory bounded by `anchorRows` plus one page:
 * every target policy keeps running sums, never the rows.
 *
 * The default λ grid (defaultLambdaGrid) is scaled by the median candidate
 * cost of the FIRST `anchorRows` rows (all rows when there are fewer, which
 * is then exactly the in-memory opeGrid): the grid must be fixed before the
 * utility policies can see a row, and a median of every row would need them
 * all at once. The grid spans about three decades around that median, so
 * only a median in another decade changes it. Estimates at each grid point
 * are exact over all rows; a given `lambdaGrid` needs no anchor at all.
 */
export class OpeStream {
  private buffer: OpeRow[] = [];
  private seen = 0;
  private utility: PolicyAccumulator[] | null = null;
  private readonly threshold: PolicyAccumulator[];
  private readonly logged: { variant: string; acc: PolicyAccumulator }[];
  private readonly anchorRows: number;

  constructor(private readonly opts: { lambdaGrid?: number[]; thresholdGrid?: number[]; logged: { variant: string; policy: Policy }[]; anchorRows?: number }) {
    this.threshold = (opts.thresholdGrid ?? DEFAULT_THRESHOLD_GRID).map((x) => new PolicyAccumulator({ type: "threshold", min_p: x }));
    this.logged = opts.logged.map((l) => ({ variant: l.variant, acc: new PolicyAccumulator(l.policy) }));
    this.anchorRows = opts.anchorRows ?? LAMBDA_ANCHOR_ROWS;
    if (opts.lambdaGrid) this.utility = opts.lambdaGrid.map((x) => new PolicyAccumulator({ type: "utility", lambda: x }));
  }

  add(rows: OpeRow[]): void {
    if (this.utility) {
      for (const r of rows) this.addRow(r);
      return;
    }
    for (const r of rows) this.buffer.push(r);
    if (this.buffer.length >= this.anchorRows) this.fixGrid();
  }

  /** The grid and logged-policy estimates; `sample` describes the rows, its rows_used becomes the rows this stream evaluated. */
  finish(sample: OpeSample): { grid: OpeGrid; logged_policies: (PolicyEstimate & { variant: string })[] } {
    if (!this.utility) this.fixGrid();
    const point = (acc: PolicyAccumulator, x: number): GridPoint => ({ x, ...acc.result() });
    return {
      grid: {
        sample: { ...sample, rows_used: this.seen },
        utility: this.utility!.map((a) => point(a, (a.policy as { lambda: number }).lambda)),
        threshold: this.threshold.map((a) => point(a, (a.policy as { min_p: number }).min_p)),
      },
      logged_policies: this.logged.map((l) => ({ variant: l.variant, ...l.acc.result() })),
    };
  }

  private fixGrid(): void {
    const rows = this.buffer;
    this.buffer = [];
    const lambdas = defaultLambdaGrid(rows.length > this.anchorRows ? rows.slice(0, this.anchorRows) : rows);
    this.utility = lambdas.map((x) => new PolicyAccumulator({ type: "utility", lambda: x }));
    for (const r of rows) this.addRow(r);
  }

  private addRow(r: OpeRow): void {
    this.seen++;
    for (const a of this.utility!) a.add(r);
    for (const a of this.threshold) a.add(r);
    for (const l of this.logged) l.acc.add(r);
  }
}
