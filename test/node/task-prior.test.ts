/**
 * The student's task prior (scripts/distill/task-prior.ts, src/core/student.ts
 * TaskPrior): on synthetic prompts whose task (a word set) decides most of
 * each model's success, the trainer must ship exactly b·student + Σ_t p_t·prior,
 * with the classifier, the smoothed per-task logits and b as documented, skip
 * the prior with fewer than two tasks and refuse it without a wide part.
 * (Whether it helps is a question for real data: docs/student.md, "Task prior".)
 */
import { describe, expect, it } from "vitest";
import { featurize, type FeaturizerSpec } from "../../src/core/featurizer.js";
import { mulberry32 } from "../../src/core/random.js";
import { forward, taskProbs } from "../../src/core/student.js";
import { toDistillRow } from "../../scripts/distill/dataset.js";
import type { Example } from "../../scripts/distill/network.js";
import { MIN_TASK_ROWS, TASK_SHRINK } from "../../scripts/distill/task-prior.js";
import { trainStudent } from "../../scripts/distill/trainer.js";
import { taskPriorField, taskPriorNames } from "../../scripts/stages/distill.js";

const spec: FeaturizerSpec = { kind: "hashed-ngram-v1", buckets: 2048, word_ngrams: [1], char_ngrams: [3], max_features: 64, lowercase: true, seed: 11 };
const TASKS = { algebra: ["solve", "equation", "variable"], poetry: ["poem", "rhyme", "verse"], trivia: ["capital", "river", "who"] };
const FILLER = ["the", "a", "of", "and", "to", "please", "now", "this"];
// Success rate of each of 3 models per task; "hard" prompts (the word "tricky") lower every rate.
const RATES: Record<string, number[]> = { algebra: [0.85, 0.2, 0.5], poetry: [0.15, 0.8, 0.5], trivia: [0.5, 0.5, 0.9] };

function data(n: number, seed: number, tasks = Object.keys(TASKS)): Example[] {
  const rng = mulberry32(seed);
  return Array.from({ length: n }, () => {
    const task = tasks[Math.floor(rng() * tasks.length)];
    const own = TASKS[task as keyof typeof TASKS];
    const tricky = rng() < 0.4;
    const words = [...Array.from({ length: 2 }, () => own[Math.floor(rng() * own.length)]), ...Array.from({ length: 4 }, () => FILLER[Math.floor(rng() * FILLER.length)]), ...(tricky ? ["tricky"] : [])];
    const f = featurize(words.join(" "), spec);
    const label = Float32Array.from(RATES[task], (r) => (rng() < (tricky ? r * 0.5 : r) ? 1 : 0));
    return { ids: f.ids, dense: f.dense, label, task };
  });
}

const train = data(600, 1);
const val = data(200, 2);
const test = data(400, 3);
const V = spec.buckets;
const base = { seed: 3, dim: 8, hidden: 8, lr: 1e-2, maxEpochs: 4, wide: true, wideBlend: [0.5] };
const plain = trainStudent({ train, val, buckets: V, outputs: 3 }, base, { mode: "none" });

describe.each(["hidden", "ids"] as const)("task prior over %s", (taskInput) => {
  const withPrior = trainStudent({ train, val, buckets: V, outputs: 3 }, { ...base, taskPrior: true, taskInput }, { mode: "none" });

  it("ships b·student + Σ_t p_t·prior[t] with b the best mean validation AUROC of the grid", () => {
    const fit = withPrior.task!;
    if ("skipped" in fit) throw new Error(fit.skipped);
    expect(fit.tasks).toEqual(["algebra", "poetry", "trivia"]);
    expect(fit.tried.map((t) => t.weight)).toEqual([0.1, 0.25, 0.5, 0.75, 1]);
    expect(fit.tried.find((t) => t.weight === fit.studentWeight)!.valMeanAuroc).toBe(Math.max(...fit.tried.map((t) => t.valMeanAuroc)));
    const w = withPrior.weights;
    expect(w.task!.bias.length).toBe(3);
    expect(w.task!.input).toBe(taskInput);
    expect(w.task!.table.length).toBe((taskInput === "ids" ? V : base.hidden) * 3);
    for (const e of test.slice(0, 30)) {
      const z = forward(w, e.ids, e.dense).logits;
      const z0 = forward(plain.weights, e.ids, e.dense).logits;
      const p = taskProbs(w.task!, { ids: e.ids, h: forward(w, e.ids, e.dense).h, norm: w.wideNorm, tfidf: w.wideTfidf });
      for (let m = 0; m < 3; m++) {
        let prior = 0;
        for (let t = 0; t < 3; t++) prior += p[t] * w.task!.prior[t * 3 + m];
        expect(z[m]).toBeCloseTo(fit.studentWeight * z0[m] + prior, 4);
      }
    }
  });

  it("classifies the task and stores each task's smoothed success logit", () => {
    const fit = withPrior.task!;
    if ("skipped" in fit) throw new Error(fit.skipped);
    expect(fit.valAccuracy).toBeGreaterThan(0.9);
    const m = 1;
    const rows = train.filter((e) => e.task === "poetry");
    const all = train.map((e) => e.label![m]);
    const overall = (all.reduce((a, b) => a + b, 0) + 1) / (all.length + 2);
    const rate = (rows.reduce((a, e) => a + e.label![m], 0) + TASK_SHRINK * overall) / (rows.length + TASK_SHRINK);
    expect(withPrior.weights.task!.prior[1 * 3 + m]).toBeCloseTo(Math.log(rate / (1 - rate)), 4);
    expect(fit.rows).toEqual(["algebra", "poetry", "trivia"].map((t) => train.filter((e) => e.task === t).length));
  });

});

