/**
 * `add-model` (scripts/stages/add-model.ts): onboarding a model onto a small
 * wide-and-deep bundle, for both weight dtypes, must leave every existing
 * model's logits bit-identical through onnxruntime-node, make the new output
 * equal the fitted head's reference forward, keep existing calibration, and
 * write a bundle that passes promote's verification (schema, sha256, golden
 * replay) with a monotone map for the new model; with --pool-data (the
 * imputed head), the same, plus its provenance and its refusals; the
 * command's default ("auto": the bundle's build data, checked by sha256, with
 * fallback to the plain head) and "none".
 */
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { featurize, type FeaturizerSpec } from "../../src/core/featurizer.js";
import { mulberry32 } from "../../src/core/random.js";
import { forward, taskProbsOf, type StudentWeights } from "../../src/core/student.js";
import { randomStudent } from "./random-student.js";
import { goldenPrompts } from "../../scripts/bundle/golden-prompts.js";
import { nodeScorer } from "../../scripts/bundle/score-node.js";
import { writeBundle } from "../../scripts/bundle/write-bundle.js";
import { weightsFromOnnx } from "../../scripts/distill/weights-io.js";
import type { OutcomeRow } from "../../scripts/formats/outcomes.js";
import { IO, type WeightDtype } from "../../scripts/onnx/export-student.js";
import { addModel, resolvePoolData } from "../../scripts/stages/add-model.js";
import { headLogit } from "../../scripts/stages/head-column.js";
import { ALL_HEAD_PARTS, fitNewHead } from "../../scripts/stages/new-head.js";
import { IMPUTE_WEIGHT, type ImputedHead } from "../../scripts/stages/impute-head.js";
import { verifyBundle } from "../../scripts/stages/promote.js";

