/**
 * Testbed task generator: small integer-answer arithmetic problems in a fixed
 * char-level surface, deterministic from a seed (mulberry32). Owns the prompt
 * format, the answer format and the human-difficulty features of each problem.
 * Must not: know about models, rollouts or the pipeline.
 *
 * Surface (what the LMs see; docs/testbed.md):
 *   add   `_47+913=`          operands right-aligned in width-3 columns ('_' pads)
 *   sub   `913-_47=`          a ≥ b, so the answer is ≥ 0
 *   mul   `_47*7=`            width-3 × one digit (2–9)
 *   eq    `7x+_5=131,x=`      a∈2–9, b width 2, c width 3; x a non-negative integer
 *   word  `kim has _47 figs, gets _13. total=` (also "eats … left=", "… bags of … total=")
 * The answer is the integer written most-significant digit first, followed by ';'.
 *
 * Balance: each operator equally likely; within an operator the size of the
 * largest operand is uniform; for add/sub the number of carries/borrows is drawn
 * uniformly in 0…len before rejection sampling, so equal-length problems differ
 * in difficulty the surface does not show (carry chains).
 */
import { mulberry32, type Rng } from "../../src/core/random.js";

export const OPS = ["add", "sub", "mul", "eq", "word"] as const;
export type Op = (typeof OPS)[number];
export const EOS = ";";

export interface Problem {
  prompt: string;
  answer: string;
  op: Op;
  /** operator × largest operand size, e.g. "add:3": the within-group key. */
  group: string;
  features: HumanFeatures;
}

export interface HumanFeatures {
  len_a: number;
  len_b: number;
  max_len: number;
  carries: number;
  carry_chain: number;
  answer_len: number;
}

const digits = (n: number) => String(n).length;
const pad = (n: number, w: number) => String(n).padStart(w, "_");
const int = (rng: Rng, lo: number, hi: number) => lo + Math.floor(rng() * (hi - lo + 1));
/** Uniform integer with exactly `len` digits (len 1 → 0–9). */
const ofLen = (rng: Rng, len: number) => (len === 1 ? int(rng, 0, 9) : int(rng, 10 ** (len - 1), 10 ** len - 1));

/** Carries of a+b (count and longest run of consecutive carries). */
export function addCarries(a: number, b: number): { count: number; chain: number } {
  let c = 0, count = 0, chain = 0, run = 0;
  while (a > 0 || b > 0) {
    const s = (a % 10) + (b % 10) + c;
    c = s >= 10 ? 1 : 0;
    if (c) { count++; run++; chain = Math.max(chain, run); } else run = 0;
    a = Math.floor(a / 10); b = Math.floor(b / 10);
  }
  return { count, chain };
}

/** Borrows of a−b (a ≥ b). */
export function subBorrows(a: number, b: number): { count: number; chain: number } {
  let br = 0, count = 0, chain = 0, run = 0;
  while (a > 0 || b > 0) {
    const d = (a % 10) - (b % 10) - br;
    br = d < 0 ? 1 : 0;
    if (br) { count++; run++; chain = Math.max(chain, run); } else run = 0;
    a = Math.floor(a / 10); b = Math.floor(b / 10);
  }
  return { count, chain };
}

/** Carries of a×d (single digit d), schoolbook right to left. */
export function mulCarries(a: number, d: number): { count: number; chain: number } {
  let c = 0, count = 0, chain = 0, run = 0;
  while (a > 0) {
    const p = (a % 10) * d + c;
    c = Math.floor(p / 10);
    if (c) { count++; run++; chain = Math.max(chain, run); } else run = 0;
    a = Math.floor(a / 10);
  }
  return { count, chain };
}

function addSub(rng: Rng, op: "add" | "sub", maxLen: number): [number, number] {
  const target = int(rng, 0, maxLen);
  let best: [number, number] = [0, 0];
  let bestGap = Infinity;
  for (let t = 0; t < 60; t++) {
    let a = ofLen(rng, maxLen);
    let b = ofLen(rng, int(rng, 1, maxLen));
    if (rng() < 0.5) [a, b] = [b, a];
    if (op === "sub" && a < b) [a, b] = [b, a];
    const k = op === "add" ? addCarries(a, b).count : subBorrows(a, b).count;
    const gap = Math.abs(k - target);
    if (gap < bestGap) { best = [a, b]; bestGap = gap; }
    if (gap === 0) break;
  }
  return best;
}

const NAMES = ["ann", "bob", "kim", "raj", "eva", "tom"];
const THINGS = ["figs", "pens", "cups", "eggs", "nuts"];

