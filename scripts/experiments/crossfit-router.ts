/**
 * Reads the cache of scripts/experiments/crossfit-logits.ts and compares, on
 * validation only, (1) the wide/deep blend chosen on the 525 val rows vs on
 * the ~4.5k cross-fitted out-of-fold (OOF) rows, one α for all models or one
 * per model; (2) routing operating-point rules (policy kind × accuracy
 * tolerance of the no-harm rule) by repeated selection/evaluation splits of
 * the OOF rows: choose on n_sel rows, score on 582 disjoint rows against the
 * best single model there (the target's comparator). Test rows are read only
 * with --test, for the one final report of the chosen design. An experiment:
 * prints JSON, writes nothing else.
 *
 * Usage: tsx scripts/experiments/crossfit-router.ts --cache .cache/crossfit/v2.json
 *          [--alpha per-model|global|0.5] [--reps 200] [--kinds threshold,utility]
 *          [--tolerances 0.005,0,-0.01] [--budgets 0.6,0.65] [--nsel 525,all]
 *          [--test utility:-0.01[:0.65]]
 * --budgets adds, for every kind × tolerance, the build's budgeted rule
 * (selectNoHarmWithinBudget) at each cost share next to the plain no-harm rule.
 */
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import type { Calibration } from "../../src/core/calibration.js";
import { modelP } from "../../src/core/scoring.js";
import { mulberry32, permutation } from "../../src/core/random.js";
import { fitMonotoneCalibration } from "../lib/calibration-fit.js";
import { bestSingle } from "../lib/routing/pareto.js";
import { selectNoHarmWithinBudget } from "../lib/routing/select.js";
import { defaultGrid, policyFor, routeWithPolicy, singleModels, sweep, type RoutingData, type SweepKind } from "../lib/routing/simulate.js";
import { auroc } from "../lib/stats/metrics.js";

const { values } = parseArgs({ options: { cache: { type: "string" }, alpha: { type: "string", default: "per-model" }, reps: { type: "string", default: "200" }, test: { type: "string" }, kinds: { type: "string", default: "threshold,utility" }, tolerances: { type: "string", default: "0.005,0,-0.005,-0.01,-0.015" }, budgets: { type: "string", default: "" }, nsel: { type: "string", default: "525,1000,all" } } });
const c = JSON.parse(readFileSync(values.cache!, "utf8"));
const models: string[] = c.models;
const M = models.length;
const N: number = c.ids.length;
const num = (x: number | null) => (x === null ? NaN : x);
const success: number[][] = c.success.map((r: (number | null)[]) => r.map(num));
const cost: number[][] = c.cost;
const partOf = (i: number): string => (c.fold[i] >= 0 ? `fold${c.fold[i]}` : "main");
const rowsWhere = (f: (i: number) => boolean) => Array.from({ length: N }, (_, i) => i).filter(f);
const oof = rowsWhere((i) => c.fold[i] >= 0);
const val = rowsWhere((i) => c.splits[i] === "val");
const cal = rowsWhere((i) => c.splits[i] === "cal");
const test = rowsWhere((i) => c.splits[i] === "test");
const GRID = [0, 0.25, 0.4, 0.5, 0.6, 0.75, 1];

const z = (part: string, i: number, a: number[]) => {
  const w = c.parts[part].wide[i] as number[];
  const d = c.parts[part].deep[i] as number[];
  return w.map((x, m) => a[m] * x + (1 - a[m]) * d[m]);
};
function meanAuroc(rows: number[], part: (i: number) => string, a: number[]): number[] {
  return models.map((_, m) => {
    const r = rows.filter((i) => !Number.isNaN(success[i][m]));
    return auroc(r.map((i) => z(part(i), i, a)[m]), r.map((i) => success[i][m])) ?? NaN;
  });
}
const avg = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;

