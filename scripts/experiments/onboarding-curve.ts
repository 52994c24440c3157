/**
 * Onboarding learning curve (issue 17 item 4). For each pool model m held out
 * in turn: train the student (the build config's trainer, every other model's
 * labels, train/val splits) WITHOUT m's labels; then, for N prompts sampled
 * from m's train-split outcomes (nested prefixes of one seeded order: a
 * uniform shuffle by default, label-plan's task-balanced order with --sample tasks),
 * compare on m's test split (AUROC of the raw score):
 *   head    the new head on the frozen trunk (scripts/stages/new-head.ts, parts and C by 5-fold CV within N)
 *   scratch a student trained from scratch on the same N (same trainer config, every 5th sampled prompt as its val split)
 *   tfidf   TF-IDF logistic on the same N (vocabulary from the N texts, C by the same 5-fold CV)
 * and the full-data head: same frozen trunk, every train row of m, parts (the
 * head's sets plus task+heads on a task-prior trunk) and C chosen on m's val split. Nothing is chosen on test. Runs in phases so a
 * short budget still yields the headline: every model at N = 100 with every
 * seed first, then the other Ns; JSON and markdown are rewritten after every
 * cell, with the curve as <out>.svg. Trunks are cached under .cache/onboarding/. An experiment: no bundle.
 *
 * Usage: tsx scripts/experiments/onboarding-curve.ts --config configs/llmrouter-v2.json
 *          --out docs/onboarding-curve [--models a,b] [--ns 25,50,100,200,500] [--seeds 1,2,3]
 *          [--headline-seeds 1,...,40]   (more draws at the headline N = 100 than at the other Ns)
 *          [--eval test|val|cal] [--skip-scratch]
 * --eval cal scores on m's cal split instead of test: a second held-out split that no trunk or head
 * choice reads (the trunk trains on train/val; cal only fits the bundle's calibration, which AUROC ignores),
 * to check a design chosen on val without reading test again. The full-data head still chooses on val.
 */
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { featurize } from "../../src/core/featurizer.js";
import { forward, taskProbsOf, type StudentWeights } from "../../src/core/student.js";
import { mulberry32, permutation } from "../../src/core/random.js";
import { BuildConfig } from "../stages/build-config.js";
import { runDistill } from "../stages/distill.js";
import { toDistillRow } from "../distill/dataset.js";
import { weightsFromOnnx } from "../distill/weights-io.js";
import { rowRate, rowSuccess, rowText } from "../evaluate/score.js";
import { OutcomeRow, PoolConfig } from "../formats/outcomes.js";
import { readJsonFile, readJsonl } from "../lib/jsonl.js";
import { fitLogistic } from "../lib/linear/logistic.js";
import { CsrRows } from "../lib/linear/sparse.js";
import { auroc } from "../lib/stats/metrics.js";
import { TfidfVectorizer } from "../lib/tfidf.js";
import { exportStudent } from "../onnx/export-student.js";
import { cvPath, stratifiedFolds } from "../stages/head-blocks.js";
import { activations } from "../stages/head-fold.js";
import { defaultHeadParts, fitNewHead, HEAD_COMBINE, HEAD_CS, HEAD_FOLDS, HEAD_HEADS_SCALE, HEAD_PARTS, HEAD_PARTS_TASK, HEAD_SELECT, hiddenOf, type HeadCombine, type HeadExample, type HeadOptions, type HeadParts, type HeadSelect } from "../stages/new-head.js";
import { headLogit } from "../stages/head-column.js";
import { fitImputedHead, IMPUTER_DEFAULT, type ImputePool, type ImputerInputs } from "../stages/impute-head.js";
import { taskBalancedOrder } from "../stages/label-plan.js";
import { optionalNumberFlag } from "../lib/flags.js";
import { RATE_PRIOR_VAR } from "../stages/task-rates.js";
import { onboardingPlot } from "./onboarding-plot.js";
import { onboardingMarkdown, type Cell, type CurveReport } from "./onboarding-table.js";