describe("task prior rules", () => {
  it("is skipped, with the reason, when fewer than two tasks have enough training rows", () => {
    const one = data(300, 4, ["algebra"]);
    const res = trainStudent({ train: one, val: data(50, 5, ["algebra"]), buckets: V, outputs: 3 }, { ...base, taskPrior: true }, { mode: "none" });
    expect(res.weights.task).toBeUndefined();
    expect(res.task).toEqual({ skipped: expect.stringContaining(`≥ ${MIN_TASK_ROWS} training rows`) });
  });

  it("over the ids needs the wide part; over the hidden layer it does not", () => {
    const deepOnly = { seed: 3, dim: 4, hidden: 4, maxEpochs: 1, taskPrior: true };
    expect(() => trainStudent({ train, val, buckets: V, outputs: 3 }, { ...deepOnly, taskInput: "ids" }, { mode: "none" })).toThrow(/taskInput ids needs wide/);
    expect(trainStudent({ train, val, buckets: V, outputs: 3 }, deepOnly, { mode: "none" }).weights.task?.input).toBe("hidden");
  });

  it("over the ids with taskMinDf, ids in fewer training prompts get exactly no weight", () => {
    const df = new Map<number, number>();
    for (const e of train) for (const id of new Set(e.ids)) df.set(id, (df.get(id) ?? 0) + 1);
    const minDf = [...df.values()].sort((a, b) => a - b)[Math.floor(df.size / 2)]; // the median id's df: both sides non-empty
    const res = trainStudent({ train, val, buckets: V, outputs: 3 }, { ...base, taskPrior: true, taskInput: "ids", taskMinDf: minDf }, { mode: "none" });
    const row = (j: number) => Array.from(res.weights.task!.table.subarray(j * 3, j * 3 + 3));
    const rare = [...df].filter(([, n]) => n < minDf).map(([j]) => j);
    const common = [...df].filter(([, n]) => n >= minDf).map(([j]) => j);
    expect(rare.length).toBeGreaterThan(0);
    for (const j of rare) expect(row(j)).toEqual([0, 0, 0]);
    expect(common.filter((j) => row(j).some((v) => v !== 0)).length).toBe(common.length);
  });

  it("an outcomes row keeps its task through toDistillRow", () => {
    expect(toDistillRow({ id: "a", prompt: "solve x", task: "algebra", split: "train", outcomes: { m: { n: 1, k: 1 } } }).task).toBe("algebra");
    expect("task" in toDistillRow({ id: "b", prompt: "solve x", split: "train", outcomes: { m: { n: 1, k: 1 } } })).toBe(false);
  });

  it("task names round-trip through the manifest's provenance string, commas included", () => {
    const plain = ["algebra", "mmlu", "gsm8k"];
    // Plain names keep the comma-joined form every shipped bundle has.
    expect(taskPriorField(plain)).toBe("algebra,mmlu,gsm8k");
    for (const tasks of [plain, ["qa, open", "math"], ["[bracketed]", "b"], ["only"]]) expect(taskPriorNames({ task_prior: taskPriorField(tasks) })).toEqual(tasks);
    expect(taskPriorNames({ task_prior: "skipped: too few tasks" })).toEqual([]);
    expect(taskPriorNames({})).toEqual([]);
    expect(() => taskPriorNames({ task_prior: "[1,2]" })).toThrow(/task_prior/);
    // A comma-joined legacy string whose first name starts with "[" is not JSON: refused by field name, not a SyntaxError.
    expect(() => taskPriorNames({ task_prior: "[draft] qa,math" })).toThrow(/provenance\.trainer\.task_prior: starts with "\["/);
  });
});