// (1) Blend α: per model and global, on OOF and on val (main model).
const oofBy = GRID.map((g) => meanAuroc(oof, partOf, Array(M).fill(g)));
const valBy = GRID.map((g) => meanAuroc(val, () => "main", Array(M).fill(g)));
const argmax = (xs: number[]) => xs.reduce((b, x, k) => (x > xs[b] ? k : b), 0);
const globalOof = GRID[argmax(oofBy.map(avg))];
const globalVal = GRID[argmax(valBy.map(avg))];
const perModelOof = models.map((_, m) => GRID[argmax(oofBy.map((r) => r[m]))]);
const perModelVal = models.map((_, m) => GRID[argmax(valBy.map((r) => r[m]))]);
const alphaSets: Record<string, number[]> = {
  "val-global": Array(M).fill(globalVal),
  "oof-global": Array(M).fill(globalOof),
  "oof-per-model": perModelOof,
  "val-per-model": perModelVal,
};
const blend = {
  grid: GRID,
  oof_mean_by_alpha: oofBy.map(avg),
  val_mean_by_alpha: valBy.map(avg),
  chosen: alphaSets,
  // Val AUROC of the main model under each choice (OOF choices never saw the main model's val scores).
  val_auroc: Object.fromEntries(Object.entries(alphaSets).map(([k, a]) => [k, { mean: avg(meanAuroc(val, () => "main", a)), per_model: meanAuroc(val, () => "main", a) }])),
};

// (2) Calibrated P with the chosen α, each part calibrated on the cal rows.
const alpha = values.alpha === "per-model" ? perModelOof : values.alpha === "global" ? alphaSets["oof-global"] : Array(M).fill(Number(values.alpha));
const calibrations: Record<string, Calibration[]> = {};
for (const part of Object.keys(c.parts)) {
  calibrations[part] = models.map((_, m) => {
    const r = cal.filter((i) => !Number.isNaN(success[i][m]));
    return fitMonotoneCalibration(r.map((i) => z(part, i, alpha)[m]), r.map((i) => success[i][m]), "platt").calibration;
  });
}
const pOf = (part: string, i: number) => {
  const logits = z(part, i, alpha);
  return logits.map((_, m) => modelP(logits, m, calibrations[part][m]));
};
const complete = (rows: number[]) => rows.filter((i) => success[i].every((s) => !Number.isNaN(s)));
const data = (rows: number[], part: (i: number) => string): RoutingData => {
  const r = complete(rows);
  return { models, p: r.map((i) => pOf(part(i), i)), success: r.map((i) => success[i]), cost: r.map((i) => cost[i]) };
};
const sub = (d: RoutingData, idx: ArrayLike<number>): RoutingData => ({
  models,
  p: Array.from(idx, (i) => d.p[i]),
  success: Array.from(idx, (i) => d.success[i]),
  cost: Array.from(idx, (i) => d.cost[i]),
});

interface Outcome {
  acc: number;
  cost: number;
  bestAcc: number;
  bestCost: number;
  param: number;
}
function choose(sel: RoutingData, kind: SweepKind, tolerance: number, budget?: number): { param: number; rule: string; acc: number; costPct: number; bestAcc: number; best: string } {
  const grid = defaultGrid(sel, kind);
  const s = selectNoHarmWithinBudget(sweep(sel, kind, grid), singleModels(sel), tolerance, budget);
  const b = bestSingle(singleModels(sel));
  return { param: s.param, rule: s.rule, acc: s.point.accuracy, costPct: (100 * s.point.cost) / b.cost, bestAcc: b.accuracy, best: b.label };
}
function apply(ev: RoutingData, kind: SweepKind, param: number): Outcome {
  const q = routeWithPolicy(ev, policyFor(kind, param), "router");
  const b = bestSingle(singleModels(ev));
  return { acc: q.accuracy, cost: q.cost, bestAcc: b.accuracy, bestCost: b.cost, param };
}
const met = (o: Outcome) => o.acc >= o.bestAcc - 0.005 - 1e-12 && o.cost <= 0.7 * o.bestCost + 1e-15;

