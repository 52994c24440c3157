/**
 * Evaluation report: turns an EvalResult into report.md, metrics.json and
 * SVG figures via scripts/lib/report/markdown.ts `writeReport` (Pareto plot
 * with singles/random/oracle and the three routers, one reliability diagram
 * per model, AUROC bars with CIs). Owns the report's wording and layout;
 * must not compute statistics beyond formatting (evaluate-bundle.ts does).
 */
import { barChart, reliabilityDiagram } from "../lib/plots/svg.js";
import { fmtCI, fmtNum, fmtPct, fmtUsd, mdTableOf, writeReport, type ReportSection, type WrittenReport } from "../lib/report/markdown.js";
import { headlinesTable, pointsTable, routingFigure, selectionTable, type HeadlineRow, type SelectionRow } from "../lib/report/routing.js";
import { COST_TARGET_PCT, COST_TARGET_TOLERANCE, type EvalResult } from "./evaluate-bundle.js";
import { KINDS, SCORERS } from "./routing-eval.js";
import { teacherPlots, teacherSections } from "./report-teacher.js";
import { costErrorSections } from "./report-cost.js";

export interface ReportInfo {
  /** Evaluation data file as given, and its sha256. */
  dataFile: string;
  dataSha256: string;
  /** Baselines' training data; null when it was the evaluation file itself. */
  trainFile: { path: string; sha256: string } | null;
}

const SCORER_LABEL: Record<string, string> = { student: "student", tfidf: "TF-IDF", length: "length" };

function targetsSection(r: EvalResult): ReportSection {
  const lines: string[] = [];
  const a = r.targets.auroc;
  lines.push(`- **Student AUROC beats TF-IDF with a 95% CI above 0.5, for every model:** ${a.met ? "met" : "NOT met"}.`);
  for (const m of r.models) {
    if (a.per_model[m]) continue;
    const e = r.per_model[m];
    const why: string[] = [];
    const s = e.student.auroc;
    const t = e.tfidf.auroc.estimate;
    if (s.estimate === null) why.push("AUROC undefined (one class only)");
    else {
      if (t !== null && s.estimate <= t) why.push(`student ${fmtNum(s.estimate)} ≤ TF-IDF ${fmtNum(t)}`);
      if (s.lo === null) why.push("no CI (too few rows of one class)");
      else if (s.lo <= 0.5) why.push(`CI lower bound ${fmtNum(s.lo)} ≤ 0.5`);
    }
    lines.push(`  - short on \`${m}\`: ${why.join("; ")}.`);
  }
  const c = r.targets.cost;
  lines.push(
    `- **Router reaches the best single model's accuracy (− ${100 * COST_TARGET_TOLERANCE} point) at ≤ ${COST_TARGET_PCT}% of its cost** (student, ${r.routing.headline_kind} policy, parameter ${choiceSource(r)}): ${c.met ? "met" : "NOT met"}.`,
  );
  if (!c.met) {
    if (c.router_acc === null) lines.push("  - short: no validation rows, so no operating point was chosen.");
    else {
      if (c.router_acc < c.best_single_acc - COST_TARGET_TOLERANCE - 1e-12) lines.push(`  - short on accuracy: router ${fmtPct(c.router_acc)} vs best single ${fmtPct(c.best_single_acc)}.`);
      if (c.cost_pct !== null && c.cost_pct > COST_TARGET_PCT) lines.push(`  - short on cost: router at ${fmtPct(c.cost_pct, 1, true)} of the best single model's cost.`);
    }
  }
  return { title: "Targets", body: lines.join("\n") };
}

