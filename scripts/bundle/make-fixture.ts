/**
 * Writes the test fixture bundle (test/fixtures/bundles/fixture-tiny): a
 * small student with deterministic pseudo-random weights, written by the
 * project's own export and bundle code. It is labelled kind "fixture" and is
 * never the default; it exists so worker tests do not depend on training.
 */
import type { FeaturizerSpec } from "../../src/core/featurizer.js";
import { DENSE_FEATURES } from "../../src/core/featurizer.js";
import { gaussian, mulberry32 } from "../../src/core/random.js";
import type { StudentWeights } from "../../src/core/student.js";
import { goldenPrompts } from "./golden-prompts.js";
import { writeBundle } from "./write-bundle.js";

export const FIXTURE_ID = "fixture-tiny";

export async function makeFixture(root: string, createdAt: string) {
  const featurizer: FeaturizerSpec = {
    kind: "hashed-ngram-v1",
    buckets: 1024,
    word_ngrams: [1, 2],
    char_ngrams: [3],
    max_features: 512,
    lowercase: true,
    seed: 7,
  };
  const shape = { buckets: 1024, dim: 8, dense: DENSE_FEATURES, hidden: 8, outputs: 3 };
  const rng = mulberry32(42);
  const rand = (n: number, s: number) => Float32Array.from({ length: n }, () => gaussian(rng) * s);
  const weights: StudentWeights = {
    shape,
    emb: rand(shape.buckets * shape.dim, 0.5),
    w1: rand((shape.dim + shape.dense) * shape.hidden, 0.4),
    b1: rand(shape.hidden, 0.1),
    w2: rand(shape.hidden * shape.outputs, 0.5),
    b2: Float32Array.from([-0.5, 0.2, 0.9]),
  };
  const models = ["fixture-small", "fixture-medium", "fixture-large"];
  const prices = [
    [0.1, 0.2],
    [1, 2],
    [10, 30],
  ];
  return writeBundle({
    root,
    id: FIXTURE_ID,
    kind: "fixture",
    description: "TEST FIXTURE ONLY: random weights, fake pool. Never serve as a default.",
    pool: models.map((id, i) => ({
      id,
      provider: "fixture",
      input_per_mtok: prices[i][0],
      output_per_mtok: prices[i][1],
      default_output_tokens: 200 + 100 * i,
      output_tokens_source: "estimate" as const,
      price_source: "made up for tests",
    })),
    featurizer,
    weights,
    dtype: "float32",
    outputModels: models,
    calibration: {
      "fixture-small": { kind: "platt", a: 1, b: 0 },
      "fixture-medium": { kind: "platt", a: 0.8, b: 0.1 },
      "fixture-large": { kind: "isotonic", x: [-3, -1, 0, 1, 3], y: [0.05, 0.2, 0.5, 0.8, 0.95] },
    },
    defaultPolicy: { type: "threshold", min_p: 0.6 },
    provenance: { mode: "fixture", teacher: "none", data: [], trainer: { kind: "random", seed: 42 } },
    metrics: { split: "none", headline: {}, per_model: {} },
    goldenPrompts: goldenPrompts(),
    createdAt,
  });
}
