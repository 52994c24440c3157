/**
 * Stable, dependency-free string hashing shared by the featurizer, the
 * experiment assigner and the pipeline. Pure: no I/O, no clock.
 * FNV-1a (32-bit) over UTF-8 bytes, so JS engines and Node agree bit for bit.
 */
const encoder = new TextEncoder();

export function fnv1a32(text: string, seed = 0x811c9dc5): number {
  const bytes = encoder.encode(text);
  let h = seed >>> 0;
  for (let i = 0; i < bytes.length; i++) {
    h ^= bytes[i];
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/** Uniform number in [0, 1) derived from a string; used for variant assignment. */
export function unitInterval(text: string): number {
  // Two independent 32-bit hashes give 53 usable bits, enough for fine-grained weights.
  const hi = fnv1a32(text) >>> 5; // 27 bits
  const lo = fnv1a32(text, 0x9e3779b9) >>> 6; // 26 bits
  return (hi * 67108864 + lo) / 9007199254740992;
}