const { values } = parseArgs({
  options: {
    config: { type: "string" },
    out: { type: "string" },
    models: { type: "string" },
    ns: { type: "string", default: "25,50,100,200,500" },
    seeds: { type: "string", default: "1" },
    "headline-seeds": { type: "string" },
    parts: { type: "string" },
    eval: { type: "string", default: "test" },
    combine: { type: "string" },
    "select-by": { type: "string" },
    repeats: { type: "string" },
    label: { type: "string", default: "rate" },
    "heads-scale": { type: "string" },
    cs: { type: "string" },
    "block-norm": { type: "string" },
    "task-scale": { type: "string" },
    "rate-var": { type: "string" },
    "full-on-val": { type: "boolean", default: false },
    // No scratch students (the slowest column): for design checks that compare heads only.
    "skip-scratch": { type: "boolean", default: false },
    // How the N prompts are drawn: a uniform shuffle (the protocol, and every run before this flag) or label-plan's task-balanced order.
    sample: { type: "string", default: "random" },
    // The head from the N outcomes plus the other models' outcomes on m's train prompts (scripts/stages/impute-head.ts).
    impute: { type: "boolean", default: false },
    // With --impute: the imputer's inputs (impute-head.ts IMPUTER_INPUTS; default IMPUTER_DEFAULT).
    imputer: { type: "string" },
  },
});
const cfg = await readJsonFile(values.config!, BuildConfig);
const pool = await readJsonFile(cfg.pool, PoolConfig);
const allModels = pool.models.map((m) => m.id);
const models = values.models ? values.models.split(",") : allModels;
const ns = values.ns!.split(",").map(Number);
const seeds = values.seeds!.split(",").map(Number);
// The headline N's draws: one draw moves its share by several points, so it may get more seeds than the curve's other Ns.
const headlineSeeds = values["headline-seeds"] ? values["headline-seeds"].split(",").map(Number) : seeds;
const rows: OutcomeRow[] = [];
for await (const { value } of readJsonl(cfg.data, OutcomeRow)) rows.push(value);
const feats = rows.map((r) => featurize(rowText(r), cfg.featurizer));
const cfgKey = createHash("sha256").update(JSON.stringify({ f: cfg.featurizer, t: cfg.train, seed: cfg.seed, data: cfg.data, n: rows.length })).digest("hex").slice(0, 12);
const parts = values.parts ? (values.parts.split(",") as HeadParts[]) : undefined;
// --eval val: design comparisons on the validation split (head only: no full-data head, scratch or TF-IDF).
if (!["test", "val", "cal"].includes(values.eval!)) throw new Error(`--eval must be test, val or cal, got ${values.eval}`);
const onVal = values.eval === "val";
// Head variants (defaults: HEAD_COMBINE, HEAD_SELECT, one K-fold split); the full-data head always selects on m's val split.
const headOpts: HeadOptions = {
  parts,
  combine: (values.combine ?? HEAD_COMBINE) as HeadCombine,
  selectBy: (values["select-by"] ?? HEAD_SELECT) as HeadSelect,
  repeats: optionalNumberFlag("repeats", values.repeats, { integer: true, min: 1 }),
  headsScale: optionalNumberFlag("heads-scale", values["heads-scale"], { min: 1e-9 }) ?? HEAD_HEADS_SCALE,
  Cs: values.cs ? values.cs.split(",").map(Number) : undefined,
  blockNorm: values["block-norm"] as HeadOptions["blockNorm"],
  taskScale: optionalNumberFlag("task-scale", values["task-scale"], { min: 1e-9 }),
  rateVar: optionalNumberFlag("rate-var", values["rate-var"], { min: 1e-9 }),
};
if (values.sample !== "tasks" && values.sample !== "random") throw new Error(`--sample must be tasks or random, got ${values.sample}`);
const trainConfig = { ...cfg.train, seed: cfg.train.seed ?? cfg.seed, alpha: 0 };

/** The student trained without m's labels (cached by config and held-out model). */
function trunkWithout(m: string): StudentWeights {
  const file = join(".cache", "onboarding", `${cfgKey}-${m}.f32.onnx`);
  if (existsSync(file)) return weightsFromOnnx(readFileSync(file));
  const others = allModels.filter((x) => x !== m);
  const res = runDistill({ rows: rows.filter((r) => r.split === "train" || r.split === "val").map(toDistillRow), models: others, featurizer: cfg.featurizer, train: trainConfig, progress: { mode: "none" } });
  mkdirSync(join(".cache", "onboarding"), { recursive: true });
  writeFileSync(file, exportStudent(res.weights, "float32"));
  return res.weights;
}

