/**
 * Featurizer: turns prompt text into the hashed word / char n-gram ids that the
 * ONNX student consumes, plus dense surface features and an input-token count.
 * Owned here so the worker and the pipeline share one implementation (parity).
 * Must stay pure: no I/O, no env, no onnxruntime.
 */
import { z } from "zod";
import { fnv1a32 } from "./hash.js";

export const FeaturizerSpec = z
  .object({
    kind: z.literal("hashed-ngram-v1"),
    buckets: z.number().int().min(16).max(1 << 22),
    word_ngrams: z.array(z.number().int().min(1).max(3)).min(1),
    char_ngrams: z.array(z.number().int().min(2).max(6)),
    max_features: z.number().int().min(8).max(65536),
    lowercase: z.boolean(),
    seed: z.number().int().min(0).max(0xffffffff),
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

function bucket(key: string, spec: FeaturizerSpec): number {
  return fnv1a32(key, spec.seed) % spec.buckets;
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

export function featurize(text: string, spec: FeaturizerSpec): Features {
  const normal = spec.lowercase ? text.toLowerCase() : text;
  const pieces = pretokenize(normal);
  const out: number[] = [];
  for (let i = 0; i < pieces.length; i++) {
    for (const n of spec.word_ngrams) {
      if (i + n > pieces.length) continue;
      out.push(bucket(`w${n}|${pieces.slice(i, i + n).join(" ")}`, spec));
    }
    if (spec.char_ngrams.length > 0) {
      const padded = `<${pieces[i]}>`;
      for (const n of spec.char_ngrams) {
        for (let j = 0; j + n <= padded.length; j++) {
          // Whole pieces shorter than n are already covered by the word unigram.
          out.push(bucket(`c${n}|${padded.slice(j, j + n)}`, spec));
        }
      }
    }
  }
  const { ids, truncated } = truncateHeadTail(out, spec.max_features);
  let digits = 0;
  for (const ch of text) if (ch >= "0" && ch <= "9") digits++;
  const lines = text.split("\n").length;
  const dense = new Float32Array([
    Math.log1p(pieces.length),
    Math.log1p(text.length),
    text.length === 0 ? 0 : digits / text.length,
    Math.log1p(lines),
  ]);
  return { ids: Int32Array.from(ids), dense, inputTokens: pieces.length, truncated };
}