const spec: FeaturizerSpec = { kind: "hashed-ngram-v1", buckets: 1024, word_ngrams: [1, 2], char_ngrams: [3], max_features: 128, lowercase: true, seed: 5 };
const models = ["m-small", "m-large"];
const root = mkdtempSync(join(tmpdir(), "add-model-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** A small wide-and-deep student; with `task`, plus a random task prior over 3 tasks on the ids or on h (the new head then gets a column of it). */
function weights(seed: number, task: false | "ids" | "hidden" = false): StudentWeights {
  const w = randomStudent(seed, { buckets: spec.buckets, dim: 8, hidden: 16, outputs: models.length, wide: true });
  if (!task) return w;
  const rng = mulberry32(seed + 100);
  const T = 3;
  const r = (n: number, s: number) => Float32Array.from({ length: n }, () => (rng() - 0.5) * 2 * s);
  return { ...w, task: { input: task, table: r((task === "ids" ? spec.buckets : 16) * T, task === "ids" ? 4 : 1), bias: r(T, 1), prior: r(T * models.length, 2) } };
}

const WORDS = ["prove", "integral", "poem", "translate", "sum", "story", "matrix", "haiku", "derive", "letter", "graph", "joke"];
/** Outcomes for the new model: it succeeds on "creative" words, fails on maths (learnable signal). */
function outcomes(n: number): OutcomeRow[] {
  const rng = mulberry32(9);
  return Array.from({ length: n }, (_, i) => {
    const words = Array.from({ length: 3 + Math.floor(rng() * 5) }, () => WORDS[Math.floor(rng() * WORDS.length)]);
    const creative = words.filter((w) => ["poem", "story", "haiku", "letter", "joke", "translate"].includes(w)).length;
    const k = rng() < 1 / (1 + Math.exp(-4 * (creative - words.length / 2))) ? 1 : 0;
    return { id: `r${i}`, prompt: words.join(" ") + ` #${i}`, task: i % 4 === 0 ? "alpha" : "beta", split: i % 10 === 9 ? "test" : "train", outcomes: { "m-new": { n: 1, k } } };
  });
}

async function sourceBundle(dtype: WeightDtype, task: false | "ids" | "hidden") {
  return writeBundle({
    root,
    id: `src-${dtype}${task ? `-task-${task}` : ""}`,
    kind: "fixture",
    description: "add-model test source",
    pool: models.map((id, i) => ({ id, provider: "test", input_per_mtok: 1 + i, output_per_mtok: 2 + i, default_output_tokens: 100, output_tokens_source: "estimate" as const, price_source: "test" })),
    featurizer: spec,
    weights: weights(3, task),
    dtype,
    outputModels: models,
    calibration: { "m-small": { kind: "platt", a: 1, b: 0 }, "m-large": { kind: "isotonic", x: [-2, 0, 2], y: [0.1, 0.5, 0.9] } },
    defaultPolicy: { type: "threshold", min_p: 0.6 },
    // A task prior records its task names, which add-model reports its outcomes' coverage of.
    provenance: { mode: "fixture", teacher: "none", data: [], trainer: task ? { kind: "random", task_prior: "alpha,beta,gamma" } : { kind: "random" } },
    metrics: { split: "none", headline: {}, per_model: {} },
    goldenPrompts: goldenPrompts(["prove the integral", "write a haiku"]),
    createdAt: "2026-01-01T00:00:00.000Z",
  });
}

describe.each([
  ["float32", false],
  ["float16", false],
  ["float32", "ids"],
  ["float16", "hidden"],
] as const)("add-model on a %s wide-and-deep bundle (task prior: %s)", (dtype, task) => {
  it("keeps existing logits bit-identical, serves the fitted head, writes a verifiable bundle", async () => {
    const src = await sourceBundle(dtype, task);
    const rows = outcomes(120);
    const res = await addModel({
      bundleDir: src.dir,
      rows,
      model: { id: "m-new", provider: "test", input_per_mtok: 0.5, output_per_mtok: 0.5, default_output_tokens: 80, output_tokens_source: "estimate", price_source: "test" },
      out: root,
      id: `added-${dtype}${task ? `-task-${task}` : ""}`,
      createdAt: "2026-01-02T00:00:00.000Z",
    });
    expect(res.n).toBe(108); // test rows are never used
    const nonTest = rows.filter((r) => r.split !== "test");
    // Outcomes per task of the prior (gamma has none, so the command would warn); none without a prior.
    expect(res.coverage).toEqual(task ? { alpha: nonTest.filter((r) => r.task === "alpha").length, beta: nonTest.filter((r) => r.task === "beta").length, gamma: 0 } : {});
    const m = res.manifest;
    expect(m.outputs.map((o) => o.model)).toEqual([...models, "m-new"]);
    expect(m.pool.map((p) => p.id)).toEqual([...models, "m-new"]);
    expect(m.calibration["m-small"]).toEqual(src.manifest.calibration["m-small"]);
    expect(m.calibration["m-large"]).toEqual(src.manifest.calibration["m-large"]);
    const cal = m.calibration["m-new"];
    expect(cal.kind === "platt" ? cal.a : 0).toBeGreaterThanOrEqual(0);
    await verifyBundle(res.dir); // schema, sha256, golden replay through Node ORT

    const oldOnnx = readFileSync(join(src.dir, "student.onnx"));
    const newOnnx = readFileSync(join(res.dir, "student.onnx"));
    const oldS = await nodeScorer(oldOnnx, spec, { ...IO });
    const newS = await nodeScorer(newOnnx, spec, { ...IO });
    const texts = [...rows.slice(0, 40).map((r) => r.prompt!), "", "a a a a", "Prove that 2 + 2 = 4."];
    const before = await oldS.score(texts);
    const after = await newS.score(texts);
    const ref = weightsFromOnnx(newOnnx);
    const frozen = weightsFromOnnx(oldOnnx);
    let maxRefDiff = 0;
    let maxHeadDiff = 0;
    texts.forEach((t, i) => {
      expect(after[i].logits.length).toBe(3);
      // Existing outputs: the same float32 bits, not merely close.
      for (let j = 0; j < models.length; j++) expect(Object.is(after[i].logits[j], before[i].logits[j])).toBe(true);
      const f = featurize(t, spec);
      maxRefDiff = Math.max(maxRefDiff, Math.abs(after[i].logits[2] - forward(ref, f.ids, f.dense).logits[2]));
      maxHeadDiff = Math.max(maxHeadDiff, Math.abs(after[i].logits[2] - headLogit(res.head, forward(frozen, f.ids, f.dense).h, f.ids, frozen.wideNorm, frozen.wideTfidf, taskProbsOf(frozen, f.ids, forward(frozen, f.ids, f.dense).h))));
    });
    expect(maxRefDiff).toBeLessThan(1e-4); // ORT vs the reference forward of the shipped weights
    // vs the float64 head before export: float32 exact up to rounding, float16 up to weight rounding.
    expect(maxHeadDiff).toBeLessThan(dtype === "float32" ? 1e-4 : 2e-2);
    expect(res.head.prior !== null).toBe(task !== false); // a task prior gets a new column of its table
    expect(ref.task?.prior.length ?? 0).toBe(task ? 3 * 3 : 0);
    expect(ref.task?.input).toBe(task || undefined);
    // The head learnt the planted signal (out-of-fold AUROC). With a task prior the default set is rate+heads, which
    // cannot see these words on a random prior, so only the set is checked there.
    if (task) expect(res.head.parts).toBe("rate+heads");
    else expect(res.stats.val_auroc).toBeGreaterThan(0.7);
  });
});

describe("fitNewHead folds every feature set into one output column", () => {
  // With a task prior, so the heads fold also carries the existing prior columns and "task" sets can be fitted.
  it.each(ALL_HEAD_PARTS)("%s: the column reproduces the fitted margins", (parts) => {
    const w = weights(4, parts.includes("wide") ? "ids" : "hidden");
    const ex = outcomes(60).map((r) => {
      const f = featurize(r.prompt!, spec);
      return { ids: f.ids, dense: f.dense, y: r.outcomes["m-new"].k };
    });
    // Selecting on the training rows themselves makes heldOut the chosen fit's own margins on them.
    const head = fitNewHead(w, ex, { val: ex, parts: [parts] });
    expect(head.parts).toBe(parts);
    const err = Math.max(...ex.map((x, i) => Math.abs(headLogit(head, forward(w, x.ids, x.dense).h, x.ids, w.wideNorm, w.wideTfidf, taskProbsOf(w, x.ids, forward(w, x.ids, x.dense).h)) - head.heldOut[i])));
    expect(err).toBeLessThan(1e-4);
  });
});

describe("fitNewHead combines candidate sets into one output column", () => {
  const ex = outcomes(80).map((r) => {
    const f = featurize(r.prompt!, spec);
    return { ids: f.ids, dense: f.dense, y: r.outcomes["m-new"].k };
  });
  const w = weights(4);
  const served = (head: ReturnType<typeof fitNewHead>) => ex.map((x) => headLogit(head, forward(w, x.ids, x.dense).h, x.ids, w.wideNorm));

  it.each(["mean", "weighted"] as const)("%s: the averaged column reproduces the average of the members' margins", (combine) => {
    // Selecting on the training rows makes each member's held-out logits its own margins, so heldOut is the served column's margins.
    const head = fitNewHead(w, ex, { val: ex, combine, parts: ["deep", "wide", "deep+heads", "wide+heads"] });
    expect(head.members.reduce((a, m) => a + m.weight, 0)).toBeCloseTo(1, 12);
    if (combine === "mean") expect(head.members.map((m) => m.weight)).toEqual([0.25, 0.25, 0.25, 0.25]);
    const err = Math.max(...served(head).map((z, i) => Math.abs(z - head.heldOut[i])));
    expect(err).toBeLessThan(1e-4);
  });

  it.each([1, 4, 16])("heads block scaled by %s: the column still reproduces the fitted margins", (headsScale) => {
    const head = fitNewHead(w, ex, { val: ex, parts: ["deep+wide+heads"], headsScale });
    const err = Math.max(...served(head).map((z, i) => Math.abs(z - head.heldOut[i])));
    expect(err).toBeLessThan(1e-4);
  });

  it("repeated K-fold CV by AUROC: out-of-fold scores for every row, each set's C the best held-out AUROC", () => {
    const head = fitNewHead(w, ex, { combine: "mean", selectBy: "auroc", repeats: 2, parts: ["deep", "deep+wide+heads"] });
    expect(head.selection.by).toBe("cv-5x2");
    expect(head.heldOut.length).toBe(ex.length);
    for (const m of head.members) {
      const path = head.selection.tried.filter((t) => t.parts === m.parts);
      const chosen = path.find((t) => t.C === m.C)!;
      expect(Math.max(...path.map((t) => t.auroc ?? 0))).toBe(chosen.auroc);
    }
    // Out-of-fold, not in-sample: the served column's own margins differ from the held-out ones.
    expect(served(head).some((z, i) => Math.abs(z - head.heldOut[i]) > 1e-3)).toBe(true);
  });
});

describe("add-model --pool-data: the head learns from the pool's outcome table", () => {
  // The pool: 150 prompts with both existing models' outcomes; the new model labels 60 of them (from the pool, as
  // label-plan proposes) and copies m-small's outcome, which the imputer should find.
  const pool: OutcomeRow[] = outcomes(150).map((r, i) => ({ ...r, id: `p${i}`, split: i % 10 === 9 ? ("test" as const) : ("train" as const), outcomes: { "m-small": r.outcomes["m-new"], "m-large": { n: 1, k: i % 3 === 0 ? 1 : 0 } } }));
  const labelled: OutcomeRow[] = pool.filter((r) => r.split !== "test").slice(0, 60).map((r) => ({ ...r, outcomes: { "m-new": r.outcomes["m-small"] } }));
  const model = { id: "m-new", provider: "test", input_per_mtok: 0.5, output_per_mtok: 0.5, default_output_tokens: 80, output_tokens_source: "estimate" as const, price_source: "test" };

  it("imputes the pool, serves one more column equal to the fitted head, records the imputation, keeps old logits", async () => {
    const src = await sourceBundle("float32", "ids");
    const res = await addModel({ bundleDir: src.dir, rows: labelled, model, out: root, id: "added-imputed", createdAt: "2026-01-02T00:00:00.000Z", pool: { rows: pool, data: { name: "pool.jsonl", sha256: "0".repeat(64), rows: pool.length } } });
    expect(res.n).toBe(60);
    expect(res.head.parts).toBe("rate+task+heads (imputed)");
    const imp = (res.head as ImputedHead).imputation;
    // Every non-test pool prompt but the 60 labelled ones is imputed; test prompts are never read.
    expect(imp.imputed).toBe(pool.filter((r) => r.split !== "test").length - 60);
    const note = JSON.parse(String(res.manifest.provenance.trainer["add_model:m-new"]));
    expect(note).toMatchObject({ imputed_rows: imp.imputed, imputer_C: imp.C, imputed_weight: IMPUTE_WEIGHT, pool_data: "pool.jsonl" });
    expect(res.manifest.provenance.data.map((d) => d.name)).toContain("pool.jsonl");
    await verifyBundle(res.dir);
    const frozen = weightsFromOnnx(readFileSync(join(src.dir, "student.onnx")));
    const ref = weightsFromOnnx(readFileSync(join(res.dir, "student.onnx")));
    for (const t of [...labelled.slice(0, 10).map((r) => r.prompt!), "Prove that 2 + 2 = 4."]) {
      const f = featurize(t, spec);
      const a = forward(frozen, f.ids, f.dense);
      const b = forward(ref, f.ids, f.dense);
      for (let j = 0; j < models.length; j++) expect(Object.is(b.logits[j], a.logits[j])).toBe(true);
      expect(Math.abs(b.logits[2] - headLogit(res.head, a.h, f.ids, frozen.wideNorm, frozen.wideTfidf, taskProbsOf(frozen, f.ids, a.h)))).toBeLessThan(1e-4);
    }
  });

  it("refuses labelled prompts outside the pool and a bundle without a task prior, naming the flag", async () => {
    const src = await sourceBundle("float32", "ids");
    const strangers = labelled.map((r) => ({ ...r, prompt: `${r.prompt} (reworded)` }));
    await expect(addModel({ bundleDir: src.dir, rows: strangers, model, out: root, id: "added-strangers", createdAt: "2026-01-02T00:00:00.000Z", pool: { rows: pool } })).rejects.toThrow(/--pool-data: only 0 of 60 labelled prompts are pool prompts/);
    const plain = await sourceBundle("float16", false);
    await expect(addModel({ bundleDir: plain.dir, rows: labelled, model, out: root, id: "added-plain", createdAt: "2026-01-02T00:00:00.000Z", pool: { rows: pool } })).rejects.toThrow(/--pool-data: bundle .* has no task prior/);
  });

  it("with fallback (the command's auto default), an unusable pool gives the plain head (same logits and calibration) and says why", async () => {
    const src = await sourceBundle("float32", "ids");
    const strangers = labelled.map((r) => ({ ...r, prompt: `${r.prompt} (reworded)` }));
    const data = { name: "pool.jsonl", sha256: "0".repeat(64), rows: pool.length };
    const fell = await addModel({ bundleDir: src.dir, rows: strangers, model, out: root, id: "added-fallback", createdAt: "2026-01-02T00:00:00.000Z", pool: { rows: pool, data, fallback: true } });
    const plain = await addModel({ bundleDir: src.dir, rows: strangers, model, out: root, id: "added-nopool", createdAt: "2026-01-02T00:00:00.000Z" });
    expect(fell.poolSkipped).toMatch(/only 0 of 60 labelled prompts are pool prompts/);
    expect(plain.poolSkipped).toBeUndefined();
    expect(fell.head.parts).toBe(plain.head.parts);
    const a = weightsFromOnnx(readFileSync(join(fell.dir, "student.onnx")));
    const b = weightsFromOnnx(readFileSync(join(plain.dir, "student.onnx")));
    for (const t of [...strangers.slice(0, 5).map((r) => r.prompt!), "Prove that 2 + 2 = 4."]) {
      const f = featurize(t, spec);
      expect(Array.from(forward(a, f.ids, f.dense).logits)).toEqual(Array.from(forward(b, f.ids, f.dense).logits));
    }
    expect(fell.manifest.calibration["m-new"]).toEqual(plain.manifest.calibration["m-new"]);
    // The unused pool is not recorded as a source of the bundle.
    expect(fell.manifest.provenance.data.map((d) => d.name)).not.toContain("pool.jsonl");
    // A usable pool with fallback is used, as without it.
    const used = await addModel({ bundleDir: src.dir, rows: labelled, model, out: root, id: "added-fallback-used", createdAt: "2026-01-02T00:00:00.000Z", pool: { rows: pool, data, fallback: true } });
    expect(used.poolSkipped).toBeUndefined();
    expect(used.head.parts).toBe("rate+task+heads (imputed)");
  });

  it("resolves --pool-data: a file as given, none, and auto only on the manifest's build data with its sha256", async () => {
    const file = join(root, "build-data.jsonl");
    const text = pool.map((r) => JSON.stringify(r)).join("\n") + "\n";
    writeFileSync(file, text);
    const sha256 = createHash("sha256").update(text).digest("hex");
    const given = await resolvePoolData(file, undefined);
    expect(given.pool?.rows.length).toBe(pool.length);
    expect(given.pool?.data).toEqual({ name: "build-data.jsonl", sha256, rows: pool.length });
    expect(given.pool?.fallback).toBeUndefined();
    expect(await resolvePoolData("none", { name: file, sha256 })).toEqual({ note: null });
    const auto = await resolvePoolData("auto", { name: file, sha256 });
    expect(auto.pool?.fallback).toBe(true);
    expect(auto.pool?.rows.length).toBe(pool.length);
    expect(auto.note).toMatch(/imputing from .*build-data.jsonl .*sha256 matches/);
    const changed = await resolvePoolData("auto", { name: file, sha256: "f".repeat(64) });
    expect(changed.pool).toBeUndefined();
    expect(changed.note).toMatch(/sha256 differs.*plain head/);
    const missing = await resolvePoolData("auto", { name: join(root, "nowhere.jsonl"), sha256 });
    expect(missing.pool).toBeUndefined();
    expect(missing.note).toMatch(/is not here.*plain head/);
    expect((await resolvePoolData("auto", undefined)).note).toMatch(/names no build data/);
  });
});
