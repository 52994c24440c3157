/**
 * Teacher side of `evaluate` for probe-distilled bundles: the teacher file
 * format (teacher-logits rows {id, teacher: {model: logit}, p?: {model:
 * calibrated P(success)}}), its loader, and the teacher figures — per model
 * the student↔teacher fidelity (Pearson and Spearman of the raw student logit
 * against the raw probe logit on the evaluated rows), the teacher probe's
 * AUROC next to the student's on the same rows (paired bootstrap), and a
 * teacher-probe router (p = the probe's calibrated probability) simulated,
 * swept and validation-selected exactly like the student's. Must not score
 * the student, fit anything or choose parameters on evaluation rows; only
 * readTeacher does I/O.
 *
 * Routing needs the calibrated `p`: the teacher router is run only when every
 * routed row (complete outcomes) of the evaluation split has a finite p for
 * every pool model, so that it is compared on exactly the student's rows;
 * otherwise `routing.available` is false with the reason. A parameter is
 * chosen only when the same holds on the validation rows.
 */
import { z } from "zod";
import { readJsonl } from "../lib/jsonl.js";
import { summariseSweeps, type SweepSummary } from "../lib/routing/pareto.js";
import { selectOnValidation, type ValidationSelection } from "../lib/routing/select.js";
import { simulate, type RoutingData, type Simulation, type SweepKind } from "../lib/routing/simulate.js";
import { bootstrapMany, take, type Interval } from "../lib/stats/bootstrap.js";
import { auroc, brier, pearson, spearman } from "../lib/stats/metrics.js";
import type { ScoredSet } from "./score.js";

export const TeacherJsonlRow = z.object({
  id: z.string(),
  teacher: z.record(z.string(), z.number().finite().nullable()),
  p: z.record(z.string(), z.number().min(0).max(1).nullable()).optional(),
});
export type TeacherJsonlRow = z.infer<typeof TeacherJsonlRow>;

/** Per row id: the probe's raw logit per model and, when known, its calibrated probability. */
export interface TeacherEntry {
  logits: Record<string, number>;
  p?: Record<string, number>;
}
export type TeacherMap = Map<string, TeacherEntry>;

const finite = (r: Record<string, number | null> | undefined): Record<string, number> =>
  Object.fromEntries(Object.entries(r ?? {}).filter((e): e is [string, number] => typeof e[1] === "number" && Number.isFinite(e[1])));

/** Teacher-file rows → TeacherMap (nulls dropped; a repeated id is an error). */
export function teacherMapFromRows(rows: Iterable<TeacherJsonlRow>): TeacherMap {
  const out: TeacherMap = new Map();
  for (const r of rows) {
    if (out.has(r.id)) throw new Error(`teacher: id ${r.id} appears twice`);
    out.set(r.id, r.p ? { logits: finite(r.teacher), p: finite(r.p) } : { logits: finite(r.teacher) });
  }
  return out;
}

export async function readTeacher(file: string): Promise<TeacherMap> {
  const rows: TeacherJsonlRow[] = [];
  for await (const { value } of readJsonl(file, TeacherJsonlRow)) rows.push(value);
  return teacherMapFromRows(rows);
}

export interface TeacherModelEval {
  /** Evaluated rows with a teacher logit (labelled or not), and the correlations of student vs teacher logits on them. */
  fidelity: { n: number; pearson: number | null; spearman: number | null };
  /** Rows with an outcome for this model and a teacher score. */
  n: number;
  /** What the teacher AUROC ranks: the calibrated p when every such row has it, else the raw logit. */
  score: "p" | "logit";
  teacher: { auroc: Interval; brier: number | null };
  /** The student on exactly those rows and resamples (equals per_model's student AUROC when coverage is complete). */
  student_auroc: Interval;
  /** Paired bootstrap of AUROC(student) − AUROC(teacher). */
  student_minus_teacher: Interval;
}

export interface TeacherRouting {
  available: boolean;
  reason: string | null;
  /** Routed rows (complete outcomes) lacking a teacher p for some model. */
  missing: { eval: number; val: number };
  sim: Simulation | null;
  sweeps: Record<SweepKind, SweepSummary> | null;
  /** Chosen on validation, reported on the evaluation split; null when not possible (see reason). */
  selections: Record<SweepKind, ValidationSelection> | null;
}

export interface TeacherEval {
  /** Evaluated rows, and how many have a teacher logit / a p for every pool model. */
  coverage: { evaluated: number; with_logits: number; with_p: number };
  per_model: Record<string, TeacherModelEval>;
  routing: TeacherRouting;
  /** Set by the command: the teacher file and its sha256. */
  source?: { file: string; sha256: string };
}

const KINDS: SweepKind[] = ["utility", "threshold", "budget"];

/** Teacher p per [row][model] in `s.models` order (NaN where unknown). */
export function teacherP(s: ScoredSet, teacher: TeacherMap): number[][] {
  return s.ids.map((id) => {
    const p = teacher.get(id)?.p;
    return s.models.map((m) => (p && Number.isFinite(p[m]) ? p[m] : NaN));
  });
}

/** Routed rows (complete outcomes) of `d` whose p is not finite for some model. */
function missingP(d: RoutingData): number {
  let n = 0;
  d.success.forEach((s, i) => {
    if (s.some((v) => Number.isNaN(v))) return;
    if (d.p[i].some((v) => !Number.isFinite(v))) n++;
  });
  return n;
}

