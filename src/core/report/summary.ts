/**
 * The experiment report from sufficient statistics instead of rows, so its
 * memory does not grow with the experiment: counts and sums per (variant,
 * chosen model, bundle) over all rows and per (variant, chosen model,
 * calibration bin) over rows with feedback — what SQL GROUP BY returns
 * (src/store/report-store.ts) — plus the OPE stream's result and, only
 * while the cost samples are small, the costs the bootstrap resamples;
 * `boundedReport` reads them from a ReportSource in that bounded way.
 * `summarise` computes the same groups from rows in memory: the definition
 * the SQL must match, and the reference the tests compare it with.
 * Pure: no I/O (the source is passed in), no clock.
 */
import type { JoinedDecision } from "../decision-record.js";
import type { Policy } from "../policy.js";
import { NO_VARIANT, opeSection, variantOrder, type ExperimentReport, type OpeResult, type ReportOptions } from "./experiment-report.js";
import { OpeStream, type OpeRow, type OpeSample } from "./ope.js";
import { opeSamplingRate } from "./ope-sampling.js";
import { diffBootstrap, diffOfMoments, finiteOrNull, meanIntervalOf, momentsFromSums, NULL_INTERVAL, wilson } from "./stats.js";
import { BOOTSTRAP_MAX_N, chosenP, rowCost, type Calibration, type ModelShare, type VariantDifference, type VariantStats } from "./variant-stats.js";

/** All rows of one (variant, chosen, bundle_id); cost = rowCost (feedback cost_usd, else the chosen model's logged cost). */
export interface RowGroup {
  variant: string | null;
  chosen: string | null;
  bundle_id: string;
  n: number;
  explored: number;
  min_propensity: number;
  cost_n: number;
  cost_sum: number;
  cost_sq: number;
}

/** Rows with feedback on the chosen model, per (variant, chosen, bin); bin = calibration bin of the chosen p, null when it has none. */
export interface FeedbackGroup {
  variant: string | null;
  chosen: string;
  bin: number | null;
  n: number;
  reward_sum: number;
  reward_sq: number;
  /** Σ (rowCost ?? 0): the numerator of cost per success. */
  cost_sum: number;
  p_sum: number;
  /** Σ (p − reward)² over the rows with a p. */
  brier_sum: number;
  /** Rows with propensity not > 0 (excluded from OPE). */
  zero_propensity: number;
}

export interface Summary {
  groups: RowGroup[];
  feedback: FeedbackGroup[];
  /** Each variant's first logged policy (by ts, decision_id). */
  firstPolicy: Map<string, Policy>;
}

const CALIBRATION_BINS = 10;

/** Calibration bin of a predicted p, as `calibration()` bins it. */
export const binOf = (p: number) => Math.min(CALIBRATION_BINS - 1, Math.max(0, Math.floor(p * CALIBRATION_BINS)));

/** The groups of `rows` of one experiment, in memory: what the report SQL computes. */
export function summarise(rows: JoinedDecision[]): Summary {
  const groups = new Map<string, RowGroup>();
  const feedback = new Map<string, FeedbackGroup>();
  const firstPolicy = new Map<string, Policy>();
  for (const r of [...rows].sort((a, b) => a.ts - b.ts || (a.decision_id < b.decision_id ? -1 : 1))) {
    const v = r.variant ?? NO_VARIANT;
    if (!firstPolicy.has(v)) firstPolicy.set(v, r.policy);
    const gk = JSON.stringify([r.variant, r.chosen, r.bundle_id]);
    const g = groups.get(gk) ?? { variant: r.variant, chosen: r.chosen, bundle_id: r.bundle_id, n: 0, explored: 0, min_propensity: Infinity, cost_n: 0, cost_sum: 0, cost_sq: 0 };
    groups.set(gk, g);
    g.n++;
    if (r.explored) g.explored++;
    g.min_propensity = Math.min(g.min_propensity, r.propensity);
    const c = rowCost(r);
    if (c !== null) [g.cost_n, g.cost_sum, g.cost_sq] = [g.cost_n + 1, g.cost_sum + c, g.cost_sq + c * c];
    if (r.reward === null || r.chosen === null) continue;
    const p = chosenP(r);
    const bin = p === null ? null : binOf(p);
    const fk = JSON.stringify([r.variant, r.chosen, bin]);
    const f = feedback.get(fk) ?? { variant: r.variant, chosen: r.chosen, bin, n: 0, reward_sum: 0, reward_sq: 0, cost_sum: 0, p_sum: 0, brier_sum: 0, zero_propensity: 0 };
    feedback.set(fk, f);
    f.n++;
    f.reward_sum += r.reward;
    f.reward_sq += r.reward * r.reward;
    f.cost_sum += c ?? 0;
    if (p !== null) [f.p_sum, f.brier_sum] = [f.p_sum + p, f.brier_sum + (p - r.reward) ** 2];
    if (!(r.propensity > 0)) f.zero_propensity++;
  }
  return { groups: [...groups.values()], feedback: [...feedback.values()], firstPolicy };
}

