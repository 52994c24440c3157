/**
 * Featurizer: turns prompt text into the hashed word / char n-gram ids that the
 * ONNX student consumes, plus dense surface features and an input-token count.
 * Owned here so the worker and the pipeline share one implementation (parity).
 * Must stay pure: no I/O, no env, no onnxruntime.
 */
import { z } from "zod";
import { fnvUpdate } from "./hash.js";

export const FeaturizerSpec = z
  .object({
    kind: z.literal("hashed-ngram-v1"),
    buckets: z.number().int().min(16).max(1 << 22),
    word_ngrams: z.array(z.number().int().min(1).max(3)).min(1),
    char_ngrams: z.array(z.number().int().min(2).max(6)),
    max_features: z.number().int().min(8).max(65536),
    lowercase: z.boolean(),
    seed: z.number().int().min(0).max(0xffffffff),
    char_scope: z
      .enum(["piece", "text"])
      .optional()
      .meta({ description: 'Where char n-grams are read. "piece" (default): inside each pre-tokenizer piece, as "<piece>". "text": over the whole prompt as "<text>", so an n-gram may span pieces, spaces and symbols (like a char analyzer that ignores word bounds); each is emitted with the piece it starts in, and those starting on whitespace between pieces are skipped.' }),
  })
  .meta({ description: "Hashed word and character n-gram featurizer (FNV-1a over UTF-8)." });
export type FeaturizerSpec = z.infer<typeof FeaturizerSpec>;

/** Number of dense features the student takes next to the hashed ids. */
export const DENSE_FEATURES = 4;

export interface Features {
  /** Hashed feature ids in text order, after truncation. */
  ids: Int32Array;
  /** Surface features: log1p(tokens), log1p(chars), digit share, line count (log1p). */
  dense: Float32Array;
  /** Input tokens for cost: pieces of the pre-tokenizer over the whole prompt. */
  inputTokens: number;
  /** True when the id list was cut to max_features. */
  truncated: boolean;
}

// GPT-style pre-tokenization: letters, up to 3 digits, or one symbol. It tracks
// BPE token counts of English/maths prompts to within a small factor; documented
// in artifacts/README.md as the cost-token rule.
const PIECE = /\p{L}+|\p{N}{1,3}|[^\s\p{L}\p{N}]/gu;

export function pretokenize(text: string): string[] {
  return text.match(PIECE) ?? [];
}

/**
 * The pre-tokenizer's pieces. In text scope also "<text>" and, per piece,
 * the range [from, to) of char n-gram start offsets in it.
 */
interface Pieces {
  list: string[];
  padded?: string;
  from?: number[];
  to?: number[];
}

function piecesOf(text: string, spec: FeaturizerSpec): Pieces {
  const list = pretokenize(text);
  if (spec.char_scope !== "text") return { list };
  // `match` gives no offsets and `matchAll`'s match objects cost as much as the rest of featurize.
  // The regex skips only whitespace between pieces (any other code point is a piece), so each piece
  // starts at its first occurrence after the previous one's end.
  const from: number[] = new Array(list.length);
  const to: number[] = new Array(list.length);
  let end = 0;
  for (let i = 0; i < list.length; i++) {
    const start = text.indexOf(list[i], end);
    end = start + list[i].length;
    // Offsets in "<text>": the first piece also owns the leading "<" and anything before it.
    from[i] = i === 0 ? 0 : start + 1;
    to[i] = end + 1;
  }
  return { list, padded: `<${text}>`, from, to };
}

/**
 * Truncation rule: when there are more ids than max_features, keep the first
 * half and the last half (rounded up), dropping the middle. The question in a
 * long prompt usually sits at the end and the instructions at the start.
 */
export function truncateHeadTail(ids: number[], max: number): { ids: number[]; truncated: boolean } {
  if (ids.length <= max) return { ids, truncated: false };
  const head = Math.floor(max / 2);
  const tail = max - head;
  return { ids: ids.slice(0, head).concat(ids.slice(ids.length - tail)), truncated: true };
}

/**
 * Feature ids of one piece, in emission order: word n-grams starting at the
 * piece (for each n in word_ngrams), then its char n-grams (for each n): of
 * "<piece>", or, in text scope, those of "<text>" that start in the piece.
 * Keys are hashed incrementally (prefix state + text ranges), never
 * concatenated. Writes into `out` from `at` and returns the new end.
 */
