/**
 * Subword vocabulary for the tiny-transformer comparison student: byte-pair
 * merges learned over the featurizer's pre-tokenised pieces (lower-cased),
 * then greedy application of the merges at encode time. Id 0 is [UNK] (any
 * symbol not in the vocabulary). Comparison-only: the worker does not use
 * it, so it lives in scripts/. Pure; deterministic (ties broken by string).
 */
import { pretokenize } from "../../src/core/featurizer.js";

export interface Bpe {
  merges: [string, string][];
  vocab: Map<string, number>; // symbol → id (0 = [UNK])
}

const END = "</w>";

function symbolsOf(piece: string): string[] {
  const s = Array.from(piece);
  s[s.length - 1] += END;
  return s;
}

/** Learns up to `merges` merges from texts; the vocabulary keeps chars seen ≥ minCount times. */
export function trainBpe(texts: string[], merges: number, minCount = 2): Bpe {
  const words = new Map<string, number>();
  for (const t of texts) for (const p of pretokenize(t.toLowerCase())) words.set(p, (words.get(p) ?? 0) + 1);
  const entries = [...words.entries()].sort((a, b) => (a[0] < b[0] ? -1 : 1)).map(([w, c]) => ({ sym: symbolsOf(w), c }));
  const charCount = new Map<string, number>();
  for (const e of entries) for (const s of e.sym) charCount.set(s, (charCount.get(s) ?? 0) + e.c);
  const learned: [string, string][] = [];
  // Pair counts with an index pair → entries containing it, updated incrementally per merge.
  const pairs = new Map<string, number>();
  const where = new Map<string, Set<number>>();
  const addPairs = (i: number, sign: number) => {
    const e = entries[i];
    for (let j = 0; j + 1 < e.sym.length; j++) {
      const key = `${e.sym[j]}\u0000${e.sym[j + 1]}`;
      pairs.set(key, (pairs.get(key) ?? 0) + sign * e.c);
      if (sign > 0) {
        let w = where.get(key);
        if (!w) where.set(key, (w = new Set()));
        w.add(i);
      }
    }
  };
  for (let i = 0; i < entries.length; i++) addPairs(i, 1);
  for (let k = 0; k < merges; k++) {
    let best = "";
    let bestC = minCount - 1;
    for (const [key, c] of pairs) if (c > bestC || (c === bestC && key < best)) [best, bestC] = [key, c];
    if (best === "") break;
    const [a, b] = best.split("\u0000") as [string, string];
    learned.push([a, b]);
    for (const i of [...(where.get(best) ?? [])].sort((x, y) => x - y)) {
      addPairs(i, -1);
      entries[i].sym = mergeOnce(entries[i].sym, a, b);
      addPairs(i, 1);
    }
    where.delete(best);
    pairs.delete(best);
  }
  const vocab = new Map<string, number>();
  const add = (s: string) => {
    if (!vocab.has(s)) vocab.set(s, vocab.size + 1);
  };
  for (const [s, c] of [...charCount.entries()].sort((x, y) => (x[0] < y[0] ? -1 : 1))) if (c >= minCount) add(s);
  for (const [a, b] of learned) add(a + b);
  return { merges: learned, vocab };
}

function mergeOnce(sym: string[], a: string, b: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < sym.length; i++) {
    if (i + 1 < sym.length && sym[i] === a && sym[i + 1] === b) {
      out.push(a + b);
      i++;
    } else out.push(sym[i]);
  }
  return out;
}

/** Vocabulary size including [UNK]. */
export const vocabSize = (bpe: Bpe): number => bpe.vocab.size + 1;

/** Encodes text to ids; keeps the first half and last half when longer than maxLen. */
export function encodeBpe(bpe: Bpe, text: string, maxLen: number, cache = new Map<string, number[]>()): Int32Array {
  const rank = ranksOf(bpe);
  const out: number[] = [];
  for (const p of pretokenize(text.toLowerCase())) {
    let ids = cache.get(p);
    if (!ids) {
      let sym = symbolsOf(p);
      for (;;) {
        let bestI = -1;
        let bestR = Infinity;
        for (let i = 0; i + 1 < sym.length; i++) {
          const r = rank.get(`${sym[i]}\u0000${sym[i + 1]}`);
          if (r !== undefined && r < bestR) [bestR, bestI] = [r, i];
        }
        if (bestI < 0) break;
        const [a, b] = bpe.merges[bestR];
        sym = mergeOnce(sym, a, b);
      }
      ids = sym.map((s) => bpe.vocab.get(s) ?? 0);
      cache.set(p, ids);
    }
    for (const id of ids) out.push(id);
  }
  if (out.length <= maxLen) return Int32Array.from(out);
  const head = Math.floor(maxLen / 2);
  return Int32Array.from(out.slice(0, head).concat(out.slice(out.length - (maxLen - head))));
}

const rankCache = new WeakMap<Bpe, Map<string, number>>();
function ranksOf(bpe: Bpe): Map<string, number> {
  let r = rankCache.get(bpe);
  if (!r) {
    r = new Map(bpe.merges.map(([a, b], i) => [`${a}\u0000${b}`, i]));
    rankCache.set(bpe, r);
  }
  return r;
}
