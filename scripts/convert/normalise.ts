/**
 * Prompt identity for the converters: the text normaliser, the stable row id
 * and the deterministic split. Owns only these three rules; must not do I/O
 * or know any source format. Documented in docs/data.md.
 *   normalise: Unicode NFKC, every whitespace run → one space, trim.
 *   id:        first 16 hex chars of sha256(normalise(prompt)) over UTF-8.
 *   split:     first 8 hex of the id as an integer mod 100 →
 *              0–69 train, 70–79 val, 80–89 cal, 90–99 test.
 */
import { createHash } from "node:crypto";

export function normalisePrompt(text: string): string {
  return text.normalize("NFKC").replace(/\s+/gu, " ").trim();
}

export function promptId(prompt: string): string {
  return createHash("sha256").update(normalisePrompt(prompt), "utf8").digest("hex").slice(0, 16);
}

export type ConvertSplit = "train" | "val" | "cal" | "test";

/** Percent bucket edges: [upper bound (exclusive), split]. */
const SPLIT_EDGES: readonly [number, ConvertSplit][] = [
  [70, "train"],
  [80, "val"],
  [90, "cal"],
  [100, "test"],
];

export function splitForId(id: string): ConvertSplit {
  if (!/^[0-9a-f]{8}/.test(id)) throw new Error(`splitForId: id must start with 8 lowercase hex chars, got "${id}"`);
  const bucket = parseInt(id.slice(0, 8), 16) % 100;
  for (const [edge, split] of SPLIT_EDGES) if (bucket < edge) return split;
  return "test"; // unreachable: bucket < 100
}