const sum = <T>(xs: T[], f: (x: T) => number) => xs.reduce((s, x) => s + f(x), 0);
const nameOf = (v: string | null) => v ?? NO_VARIANT;

function calibrationOf(fb: FeedbackGroup[]): Calibration {
  const pairs = fb.filter((f) => f.bin !== null);
  const n = sum(pairs, (f) => f.n);
  let ece = 0;
  let brier = 0;
  const bins = [];
  for (let b = 0; b < CALIBRATION_BINS; b++) {
    const inBin = pairs.filter((f) => f.bin === b);
    const c = sum(inBin, (f) => f.n);
    const meanP = c > 0 ? sum(inBin, (f) => f.p_sum) / c : null;
    const obs = c > 0 ? sum(inBin, (f) => f.reward_sum) / c : null;
    if (meanP !== null && obs !== null) ece += (c / n) * Math.abs(meanP - obs);
    brier += sum(inBin, (f) => f.brier_sum);
    bins.push({ bin_lo: b / CALIBRATION_BINS, bin_hi: (b + 1) / CALIBRATION_BINS, mean_p: meanP, observed: obs, count: c });
  }
  return { n, ece: n > 0 ? ece : null, brier: n > 0 ? brier / n : null, bins };
}

function modelMixOf(groups: RowGroup[], fb: FeedbackGroup[], requests: number): ModelShare[] {
  const models = [...new Set(groups.map((g) => g.chosen))];
  const out = models.map((model) => {
    const gs = groups.filter((g) => g.chosen === model);
    const fs = fb.filter((f) => f.chosen === model);
    const count = sum(gs, (g) => g.n);
    const withFb = sum(fs, (f) => f.n);
    const costN = sum(gs, (g) => g.cost_n);
    return {
      model,
      count,
      share: count / requests,
      with_feedback: withFb,
      success_rate: withFb > 0 ? sum(fs, (f) => f.reward_sum) / withFb : null,
      mean_cost: costN > 0 ? sum(gs, (g) => g.cost_sum) / costN : null,
    };
  });
  const key = (m: string | null) => m ?? "\uffff";
  return out.sort((a, b) => b.count - a.count || (key(a.model) < key(b.model) ? -1 : key(a.model) > key(b.model) ? 1 : 0));
}

/** Reward and cost moments of a variant: the samples behind its intervals and the differences. */
function variantMoments(groups: RowGroup[], fb: FeedbackGroup[]) {
  return {
    rewards: momentsFromSums(sum(fb, (f) => f.n), sum(fb, (f) => f.reward_sum), sum(fb, (f) => f.reward_sq)),
    costs: momentsFromSums(sum(groups, (g) => g.cost_n), sum(groups, (g) => g.cost_sum), sum(groups, (g) => g.cost_sq)),
  };
}

function statsOf(variant: string, groups: RowGroup[], fb: FeedbackGroup[], policy: Policy | null): VariantStats {
  const requests = sum(groups, (g) => g.n);
  const withFb = sum(fb, (f) => f.n);
  const successes = sum(fb, (f) => f.reward_sum);
  const fbCost = sum(fb, (f) => f.cost_sum);
  const m = variantMoments(groups, fb);
  const mc = meanIntervalOf(m.costs);
  return {
    variant,
    policy: requests > 0 ? policy : null,
    bundles: [...new Set(groups.map((g) => g.bundle_id))].sort(),
    requests,
    with_feedback: withFb,
    feedback_share: requests > 0 ? withFb / requests : null,
    abstains: sum(groups.filter((g) => g.chosen === null), (g) => g.n),
    explored: sum(groups, (g) => g.explored),
    min_propensity: groups.length > 0 ? Math.min(...groups.map((g) => g.min_propensity)) : null,
    success: wilson(successes, withFb),
    mean_cost: { value: mc.value, lo: mc.lo, hi: mc.hi },
    total_cost: sum(groups, (g) => g.cost_sum),
    cost_per_success: successes > 0 ? finiteOrNull(fbCost / successes) : null,
    model_mix: requests > 0 ? modelMixOf(groups, fb, requests) : [],
    calibration: calibrationOf(fb),
  };
}

/** Variants in report order (the first is the control) and those that logged exploration (they feed OPE). */
export function summaryPlan(s: Summary, configured?: string[]): { order: string[]; exploring: string[] } {
  const order = variantOrder(new Set(s.groups.map((g) => nameOf(g.variant))), configured);
  const exploring = order.filter((v) => s.groups.some((g) => nameOf(g.variant) === v && (g.explored > 0 || g.min_propensity < 1)));
  return { order, exploring };
}

/** Rows of the exploring variants that OPE uses or excludes, from the groups alone. */
export function opeSample(s: Summary, exploring: string[]): OpeSample {
  const gs = s.groups.filter((g) => exploring.includes(nameOf(g.variant)));
  const fs = s.feedback.filter((f) => exploring.includes(nameOf(f.variant)));
  const routed = sum(gs.filter((g) => g.chosen !== null), (g) => g.n);
  const withFb = sum(fs, (f) => f.n);
  const zero = sum(fs, (f) => f.zero_propensity);
  return { rows_used: withFb - zero, rows_usable: withFb - zero, sampling_rate: 1, excluded_no_feedback: routed - withFb, excluded_zero_propensity: zero, excluded_abstain: sum(gs.filter((g) => g.chosen === null), (g) => g.n) };
}