export interface GenOptions {
  /** Relative weight of each operator (default equal). */
  opWeights?: Partial<Record<Op, number>>;
  /** Per operator, relative weight of each largest-operand size (index 0 = size 1). */
  sizeWeights?: Partial<Record<Op, number[]>>;
}

const SIZES: Record<Op, number> = { add: 3, sub: 3, mul: 3, eq: 3, word: 2 };

function pick(rng: Rng, weights: number[]): number {
  const tot = weights.reduce((a, b) => a + b, 0);
  let u = rng() * tot;
  for (let i = 0; i < weights.length; i++) { u -= weights[i]; if (u < 0) return i; }
  return weights.length - 1;
}

export function generateOne(rng: Rng, opts: GenOptions = {}): Problem {
  const op = OPS[pick(rng, OPS.map((o) => opts.opWeights?.[o] ?? 1))];
  const sw = opts.sizeWeights?.[op] ?? new Array<number>(SIZES[op]).fill(1);
  const size = pick(rng, sw) + 1;
  let prompt: string, ans: number, la: number, lb: number, cc: { count: number; chain: number };
  switch (op) {
    case "add":
    case "sub": {
      const [a, b] = addSub(rng, op, size);
      ans = op === "add" ? a + b : a - b;
      cc = op === "add" ? addCarries(a, b) : subBorrows(a, b);
      prompt = `${pad(a, 3)}${op === "add" ? "+" : "-"}${pad(b, 3)}=`;
      la = digits(a); lb = digits(b);
      break;
    }
    case "mul": {
      const a = ofLen(rng, size);
      const d = int(rng, 2, 9);
      ans = a * d; cc = mulCarries(a, d);
      prompt = `${pad(a, 3)}*${d}=`;
      la = digits(a); lb = 1;
      break;
    }
    case "eq": {
      // size = digits of c (1–3); draw x, a, b until c has that many digits.
      let a = 2, b = 0, x = 0, c = 0;
      for (let t = 0; t < 200; t++) {
        a = int(rng, 2, 9); x = int(rng, 0, size === 1 ? 4 : size === 2 ? 49 : 99); b = int(rng, 0, size === 1 ? 9 : 99);
        c = a * x + b;
        if (digits(c) === size && c <= 999) break;
      }
      ans = x; cc = subBorrows(c, b);
      prompt = `${a}x+${pad(b, 2)}=${pad(c, 3)},x=`;
      la = digits(c); lb = digits(b);
      break;
    }
    case "word": {
      const name = NAMES[int(rng, 0, NAMES.length - 1)];
      const thing = THINGS[int(rng, 0, THINGS.length - 1)];
      const kind = int(rng, 0, 2);
      if (kind === 2) {
        const a = ofLen(rng, size), d = int(rng, 2, 9);
        ans = a * d; cc = mulCarries(a, d);
        prompt = `${name} has ${d} bags of ${pad(a, 2)} ${thing}. total=`;
        la = digits(a); lb = 1;
      } else {
        let [a, b] = addSub(rng, kind === 0 ? "add" : "sub", size);
        if (kind === 1 && a < b) [a, b] = [b, a];
        ans = kind === 0 ? a + b : a - b;
        cc = kind === 0 ? addCarries(a, b) : subBorrows(a, b);
        prompt = kind === 0 ? `${name} has ${pad(a, 2)} ${thing}, gets ${pad(b, 2)}. total=` : `${name} has ${pad(a, 2)} ${thing}, eats ${pad(b, 2)}. left=`;
        la = digits(a); lb = digits(b);
      }
      break;
    }
  }
  const answer = String(ans);
  const max_len = Math.max(la, lb);
  return {
    prompt,
    answer,
    op,
    group: `${op}:${max_len}`,
    features: { len_a: la, len_b: lb, max_len, carries: cc.count, carry_chain: cc.chain, answer_len: answer.length },
  };
}

export function generate(seed: number, n: number, opts: GenOptions = {}): Problem[] {
  const rng = mulberry32(seed);
  return Array.from({ length: n }, () => generateOne(rng, opts));
}

/** Every character the surface can produce (for the char vocab). */
export const ALPHABET = [..."0123456789_+-*=,.; abcdefghijklmnopqrstuvwxyz"];

/** A scalar human difficulty: answer digits + carries (+1 per extra operand digit). */
export const humanDifficulty = (p: Problem) => p.features.answer_len + p.features.carries + p.features.carry_chain;