const idxOf = (m: string, split: string) => rows.flatMap((r, i) => (r.split === split && r.outcomes[m] ? [i] : []));
// The head's target: the success rate (add-model's default) or the majority label (what AUROC and calibration score).
const target = (i: number, m: string) => (values.label === "majority" ? rowSuccess(rows[i], m) : rowRate(rows[i], m));
const example = (m: string) => (i: number): HeadExample => ({ ids: feats[i].ids, dense: feats[i].dense, y: target(i, m) });
const testAuroc = (m: string, test: number[], score: (i: number, k: number) => number) => auroc(test.map(score), test.map((i) => rowSuccess(rows[i], m)));

function tfidfAuroc(m: string, sample: number[], test: number[], seed: number): number | null {
  const texts = sample.map((i) => rowText(rows[i]));
  const vec = TfidfVectorizer.fit(texts);
  const X = vec.transform(texts);
  const y = Float64Array.from(sample, (i) => rowRate(rows[i], m));
  const k = Math.min(HEAD_FOLDS, sample.length);
  const path = cvPath((tr, te) => [new CsrRows(X, tr), new CsrRows(X, te)], y, HEAD_CS, stratifiedFolds(y, k, seed), k);
  const best = path.reduce((a, b) => (b.loss < a.loss ? b : a));
  const fit = fitLogistic(new CsrRows(X), y, { lambda: 1 / (best.C * sample.length), gtol: 1e-6, maxIter: 500 });
  const Xt = vec.transform(test.map((i) => rowText(rows[i])));
  const z = new Float64Array(test.length);
  new CsrRows(Xt).forward(fit.w, z);
  return auroc(Array.from(z), test.map((i) => rowSuccess(rows[i], m)));
}

function scratchAuroc(m: string, sample: number[], test: number[]): number | null {
  const distill = sample.map((i, k) => ({ ...toDistillRow(rows[i]), split: k % 5 === 4 ? "val" : "train" }));
  const res = runDistill({ rows: distill, models: [m], featurizer: cfg.featurizer, train: trainConfig, progress: { mode: "none" } });
  return testAuroc(m, test, (i) => forward(res.weights, feats[i].ids, feats[i].dense).logits[0]);
}

const report: CurveReport = { config: values.config!, eval: values.eval!, parts: parts ?? (cfg.train.taskPrior ? HEAD_PARTS_TASK : HEAD_PARTS), combine: headOpts.combine!, select_by: headOpts.selectBy!, repeats: headOpts.repeats ?? 1, heads_scale: headOpts.headsScale!, rate_var: headOpts.rateVar ?? RATE_PRIOR_VAR, ...(values.impute ? { impute: true, imputer: values.imputer ?? IMPUTER_DEFAULT } : {}), sample: values.sample!, ns, seeds, ...(values["headline-seeds"] ? { headline_seeds: headlineSeeds } : {}), folds: HEAD_FOLDS, Cs: headOpts.Cs ?? HEAD_CS, models: {} };
const save = () => {
  writeFileSync(`${values.out}.json`, JSON.stringify(report, null, 2) + "\n");
  writeFileSync(`${values.out}.md`, onboardingMarkdown(report));
  if (Object.values(report.models).some((m) => m.cells.length > 0)) writeFileSync(`${values.out}.svg`, onboardingPlot(report));
};
const trunks = new Map<string, { w: StudentWeights; h: Float64Array; test: number[]; pool: number[]; ipool: ImputePool | null }>();

/** m's train prompts as the imputer's pool: the trunk's activations and every other model's outcome there (the trunk's output order). */
function imputePool(m: string, w: StudentWeights, pool: number[]): ImputePool {
  const others = allModels.filter((x) => x !== m);
  const outcomes = new Float64Array(pool.length * others.length);
  pool.forEach((i, r) => others.forEach((o, j) => (outcomes[r * others.length + j] = rows[i].outcomes[o] ? rowSuccess(rows[i], o) : NaN)));
  return { acts: activations(w, pool.map((i) => feats[i])), outcomes };
}

