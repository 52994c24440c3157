/**
 * Report pieces for routing results: tables of operating points, headline
 * figures and validation-selected parameters, and the accuracy–cost figure
 * for several scorers. Formatting only; must not simulate, select or do I/O
 * (simulate.ts / select.ts compute, markdown.ts writes).
 */
import type { Headlines } from "../routing/pareto.js";
import { paretoFrontier } from "../routing/pareto.js";
import type { ValidationSelection } from "../routing/select.js";
import type { OperatingPoint, Simulation, SweepKind } from "../routing/simulate.js";
import { paretoPlot, type Curve, type NamedPoint } from "../plots/svg.js";
import { fmtNum, fmtPct, fmtUsd, mdTableOf } from "./markdown.js";

/** Label, accuracy, mean cost, and cost relative to `refCost` (e.g. the best single model's). */
export function pointsTable(points: OperatingPoint[], refCost?: number): string {
  return mdTableOf(points, [
    { header: "operating point", value: (q) => q.label },
    { header: "accuracy", value: (q) => fmtPct(q.accuracy), align: "right" },
    { header: "cost / query", value: (q) => fmtUsd(q.cost), align: "right" },
    ...(refCost && refCost > 0 ? [{ header: "cost vs best single", value: (q: OperatingPoint) => fmtPct(q.cost / refCost), align: "right" as const }] : []),
  ]);
}

export interface HeadlineRow {
  scorer: string;
  policy: SweepKind;
  headlines: Headlines;
  /** Normalised accuracy–cost AUC (pareto.ts `accuracyCostAuc`). */
  auc?: number | null;
}

/** One row per scorer × policy: the two headline figures and the AUC (test sweep; descriptive only). */
export function headlinesTable(rows: HeadlineRow[]): string {
  return mdTableOf(rows, [
    { header: "scorer", value: (r) => r.scorer },
    { header: "policy", value: (r) => r.policy },
    { header: "best single", value: (r) => `${r.headlines.bestSingle.label} (${fmtPct(r.headlines.bestSingle.accuracy)}, ${fmtUsd(r.headlines.bestSingle.cost)})` },
    { header: "cost at its accuracy", value: (r) => fmtPct(r.headlines.costAtBestSingleAccuracyPct, 1, true), align: "right" },
    { header: "accuracy within its cost", value: (r) => fmtPct(r.headlines.accuracyWithinBestSingleCost), align: "right" },
    { header: "AUC", value: (r) => fmtNum(r.auc ?? null, 3), align: "right" },
  ]);
}

export interface SelectionRow {
  scorer: string;
  selection: ValidationSelection;
}

/** Parameters chosen on validation and the test figures at exactly that parameter. */
export function selectionTable(rows: SelectionRow[]): string {
  return mdTableOf(rows, [
    { header: "scorer", value: (r) => r.scorer },
    { header: "policy", value: (r) => r.selection.kind },
    { header: "parameter (val)", value: (r) => Number(r.selection.param.toPrecision(4)).toString(), align: "right" },
    { header: "rule", value: (r) => r.selection.rule },
    { header: "val acc", value: (r) => fmtPct(r.selection.val.point.accuracy), align: "right" },
    { header: "test acc", value: (r) => fmtPct(r.selection.test.point.accuracy), align: "right" },
    { header: "test cost", value: (r) => fmtUsd(r.selection.test.point.cost), align: "right" },
    { header: "test best single", value: (r) => `${r.selection.test.bestSingle.label} (${fmtPct(r.selection.test.bestSingle.accuracy)})` },
    { header: "Δacc vs it", value: (r) => fmtNum(r.selection.test.accuracyDelta * 100, 1) + " pp", align: "right" },
    { header: "cost vs it", value: (r) => fmtPct(r.selection.test.costPctOfBestSingle, 1, true), align: "right" },
  ]);
}

export interface RoutingFigureOpts {
  title?: string;
  logX?: boolean;
  /** Draw only each router's Pareto frontier instead of the whole sweep. */
  frontierOnly?: boolean;
}

/**
 * Accuracy–cost figure: baselines (single models, random, oracle) from the
 * first simulation, and one curve per scorer for the given policy. All
 * simulations must come from the same rows for the baselines to apply.
 */
export function routingFigure(sims: Record<string, Simulation>, kind: SweepKind, opts: RoutingFigureOpts = {}): string {
  const names = Object.keys(sims);
  if (names.length === 0) throw new Error("routingFigure: no simulations");
  const base = sims[names[0]];
  const points: NamedPoint[] = [
    ...base.singles.map((q) => ({ label: q.label, cost: q.cost, accuracy: q.accuracy, kind: "single" as const })),
    { label: "random", cost: base.random.cost, accuracy: base.random.accuracy, kind: "random" },
    { label: "oracle", cost: base.oracle.cost, accuracy: base.oracle.accuracy, kind: "oracle" },
  ];
  const curves: Curve[] = names.map((n) => {
    const pts = sims[n].routers[kind];
    return { label: `${n} · ${kind}`, points: opts.frontierOnly ? paretoFrontier(pts) : pts };
  });
  return paretoPlot({ title: opts.title ?? `Accuracy vs cost (${kind} policy)`, points, curves, logX: opts.logX });
}
