/**
 * Stable, dependency-free string hashing shared by the featurizer, the
 * experiment assigner and the pipeline. Pure: no I/O, no clock.
 * FNV-1a (32-bit) over the UTF-8 bytes of the string (lone surrogates count
 * as U+FFFD, as TextEncoder does), so every JS runtime agrees bit for bit.
 * The UTF-8 encoding is done inline: the featurizer hashes thousands of short
 * keys per prompt and allocating a byte array for each dominated its cost.
 */
const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

function byte(h: number, b: number): number {
  return Math.imul(h ^ b, FNV_PRIME) >>> 0;
}

/** Continues an FNV-1a state over the UTF-8 bytes of s[start, end). */
export function fnvUpdate(h: number, s: string, start = 0, end = s.length): number {
  for (let i = start; i < end; i++) {
    let c = s.charCodeAt(i);
    if (c < 0x80) {
      h = Math.imul(h ^ c, FNV_PRIME) >>> 0;
      continue;
    }
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < end) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        const cp = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
        h = byte(h, 0xf0 | (cp >> 18));
        h = byte(h, 0x80 | ((cp >> 12) & 0x3f));
        h = byte(h, 0x80 | ((cp >> 6) & 0x3f));
        h = byte(h, 0x80 | (cp & 0x3f));
        i++;
        continue;
      }
    }
    if (c >= 0xd800 && c <= 0xdfff) c = 0xfffd; // lone surrogate, as TextEncoder
    if (c < 0x800) {
      h = byte(h, 0xc0 | (c >> 6));
      h = byte(h, 0x80 | (c & 0x3f));
    } else {
      h = byte(h, 0xe0 | (c >> 12));
      h = byte(h, 0x80 | ((c >> 6) & 0x3f));
      h = byte(h, 0x80 | (c & 0x3f));
    }
  }
  return h;
}

export function fnv1a32(text: string, seed = FNV_OFFSET): number {
  return fnvUpdate(seed >>> 0, text) >>> 0;
}

/** Uniform number in [0, 1) derived from a string; used for variant assignment. */
export function unitInterval(text: string): number {
  // Two independent 32-bit hashes give 53 usable bits, enough for fine-grained weights.
  const hi = fnv1a32(text) >>> 5; // 27 bits
  const lo = fnv1a32(text, 0x9e3779b9) >>> 6; // 26 bits
  return (hi * 67108864 + lo) / 9007199254740992;
}
