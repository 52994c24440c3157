/**
 * Leave-one-task-out evaluation (issue 17 item 6): for each task T of a build
 * config's data, train the student with the build's own stages (runDistill,
 * calibrateStudent) on the rows of every OTHER task, choose the default
 * threshold on their validation rows with the no-harm rule, and evaluate on
 * every row of T (all splits: none of them was seen). A config with a
 * `select` block (v3) instead chooses its policy on cross-fitted rows of the
 * other tasks (scripts/stages/crossfit.ts). The TF-IDF baseline is
 * also fitted without T. Shows what the bundle does when traffic comes from a
 * task it was not trained on. An experiment: writes JSON and a markdown table,
 * never a bundle; slow (one full training per task).
 *
 * Usage: tsx scripts/experiments/leave-one-task-out.ts --config configs/llmrouter-v2.json
 *          --out docs/leave-one-task-out [--tasks a,b] [--reps 200]
 */
import { writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { BuildConfig } from "../stages/build-config.js";
import { calibrateStudent } from "../stages/calibrate.js";
import { crossfitSelect } from "../stages/crossfit.js";
import { draftManifest } from "../stages/evaluate.js";
import { runDistill } from "../stages/distill.js";
import { toDistillRow } from "../distill/dataset.js";
import { evaluateBundle } from "../evaluate/evaluate-bundle.js";
import { OutcomeRow, PoolConfig } from "../formats/outcomes.js";
import { readJsonFile, readJsonl } from "../lib/jsonl.js";
import { exportStudent } from "../onnx/export-student.js";

const { values } = parseArgs({
  options: { config: { type: "string" }, out: { type: "string" }, tasks: { type: "string" }, reps: { type: "string", default: "200" } },
});
const cfg = await readJsonFile(values.config!, BuildConfig);
const pool = await readJsonFile(cfg.pool, PoolConfig);
const models = pool.models.map((m) => m.id);
const rows: OutcomeRow[] = [];
for await (const { value } of readJsonl(cfg.data, OutcomeRow)) rows.push(value);
const allTasks = [...new Set(rows.flatMap((r) => (r.task ? [r.task] : [])))].sort();
const tasks = values.tasks ? values.tasks.split(",") : allTasks;
const reps = Number(values.reps);

interface TaskResult {
  task: string;
  rows: number;
  routed: number;
  /** Models with both classes on T (AUROC defined); the means below are over these. */
  models_scored: number;
  student_mean_auroc: number;
  tfidf_mean_auroc: number;
  /** Models whose paired student − TF-IDF AUROC CI lies entirely below / above 0. */
  delta_ci_below_0: number;
  delta_ci_above_0: number;
  threshold: number | null;
  rule: string | null;
  router_acc: number | null;
  router_cost: number | null;
  /** The model that was best on the other tasks' validation rows, on T. */
  val_best_single: string;
  val_best_single_acc: number;
  val_best_single_cost: number;
  /** The best single model on T itself (hindsight). */
  best_single_on_task: string;
  best_single_on_task_acc: number;
  oracle_acc: number;
}

/** Mean over the models where both AUROCs exist (a task where a model never or always succeeds has none). */
const mean = (xs: number[]) => (xs.length === 0 ? NaN : xs.reduce((a, b) => a + b, 0) / xs.length);
const results: TaskResult[] = [];
for (const task of tasks) {
  const t0 = Date.now();
  const others = rows.filter((r) => r.task !== task);
  const held = rows.filter((r) => r.task === task).map((r) => ({ ...r, split: "test" as const }));
  const trainRows = others.filter((r) => r.split === "train" || r.split === "val");
  const valRows = others.filter((r) => r.split === "val");
  const res = runDistill({
    rows: trainRows.map(toDistillRow),
    models,
    featurizer: cfg.featurizer,
    train: { ...cfg.train, seed: cfg.train.seed ?? cfg.seed, alpha: 0 },
    progress: { mode: "none" },
  });
  const cal = calibrateStudent(res.weights, cfg.featurizer, models, others.filter((r) => r.split === "cal"), cfg.calibration, { valRows, seed: cfg.seed });
  const onnx = exportStudent(res.weights, cfg.dtype);
  // A config with a select block chooses its policy on cross-fitted rows of the other tasks, as its build would.
  const chosenPolicy = cfg.select ? crossfitSelect(cfg, others, pool.models) : undefined;
  const manifest = draftManifest(cfg, { pool: pool.models, featurizer: cfg.featurizer, outputModels: models, calibration: cal.calibration, outputLength: undefined, chosenPolicy }, onnx);
  const ev = await evaluateBundle({ manifest, onnx, rows: [...valRows, ...held], trainRows, split: "test", seed: cfg.seed, reps });
  const per = models.map((m) => ev.per_model[m]).filter((e) => e.student.auroc.estimate !== null && e.tfidf.auroc.estimate !== null);
  const delta = per.map((e) => e.auroc_minus_tfidf);
  const kind = ev.routing.headline_kind;
  const sel = ev.routing.selections?.student[kind] ?? null;
  const best = ev.routing.sweeps.student[kind].headlines.bestSingle;
  const r: TaskResult = {
    task,
    rows: held.length,
    routed: ev.counts.routed,
    models_scored: per.length,
    student_mean_auroc: mean(per.map((e) => e.student.auroc.estimate!)),
    tfidf_mean_auroc: mean(per.map((e) => e.tfidf.auroc.estimate!)),
    delta_ci_below_0: delta.filter((d) => d.hi !== null && d.hi < 0).length,
    delta_ci_above_0: delta.filter((d) => d.lo !== null && d.lo > 0).length,
    threshold: sel?.param ?? null,
    rule: sel?.rule ?? null,
    router_acc: sel?.test.point.accuracy ?? null,
    router_cost: sel?.test.point.cost ?? null,
    val_best_single: sel?.test.valBestSingleOnTest.label ?? "",
    val_best_single_acc: sel?.test.valBestSingleOnTest.accuracy ?? NaN,
    val_best_single_cost: sel?.test.valBestSingleOnTest.cost ?? NaN,
    best_single_on_task: best.label,
    best_single_on_task_acc: best.accuracy,
    oracle_acc: ev.routing.sims.student.oracle.accuracy,
  };
  results.push(r);
  console.error(`${task}: ${held.length} rows, student ${r.student_mean_auroc.toFixed(3)} vs TF-IDF ${r.tfidf_mean_auroc.toFixed(3)}; router ${r.router_acc?.toFixed(3)} at $${r.router_cost?.toExponential(2)} vs ${r.val_best_single} ${r.val_best_single_acc.toFixed(3)} at $${r.val_best_single_cost.toExponential(2)} (${Math.round((Date.now() - t0) / 1000)} s)`);
  writeFileSync(`${values.out}.json`, JSON.stringify({ config: values.config, reps, results }, null, 2) + "\n");
}

const f3 = (x: number | null) => (x === null || !Number.isFinite(x) ? "—" : x.toFixed(3));
const pct = (a: number | null, b: number) => (a === null || !(b > 0) ? "—" : `${Math.round((100 * a) / b)}%`);
const lines = [
  "| held-out task | rows | models scored | student mean AUROC | TF-IDF mean AUROC | Δ CI < 0 / > 0 | parameter (rule) | router acc | val-best single on task | its acc | router cost % of it | best single on task (hindsight) | oracle |",
  "|---|---:|---:|---:|---:|---:|---|---:|---|---:|---:|---|---:|",
  ...results.map((r) =>
    `| ${r.task} | ${r.rows} | ${r.models_scored} | ${f3(r.student_mean_auroc)} | ${f3(r.tfidf_mean_auroc)} | ${r.delta_ci_below_0} / ${r.delta_ci_above_0} | ${f3(r.threshold)} (${r.rule}) | ${f3(r.router_acc)} | ${r.val_best_single} | ${f3(r.val_best_single_acc)} | ${pct(r.router_cost, r.val_best_single_cost)} | ${r.best_single_on_task} ${f3(r.best_single_on_task_acc)} | ${f3(r.oracle_acc)} |`,
  ),
];
/** Row-weighted mean over the tasks where the figure exists. */
const w = (f: (r: TaskResult) => number | null) => {
  const ok = results.filter((r) => Number.isFinite(f(r) ?? NaN));
  return ok.reduce((a, r) => a + f(r)! * r.routed, 0) / Math.max(1, ok.reduce((a, r) => a + r.routed, 0));
};
lines.push(
  `| **all (row-weighted)** | ${results.reduce((a, r) => a + r.rows, 0)} | | ${f3(w((r) => r.student_mean_auroc))} | ${f3(w((r) => r.tfidf_mean_auroc))} | ${results.reduce((a, r) => a + r.delta_ci_below_0, 0)} / ${results.reduce((a, r) => a + r.delta_ci_above_0, 0)} | | ${f3(w((r) => r.router_acc))} | | ${f3(w((r) => r.val_best_single_acc))} | ${pct(w((r) => r.router_cost), w((r) => r.val_best_single_cost))} | | ${f3(w((r) => r.oracle_acc))} |`,
);
writeFileSync(`${values.out}.md`, lines.join("\n") + "\n");
console.log(lines.join("\n"));
