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

/** Pieces with their offsets, for text-scope char n-grams. */
interface Pieces {
  list: string[];
  /** Text-scope only: "<text>" and, per piece, the range of n-gram start offsets in it. */
  padded?: string;
  from?: number[];
  to?: number[];
}

function piecesOf(text: string, spec: FeaturizerSpec): Pieces {
  if (spec.char_scope !== "text") return { list: pretokenize(text) };
  const list: string[] = [];
  const from: number[] = [];
  const to: number[] = [];
  for (const m of text.matchAll(PIECE)) {
    // Offsets in "<text>": the first piece also owns the leading "<" and anything before it.
    from.push(list.length === 0 ? 0 : m.index! + 1);
    to.push(m.index! + 1 + m[0].length);
    list.push(m[0]);
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
 * Keys are hashed incrementally (prefix state + text), never concatenated.
 */
// `skip` drops the piece's first ids and `cap` stops at that many in `out`: a single huge piece
// (262,144 letters) has half a million char n-grams, and truncation keeps at most max_features.
function pieceIds(p: Pieces, i: number, spec: FeaturizerSpec, prefix: Map<string, number>, out: number[], skip = 0, cap = Infinity): void {
  const pieces = p.list;
  let seen = 0;
  const emit = (id: number) => {
    if (seen++ >= skip && out.length < cap) out.push(id);
  };
  for (const n of spec.word_ngrams) {
    if (i + n > pieces.length) continue;
    let h = prefix.get(`w${n}|`)!;
    for (let k = 0; k < n; k++) {
      if (k > 0) h = fnvUpdate(h, " ");
      h = fnvUpdate(h, pieces[i + k]);
    }
    emit((h >>> 0) % spec.buckets);
  }
  if (spec.char_ngrams.length === 0) return;
  const padded = p.padded ?? `<${pieces[i]}>`;
  const from = p.from?.[i] ?? 0;
  const to = p.to?.[i] ?? padded.length;
  for (const n of spec.char_ngrams) {
    const base = prefix.get(`c${n}|`)!;
    // Whole pieces shorter than n are already covered by the word unigram.
    for (let j = from; j < to && j + n <= padded.length && out.length < cap; j++) {
      if (seen < skip) seen++; // skipped ids need no hash
      else emit((fnvUpdate(base, padded, j, j + n) >>> 0) % spec.buckets);
    }
  }
}

function pieceCount(p: Pieces, i: number, spec: FeaturizerSpec): number {
  let c = 0;
  for (const n of spec.word_ngrams) if (i + n <= p.list.length) c++;
  // Same bounds as pieceIds, from lengths alone: counting runs over every piece and must not build strings.
  const len = p.padded?.length ?? p.list[i].length + 2;
  const from = p.from?.[i] ?? 0;
  const to = p.to?.[i] ?? len;
  for (const n of spec.char_ngrams) c += Math.max(0, Math.min(to, len - n + 1) - from);
  return c;
}

const prefixCache = new WeakMap<FeaturizerSpec, Map<string, number>>();
function prefixes(spec: FeaturizerSpec): Map<string, number> {
  let m = prefixCache.get(spec);
  if (!m) {
    m = new Map();
    for (const n of spec.word_ngrams) m.set(`w${n}|`, fnvUpdate(spec.seed >>> 0, `w${n}|`));
    for (const n of spec.char_ngrams) m.set(`c${n}|`, fnvUpdate(spec.seed >>> 0, `c${n}|`));
    prefixCache.set(spec, m);
  }
  return m;
}

/**
 * Only the ids that survive truncation are hashed: the head is produced from
 * the first pieces and the tail from the last ones, which gives exactly
 * truncateHeadTail(allIds) at a cost bounded by max_features.
 */
function hashedIds(p: Pieces, spec: FeaturizerSpec): { ids: number[]; truncated: boolean } {
  const pre = prefixes(spec);
  const pieces = p.list;
  let total = 0;
  for (let i = 0; i < pieces.length; i++) total += pieceCount(p, i, spec);
  const out: number[] = [];
  if (total <= spec.max_features) {
    for (let i = 0; i < pieces.length; i++) pieceIds(p, i, spec, pre, out);
    return { ids: out, truncated: false };
  }
  const head = Math.floor(spec.max_features / 2);
  const tail = spec.max_features - head;
  for (let i = 0; i < pieces.length && out.length < head; i++) pieceIds(p, i, spec, pre, out, 0, head);
  let start = pieces.length;
  let have = 0;
  while (have < tail) have += pieceCount(p, --start, spec);
  const back: number[] = [];
  // The first tail piece contributes only its last ids: skip the ones before them.
  for (let i = start; i < pieces.length; i++) pieceIds(p, i, spec, pre, back, i === start ? have - tail : 0);
  return { ids: out.concat(back), truncated: true };
}

export function featurize(text: string, spec: FeaturizerSpec): Features {
  const normal = spec.lowercase ? text.toLowerCase() : text;
  const p = piecesOf(normal, spec);
  const pieces = p.list;
  const { ids, truncated } = hashedIds(p, spec);
  let digits = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 48 && c <= 57) digits++;
  }
  let lines = 1;
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) lines++;
  const dense = new Float32Array([
    Math.log1p(pieces.length),
    Math.log1p(text.length),
    text.length === 0 ? 0 : digits / text.length,
    Math.log1p(lines),
  ]);
  return { ids: Int32Array.from(ids), dense, inputTokens: pieces.length, truncated };
}
