/**
 * Routing part of `evaluate`: one RoutingData per scorer (student, length,
 * TF-IDF) sharing success and cost, the simulation on the evaluation split
 * (singles, random, oracle, swept routers), the descriptive sweep headlines,
 * parameters chosen on validation and reported on evaluation, and per-task
 * accuracy. Uses scripts/lib/routing/* for all arithmetic; must not choose
 * parameters by looking at evaluation rows, fit, score or do I/O.
 */
import { summariseSweeps, type SweepSummary } from "../lib/routing/pareto.js";
import { evaluateAtParam, selectOnValidation, type ValidationSelection } from "../lib/routing/select.js";
import { completeRows, policyFor, routeWithPolicy, simulate, singleModels, type RoutingData, type Simulation, type SweepKind } from "../lib/routing/simulate.js";

export const SCORERS = ["student", "tfidf", "length"] as const;
export type Scorer = (typeof SCORERS)[number];
export const KINDS: SweepKind[] = ["utility", "threshold", "budget"];

export interface SplitArrays {
  models: string[];
  success: number[][];
  cost: number[][];
  tasks: (string | undefined)[];
  /** P(success) per scorer, [row][model]. */
  p: Record<Scorer, number[][]>;
}

export interface TaskRow {
  task: string;
  /** Rows of this task with every model's outcome known. */
  n: number;
  singles: Record<string, number>;
  /** Accuracy of the validation-chosen student router; null when nothing was chosen. */
  router: number | null;
  oracle: number;
}

export interface RoutingEval {
  headline_kind: SweepKind;
  sims: Record<Scorer, Simulation>;
  sweeps: Record<Scorer, Record<SweepKind, SweepSummary>>;
  /** null when there were no usable validation rows. */
  selections: Record<Scorer, Record<SweepKind, ValidationSelection>> | null;
  per_task: TaskRow[];
}

const data = (a: SplitArrays, s: Scorer): RoutingData => ({ models: a.models, p: a.p[s], success: a.success, cost: a.cost });

/** The sweep kind that plays "the router" in headlines: the bundle default policy's kind (fixed → utility). */
export function headlineKind(policyType: string): SweepKind {
  return policyType === "threshold" || policyType === "budget" ? policyType : "utility";
}

function subset(a: SplitArrays, rows: number[]): SplitArrays {
  const pick = <T>(xs: T[]) => rows.map((i) => xs[i]);
  return {
    models: a.models,
    success: pick(a.success),
    cost: pick(a.cost),
    tasks: pick(a.tasks),
    p: { student: pick(a.p.student), tfidf: pick(a.p.tfidf), length: pick(a.p.length) },
  };
}

function perTask(ev: SplitArrays, chosen: ValidationSelection | null): TaskRow[] {
  const tasks = [...new Set(ev.tasks.map((t) => t ?? "(none)"))].sort();
  const out: TaskRow[] = [];
  for (const task of tasks) {
    const rows = ev.tasks.flatMap((t, i) => ((t ?? "(none)") === task ? [i] : []));
    const { data: d } = completeRows(data(subset(ev, rows), "student"));
    if (d.success.length === 0) continue;
    const singles = Object.fromEntries(singleModels(d).map((q) => [q.label, q.accuracy]));
    const router = chosen ? routeWithPolicy(d, policyFor(chosen.kind, chosen.param), "router").accuracy : null;
    const oracleAcc = d.success.filter((s) => s.some((v) => v === 1)).length / d.success.length;
    out.push({ task, n: d.success.length, singles, router, oracle: oracleAcc });
  }
  return out;
}

/**
 * `given`: the default policy's parameter when the build chose it on its own
 * rows (cross-fitted, scripts/stages/crossfit.ts); the student's headline-kind
 * selection then reports that parameter instead of re-choosing on val.
 */
export function routingEval(ev: SplitArrays, val: SplitArrays | null, policyType: string, given?: number): RoutingEval {
  const kind = headlineKind(policyType);
  const sims = {} as Record<Scorer, Simulation>;
  const sweeps = {} as Record<Scorer, Record<SweepKind, SweepSummary>>;
  for (const s of SCORERS) {
    sims[s] = simulate(data(ev, s));
    if (sims[s].rows === 0) throw new Error("evaluate: no evaluation row has outcomes for every pool model");
    sweeps[s] = summariseSweeps(sims[s]);
  }
  let selections: RoutingEval["selections"] = null;
  if (val && completeRows(data(val, "student")).data.success.length > 0) {
    selections = {} as Record<Scorer, Record<SweepKind, ValidationSelection>>;
    for (const s of SCORERS) {
      selections[s] = {} as Record<SweepKind, ValidationSelection>;
      for (const k of KINDS) selections[s][k] = selectOnValidation(data(val, s), data(ev, s), k);
    }
    if (given !== undefined) selections.student[kind] = evaluateAtParam(data(val, "student"), data(ev, "student"), kind, given, "chosen-at-build");
  }
  return { headline_kind: kind, sims, sweeps, selections, per_task: perTask(ev, selections ? selections.student[kind] : null) };
}
