/**
 * Per-variant statistics of an experiment from joined decision-log rows:
 * volume, feedback coverage, success rate (Wilson 95%), cost, model mix and
 * calibration of the chosen model's predicted p; plus variant-vs-control
 * differences. Pure: no I/O, no clock; the bootstrap takes its seed in.
 *
 * Populations (documented because they differ):
 * - success rate, calibration and cost per success use rows WITH feedback
 *   (reward !== null); reward may be a score in [0,1], summed as "successes";
 * - mean cost uses every routed row with a realised_cost (feedback cost, else
 *   the logged expected cost); abstains have no cost and are left out;
 * - model mix counts every request, abstains as model null.
 */
import { z } from "zod";
import type { JoinedDecision } from "../decision-record.js";
import { Policy } from "../policy.js";
import { diffBootstrap, diffNormal, diffWelch, finiteOrNull, Interval, meanInterval, NULL_INTERVAL, wilson } from "./stats.js";

export const ReliabilityBin = z.object({
  bin_lo: z.number(),
  bin_hi: z.number(),
  mean_p: z.number().nullable().meta({ description: "mean predicted p in the bin; null when empty" }),
  observed: z.number().nullable().meta({ description: "mean observed reward in the bin; null when empty" }),
  count: z.number().int(),
});
export type ReliabilityBin = z.infer<typeof ReliabilityBin>;

export const Calibration = z.object({
  n: z.number().int().meta({ description: "rows with feedback whose chosen model has a logged p" }),
  ece: z.number().nullable().meta({ description: "Σ_bins count/n · |mean_p − observed| over 10 equal-width bins" }),
  brier: z.number().nullable(),
  bins: z.array(ReliabilityBin),
});
export type Calibration = z.infer<typeof Calibration>;

export const ModelShare = z.object({
  model: z.string().nullable().meta({ description: "null = abstain" }),
  count: z.number().int(),
  share: z.number(),
  with_feedback: z.number().int(),
  success_rate: z.number().nullable(),
  mean_cost: z.number().nullable(),
});
export type ModelShare = z.infer<typeof ModelShare>;

export const VariantStats = z
  .object({
    variant: z.string(),
    policy: Policy.nullable().meta({ description: "the logged policy of the variant's first row" }),
    bundles: z.array(z.string()),
    requests: z.number().int(),
    with_feedback: z.number().int(),
    feedback_share: z.number().nullable(),
    abstains: z.number().int(),
    explored: z.number().int().meta({ description: "rows logged as exploration" }),
    min_propensity: z.number().nullable(),
    success: Interval.meta({ description: "mean reward over rows with feedback, Wilson 95% interval" }),
    mean_cost: Interval.meta({ description: "mean realised cost (USD) over routed rows, normal 95% interval" }),
    total_cost: z.number(),
    cost_per_success: z.number().nullable().meta({ description: "cost of rows with feedback / their summed reward; null with no success" }),
    model_mix: z.array(ModelShare),
    calibration: Calibration,
  })
  .meta({ id: "VariantStats" });
export type VariantStats = z.infer<typeof VariantStats>;

export const VariantDifference = z.object({
  variant: z.string(),
  control: z.string(),
  success_diff: Interval.meta({ description: "success(variant) − success(control), two-proportion normal 95% interval" }),
  mean_cost_diff: Interval.meta({ description: "mean_cost(variant) − mean_cost(control), 95% interval" }),
  mean_cost_method: z.enum(["bootstrap", "welch"]).meta({
    description: "seeded percentile bootstrap up to BOOTSTRAP_MAX_N costs in all, Welch normal approximation beyond (CLT holds there; bootstrap cost grows with n)",
  }),
});
export type VariantDifference = z.infer<typeof VariantDifference>;

/** The logged predicted p of the chosen model, or null (abstain / model not among candidates). */
export function chosenP(r: JoinedDecision): number | null {
  if (r.chosen === null) return null;
  const c = r.candidates.find((c) => c.model === r.chosen);
  return c ? c.p : null;
}

/** realised_cost, else the logged expected cost of the chosen model; null for abstains. */
export function rowCost(r: JoinedDecision): number | null {
  if (r.chosen === null) return null;
  if (r.realised_cost !== null && Number.isFinite(r.realised_cost)) return r.realised_cost;
  const c = r.candidates.find((c) => c.model === r.chosen);
  return c ? c.cost : null;
}

