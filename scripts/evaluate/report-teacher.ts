/**
 * The evaluation report's teacher part (probe-distilled bundles evaluated
 * with a teacher): the "Teacher fidelity" section (student↔teacher logit
 * correlations, teacher-probe AUROC next to the student's and the
 * baselines', the teacher-probe router chosen on validation next to the
 * student / TF-IDF / length routers) and the figures that include the
 * teacher (the Pareto plot gains the teacher-probe curve). Each function is a
 * no-op when the result has no teacher, so report.ts calls them
 * unconditionally. Owns wording only; must not compute statistics.
 */
import { barChart } from "../lib/plots/svg.js";
import { fmtCI, fmtNum, fmtPct, mdTableOf, type ReportSection } from "../lib/report/markdown.js";
import { headlinesTable, routingFigure, selectionTable, type HeadlineRow, type SelectionRow } from "../lib/report/routing.js";
import type { EvalResult } from "./evaluate-bundle.js";
import { KINDS } from "./routing-eval.js";

type Plot = { svg: string; caption: string } | string;

export const TEACHER_LABEL = "teacher probe";

function fidelityTable(r: EvalResult): string {
  const t = r.teacher!;
  return mdTableOf(r.models, [
    { header: "model", value: (m) => m },
    { header: "rows (fidelity)", value: (m) => t.per_model[m].fidelity.n, align: "right" },
    { header: "Pearson", value: (m) => fmtNum(t.per_model[m].fidelity.pearson), align: "right" },
    { header: "Spearman", value: (m) => fmtNum(t.per_model[m].fidelity.spearman), align: "right" },
    { header: "labelled rows", value: (m) => t.per_model[m].n, align: "right" },
    { header: "student AUROC", value: (m) => fmtCI(t.per_model[m].student_auroc), align: "right" },
    { header: "teacher AUROC", value: (m) => fmtCI(t.per_model[m].teacher.auroc), align: "right" },
    { header: "Δ student − teacher (paired)", value: (m) => fmtCI(t.per_model[m].student_minus_teacher), align: "right" },
    { header: "TF-IDF AUROC", value: (m) => fmtCI(r.per_model[m].tfidf.auroc), align: "right" },
    { header: "length AUROC", value: (m) => fmtCI(r.per_model[m].length.auroc), align: "right" },
    { header: "teacher scored by", value: (m) => t.per_model[m].score },
    { header: "teacher Brier", value: (m) => fmtNum(t.per_model[m].teacher.brier), align: "right" },
  ]);
}

function routingPart(r: EvalResult): string {
  const t = r.teacher!;
  const tr = t.routing;
  if (!tr.available || !tr.sweeps) return `**Teacher-probe router:** not simulated — ${tr.reason ?? "unavailable"}.`;
  const hl: HeadlineRow[] = KINDS.map((k) => ({ scorer: TEACHER_LABEL, policy: k, headlines: tr.sweeps![k].headlines, auc: tr.sweeps![k].auc }));
  const parts = [
    `**Teacher-probe router.** The same router as the student's (src/core/policy.ts \`choose()\`), driven by the teacher probe's calibrated P(success) (its own Platt calibration, fitted on the probe's held-out calibration split), on the same ${tr.sim?.rows ?? 0} routed ${r.split} rows.`,
    "",
    `Sweep headlines (descriptive, read on the ${r.split} rows):`,
    "",
    headlinesTable(hl),
  ];
  const sel = r.routing.selections;
  if (tr.selections && sel) {
    const rows: SelectionRow[] = KINDS.flatMap((k) => [
      { scorer: "student", selection: sel.student[k] },
      { scorer: TEACHER_LABEL, selection: tr.selections![k] },
      { scorer: "TF-IDF", selection: sel.tfidf[k] },
      { scorer: "length", selection: sel.length[k] },
    ]);
    parts.push(
      "",
      `Parameters chosen on the ${r.counts.val_rows} validation rows (${r.counts.val_source}) with selectOnValidation and reported on the ${r.split} rows, for every router:`,
      "",
      selectionTable(rows),
    );
  } else {
    parts.push("", `No parameter chosen for the teacher-probe router: ${tr.reason ?? "no validation rows"}.`);
  }
  return parts.join("\n");
}

/** The "Teacher fidelity" section; [] when the result has no teacher. */
export function teacherSections(r: EvalResult): ReportSection[] {
  const t = r.teacher;
  if (!t) return [];
  const c = t.coverage;
  const src = t.source ? ` from \`${t.source.file}\` (sha256 \`${t.source.sha256}\`)` : "";
  const body = [
    `Teacher${src}: ${c.with_logits} of ${c.evaluated} evaluated rows have a teacher logit for every model, ${c.with_p} a calibrated teacher probability.`,
    "",
    `Fidelity: Pearson and Spearman correlation between the student's raw logit and the teacher probe's raw logit on the ${r.split} rows with a teacher logit (labelled or not) — how closely distillation reproduced the teacher. ` +
      `AUROC: the teacher probe against the majority label on the rows where the model has an outcome and a teacher score, with the student on exactly the same rows and bootstrap resamples (${r.reps} resamples, seed ${r.seed}); TF-IDF and length baselines as in the per-model section.`,
    "",
    fidelityTable(r),
    "",
    routingPart(r),
  ].join("\n");
  return [{ title: "Teacher fidelity", body }];
}

/** `plots` with the teacher added (Pareto curve, AUROC bars); unchanged when the result has no teacher. */
export function teacherPlots<P extends Record<string, Plot>>(r: EvalResult, plots: P): P {
  const t = r.teacher;
  if (!t) return plots;
  const out: Record<string, Plot> = { ...plots };
  const kind = r.routing.headline_kind;
  if (t.routing.available && t.routing.sim) {
    const sims = { student: r.routing.sims.student, [TEACHER_LABEL]: t.routing.sim, "TF-IDF": r.routing.sims.tfidf, length: r.routing.sims.length };
    const cost = r.routing.sims.student.singles.map((q) => q.cost).filter((c) => c > 0);
    const logX = cost.length > 1 && Math.max(...cost) / Math.min(...cost) > 20;
    out.pareto = { svg: routingFigure(sims, kind, { logX }), caption: `Accuracy vs mean cost per query (${kind} sweep): single models, random, oracle, student / teacher-probe / TF-IDF / length routers` };
  }
  out["auroc-teacher"] = {
    svg: barChart({
      title: "AUROC: student vs teacher probe (95% CI, same rows)",
      groups: r.models,
      series: [
        { label: "student", values: r.models.map((m) => t.per_model[m].student_auroc) },
        { label: TEACHER_LABEL, values: r.models.map((m) => t.per_model[m].teacher.auroc) },
        { label: "TF-IDF", values: r.models.map((m) => r.per_model[m].tfidf.auroc) },
      ],
      yLabel: "AUROC",
      yDomain: [0, 1],
      refLine: { value: 0.5, label: "chance" },
    }),
    caption: `AUROC with bootstrap 95% CIs: student vs teacher probe (same rows) vs TF-IDF; fidelity (Pearson) ${r.models.map((m) => `${m} ${fmtNum(t.per_model[m].fidelity.pearson)}`).join(", ")}; teacher coverage ${fmtPct(t.coverage.evaluated ? t.coverage.with_logits / t.coverage.evaluated : null)}`,
  };
  return out as P;
}