function cell(m: string, n: number, seed: number): void {
  const t = trunks.get(m)!;
  const rng = mulberry32(seed * 7919 + 17);
  const order = values.sample === "tasks" ? taskBalancedOrder(t.pool.map((i) => rows[i].task), rng) : Array.from(permutation(t.pool.length, rng));
  if (n > t.pool.length) return;
  const sample = order.slice(0, n).map((k) => t.pool[k]);
  const t0 = Date.now();
  const head = t.ipool
    ? fitImputedHead(t.w, t.ipool, order.slice(0, n).map((k) => ({ row: k, y: target(t.pool[k], m) })), { seed, rateVar: headOpts.rateVar, inputs: values.imputer as ImputerInputs | undefined })
    : fitNewHead(t.w, sample.map(example(m)), { ...headOpts, seed });
  const H = t.w.shape.hidden;
  const a = testAuroc(m, t.test, (i, k) => headLogit(head, t.h.subarray(k * H, (k + 1) * H), feats[i].ids, t.w.wideNorm, t.w.wideTfidf, taskProbsOf(t.w, feats[i].ids, t.h.subarray(k * H, (k + 1) * H))));
  const c: Cell = { n, seed, head: a, head_parts: head.parts, head_C: head.C, tfidf: tfidfAuroc(m, sample, t.test, seed), scratch: onVal || values["skip-scratch"] ? null : scratchAuroc(m, sample, t.test), positives: sample.filter((i) => rowSuccess(rows[i], m) === 1).length };
  report.models[m].cells.push(c);
  save();
  console.error(`${m} N=${n} seed ${seed}: head ${c.head?.toFixed(3)} (${c.head_parts}, C ${c.head_C}) scratch ${c.scratch?.toFixed(3) ?? "—"} tfidf ${c.tfidf?.toFixed(3)} (${Math.round((Date.now() - t0) / 1000)} s)`);
}

// Phase 1: trunk, full-data head and N = 100 for every model.
const first = ns.includes(100) ? 100 : ns[0];
for (const m of models) {
  const t0 = Date.now();
  const w = trunkWithout(m);
  const test = idxOf(m, values.eval!);
  const h = hiddenOf(w, test.map((i) => feats[i]));
  const trainPool = idxOf(m, "train");
  const val = idxOf(m, "val");
  trunks.set(m, { w, h, test, pool: trainPool, ipool: values.impute ? imputePool(m, w, trainPool) : null });
  // --eval val --full-on-val: the full-data head selected and scored on val (selection on the scored rows: its AUROC is
  // optimistic by that choice, so the share it gives the N-row head is, if anything, low).
  // The full-data head chooses on m's val split among the N-row head's sets and the strongest earlier default
  // (task+heads on a task-prior trunk), so a set that is weaker with all rows cannot shrink the denominator of the share.
  const fullParts = [...new Set([...(parts ?? defaultHeadParts(w)), ...(w.task ? (["task+heads"] as HeadParts[]) : [])])];
  const full = onVal && !values["full-on-val"] ? null : fitNewHead(w, trainPool.map(example(m)), { ...headOpts, parts: fullParts, val: val.map(example(m)) });
  const H = w.shape.hidden;
  const fullA = !full ? null : testAuroc(m, test, (i, k) => headLogit(full, h.subarray(k * H, (k + 1) * H), feats[i].ids, w.wideNorm, w.wideTfidf, taskProbsOf(w, feats[i].ids, h.subarray(k * H, (k + 1) * H))));
  report.models[m] = { train_rows: trainPool.length, val_rows: val.length, test_rows: test.length, full_head: fullA, full_parts: full?.parts ?? "", full_C: full?.C ?? NaN, cells: [] };
  console.error(`${m}: trunk + full head ${fullA?.toFixed(3)} (${full?.parts}, C ${full?.C}) (${Math.round((Date.now() - t0) / 1000)} s)`);
  cell(m, first, headlineSeeds[0]);
}
// Phase 2: the headline N with the other seeds; phase 3: the other Ns, seed by seed.
for (const seed of headlineSeeds.slice(1)) for (const m of models) cell(m, first, seed);
for (const seed of seeds) for (const n of ns.filter((x) => x !== first)) for (const m of models) cell(m, n, seed);
console.log(onboardingMarkdown(report));