// `skip` drops the piece's first ids and `cap` stops at that index in `out`: a single huge piece
// (262,144 letters) has half a million char n-grams, and truncation keeps at most max_features.
function pieceIds(p: Pieces, i: number, spec: FeaturizerSpec, pre: Prefixes, out: Int32Array, at: number, skip = 0, cap = out.length): number {
  const buckets = spec.buckets;
  let seen = 0;
  for (let g = 0; g < spec.word_ngrams.length; g++) {
    const n = spec.word_ngrams[g];
    if (i + n > p.list.length) continue;
    if (seen++ < skip || at >= cap) continue;
    let h = pre.word[g];
    for (let k = 0; k < n; k++) {
      if (k > 0) h = fnvUpdate(h, " ");
      h = fnvUpdate(h, p.list[i + k]);
    }
    out[at++] = (h >>> 0) % buckets;
  }
  if (spec.char_ngrams.length === 0) return at;
  const padded = p.padded ?? `<${p.list[i]}>`;
  const from = p.from?.[i] ?? 0;
  const to = p.to?.[i] ?? padded.length;
  for (let g = 0; g < spec.char_ngrams.length; g++) {
    const n = spec.char_ngrams[g];
    const base = pre.char[g];
    // Whole pieces shorter than n are already covered by the word unigram.
    for (let j = from; j < to && j + n <= padded.length && at < cap; j++) {
      if (seen < skip) seen++; // skipped ids need no hash
      else out[at++] = (fnvUpdate(base, padded, j, j + n) >>> 0) % buckets;
    }
  }
  return at;
}

function pieceCount(p: Pieces, i: number, spec: FeaturizerSpec): number {
  let c = 0;
  for (let g = 0; g < spec.word_ngrams.length; g++) if (i + spec.word_ngrams[g] <= p.list.length) c++;
  // Same bounds as pieceIds, from lengths alone: counting runs over every piece and must not build strings.
  const len = p.padded?.length ?? p.list[i].length + 2;
  const from = p.from?.[i] ?? 0;
  const to = p.to?.[i] ?? len;
  for (let g = 0; g < spec.char_ngrams.length; g++) c += Math.max(0, Math.min(to, len - spec.char_ngrams[g] + 1) - from);
  return c;
}

/** FNV-1a states after each n-gram kind's key prefix ("w<n>|", "c<n>|"), parallel to the spec's lists. */
interface Prefixes {
  word: number[];
  char: number[];
}

const prefixCache = new WeakMap<FeaturizerSpec, Prefixes>();
function prefixes(spec: FeaturizerSpec): Prefixes {
  let m = prefixCache.get(spec);
  if (!m) {
    m = {
      word: spec.word_ngrams.map((n) => fnvUpdate(spec.seed >>> 0, `w${n}|`)),
      char: spec.char_ngrams.map((n) => fnvUpdate(spec.seed >>> 0, `c${n}|`)),
    };
    prefixCache.set(spec, m);
  }
  return m;
}

/**
 * Only the ids that survive truncation are hashed: the head is produced from
 * the first pieces and the tail from the last ones, which gives exactly
 * truncateHeadTail(allIds) at a cost bounded by max_features.
 */
function hashedIds(p: Pieces, spec: FeaturizerSpec): { ids: Int32Array; truncated: boolean } {
  const pre = prefixes(spec);
  let total = 0;
  for (let i = 0; i < p.list.length; i++) total += pieceCount(p, i, spec);
  if (total <= spec.max_features) {
    const out = new Int32Array(total);
    let at = 0;
    for (let i = 0; i < p.list.length; i++) at = pieceIds(p, i, spec, pre, out, at);
    return { ids: out, truncated: false };
  }
  const head = Math.floor(spec.max_features / 2);
  const tail = spec.max_features - head;
  const out = new Int32Array(spec.max_features);
  let at = 0;
  for (let i = 0; i < p.list.length && at < head; i++) at = pieceIds(p, i, spec, pre, out, at, 0, head);
  let start = p.list.length;
  let have = 0;
  while (have < tail) have += pieceCount(p, --start, spec);
  // The first tail piece contributes only its last ids: skip the ones before them.
  for (let i = start; i < p.list.length; i++) at = pieceIds(p, i, spec, pre, out, at, i === start ? have - tail : 0);
  return { ids: out, truncated: true };
}

export function featurize(text: string, spec: FeaturizerSpec): Features {
  const normal = spec.lowercase ? text.toLowerCase() : text;
  const p = piecesOf(normal, spec);
  const { ids, truncated } = hashedIds(p, spec);
  let digits = 0;
  let lines = 1;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c <= 57) {
      if (c >= 48) digits++;
      else if (c === 10) lines++;
    }
  }
  const dense = new Float32Array([
    Math.log1p(p.list.length),
    Math.log1p(text.length),
    text.length === 0 ? 0 : digits / text.length,
    Math.log1p(lines),
  ]);
  return { ids, dense, inputTokens: p.list.length, truncated };
}
