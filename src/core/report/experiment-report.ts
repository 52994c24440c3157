/**
 * Assembles one experiment's report from joined decision-log rows: per-variant
 * stats, each variant vs the control (the first variant), and off-policy
 * estimates over the variants that logged exploration. Pure: rows in, a
 * zod-described object out; the bootstrap seed is passed in.
 */
import { z } from "zod";
import type { JoinedDecision } from "../decision-record.js";
import { Policy } from "../policy.js";
import { OpeGrid, opeRows, OpeStream, PolicyEstimate } from "./ope.js";
import { variantDifference, VariantDifference, variantStats, VariantStats } from "./variant-stats.js";

export const NO_VARIANT = "(none)";

export const ExperimentReport = z
  .object({
    experiment: z.string(),
    control: z.string().nullable().meta({ description: "the first variant; differences are against it" }),
    variants: z.array(VariantStats),
    differences: z.array(VariantDifference),
    ope: z
      .object({
        variants: z.array(z.string()).meta({ description: "variants whose rows feed OPE (they logged exploration)" }),
        grid: OpeGrid,
        logged_policies: z
          .array(PolicyEstimate.extend({ variant: z.string() }))
          .meta({ description: "OPE of each variant's own logged (greedy) policy, a sanity check against its measured success" }),
      })
      .nullable(),
    ope_note: z.string().nullable().meta({ description: "why ope is null, or caveats" }),
    generated_from: z.object({ rows: z.number().int(), with_feedback: z.number().int(), seed: z.number().int() }),
  })
  .meta({ id: "ExperimentReport" });
export type ExperimentReport = z.infer<typeof ExperimentReport>;

export interface ReportOptions {
  seed: number;
  lambdaGrid?: number[];
  thresholdGrid?: number[];
  /** Variant order; the first is the control. Default: "control" if present, then by name. */
  variants?: string[];
  /** Bootstrap resamples for the cost difference (default 1000). */
  bootstrapReps?: number;
  /** Bounded path only (summary.ts): usable OPE rows evaluated before a hash subsample is taken (default OPE_MAX_ROWS). */
  opeMaxRows?: number;
}

/** Report order of the variants found: the configured ones first (the first is the control), then the rest by name. */
export function variantOrder(found: Set<string>, given?: string[]): string[] {
  if (given) return [...given, ...[...found].filter((v) => !given.includes(v)).sort()];
  const names = [...found].sort();
  const i = names.indexOf("control");
  if (i > 0) names.unshift(...names.splice(i, 1));
  return names;
}

/** A variant supports OPE when any of its rows explored or had propensity < 1. */
export function logsExploration(rows: JoinedDecision[]): boolean {
  return rows.some((r) => r.explored || r.propensity < 1);
}

export type OpeResult = ReturnType<OpeStream["finish"]>;

/**
 * The report's `ope` and `ope_note` from the OPE result over the exploring
 * variants (null when none explore): null with a note when nothing explored
 * or no row was usable, a caveat when only some variants explore.
 */
export function opeSection(order: string[], exploring: string[], result: OpeResult | null): { ope: ExperimentReport["ope"]; note: string | null } {
  if (exploring.length === 0 || result === null) {
    return { ope: null, note: "no variant logged exploration (explored rows or propensity < 1); deterministic logging gives no support for off-policy estimates" };
  }
  if (result.grid.sample.rows_used === 0) return { ope: null, note: `exploring variants (${exploring.join(", ")}) have no rows with feedback and propensity > 0 yet` };
  const note = exploring.length < order.length ? `OPE uses only the exploring variants: ${exploring.join(", ")}` : null;
  return { ope: { variants: exploring, grid: result.grid, logged_policies: result.logged_policies }, note };
}

/** The report from every row in memory: the reference the bounded path (summary.ts) must match; memory grows with the rows. */
export function experimentReport(name: string, rows: JoinedDecision[], opts: ReportOptions): ExperimentReport {
  const mine = rows.filter((r) => r.experiment === name);
  const groups = new Map<string, JoinedDecision[]>();
  for (const r of mine) {
    const v = r.variant ?? NO_VARIANT;
    const list = groups.get(v);
    if (list) list.push(r);
    else groups.set(v, [r]);
  }
  const order = variantOrder(new Set(groups.keys()), opts.variants);
  const rowsOf = (v: string) => groups.get(v) ?? [];
  const variants = order.map((v) => variantStats(v, rowsOf(v)));
  const control = order.length > 0 ? order[0] : null;
  const differences =
    control === null
      ? []
      : order.slice(1).map((v, i) => variantDifference({ name: control, rows: rowsOf(control) }, { name: v, rows: rowsOf(v) }, opts.seed + i, opts.bootstrapReps));

  const exploring = order.filter((v) => logsExploration(rowsOf(v)));
  let result: OpeResult | null = null;
  if (exploring.length > 0) {
    const logged: { variant: string; policy: Policy }[] = [];
    for (const v of order) {
      const first = rowsOf(v)[0];
      if (first) logged.push({ variant: v, policy: first.policy });
    }
    const prep = opeRows(exploring.flatMap(rowsOf));
    const stream = new OpeStream({ lambdaGrid: opts.lambdaGrid, thresholdGrid: opts.thresholdGrid, logged, anchorRows: Infinity });
    stream.add(prep.rows);
    result = stream.finish(prep.sample);
  }
  const { ope, note } = opeSection(order, exploring, result);
  return {
    experiment: name,
    control,
    variants,
    differences,
    ope,
    ope_note: note,
    generated_from: { rows: mine.length, with_feedback: mine.filter((r) => r.reward !== null).length, seed: opts.seed },
  };
}
