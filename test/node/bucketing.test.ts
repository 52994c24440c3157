/**
 * Fair bucketing: variant assignment must give each arm its weight for every
 * shape of unit id a customer might use, in every experiment. A chi-square
 * goodness-of-fit test over experiment names × id styles × splits, plus the
 * same test applied to the old FNV-1a assignment to show that it catches it.
 */
import { describe, expect, it } from "vitest";
import { assignVariant, type Experiment } from "../../src/core/experiment.js";
import { bucketPoint, fnv1a32, murmur3x86_32 } from "../../src/core/hash.js";
import { mulberry32, type Rng } from "../../src/core/random.js";

/**
 * Chi-square critical values at α = 1e-9 (scipy.stats.chi2.isf(1e-9, df)).
 * A fair hash fails one check with probability 1e-9; this file makes ~200
 * checks, so a correct implementation fails it with probability ≈ 2e-7. The
 * inputs are fixed (seeded), so the outcome is the same on every run.
 */
const CRIT: Record<number, number> = { 1: 37.32, 2: 41.45, 3: 44.84, 16: 75.65, 32: 105.17 };
const ALPHA = 1e-9;

/** P(χ²_df > x) for even df: e^(−x/2) Σ_{i<df/2} (x/2)^i / i!  (closed form, used to check CRIT). */
function chiSquareTailEven(x: number, df: number): number {
  let term = 1;
  let sum = 1;
  for (let i = 1; i < df / 2; i++) sum += term *= x / 2 / i;
  return Math.exp(-x / 2) * sum;
}

/** The assignment as it was until 2026-12-04: FNV-1a with no finaliser. Known biased; reference only. */
function oldPoint(text: string): number {
  const hi = fnv1a32(text) >>> 5;
  const lo = fnv1a32(text, 0x9e3779b9) >>> 6;
  return (hi * 67108864 + lo) / 9007199254740992;
}

const NAMES = [
  "exp", "checkout-2026", "pricing_test_7", "router-v2-vs-v1", "A", "café-ß", "onboarding", "cheap-first",
  "q4", "lambda-sweep-0.3", "x", "holdout", "long-experiment-name-with-many-parts-2026-12", "ε-greedy", "ab", "new-default",
];
const N_UNITS = 10_000;