function modelSection(r: EvalResult): ReportSection {
  const rows = r.models.map((m) => ({ m, e: r.per_model[m], info: r.baselines.per_model[m] }));
  const table = mdTableOf(rows, [
    { header: "model", value: (x) => x.m },
    { header: "n", value: (x) => x.e.n, align: "right" },
    { header: "success rate", value: (x) => fmtPct(x.e.base_rate), align: "right" },
    { header: "student AUROC", value: (x) => fmtCI(x.e.student.auroc), align: "right" },
    { header: "TF-IDF AUROC", value: (x) => fmtCI(x.e.tfidf.auroc), align: "right" },
    { header: "length AUROC", value: (x) => fmtCI(x.e.length.auroc), align: "right" },
    { header: "Δ vs TF-IDF (paired)", value: (x) => fmtCI(x.e.auroc_minus_tfidf), align: "right" },
    { header: "Brier", value: (x) => fmtCI(x.e.student.brier), align: "right" },
    { header: "ECE", value: (x) => fmtCI(x.e.student.ece), align: "right" },
    { header: "log-loss", value: (x) => fmtNum(x.e.student.logloss.estimate), align: "right" },
    { header: "majority Brier", value: (x) => fmtNum(x.e.majority.brier), align: "right" },
  ]);
  const cs = rows.map((x) => `\`${x.m}\` C=${x.info.tfidf_C === null ? "—" : Number(x.info.tfidf_C.toPrecision(3))}`).join(", ");
  return {
    title: "Per-model prediction quality",
    body:
      `Probabilities are the student's calibrated P(success) against the majority label (k/n > 0.5), on rows where the model has an outcome. ` +
      `95% CIs: percentile bootstrap, ${r.reps} resamples, seed ${r.seed}, paired across predictors. ` +
      `Majority = the training base rate as a constant probability (AUROC 0.5 by construction).\n\n${table}\n\nTF-IDF regularisation (chosen on ${r.baselines.c_source}, ${r.baselines.c_rows} rows): ${cs}.`,
  };
}

/** Smallest frontier cost reaching `acc`, and best frontier accuracy at cost ≤ `cost` (lookups on the sweep's frontier). */
function against(frontier: { cost: number; accuracy: number }[], acc: number, cost: number): { costAt: number | null; accWithin: number | null } {
  let costAt: number | null = null;
  let accWithin: number | null = null;
  for (const q of frontier) {
    if (q.accuracy >= acc - 1e-12 && (costAt === null || q.cost < costAt)) costAt = q.cost;
    if (q.cost <= cost + 1e-12 && (accWithin === null || q.accuracy > accWithin)) accWithin = q.accuracy;
  }
  return { costAt, accWithin };
}

function frontierSection(r: EvalResult): ReportSection {
  const kind = r.routing.headline_kind;
  const singles = [...r.routing.sims.student.singles].sort((a, b) => a.cost - b.cost);
  const rows = singles.map((q) => ({ q, by: Object.fromEntries(SCORERS.map((s) => [s, against(r.routing.sweeps[s][kind].frontier, q.accuracy, q.cost)])) }));
  const pct = (c: number | null, ref: number) => (c === null || !(ref > 0) ? "not reached" : fmtPct(c / ref, 1));
  const table = mdTableOf(rows, [
    { header: "single model", value: (x) => x.q.label },
    { header: "accuracy", value: (x) => fmtPct(x.q.accuracy), align: "right" },
    { header: "cost / query", value: (x) => fmtUsd(x.q.cost), align: "right" },
    ...SCORERS.flatMap((s) => [
      { header: `${SCORER_LABEL[s]}: cost at its accuracy`, value: (x: (typeof rows)[number]) => pct(x.by[s].costAt, x.q.cost), align: "right" as const },
      { header: `${SCORER_LABEL[s]}: best acc. within its cost`, value: (x: (typeof rows)[number]) => fmtPct(x.by[s].accWithin), align: "right" as const },
    ]),
  ]);
  const h = r.routing.sweeps.student[kind].headlines;
  const b = h.bestSingle;
  const frontier = mdTableOf(r.routing.sweeps.student[kind].frontier, [
    { header: "param", value: (q) => (q.param === undefined ? "—" : fmtNum(q.param)) },
    { header: "accuracy", value: (q) => fmtPct(q.accuracy), align: "right" },
    { header: "cost / query", value: (q) => fmtUsd(q.cost), align: "right" },
    { header: "% of best single's cost", value: (q) => (b.cost > 0 ? fmtPct(q.cost / b.cost, 1) : "—"), align: "right" },
  ]);
  return {
    title: "Routing: Pareto frontier against every single model",
    body:
      `For each single model (cheapest first): the cheapest point of each router's ${kind} sweep frontier on the ${r.split} rows that reaches that model's accuracy (as % of that model's cost), and the best accuracy any frontier point reaches at no more than that model's cost. ` +
      `Descriptive (the sweep is read on the evaluation rows); the validation-chosen operating point is in the next section.\n\n` +
      `**Headline (student, ${kind}):** best single model \`${b.label}\` ${fmtPct(b.accuracy)} at ${fmtUsd(b.cost)}; ` +
      `cost at its accuracy: ${h.costAtBestSingleAccuracyPct === null ? "not reached" : `${fmtNum(h.costAtBestSingleAccuracyPct, 1)}% of its cost`}; ` +
      `best accuracy within its cost: ${fmtPct(h.accuracyWithinBestSingleCost)}.\n\n${table}\n\nStudent ${kind} frontier:\n\n${frontier}`,
  };
}