export interface SummaryInputs {
  /** Costs (rowCost, in row order) per variant; given only when the pair's total is ≤ BOOTSTRAP_MAX_N. */
  bootstrapCosts?: Map<string, number[]>;
  /** The OPE stream's result over the exploring variants' usable rows (null when none explore). */
  ope: OpeResult | null;
}

/** Where a bounded report reads from: D1 in the worker (report-store.ts), rows in memory in tests. */
export interface ReportSource {
  summary(): Promise<Summary>;
  /**
   * The variant's usable OPE rows (feedback on the chosen model, propensity > 0), page by page, in rowid
   * order; below rate 1 only those with hash32(rowid) < sampleThreshold(rate) (ope-sampling.ts).
   */
  opePages(variant: string, rate: number): AsyncIterable<OpeRow[]>;
  /** rowCost of the variant's routed rows in (ts, decision_id) order, nulls left out. */
  costs(variant: string): Promise<number[]>;
}

/**
 * The report of experiment `name` in memory bounded by one OPE page plus
 * LAMBDA_ANCHOR_ROWS rows (OpeStream) and BOOTSTRAP_MAX_N costs: reads the
 * summary, streams the exploring variants' usable rows through OpeStream
 * (all of them up to opts.opeMaxRows, a hash subsample beyond: ope-sampling.ts),
 * reads costs only for pairs small enough for the bootstrap.
 */
export async function boundedReport(name: string, source: ReportSource, opts: ReportOptions): Promise<ExperimentReport> {
  const s = await source.summary();
  const { order, exploring } = summaryPlan(s, opts.variants);
  let ope: OpeResult | null = null;
  if (exploring.length > 0) {
    const logged = order.flatMap((v) => (s.firstPolicy.has(v) ? [{ variant: v, policy: s.firstPolicy.get(v)! }] : []));
    const stream = new OpeStream({ lambdaGrid: opts.lambdaGrid, thresholdGrid: opts.thresholdGrid, logged });
    const sample = opeSample(s, exploring);
    const rate = opeSamplingRate(sample.rows_usable, opts.opeMaxRows);
    for (const v of exploring) for await (const page of source.opePages(v, rate)) stream.add(page);
    ope = stream.finish({ ...sample, sampling_rate: rate });
  }
  const costN = (v: string) => sum(s.groups.filter((g) => nameOf(g.variant) === v), (g) => g.cost_n);
  const bootstrapCosts = new Map<string, number[]>();
  for (const v of order.slice(1)) {
    if (costN(order[0]) + costN(v) > BOOTSTRAP_MAX_N) continue;
    for (const w of [order[0], v]) if (!bootstrapCosts.has(w)) bootstrapCosts.set(w, await source.costs(w));
  }
  return summaryReport(name, s, { bootstrapCosts, ope }, opts);
}

/** The ExperimentReport of `name` from its summary: the same figures as experimentReport over the rows. */
export function summaryReport(name: string, s: Summary, inputs: SummaryInputs, opts: ReportOptions): ExperimentReport {
  const { order, exploring } = summaryPlan(s, opts.variants);
  const gOf = (v: string) => s.groups.filter((g) => nameOf(g.variant) === v);
  const fOf = (v: string) => s.feedback.filter((f) => nameOf(f.variant) === v);
  const variants = order.map((v) => statsOf(v, gOf(v), fOf(v), s.firstPolicy.get(v) ?? null));
  const control = order.length > 0 ? order[0] : null;
  const differences: VariantDifference[] = [];
  if (control !== null) {
    const a = variantMoments(gOf(control), fOf(control));
    for (const [i, v] of order.slice(1).entries()) {
      const b = variantMoments(gOf(v), fOf(v));
      const small = a.costs.n + b.costs.n <= BOOTSTRAP_MAX_N;
      const ca = inputs.bootstrapCosts?.get(control);
      const cb = inputs.bootstrapCosts?.get(v);
      differences.push({
        variant: v,
        control,
        success_diff: diffOfMoments(a.rewards, b.rewards, "varPop"),
        ...(small && ca && cb
          ? { mean_cost_diff: diffBootstrap(ca, cb, opts.seed + i, opts.bootstrapReps), mean_cost_method: "bootstrap" as const }
          : { mean_cost_diff: a.costs.n > 0 && b.costs.n > 0 ? diffOfMoments(a.costs, b.costs, "varSample") : NULL_INTERVAL, mean_cost_method: "welch" as const }),
      });
    }
  }
  const { ope, note } = opeSection(order, exploring, inputs.ope);
  const fb = sum(s.feedback, (f) => f.n);
  return { experiment: name, control, variants, differences, ope, ope_note: note, generated_from: { rows: sum(s.groups, (g) => g.n), with_feedback: fb, seed: opts.seed } };
}