function uuid(rng: Rng): string {
  const hex = Array.from({ length: 32 }, (_, i) => (i === 12 ? "4" : Math.floor(rng() * 16).toString(16))).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
const GIVEN = ["ana", "bo", "chen", "dara", "eli", "fatima", "gus", "hiro"];
const DOMAINS = ["example.com", "mail.example.org", "corp.example.net"];

const STYLES: Record<string, (i: number, rng: Rng) => string> = {
  sequential: (i) => String(i),
  prefixed: (i) => `user-${i}`,
  uuid: (_i, rng) => uuid(rng),
  email: (i) => `${GIVEN[i % GIVEN.length]}.${i}@${DOMAINS[(i >> 3) % DOMAINS.length]}`,
};
const SPLITS: Record<string, number[]> = { "1:1": [1, 1], "9:1": [9, 1], "1:1:1": [1, 1, 1] };

function experiment(name: string, weights: number[]): Experiment {
  return { name, variants: weights.map((weight, k) => ({ name: `v${k}`, weight, model: "m" })) };
}

function chiSquare(counts: number[], weights: number[]): number {
  const total = weights.reduce((a, b) => a + b, 0);
  const n = counts.reduce((a, b) => a + b, 0);
  return counts.reduce((x2, c, k) => {
    const e = (n * weights[k]) / total;
    return x2 + (c - e) ** 2 / e;
  }, 0);
}

/** Counts per arm, the same walk over cumulative weights as assignVariant, with a pluggable point. */
function countsWith(point: (key: string) => number, name: string, weights: number[], ids: string[]): number[] {
  const total = weights.reduce((a, b) => a + b, 0);
  const counts = new Array<number>(weights.length).fill(0);
  for (const id of ids) {
    const u = point(`${name}\u0000${id}`) * total;
    let k = 0;
    let acc = weights[0];
    while (k < weights.length - 1 && u >= acc) acc += weights[++k];
    counts[k]++;
  }
  return counts;
}

interface Failure {
  style: string;
  split: string;
  what: string;
  x2: number;
}

/** Every (style, split): each name's χ² (df k−1) and their sum over names (df 16·(k−1)) against CRIT. */
function audit(point: (key: string) => number): Failure[] {
  const failures: Failure[] = [];
  for (const [style, make] of Object.entries(STYLES)) {
    const sums: Record<string, number> = {};
    NAMES.forEach((name, ni) => {
      const rng = mulberry32(1000 + ni);
      const ids = Array.from({ length: N_UNITS }, (_, i) => make(i, rng));
      for (const [split, weights] of Object.entries(SPLITS)) {
        const x2 = chiSquare(countsWith(point, name, weights, ids), weights);
        sums[split] = (sums[split] ?? 0) + x2;
        if (x2 > CRIT[weights.length - 1]) failures.push({ style, split, what: name, x2 });
      }
    });
    for (const [split, weights] of Object.entries(SPLITS)) {
      if (sums[split] > CRIT[NAMES.length * (weights.length - 1)]) failures.push({ style, split, what: `sum over ${NAMES.length} names`, x2: sums[split] });
    }
  }
  return failures;
}

describe("bucketing hash", () => {
  it("is MurmurHash3 x86_32: the reference implementation's published values", () => {
    const vectors: [string, number, number][] = [
      ["", 0, 0],
      ["", 1, 0x514e28b7],
      ["", 0xffffffff, 0x81f16f39],
      ["test", 0, 0xba6bd213],
      ["Hello, world!", 1234, 0xfaf6cdb3],
      ["The quick brown fox jumps over the lazy dog", 0, 0x2e4ff723],
      ["abc", 0, 0xb3dd93fa],
    ];
    for (const [s, seed, want] of vectors) expect(murmur3x86_32(s, seed)).toBe(want);
  });
  it("hashes UTF-8 bytes, also for long and non-ASCII keys", () => {
    const long = "é".repeat(1000) + "😀";
    expect(murmur3x86_32(long)).toBe(murmur3x86_32(long));
    expect(murmur3x86_32("é")).not.toBe(murmur3x86_32("\u00c3\u00a9")); // "é" is C3 A9 in UTF-8, not two Latin-1 chars
    const p = bucketPoint(long);
    expect(p).toBeGreaterThanOrEqual(0);
    expect(p).toBeLessThan(1);
  });
  it("the critical values are the χ² tail at α = 1e-9 (checked in closed form for even df)", () => {
    for (const df of [2, 16, 32]) expect(Math.abs(chiSquareTailEven(CRIT[df], df) / ALPHA - 1)).toBeLessThan(0.01);
  });
});

describe("variant assignment is fair", () => {
  it("assignVariant walks the weights with bucketPoint", () => {
    const exp = experiment("pricing", [1, 3, 6]);
    for (let i = 0; i < 200; i++) {
      const counts = countsWith(bucketPoint, exp.name, [1, 3, 6], [`u${i}`]);
      expect(assignVariant(exp, `u${i}`).name).toBe(`v${counts.indexOf(1)}`);
    }
  });
  it("every name × id style × split passes χ² (per experiment and summed over experiments)", () => {
    expect(audit(bucketPoint)).toEqual([]);
  });
  it("the same audit catches the old FNV-1a assignment on sequential and prefixed ids", () => {
    const failedSums = new Set(audit(oldPoint).filter((f) => f.what.startsWith("sum")).map((f) => `${f.style} ${f.split}`));
    for (const style of ["sequential", "prefixed"]) for (const split of Object.keys(SPLITS)) expect(failedSums).toContain(`${style} ${split}`);
  });
  it("the experiment name salts the hash: arms in two experiments are independent", () => {
    const a = experiment("exp-a", [1, 1]);
    const b = experiment("exp-b", [1, 1]);
    const table = [0, 0, 0, 0];
    for (let i = 0; i < N_UNITS; i++) {
      const id = `user-${i}`;
      table[(assignVariant(a, id).name === "v0" ? 0 : 2) + (assignVariant(b, id).name === "v0" ? 0 : 1)]++;
    }
    // Independent fair 1:1 arms make the four (arm in a, arm in b) cells equally likely: χ² with df 3.
    expect(chiSquare(table, [1, 1, 1, 1])).toBeLessThan(CRIT[3]);
  });
});
