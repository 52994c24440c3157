/**
 * Round trip of the student through ONNX: weights (random and trained) are
 * exported by scripts/onnx/export-student.ts as float32 and float16, run with
 * onnxruntime-node (scripts/lib/ort-node.ts) on a padded batch that includes
 * an empty prompt, and compared with the reference forward(). Also checks
 * that weightsFromOnnx reads back exactly what was written. The wide part
 * (per-model idf-weighted linear terms over the same ids) is covered by the
 * "wide + deep" cases, random and trained, with counts and an occurrence norm
 * or TF-IDF's weighting, and the task prior by the "task prior" cases.
 */
import { afterAll, describe, expect, it } from "vitest";
import { featurize, type FeaturizerSpec } from "../../src/core/featurizer.js";
import { gaussian, mulberry32 } from "../../src/core/random.js";
import { forward, type StudentWeights } from "../../src/core/student.js";
import { randomStudent } from "./random-student.js";
import { IO, exportStudent, type WeightDtype } from "../../scripts/onnx/export-student.js";
import { closeSession, loadSession, runSession, type Session } from "../../scripts/lib/ort-node.js";
import { packBatch, type PromptFeatures } from "../../src/core/batch.js";
import { weightsFromOnnx } from "../../scripts/distill/weights-io.js";
import { trainStudent, type TrainConfigInput } from "../../scripts/distill/trainer.js";

const spec: FeaturizerSpec = { kind: "hashed-ngram-v1", buckets: 2048, word_ngrams: [1, 2], char_ngrams: [3], max_features: 64, lowercase: true, seed: 99 };

const randomWeights = (seed: number): StudentWeights => randomStudent(seed, { buckets: spec.buckets, dim: 12, hidden: 24, outputs: 5 });

const texts = [
  "What is 17 * 23?",
  "",
  "Write a haiku about the sea.",
  "Prove that there are infinitely many primes. Use contradiction and be rigorous about every step of the argument.",
  "a a a a a a",
  "x",
  "Line one\nline two\nline 3 with digits 12345",
];

function prompts(): PromptFeatures[] {
  const out: PromptFeatures[] = texts.map((t) => featurize(t, spec));
  out.push({ ids: [], dense: [0, 0, 0, 0] }); // empty prompt with all-zero dense features
  return out;
}

/** Random weights plus a random wide part (norm entries ≥ 1, as idf² always is). */
function randomWideWeights(seed: number): StudentWeights {
  const w = randomWeights(seed);
  const rng = mulberry32(seed + 1);
  const { buckets: V, outputs: M } = w.shape;
  return { ...w, wide: Float32Array.from({ length: V * M }, () => gaussian(rng) * 2), wideNorm: Float32Array.from({ length: V }, () => 1 + 8 * rng()) };
}

function trainedWeights(extra: TrainConfigInput = {}): StudentWeights {
  const rng = mulberry32(5);
  const words = "alpha beta gamma delta the of and to in is".split(" ");
  const ex = Array.from({ length: 300 }, () => {
    const ws = Array.from({ length: 3 + Math.floor(rng() * 12) }, () => words[Math.floor(rng() * words.length)]);
    const f = featurize(ws.join(" "), spec);
    const has = (w: string) => (ws.includes(w) ? 1 : 0);
    return { ids: f.ids, dense: f.dense, label: Float32Array.from([has("alpha"), has("beta") * (1 - has("gamma")), 0.5]) };
  });
  return trainStudent({ train: ex.slice(0, 240), val: ex.slice(240), buckets: spec.buckets, outputs: 3 }, { seed: 2, dim: 8, hidden: 16, maxEpochs: 5, ...extra }, { mode: "none" }).weights;
}

const trainedWideWeights = () => trainedWeights({ wide: true });

/** Weights plus a random task prior over 4 tasks (a softmax over a table on the ids or on h, times a T×M logit table). */
function withRandomTask(w: StudentWeights, seed: number, input: "ids" | "hidden"): StudentWeights {
  const rng = mulberry32(seed);
  const T = 4;
  const { buckets: V, hidden: H, outputs: M } = w.shape;
  const r = (n: number, s: number) => Float32Array.from({ length: n }, () => gaussian(rng) * s);
  return { ...w, task: { input, table: r((input === "ids" ? V : H) * T, input === "ids" ? 3 : 0.5), bias: r(T, 1), prior: r(T * M, 2) } };
}

const sessions: Session[] = [];
afterAll(async () => {
  for (const s of sessions) await closeSession(s);
});

async function runOnnx(w: StudentWeights, dtype: WeightDtype, ps: PromptFeatures[]): Promise<{ logits: Float32Array; bytes: Uint8Array }> {
  const bytes = exportStudent(w, dtype);
  const session = await loadSession(bytes);
  sessions.push(session);
  const b = packBatch(ps, w.shape.dense);
  const out = await runSession(session, {
    [IO.ids]: { type: "int64", data: b.ids, dims: [b.batch, b.length] },
    [IO.mask]: { type: "float32", data: b.mask, dims: [b.batch, b.length] },
    [IO.dense]: { type: "float32", data: b.dense, dims: [b.batch, b.denseWidth] },
  });
  expect(out[IO.output].dims).toEqual([ps.length, w.shape.outputs]);
  return { logits: out[IO.output].data, bytes };
}

