/**
 * Core unit tests with hand-worked answers: featurizer, calibration, cost,
 * policies (ties, abstain, fallbacks) and variant assignment.
 */
import { describe, expect, it } from "vitest";
import { calibrate, sigmoid } from "../../src/core/calibration.js";
import { costPerSuccess, expectedCostUsd } from "../../src/core/cost.js";
import { assignVariant, type Experiment } from "../../src/core/experiment.js";
import { featurize, pretokenize, truncateHeadTail, type FeaturizerSpec } from "../../src/core/featurizer.js";
import { fnv1a32 } from "../../src/core/hash.js";
import { formatMessages } from "../../src/core/messages.js";
import { choose, Policy } from "../../src/core/policy.js";

const spec: FeaturizerSpec = { kind: "hashed-ngram-v1", buckets: 1024, word_ngrams: [1, 2], char_ngrams: [3], max_features: 64, lowercase: true, seed: 7 };

describe("hash", () => {
  it("matches the published FNV-1a test vectors", () => {
    expect(fnv1a32("")).toBe(0x811c9dc5);
    expect(fnv1a32("a")).toBe(0xe40c292c);
    expect(fnv1a32("foobar")).toBe(0xbf9cf968);
  });
});

describe("featurizer", () => {
  it("pre-tokenizes into letters, ≤3-digit numbers and symbols", () => {
    expect(pretokenize("What is 12345*6?")).toEqual(["What", "is", "123", "45", "*", "6", "?"]);
  });
  it("emits word unigrams, bigrams and char trigrams in text order", () => {
    const f = featurize("Hi yo", spec);
    // pieces: hi, yo → unigrams 2, bigram 1, char trigrams of <hi> (2) and <yo> (2)
    expect(f.ids.length).toBe(2 + 1 + 4);
    expect(f.ids[0]).toBe(fnv1a32("w1|hi", 7) % 1024);
    expect(f.ids[1]).toBe(fnv1a32("w2|hi yo", 7) % 1024);
    expect(f.ids[2]).toBe(fnv1a32("c3|<hi", 7) % 1024);
    expect(f.inputTokens).toBe(2);
    expect(f.truncated).toBe(false);
  });
  it("text scope reads char n-grams across pieces, each emitted with the piece it starts in", () => {
    const t = { ...spec, word_ngrams: [1], char_scope: "text" as const };
    // "<7+9>": piece 7 owns starts 0–1 ("<7+", "7+9"), piece + owns "+9>", piece 9 starts none
    const c3 = (k: string) => fnv1a32(`c3|${k}`, 7) % 1024;
    const w1 = (k: string) => fnv1a32(`w1|${k}`, 7) % 1024;
    expect(Array.from(featurize("7+9", t).ids)).toEqual([w1("7"), c3("<7+"), c3("7+9"), w1("+"), c3("+9>"), w1("9")]);
    // The default scope never crosses a piece: no "7+9".
    expect(Array.from(featurize("7+9", { ...spec, word_ngrams: [1] }).ids)).not.toContain(c3("7+9"));
    expect(featurize("7+9", t).inputTokens).toBe(3);
  });
  it("is case-insensitive when lowercase is set and deterministic", () => {
    expect(Array.from(featurize("HELLO World", spec).ids)).toEqual(Array.from(featurize("hello world", spec).ids));
  });
  it("cuts to max_features keeping head and tail halves", () => {
    const ids = Array.from({ length: 10 }, (_, i) => i);
    expect(truncateHeadTail(ids, 5)).toEqual({ ids: [0, 1, 7, 8, 9], truncated: true });
    const long = featurize(Array.from({ length: 100 }, (_, i) => `w${i}`).join(" "), spec);
    expect(long.ids.length).toBe(64);
    expect(long.truncated).toBe(true);
  });
  it("hashes only surviving ids, yet equals hashing everything then truncating", () => {
    // Reference: the plain definition (string keys, whole-text hashing, then head+tail cut).
    // Text scope: char n-grams of "<text>", each with the piece it starts in.
    const naive = (text: string, sp: FeaturizerSpec) => {
      const normal = sp.lowercase ? text.toLowerCase() : text;
      const matches = [...normal.matchAll(/\p{L}+|\p{N}{1,3}|[^\s\p{L}\p{N}]/gu)];
      const pieces = matches.map((m) => m[0]);
      const all: number[] = [];
      pieces.forEach((_, i) => {
        for (const n of sp.word_ngrams) if (i + n <= pieces.length) all.push(fnv1a32(`w${n}|${pieces.slice(i, i + n).join(" ")}`, sp.seed) % sp.buckets);
        const text = sp.char_scope === "text";
        const padded = text ? `<${normal}>` : `<${pieces[i]}>`;
        const from = !text || i === 0 ? 0 : matches[i].index! + 1;
        const to = text ? matches[i].index! + 1 + pieces[i].length : padded.length;
        for (const n of sp.char_ngrams) for (let j = from; j < to && j + n <= padded.length; j++) all.push(fnv1a32(`c${n}|${padded.slice(j, j + n)}`, sp.seed) % sp.buckets);
      });
      return truncateHeadTail(all, sp.max_features).ids;
    };
    const words = ["alpha", "β", "12345", "x", "日本語", "🙂", "\ud800", "é", "=", "carry"];
    for (let seed = 1; seed <= 40; seed++) {
      const n = seed * 7;
      const text = Array.from({ length: n }, (_, i) => words[(i * seed + (i >> 2)) % words.length]).join(i2s(seed));
      expect(Array.from(featurize(text, spec).ids)).toEqual(naive(text, spec));
      const textSpec = { ...spec, char_ngrams: [2, 3, 5], char_scope: "text" as const };
      expect(Array.from(featurize(text, textSpec).ids)).toEqual(naive(text, textSpec));
    }
    // Separators include non-ASCII whitespace: featurize finds text-scope offsets by skipping whitespace.
    function i2s(k: number) {
      return [" ", "\n", "", "\u00a0\u3000", "\t\ufeff\u2028"][k % 5];
    }
  });
  it("matches TextEncoder-based FNV-1a on astral characters and lone surrogates", () => {
    const ref = (t: string) => {
      let h = 0x811c9dc5;
      for (const b of new TextEncoder().encode(t)) h = Math.imul(h ^ b, 0x01000193) >>> 0;
      return h >>> 0;
    };
    for (const t of ["𝔘nicode", "a\ud800b", "\udc00", "日本語", "é", ""]) expect(fnv1a32(t)).toBe(ref(t));
  });
  it("handles empty and whitespace-only prompts", () => {
    const f = featurize(" \n ", spec);
    expect(f.ids.length).toBe(0);
    expect(f.inputTokens).toBe(0);
    expect(Array.from(f.dense)).toEqual([0, Math.fround(Math.log1p(3)), 0, Math.fround(Math.log1p(2))]);
  });
  it("formats chat messages as role-prefixed turns", () => {
    expect(formatMessages([{ role: "system", content: "S" }, { role: "user", content: [{ type: "text", text: "U" }, { type: "image_url" }] }])).toBe("system: S\n\nuser: U");
  });
});

