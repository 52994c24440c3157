/**
 * Assembles one experiment's report from joined decision-log rows: per-variant
 * stats, each variant vs the control (the first variant), and off-policy
 * estimates over the variants that logged exploration. Pure: rows in, a
 * zod-described object out; the bootstrap seed is passed in.
 */
import { z } from "zod";
import type { JoinedDecision } from "../decision-record.js";
import { Policy } from "../policy.js";
import { evaluatePolicy, OpeGrid, opeGridPrepared, opeRows, PolicyEstimate } from "./ope.js";
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
}

function variantOrder(found: Set<string>, given?: string[]): string[] {
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
  let ope: ExperimentReport["ope"] = null;
  let note: string | null = null;
  if (exploring.length === 0) {
    note = "no variant logged exploration (explored rows or propensity < 1); deterministic logging gives no support for off-policy estimates";
  } else {
    const prep = opeRows(exploring.flatMap(rowsOf));
    const grid = opeGridPrepared(prep, { lambdaGrid: opts.lambdaGrid, thresholdGrid: opts.thresholdGrid });
    if (grid.sample.rows_used === 0) {
      note = `exploring variants (${exploring.join(", ")}) have no rows with feedback and propensity > 0 yet`;
    } else {
      const logged: { variant: string; policy: Policy }[] = [];
      for (const v of order) {
        const first = rowsOf(v)[0];
        if (first) logged.push({ variant: v, policy: first.policy });
      }
      ope = {
        variants: exploring,
        grid,
        logged_policies: logged.map((l) => ({ variant: l.variant, ...evaluatePolicy(prep.rows, l.policy) })),
      };
      if (exploring.length < order.length) note = `OPE uses only the exploring variants: ${exploring.join(", ")}`;
    }
  }
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