const OOF = data(oof, partOf);
const reps = Number(values.reps);
const RULES: Array<{ kind: SweepKind; tolerance: number; budget?: number }> = [];
const budgets = values.budgets ? values.budgets.split(",").map(Number) : [];
for (const kind of values.kinds.split(",") as SweepKind[])
  for (const tolerance of values.tolerances.split(",").map(Number)) for (const budget of [undefined, ...budgets]) RULES.push({ kind, tolerance, budget });
const meta: Array<Record<string, unknown>> = [];
for (const nSel of values.nsel.split(",").map((x) => (x === "all" ? OOF.success.length - 582 : Number(x)))) {
  for (const r of RULES) {
    const rng = mulberry32(17);
    const outs: Outcome[] = [];
    for (let k = 0; k < reps; k++) {
      const perm = permutation(OOF.success.length, rng);
      const sel = sub(OOF, perm.subarray(0, nSel));
      const ev = sub(OOF, perm.subarray(OOF.success.length - 582));
      outs.push(apply(ev, r.kind, choose(sel, r.kind, r.tolerance, r.budget).param));
    }
    meta.push({
      n_sel: nSel,
      kind: r.kind,
      tolerance: r.tolerance,
      budget: r.budget ?? null,
      met_rate: outs.filter(met).length / reps,
      acc_delta: avg(outs.map((o) => o.acc - o.bestAcc)),
      cost_pct: avg(outs.map((o) => (100 * o.cost) / o.bestCost)),
      acc_ok_rate: outs.filter((o) => o.acc >= o.bestAcc - 0.005 - 1e-12).length / reps,
    });
  }
}
const onAllOof = RULES.map((r) => ({ ...r, ...choose(OOF, r.kind, r.tolerance, r.budget) }));
const VAL = data(val, () => "main");
const onVal = RULES.map((r) => ({ ...r, ...choose(VAL, r.kind, r.tolerance, r.budget) }));
// Per-task structure on the OOF rows at each rule's parameter: does the router send a task to a cheaper model where that model is as good?
const oofRows = complete(oof);
const tasks = [...new Set(oofRows.map((i) => c.tasks[i] as string))].sort();
const perTask = onAllOof.map((r) => ({
  kind: r.kind,
  tolerance: r.tolerance,
  tasks: tasks.map((task) => {
    const idx = oofRows.flatMap((i, k) => (c.tasks[i] === task ? [k] : []));
    const d = sub(OOF, idx);
    const q = routeWithPolicy(d, policyFor(r.kind, r.param), "router");
    const singles = singleModels(d);
    const b = bestSingle(singles);
    const top = Object.entries(q.share ?? {}).sort((x, y) => y[1] - x[1])[0];
    return { task, n: idx.length, router: q.accuracy, cost: q.cost, best: b.label, best_acc: b.accuracy, best_cost: b.cost, top_model: top[0], top_share: top[1] };
  }),
}));
const out: Record<string, unknown> = { alpha, blend, oof_rows: OOF.success.length, meta, on_all_oof: onAllOof, on_val: onVal, per_task: perTask };
if (values.test) {
  const TEST = data(test, () => "main");
  // Only the one chosen rule ("kind:tolerance"), chosen beforehand on the OOF figures.
  const [kind, tol, budget] = values.test.split(":");
  const r = onAllOof.find((q) => q.kind === kind && q.tolerance === Number(tol) && (q.budget ?? null) === (budget === undefined ? null : Number(budget)));
  if (!r) throw new Error(`--test ${values.test}: no such rule`);
  out.test = { kind, tolerance: r.tolerance, ...apply(TEST, r.kind, r.param) };
  out.test_auroc = { mean: avg(meanAuroc(test, () => "main", alpha)), per_model: meanAuroc(test, () => "main", alpha) };
}
console.log(JSON.stringify(out, null, 1));