describe("calibration", () => {
  it("applies Platt scaling", () => {
    expect(calibrate(0, { kind: "platt", a: 2, b: 0 })).toBe(0.5);
    expect(calibrate(1, { kind: "platt", a: 2, b: -1 })).toBeCloseTo(sigmoid(1), 15);
  });
  it("interpolates isotonic tables and clamps at the ends", () => {
    const c = { kind: "isotonic" as const, x: [-1, 0, 2], y: [0.1, 0.3, 0.9] };
    expect(calibrate(-5, c)).toBe(0.1);
    expect(calibrate(1, c)).toBeCloseTo(0.6, 12);
    expect(calibrate(9, c)).toBe(0.9);
  });
});

describe("cost", () => {
  it("prices input and output tokens per million", () => {
    // 1,000 in at $3/M + 500 out at $15/M = 0.003 + 0.0075
    expect(expectedCostUsd(1000, 500, { input_per_mtok: 3, output_per_mtok: 15 })).toBeCloseTo(0.0105, 15);
    expect(costPerSuccess(0.01, 0.5)).toBeCloseTo(0.02, 15);
    expect(costPerSuccess(0.01, 0)).toBeNull();
  });
});

describe("policies", () => {
  const c = [
    { model: "cheap", p: 0.5, cost: 0.001 },
    { model: "mid", p: 0.7, cost: 0.01 },
    { model: "big", p: 0.9, cost: 0.1 },
  ];
  it("utility maximises p − λ·cost", () => {
    expect(choose(c, { type: "utility", lambda: 0 }).kind === "route" && (choose(c, { type: "utility", lambda: 0 }) as { model: string }).model).toBe("big");
    // λ=5: cheap 0.495, mid 0.65, big 0.4 → mid
    expect((choose(c, { type: "utility", lambda: 5 }) as { model: string }).model).toBe("mid");
    // value_usd=1: cheap 0.499, mid 0.69, big 0.8 → big
    expect((choose(c, { type: "utility", value_usd: 1 }) as { model: string }).model).toBe("big");
  });
  it("threshold takes the cheapest model reaching min_p, else the highest p", () => {
    expect((choose(c, { type: "threshold", min_p: 0.6 }) as { model: string }).model).toBe("mid");
    expect((choose(c, { type: "threshold", min_p: 0.95 }) as { model: string }).model).toBe("big");
  });
  it("budget takes the highest p within budget, else the cheapest", () => {
    expect((choose(c, { type: "budget", max_cost_usd: 0.05 }) as { model: string }).model).toBe("mid");
    expect((choose(c, { type: "budget", max_cost_usd: 0.0001 }) as { model: string }).model).toBe("cheap");
  });
  it("breaks ties by cost, then id; threshold breaks a cost tie on the higher p first", () => {
    const tie = [
      { model: "b", p: 0.8, cost: 0.01 },
      { model: "a", p: 0.8, cost: 0.01 },
      { model: "c", p: 0.8, cost: 0.02 },
    ];
    expect((choose(tie, { type: "utility", lambda: 0 }) as { model: string }).model).toBe("a");
    expect((choose(tie, { type: "threshold", min_p: 0.5 }) as { model: string }).model).toBe("a");
    // Equally cheap members above min_p: the id order would pick "a", the less likely to succeed.
    const sameCost = [{ ...tie[1], p: 0.7 }, { ...tie[0], p: 0.95 }, { ...tie[2], p: 0.99 }];
    expect((choose(sameCost, { type: "threshold", min_p: 0.6 }) as { model: string }).model).toBe("b");
    expect((choose(sameCost, { type: "threshold", min_p: 0.96 }) as { model: string }).model).toBe("c");
  });
  it("abstains when no model reaches abstain_below, except under a fixed policy", () => {
    expect(choose(c, { type: "utility", lambda: 0 }, 0.95).kind).toBe("abstain");
    expect(choose(c, { type: "utility", lambda: 0 }, 0.9).kind).toBe("route");
    expect(choose(c, { type: "fixed", model: "cheap" }, 0.99).kind).toBe("route");
  });
  it("rejects a utility policy with both or neither of lambda and value_usd", () => {
    expect(Policy.safeParse({ type: "utility" }).success).toBe(false);
    expect(Policy.safeParse({ type: "utility", lambda: 1, value_usd: 1 }).success).toBe(false);
  });
});

describe("variant assignment", () => {
  const exp: Experiment = { name: "e", variants: [{ name: "a", weight: 1, model: "x" }, { name: "b", weight: 3, model: "y" }, { name: "c", weight: 6, model: "z" }] };
  it("is deterministic per unit", () => {
    expect(assignVariant(exp, "user-42").name).toBe(assignVariant(exp, "user-42").name);
  });
  it("matches the weights within 1 point over 100k ids", () => {
    const n = 100_000;
    const counts: Record<string, number> = { a: 0, b: 0, c: 0 };
    for (let i = 0; i < n; i++) counts[assignVariant(exp, `unit-${i}`).name]++;
    expect(Math.abs(counts.a / n - 0.1)).toBeLessThan(0.01);
    expect(Math.abs(counts.b / n - 0.3)).toBeLessThan(0.01);
    expect(Math.abs(counts.c / n - 0.6)).toBeLessThan(0.01);
  });
});