function routingData(s: ScoredSet, teacher: TeacherMap): RoutingData {
  return { models: s.models, p: teacherP(s, teacher), success: s.success, cost: s.cost };
}

export function teacherRouting(ev: ScoredSet, val: ScoredSet | null, teacher: TeacherMap): TeacherRouting {
  const e = routingData(ev, teacher);
  const missEval = missingP(e);
  const v = val ? routingData(val, teacher) : null;
  const missVal = v ? missingP(v) : 0;
  const missing = { eval: missEval, val: missVal };
  if (missEval > 0) {
    return { available: false, reason: `${missEval} routed evaluation rows have no calibrated teacher p for some model (the teacher file needs "p", e.g. from teacher-logits)`, missing, sim: null, sweeps: null, selections: null };
  }
  const sim = simulate(e);
  const sweeps = summariseSweeps(sim);
  let selections: TeacherRouting["selections"] = null;
  let reason: string | null = null;
  const valRouted = v ? v.success.filter((s) => !s.some((x) => Number.isNaN(x))).length : 0;
  if (!v || valRouted === 0) reason = "no validation rows: no parameter chosen";
  else if (missVal > 0) reason = `${missVal} routed validation rows have no calibrated teacher p: no parameter chosen`;
  else {
    selections = {} as Record<SweepKind, ValidationSelection>;
    for (const k of KINDS) selections[k] = selectOnValidation(v, e, k);
  }
  return { available: true, reason, missing, sim, sweeps, selections };
}

function modelTeacherEval(ev: ScoredSet, j: number, teacher: TeacherMap, opts: { seed: number; reps: number }): TeacherModelEval {
  const m = ev.models[j];
  const fs: number[] = [];
  const ft: number[] = [];
  const lab: number[] = [];
  ev.ids.forEach((id, i) => {
    const t = teacher.get(id)?.logits[m];
    if (t === undefined || !Number.isFinite(t)) return;
    fs.push(ev.logits[i][j]);
    ft.push(t);
    if (!Number.isNaN(ev.success[i][j])) lab.push(i);
  });
  const pOf = (i: number) => teacher.get(ev.ids[i])?.p?.[m];
  const usesP = lab.length > 0 && lab.every((i) => Number.isFinite(pOf(i)));
  const Y = Float64Array.from(lab, (i) => ev.success[i][j]);
  const T = Float64Array.from(lab, (i) => (usesP ? (pOf(i) as number) : (teacher.get(ev.ids[i]) as TeacherEntry).logits[m]));
  const S = Float64Array.from(lab, (i) => ev.p[i][j]);
  const ci = bootstrapMany(
    lab.length,
    {
      teacher: (ix) => auroc(take(T, ix), take(Y, ix)),
      student: (ix) => auroc(take(S, ix), take(Y, ix)),
      diff: (ix) => {
        const y = take(Y, ix);
        const a = auroc(take(S, ix), y);
        const b = auroc(take(T, ix), y);
        return a === null || b === null ? null : a - b;
      },
    },
    opts,
  );
  return {
    fidelity: { n: fs.length, pearson: pearson(fs, ft), spearman: spearman(fs, ft) },
    n: lab.length,
    score: usesP ? "p" : "logit",
    teacher: { auroc: ci.teacher, brier: usesP ? brier(T, Y) : null },
    student_auroc: ci.student,
    student_minus_teacher: ci.diff,
  };
}

/** Every teacher figure for the evaluated rows `ev` (validation rows `val` only choose the teacher router's parameters). */
export function teacherEval(ev: ScoredSet, val: ScoredSet | null, teacher: TeacherMap, opts: { seed: number; reps: number }): TeacherEval {
  const all = (rec: Record<string, number> | undefined) => rec !== undefined && ev.models.every((m) => Number.isFinite(rec[m]));
  const coverage = {
    evaluated: ev.ids.length,
    with_logits: ev.ids.filter((id) => all(teacher.get(id)?.logits)).length,
    with_p: ev.ids.filter((id) => all(teacher.get(id)?.p)).length,
  };
  const per_model = Object.fromEntries(ev.models.map((m, j) => [m, modelTeacherEval(ev, j, teacher, opts)]));
  return { coverage, per_model, routing: teacherRouting(ev, val, teacher) };
}

const nn = (x: number | null | undefined): number | null => (x === undefined || x === null || !Number.isFinite(x) ? null : x);

/** Keys added to manifest metrics.per_model[m] when a teacher is given. */
export function teacherPerModelMetrics(t: TeacherEval, model: string): { teacher_auroc: number | null; fidelity_pearson: number | null; fidelity_spearman: number | null } {
  const e = t.per_model[model];
  return { teacher_auroc: nn(e?.teacher.auroc.estimate), fidelity_pearson: nn(e?.fidelity.pearson), fidelity_spearman: nn(e?.fidelity.spearman) };
}

/** Keys added to manifest metrics.headline when a teacher is given: the validation-chosen teacher router of the headline kind. */
export function teacherHeadlineMetrics(t: TeacherEval, kind: SweepKind): { teacher_router_param: number | null; teacher_router_acc: number | null; teacher_router_cost: number | null; teacher_auc: number | null } {
  const sel = t.routing.selections?.[kind] ?? null;
  return {
    teacher_router_param: sel ? sel.param : null,
    teacher_router_acc: sel ? sel.test.point.accuracy : null,
    teacher_router_cost: sel ? sel.test.point.cost : null,
    teacher_auc: nn(t.routing.sweeps?.[kind].auc),
  };
}