function routingSections(r: EvalResult): ReportSection[] {
  const sim = r.routing.sims.student;
  const best = r.routing.sweeps.student[r.routing.headline_kind].headlines.bestSingle;
  const base = pointsTable([...sim.singles, sim.random, sim.oracle], best.cost);
  const hl: HeadlineRow[] = SCORERS.flatMap((s) => KINDS.map((k) => ({ scorer: SCORER_LABEL[s], policy: k, headlines: r.routing.sweeps[s][k].headlines, auc: r.routing.sweeps[s][k].auc })));
  const out: ReportSection[] = [
    {
      title: "Routing: baselines",
      body: `${sim.rows} rows with every model's outcome known (${sim.dropped} dropped for missing outcomes). Cost per query: the row's measured cost_usd if present, else pool prices × (featurizer input tokens, measured output_tokens or the pool default).\n\n${base}`,
    },
    {
      title: "Routing: sweep headlines (descriptive)",
      body: `Best over each parameter sweep on the ${r.split} rows themselves — an upper bound on what a parameter chosen in advance achieves. AUC: normalised area under the accuracy–cost step curve up to the most expensive single model's cost.\n\n${headlinesTable(hl)}`,
    },
    frontierSection(r),
  ];
  const sel = r.routing.selections;
  if (sel) {
    const rows: SelectionRow[] = SCORERS.flatMap((s) => KINDS.map((k) => ({ scorer: SCORER_LABEL[s], selection: sel[s][k] })));
    const overlap = r.split === "all" ? " With --split all the validation rows are among the evaluated rows, so these figures are optimistic." : "";
    out.push({
      title: "Routing: parameters chosen on validation",
      body: `Parameters chosen on ${r.counts.val_rows} validation rows (source: ${r.counts.val_source}) with selectOnValidation, then applied unchanged to the ${r.split} rows ("test" columns below).${overlap} The headline router is the student with the bundle's default policy kind (${r.routing.headline_kind})${sel.student[r.routing.headline_kind].rule === "chosen-at-build" ? `, at the parameter ${choiceSource(r)} (rule chosen-at-build; its validation columns only report it)` : ""}.\n\n${selectionTable(rows)}`,
    });
  } else {
    out.push({ title: "Routing: parameters chosen on validation", body: "No validation rows (none in the data, none in the training data): no parameter was chosen and the router_* headlines are null." });
  }
  const pt = r.routing.per_task;
  out.push({
    title: "Per-task accuracy",
    body: mdTableOf(pt, [
      { header: "task", value: (t) => t.task },
      { header: "n", value: (t) => t.n, align: "right" },
      ...r.models.map((m) => ({ header: m, value: (t: (typeof pt)[number]) => fmtPct(t.singles[m]), align: "right" as const })),
      { header: "router", value: (t) => fmtPct(t.router), align: "right" },
      { header: "oracle", value: (t) => fmtPct(t.oracle), align: "right" },
    ]),
  });
  return out;
}

/** Where the headline router's parameter came from: the build's cross-fitted rows (rule chosen-at-build) or validation. */
function choiceSource(r: EvalResult): string {
  const sel = r.routing.selections?.student[r.routing.headline_kind];
  return sel?.rule === "chosen-at-build" ? "chosen at build on cross-fitted train+val rows" : "chosen on validation";
}

