/**
 * Deterministic benchmark prompts with an exact input-token count under the
 * featurizer's pre-tokenizer (letters | up to 3 digits | one symbol): English-
 * like sentences with numbers and punctuation, built one piece at a time.
 * Owned by bench/.
 */
import { pretokenize } from "../src/core/featurizer.js";

const WORDS = (
  "explain how the function should handle a list of values when some entries are missing and " +
  "compute total cost per request given that each model charges input output tokens differently " +
  "write short proof theorem prime numbers integral derivative matrix vector python code review " +
  "summarise article about climate policy economic growth history science translate french sentence " +
  "please carefully step by step answer question reasoning final result table compare options"
).split(" ");

function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s ^ (s >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0;
    return s / 4294967296;
  };
}

/** A prompt whose pretokenize() piece count is exactly `tokens`. */
export function makePrompt(tokens: number, seed = 1): string {
  const rnd = prng(seed * 7919 + tokens);
  let text = "";
  let pieces = 0;
  let sinceStop = 0;
  while (pieces < tokens) {
    const r = rnd();
    const left = tokens - pieces;
    if (sinceStop > 6 && left > 1 && r < 0.12) {
      text = text.trimEnd() + (rnd() < 0.7 ? "." : "?"); // one symbol piece
      text += rnd() < 0.2 ? "\n" : " ";
      sinceStop = 0;
    } else if (sinceStop > 2 && r < 0.18) {
      text = text.trimEnd() + ", ";
      sinceStop++;
    } else if (r < 0.25) {
      text += `${Math.floor(rnd() * 1000)} `; // up to 3 digits: one piece
      sinceStop++;
    } else {
      text += `${WORDS[Math.floor(rnd() * WORDS.length)]} `;
      sinceStop++;
    }
    pieces = pretokenize(text.toLowerCase()).length;
  }
  text = text.trimEnd();
  const n = pretokenize(text.toLowerCase()).length;
  if (n !== tokens) throw new Error(`prompt builder: wanted ${tokens} pieces, got ${n}`);
  return text;
}
