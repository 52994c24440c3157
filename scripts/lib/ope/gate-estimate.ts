/**
 * The gate's estimator (issue 19 item 5, docs/loop.md "Gate"): from logged
 * rows (the logging policy's action, its true propensity, the observed
 * success and cost) and two target policies replayed on the same prompts
 * (candidate and current bundle), IPS and doubly-robust estimates of each
 * policy's success, cost and utility = success − λ·cost, and of their paired
 * difference, with normal 95% intervals over the per-row terms (the same
 * terms and interval as src/core/report/ope.ts). The promote rule lives here
 * too. Pure: no I/O, no scoring (callers replay the bundles).
 *
 * DR's outcome model q̂ is supplied per row and must not come from the
 * candidate (its own optimism would enter the direct term): the gate passes
 * the current bundle's calibrated p and expected cost. Any q̂ fitted without
 * these rows keeps DR unbiased when the propensities are true.
 */
import { z } from "zod";
import { meanIntervalOf, RunningMoments } from "../../../src/core/report/stats.js";
import { Estimate } from "../../../src/core/report/ope.js";

export interface GateRow {
  /** The logged (called) model, its propensity under the logging policy, its observed success in [0,1] and cost (USD). */
  action: string;
  propensity: number;
  success: number;
  cost: number;
  /** What each target policy picks on this prompt (null: abstains: no call, success 0, cost 0). */
  candidate: string | null;
  current: string | null;
  /** Outcome model q̂: P(success) and expected cost per model, not fitted on this row and not the candidate's. */
  qP: Record<string, number>;
  qC: Record<string, number>;
  /** Whether the current bundle logged this row (its realised value uses only those); absent counts as yes. */
  byCurrent?: boolean;
}

export const Triple = z.object({ success: Estimate, cost: Estimate, utility: Estimate });
export type Triple = z.infer<typeof Triple>;
export const PolicyValue = z.object({ ips: Triple, dr: Triple, match_rate: z.number().nullable() });
export type PolicyValue = z.infer<typeof PolicyValue>;

export const GateRule = z.object({
  estimator: z.literal("dr"),
  min_rows: z.number().int(),
  success_margin: z.number().meta({ description: "largest success loss tolerated at the lower 95% bound" }),
  lambda: z.number().meta({ description: "utility = success − λ·cost_usd" }),
});
export type GateRule = z.infer<typeof GateRule>;

export const GateEstimate = z.object({
  n: z.number().int(),
  candidate: PolicyValue,
  current: PolicyValue,
  difference: PolicyValue.omit({ match_rate: true }).extend({ disagree_rate: z.number().nullable() }),
  realised_current: z.object({ n: z.number().int(), success: Estimate, cost: Estimate, utility: Estimate }),
  rule: GateRule,
  promote: z.boolean(),
  reasons: z.array(z.string()),
});
export type GateEstimate = z.infer<typeof GateEstimate>;

export const DEFAULT_RULE: Omit<GateRule, "lambda"> = { estimator: "dr", min_rows: 200, success_margin: 0.02 };

/** IPS and DR per-row terms of one target on one row: [ips success, ips cost, dr success, dr cost]. */
export function rowTerms(r: GateRow, target: string | null): [number, number, number, number] {
  if (target === null) return [0, 0, 0, 0];
  const hit = target === r.action ? 1 / r.propensity : 0;
  const qp = r.qP[target] ?? 0;
  const qc = r.qC[target] ?? 0;
  // q̂ at the logged action is the same model's: the correction only fires when the target is the logged action.
  return [hit * r.success, hit * r.cost, qp + hit * (r.success - qp), qc + hit * (r.cost - qc)];
}

class TripleMoments {
  readonly s = new RunningMoments();
  readonly c = new RunningMoments();
  readonly u = new RunningMoments();
  constructor(private readonly lambda: number) {}
  add(s: number, c: number): void {
    this.s.add(s);
    this.c.add(c);
    this.u.add(s - this.lambda * c);
  }
  result(): Triple {
    const e = (m: RunningMoments): Estimate => (m.n === 0 ? { value: null, lo: null, hi: null, se: null } : meanIntervalOf(m.moments()));
    return { success: e(this.s), cost: e(this.c), utility: e(this.u) };
  }
}

/** Estimates both targets and their paired difference, and applies the promote rule. */
export function gateEstimate(rows: GateRow[], rule: GateRule): GateEstimate {
  const L = rule.lambda;
  const acc = {
    cand: { ips: new TripleMoments(L), dr: new TripleMoments(L) },
    cur: { ips: new TripleMoments(L), dr: new TripleMoments(L) },
    diff: { ips: new TripleMoments(L), dr: new TripleMoments(L) },
  };
  const realised = new TripleMoments(L);
  let candMatch = 0;
  let curMatch = 0;
  let disagree = 0;
  for (const r of rows) {
    const a = rowTerms(r, r.candidate);
    const b = rowTerms(r, r.current);
    acc.cand.ips.add(a[0], a[1]);
    acc.cand.dr.add(a[2], a[3]);
    acc.cur.ips.add(b[0], b[1]);
    acc.cur.dr.add(b[2], b[3]);
    acc.diff.ips.add(a[0] - b[0], a[1] - b[1]);
    acc.diff.dr.add(a[2] - b[2], a[3] - b[3]);
    if (r.candidate === r.action) candMatch++;
    if (r.current === r.action) curMatch++;
    if (r.candidate !== r.current) disagree++;
    if (r.byCurrent !== false) realised.add(r.success, r.cost);
  }
  const n = rows.length;
  const rate = (k: number) => (n > 0 ? k / n : null);
  const est: Omit<GateEstimate, "promote" | "reasons"> = {
    n,
    candidate: { ips: acc.cand.ips.result(), dr: acc.cand.dr.result(), match_rate: rate(candMatch) },
    current: { ips: acc.cur.ips.result(), dr: acc.cur.dr.result(), match_rate: rate(curMatch) },
    difference: { ips: acc.diff.ips.result(), dr: acc.diff.dr.result(), disagree_rate: rate(disagree) },
    realised_current: { n: realised.s.n, ...realised.result() },
    rule,
  };
  return { ...est, ...decideGate(est.difference.dr, n, rule) };
}

/**
 * The promote rule (docs/loop.md "Gate"): enough rows, the lower 95% bound of
 * the DR paired utility difference (candidate − current) above 0, and the
 * lower bound of the success difference above −success_margin.
 */
export function decideGate(dr: Triple, n: number, rule: GateRule): { promote: boolean; reasons: string[] } {
  const f = (x: number | null) => (x === null ? "n/a" : x.toFixed(4));
  const u = dr.utility;
  const s = dr.success;
  const enough = n >= rule.min_rows;
  const gain = u.lo !== null && u.lo > 0;
  const safe = s.lo !== null && s.lo > -rule.success_margin;
  const reasons: string[] = [];
  if (!enough) reasons.push(`only ${n} usable logged rows (< ${rule.min_rows})`);
  if (!gain) reasons.push(`utility gain not shown: DR difference ${f(u.value)} [${f(u.lo)}, ${f(u.hi)}] does not exclude 0`);
  if (!safe) reasons.push(`success may drop by more than ${rule.success_margin}: DR difference ${f(s.value)} [${f(s.lo)}, ${f(s.hi)}]`);
  const promote = enough && gain && safe;
  if (promote) reasons.push(`utility +${f(u.value)} [${f(u.lo)}, ${f(u.hi)}], success ${f(s.value)} [${f(s.lo)}, ${f(s.hi)}]`);
  return { promote, reasons };
}
