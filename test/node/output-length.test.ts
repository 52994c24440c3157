/**
 * Tests for expected output length (issue 17 item 5): the serve-time family
 * rule and lookup (src/core/output-length.ts), decide() quoting them, the
 * MdAPE metric (scripts/evaluate/cost-error.ts), the estimators and their
 * validation choice (scripts/stages/output-length.ts), and that committed
 * manifests still parse to exactly what they say.
 */
import { readdirSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import type { FeaturizerSpec } from "../../src/core/featurizer.js";
import { Manifest } from "../../src/core/manifest.js";
import { describeLogLinear, expectedOutputTokens, FAMILY_RULE, modelLengthOf, promptFamily, tokensFor, type OutputLengthTable } from "../../src/core/output-length.js";
import { decide, type RuntimeModel } from "../../src/core/decide.js";
import { chooseOutputLength, fitLogLinear, fitOutputLength } from "../../scripts/stages/output-length.js";
import { costErrorByModel, mdape, type LengthObs } from "../../scripts/evaluate/cost-error.js";
import type { OutcomeRow } from "../../scripts/formats/outcomes.js";

const SPEC: FeaturizerSpec = { kind: "hashed-ngram-v1", buckets: 64, word_ngrams: [1], char_ngrams: [], max_features: 64, lowercase: true, seed: 1 };

describe("promptFamily", () => {
  it("classifies option lists, code, maths and the rest", () => {
    expect(promptFamily("Which is a prime?\nA. 4\nB. 6\nC. 7\nD. 9\nAnswer:")).toBe("multiple-choice");
    expect(promptFamily("Write a Python function that reverses a list.")).toBe("code");
    expect(promptFamily("```js\nconsole.log(1)\n```\nWhy does this print 1?")).toBe("code");
    expect(promptFamily("Janet has 16 eggs and eats 3. How many are left?")).toBe("math");
    expect(promptFamily("Evaluate $\\frac{1}{2} + \\frac{1}{3}$.")).toBe("math");
    expect(promptFamily("Who wrote Middlemarch?")).toBe("other");
  });
});

describe("expected output tokens lookup", () => {
  const table: OutputLengthTable = { tokens: { a: 100, b: 50 }, family_rule: FAMILY_RULE, by_family: { math: { a: 200 } } };
  it("family figure, else per-model figure, else the pool fallback", () => {
    expect(expectedOutputTokens(table, "a", "math", 10, 7)).toBe(200);
    expect(expectedOutputTokens(table, "a", "code", 10, 7)).toBe(100);
    expect(expectedOutputTokens(table, "b", "math", 10, 7)).toBe(50);
    expect(expectedOutputTokens(table, "c", "math", 10, 7)).toBe(7);
    expect(expectedOutputTokens(undefined, "a", "math", 10, 7)).toBe(7);
  });
  it("ignores a family table written under another rule", () => {
    expect(expectedOutputTokens({ ...table, family_rule: "prompt-family-v0" }, "a", "math", 10, 7)).toBe(100);
    expect(modelLengthOf({ ...table, family_rule: "prompt-family-v0" }, "a")).toBeUndefined();
  });
  it("a per-prompt fit grows with input tokens and stays within its clamp", () => {
    const ml = { loglinear: { a: Math.log(10), b: 0.5, lo: 20, hi: 400 } };
    const at = (n: number) => tokensFor(ml, undefined, n, 0);
    expect(at(99)).toBe(Math.round(Math.expm1(Math.log(10) + 0.5 * Math.log(100))));
    expect(at(399)).toBeGreaterThan(at(99));
    expect(at(0)).toBe(20);
    expect(at(1e9)).toBe(400);
  });
});

describe("decide quotes the bundle's per-family length", () => {
  const model = (id: string, extra: Partial<RuntimeModel> = {}): RuntimeModel => ({
    id,
    provider: "p",
    price: { input_per_mtok: 1, output_per_mtok: 10 },
    price_source: "bundle",
    default_output_tokens: 100,
    output_index: 0,
    calibration: { kind: "platt", a: 1, b: 0 },
    ...extra,
  });
  const cands = [model("m", { output_length: { by_family: { math: 300 } } }), model("n")];
  const run = (prompt: string, expected_output_tokens?: number) =>
    decide({ candidates: cands, logits: [0], inputTokens: 10, request: { prompt, ...(expected_output_tokens !== undefined ? { expected_output_tokens } : {}) }, text: prompt, policy: { type: "threshold", min_p: 0.5 } });
  it("uses the family figure for a maths prompt and the default otherwise; a request override still wins", () => {
    const math = run("How many eggs are left if 3 of 16 are eaten?").candidates;
    expect(math.find((c) => c.model === "m")).toMatchObject({ expected_output_tokens: 300, expected_cost_usd: (10 * 1 + 300 * 10) / 1e6 });
    expect(math.find((c) => c.model === "n")!.expected_output_tokens).toBe(100);
    expect(run("Who wrote Middlemarch?").candidates.find((c) => c.model === "m")!.expected_output_tokens).toBe(100);
    expect(run("How many eggs?", 5).candidates.every((c) => c.expected_output_tokens === 5)).toBe(true);
  });
});

const obs = (model: string, outputTokens: number, extra: Partial<LengthObs> = {}): LengthObs => ({
  model,
  family: "other",
  inputTokens: 0,
  outputTokens,
  costUsd: undefined,
  price: { input_per_mtok: 0, output_per_mtok: 1 },
  split: "train",
  ...extra,
});

describe("MdAPE", () => {
  it("is the median of |pred − actual| / actual in percent, skipping actual 0", () => {
    expect(mdape([110, 50, 300], [100, 100, 200])).toBe(50);
    expect(mdape([110, 90], [100, 100])).toBeCloseTo(10, 12);
    expect(mdape([1, 5], [0, 10])).toBe(50);
    expect(mdape([1], [0])).toBeNull();
  });
  it("cost APE counts input cost in both expected and realised cost", () => {
    // in 1000 tok × $1/M = 0.001; out 100 tok × $10/M = 0.001 realised, 200 expected → |0.003 − 0.002| / 0.002 = 50 %.
    const o = obs("m", 100, { inputTokens: 1000, price: { input_per_mtok: 1, output_per_mtok: 10 } });
    const e = costErrorByModel([o], () => 200);
    expect(e.m.cost_mdape).toBeCloseTo(50, 9);
    expect(e.m.output_tokens_mdape).toBeCloseTo(100, 9);
    // A measured cost (MathArena-style) is the realised cost.
    expect(costErrorByModel([{ ...o, costUsd: 0.004 }], () => 200).m.cost_mdape).toBeCloseTo(25, 9);
  });
});

describe("fitting and choosing output-length estimators", () => {
  it("fits mean, median and family figures (families need enough rows)", () => {
    const xs = [obs("m", 10), obs("m", 20), obs("m", 90)];
    expect(fitOutputLength(xs, "per-model-mean").tokens.m).toBe(40);
    expect(fitOutputLength(xs, "per-model-median").tokens.m).toBe(20);
    const fam = [...xs, obs("m", 500, { family: "code" }), obs("m", 700, { family: "code" })];
    expect(fitOutputLength(fam, "per-family-median", 2).by_family).toEqual({ code: { m: 600 }, other: { m: 20 } });
    expect(fitOutputLength(fam, "per-family-median", 3).by_family).toEqual({ other: { m: 20 } });
  });
  it("the log-linear fit recovers a power law", () => {
    const ins = [10, 30, 100, 300, 1000];
    const fit = fitLogLinear(ins, ins.map((n) => Math.expm1(1 + 0.5 * Math.log1p(n))));
    expect(fit.b).toBeCloseTo(0.5, 6);
    expect(fit.a).toBeCloseTo(1, 6);
  });

  // Synthetic rows: code prompts get long answers, other prompts short ones; test rows are absurd and must not matter.
  const rows: OutcomeRow[] = [];
  const splits = ["train", "train", "train", "train", "train", "train", "val", "val", "test", "cal"] as const;
  for (let i = 0; i < 400; i++) {
    const code = i % 2 === 0;
    const split = splits[i % 10];
    const tokens = split === "test" ? 99_999 : (code ? 800 : 40) + (i % 7);
    rows.push({
      id: `r${i}`,
      prompt: code ? `Write a Python function number ${i}` : `Tell me about item ${i}`,
      split,
      outcomes: { m: { n: 1, k: 1, output_tokens: tokens } },
    });
  }
  const pool = [{ id: "m", provider: "p", input_per_mtok: 1, output_per_mtok: 1, default_output_tokens: 100, output_tokens_source: "estimate" as const, price_source: "test" }];
  it("chooses the family table when it clearly helps on validation, and never reads test rows", () => {
    const c = chooseOutputLength(rows, pool, SPEC, "synthetic");
    expect(c.chosen).toMatch(/^per-family-(mean|median)$/);
    expect(c.val[c.chosen!]!).toBeLessThan(Math.min(c.val["per-model-mean"]!, c.val["per-model-median"]!) - 1);
    expect(c.outputLength!.by_family!.code!.m).toBeLessThan(810);
    expect(c.outputLength!.by_family!.other!.m).toBeLessThan(50);
    Manifest.shape.output_length.parse(c.outputLength);
  });
  it("keeps a per-model figure when families do not differ", () => {
    const flat = rows.map((r) => ({ ...r, outcomes: { m: { n: 1, k: 1, output_tokens: 100 + (Number(r.id.slice(1)) % 5) } } }));
    expect(chooseOutputLength(flat, pool, SPEC, "synthetic").chosen).toMatch(/^per-model-(mean|median)$/);
  });
  it("returns no table when no row has a measured length", () => {
    const none = rows.map((r) => ({ ...r, outcomes: { m: { n: 1, k: 1 } } }));
    expect(chooseOutputLength(none, pool, SPEC, "synthetic")).toEqual({ outputLength: undefined, val: {}, chosen: null });
  });
});

describe("committed manifests", () => {
  it("parse to exactly their own JSON (the new output_length fields are optional)", () => {
    for (const id of readdirSync("artifacts", { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name)) {
      const text = readFileSync(`artifacts/${id}/manifest.json`, "utf8");
      expect(JSON.stringify(Manifest.parse(JSON.parse(text)))).toBe(JSON.stringify(JSON.parse(text)));
    }
  });
});

describe("/v1/models wording", () => {
  it("states the per-prompt rule with its coefficients and clamp", () => {
    expect(describeLogLinear({ a: 1, b: 0.5, lo: 2, hi: 300 })).toBe("round(expm1(1.0000 + 0.5000 × log1p(input_tokens))), clamped to [2, 300]");
  });
});