function plots(r: EvalResult): Record<string, { svg: string; caption: string }> {
  const kind = r.routing.headline_kind;
  const sims = Object.fromEntries(SCORERS.map((s) => [SCORER_LABEL[s], r.routing.sims[s]]));
  const cost = r.routing.sims.student.singles.map((q) => q.cost).filter((c) => c > 0);
  const logX = cost.length > 1 && Math.max(...cost) / Math.min(...cost) > 20;
  const out: Record<string, { svg: string; caption: string }> = {
    pareto: { svg: routingFigure(sims, kind, { logX }), caption: `Accuracy vs mean cost per query (${kind} sweep): single models, random, oracle, student / TF-IDF / length routers` },
    "auroc-bars": {
      svg: barChart({
        title: "AUROC by model (95% CI)",
        groups: r.models,
        series: [
          { label: "student", values: r.models.map((m) => r.per_model[m].student.auroc) },
          { label: "TF-IDF", values: r.models.map((m) => r.per_model[m].tfidf.auroc) },
          { label: "length", values: r.models.map((m) => r.per_model[m].length.auroc) },
        ],
        yLabel: "AUROC",
        yDomain: [0, 1],
        refLine: { value: 0.5, label: "chance" },
      }),
      caption: "AUROC with bootstrap 95% CIs: student vs TF-IDF vs length",
    },
  };
  for (const m of r.models) {
    out[`reliability-${m}`] = {
      svg: reliabilityDiagram({ title: `Calibration: ${m}`, series: [{ label: "student", bins: r.per_model[m].student.reliability }] }),
      caption: `Reliability diagram for ${m} (student, calibrated)`,
    };
  }
  return out;
}

/** metrics.json content: the EvalResult without per-row arrays, plus the data provenance. */
export function metricsJson(r: EvalResult, info: ReportInfo): unknown {
  const { scored: _scored, ...rest } = r;
  return { data: { file: info.dataFile, sha256: info.dataSha256 }, train_data: info.trainFile, ...rest };
}

export async function writeEvalReport(dir: string, r: EvalResult, info: ReportInfo): Promise<WrittenReport> {
  const c = r.counts;
  const intro = [
    `Bundle \`${r.bundle_id}\` evaluated on \`${info.dataFile}\` (sha256 \`${info.dataSha256}\`).`,
    "",
    `- rows in file: ${c.rows_in_file}; split used: **${r.split}** (${c.evaluated} rows evaluated, ${c.routed} with every model's outcome used for routing, ${c.dropped_incomplete} dropped)`,
    `- validation rows for parameter choice: ${c.val_rows} (source: ${c.val_source})`,
    `- baselines fitted on ${info.trainFile ? `\`${info.trainFile.path}\` (sha256 \`${info.trainFile.sha256}\`)` : "the evaluation file"}: ${r.baselines.fit_rows} fit rows, TF-IDF C chosen on ${r.baselines.c_rows} rows (${r.baselines.c_source})`,
    `- seed ${r.seed}, ${r.reps} bootstrap resamples; re-running with the same inputs reproduces every number.`,
    `- headline router: student, ${r.routing.headline_kind} policy, parameter ${r.manifestMetrics.headline.router_param ?? "—"} (${choiceSource(r)}); accuracy ${fmtPct(r.manifestMetrics.headline.router_acc)}, cost ${fmtUsd(r.manifestMetrics.headline.router_cost)} per query vs best single \`${String(r.manifestMetrics.best_single_model)}\` ${fmtPct(r.manifestMetrics.headline.best_single_acc)} at ${fmtUsd(r.manifestMetrics.headline.best_single_cost)}.`,
  ].join("\n");
  return writeReport(dir, {
    title: `Evaluation: ${r.bundle_id}`,
    intro,
    sections: [targetsSection(r), modelSection(r), ...costErrorSections(r), ...routingSections(r), ...teacherSections(r)],
    plots: teacherPlots(r, plots(r)),
    metrics: metricsJson(r, info),
  });
}