function maxAbsDiff(w: StudentWeights, ps: PromptFeatures[], got: Float32Array): { logit: number; prob: number } {
  const M = w.shape.outputs;
  let logit = 0;
  let prob = 0;
  const sig = (z: number) => 1 / (1 + Math.exp(-z));
  for (const [b, p] of ps.entries()) {
    const ref = forward(w, p.ids, p.dense).logits;
    for (let m = 0; m < M; m++) {
      logit = Math.max(logit, Math.abs(got[b * M + m] - ref[m]));
      prob = Math.max(prob, Math.abs(sig(got[b * M + m]) - sig(ref[m])));
    }
  }
  return { logit, prob };
}

describe.each([
  ["random", () => randomWeights(11)],
  ["trained", () => trainedWeights()],
  ["random wide + deep", () => randomWideWeights(21)],
  ["trained wide + deep", trainedWideWeights],
  // TF-IDF-weighted wide part: the graph counts ids per prompt ("a a a a a a" repeats, padding reads count 0).
  ["random wide (TF-IDF) + deep", () => ({ ...randomWideWeights(23), wideTfidf: true })],
  ["trained wide (TF-IDF) + deep", () => trainedWeights({ wide: true, wideTfidf: true })],
  // Task prior: a second table over the same ids and norm, softmax over tasks, times the per-task logits.
  ["random wide + deep + task prior (ids)", () => withRandomTask(randomWideWeights(25), 26, "ids")],
  ["random wide (TF-IDF) + deep + task prior (ids)", () => withRandomTask({ ...randomWideWeights(27), wideTfidf: true }, 28, "ids")],
  ["random wide + deep + task prior (hidden)", () => withRandomTask(randomWideWeights(29), 30, "hidden")],
  ["random deep + task prior (hidden)", () => withRandomTask(randomWeights(31), 32, "hidden")],
])("%s weights", (_name, make) => {
  const w = make();
  const ps = prompts();

  it("carries a wide part exactly when the case says so", () => {
    expect(w.wide !== undefined && w.wideNorm !== undefined).toBe(_name.includes("wide"));
    expect(w.task?.input).toBe(_name.includes("task prior (ids)") ? "ids" : _name.includes("task prior (hidden)") ? "hidden" : undefined);
  });

  it("carries a task prior exactly when the case says so", () => {
    expect(w.task !== undefined).toBe(_name.includes("task prior"));
  });

  it("batch includes padding and an empty prompt", () => {
    const b = packBatch(ps, w.shape.dense);
    expect(b.length).toBe(Math.max(...ps.map((p) => p.ids.length)));
    expect(Array.from(b.mask.subarray(b.length, 2 * b.length)).every((v) => v === 0)).toBe(true); // texts[1] = ""
    expect(b.mask.reduce((a, v) => a + v, 0)).toBe(ps.reduce((a, p) => a + p.ids.length, 0));
  });

  it("float32 export matches forward() within 1e-5", async () => {
    const { logits, bytes } = await runOnnx(w, "float32", ps);
    const d = maxAbsDiff(w, ps, logits);
    expect(d.logit).toBeLessThan(1e-5);
    const back = weightsFromOnnx(bytes);
    expect(back.shape).toEqual(w.shape);
    for (const k of ["emb", "w1", "b1", "w2", "b2", "wide", "wideNorm", "wideTfidf", "task"] as const) expect(back[k]).toEqual(w[k]);
  });

  it("float16 export stays within a small bound of float32 forward() (fidelity loss)", async () => {
    const { logits, bytes } = await runOnnx(w, "float16", ps);
    const loss = maxAbsDiff(w, ps, logits);
    console.log(`[fp16 fidelity, ${_name} weights] max |Δlogit| = ${loss.logit.toExponential(2)}, max |Δp| = ${loss.prob.toExponential(2)}`);
    expect(loss.logit).toBeLessThan(2e-2);
    expect(loss.prob).toBeLessThan(5e-3);
    // Against the fp16-rounded weights themselves, the graph is exact to float32 precision.
    const rounded = weightsFromOnnx(bytes);
    expect(maxAbsDiff(rounded, ps, logits).logit).toBeLessThan(1e-5);
    expect(bytes.length).toBeLessThan(exportStudent(w, "float32").length * 0.55);
  });

  it("a lone empty prompt (single id 0, mask 0) matches forward() of no ids", async () => {
    const empty = [featurize("", spec)];
    expect(empty[0].ids.length).toBe(0);
    const { logits } = await runOnnx(w, "float32", empty);
    expect(maxAbsDiff(w, empty, logits).logit).toBeLessThan(1e-5);
  });
});