export function calibration(pairs: { p: number; y: number }[], nBins = 10): Calibration {
  const sumP = new Float64Array(nBins);
  const sumY = new Float64Array(nBins);
  const count = new Int32Array(nBins);
  let brier = 0;
  for (const { p, y } of pairs) {
    const b = Math.min(nBins - 1, Math.max(0, Math.floor(p * nBins)));
    sumP[b] += p;
    sumY[b] += y;
    count[b]++;
    brier += (p - y) ** 2;
  }
  const n = pairs.length;
  let ece = 0;
  const bins: ReliabilityBin[] = [];
  for (let b = 0; b < nBins; b++) {
    const c = count[b];
    const meanP = c > 0 ? sumP[b] / c : null;
    const obs = c > 0 ? sumY[b] / c : null;
    if (meanP !== null && obs !== null) ece += (c / n) * Math.abs(meanP - obs);
    bins.push({ bin_lo: b / nBins, bin_hi: (b + 1) / nBins, mean_p: meanP, observed: obs, count: c });
  }
  return { n, ece: n > 0 ? ece : null, brier: n > 0 ? brier / n : null, bins };
}

function modelMix(rows: JoinedDecision[]): ModelShare[] {
  const by = new Map<string | null, JoinedDecision[]>();
  for (const r of rows) {
    const list = by.get(r.chosen);
    if (list) list.push(r);
    else by.set(r.chosen, [r]);
  }
  const out: ModelShare[] = [];
  for (const [model, list] of by) {
    const fb = list.filter((r) => r.reward !== null);
    const costs = list.map(rowCost).filter((c): c is number => c !== null);
    out.push({
      model,
      count: list.length,
      share: list.length / rows.length,
      with_feedback: fb.length,
      success_rate: fb.length > 0 ? fb.reduce((s, r) => s + (r.reward as number), 0) / fb.length : null,
      mean_cost: costs.length > 0 ? costs.reduce((s, c) => s + c, 0) / costs.length : null,
    });
  }
  const key = (m: string | null) => m ?? "\uffff";
  return out.sort((a, b) => b.count - a.count || (key(a.model) < key(b.model) ? -1 : key(a.model) > key(b.model) ? 1 : 0));
}

/** Rewards of rows with feedback and costs of routed rows, the samples the intervals use. */
export function samples(rows: JoinedDecision[]): { rewards: number[]; costs: number[] } {
  const rewards: number[] = [];
  const costs: number[] = [];
  for (const r of rows) {
    if (r.reward !== null) rewards.push(r.reward);
    const c = rowCost(r);
    if (c !== null) costs.push(c);
  }
  return { rewards, costs };
}

export function variantStats(variant: string, rows: JoinedDecision[]): VariantStats {
  const { rewards, costs } = samples(rows);
  const fb = rows.filter((r) => r.reward !== null);
  const successes = rewards.reduce((s, x) => s + x, 0);
  const fbCost = fb.reduce((s, r) => s + (rowCost(r) ?? 0), 0);
  const pairs: { p: number; y: number }[] = [];
  for (const r of fb) {
    const p = chosenP(r);
    if (p !== null) pairs.push({ p, y: r.reward as number });
  }
  const mc = costs.length > 0 ? meanInterval(costs) : { ...NULL_INTERVAL };
  const props = rows.map((r) => r.propensity);
  return {
    variant,
    policy: rows.length > 0 ? rows[0].policy : null,
    bundles: [...new Set(rows.map((r) => r.bundle_id))].sort(),
    requests: rows.length,
    with_feedback: fb.length,
    feedback_share: rows.length > 0 ? fb.length / rows.length : null,
    abstains: rows.filter((r) => r.chosen === null).length,
    explored: rows.filter((r) => r.explored).length,
    min_propensity: props.length > 0 ? Math.min(...props) : null,
    success: wilson(successes, fb.length),
    mean_cost: { value: mc.value, lo: mc.lo, hi: mc.hi },
    total_cost: costs.reduce((s, c) => s + c, 0),
    cost_per_success: successes > 0 ? finiteOrNull(fbCost / successes) : null,
    model_mix: modelMix(rows),
    calibration: calibration(pairs),
  };
}

/** Above this many cost observations (both groups together) the cost difference uses Welch instead of the bootstrap. */
export const BOOTSTRAP_MAX_N = 20_000;

/** variant − control for success rate (normal approx) and mean cost (seeded bootstrap; Welch for large samples). */
export function variantDifference(
  control: { name: string; rows: JoinedDecision[] },
  variant: { name: string; rows: JoinedDecision[] },
  seed: number,
  reps = 1000,
): VariantDifference {
  const a = samples(control.rows);
  const b = samples(variant.rows);
  return {
    variant: variant.name,
    control: control.name,
    success_diff: diffNormal(a.rewards, b.rewards),
    ...(a.costs.length + b.costs.length <= BOOTSTRAP_MAX_N
      ? { mean_cost_diff: diffBootstrap(a.costs, b.costs, seed, reps), mean_cost_method: "bootstrap" as const }
      : { mean_cost_diff: diffWelch(a.costs, b.costs), mean_cost_method: "welch" as const }),
  };
}
