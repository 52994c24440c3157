/**
 * Stable, dependency-free string hashing shared by the featurizer, the
 * experiment assigner and the pipeline. Pure: no I/O, no clock.
 * Everything hashes the UTF-8 bytes of the string (lone surrogates count as
 * U+FFFD, as TextEncoder does), so every JS runtime agrees bit for bit.
 * - FNV-1a (32-bit): the featurizer's feature ids and the pipeline's splits.
 *   Frozen: bundle ids, goldens and committed splits depend on its exact bits.
 *   Its UTF-8 encoding is inline: the featurizer hashes thousands of short
 *   keys per prompt and allocating a byte array for each dominated its cost.
 * - MurmurHash3 x86_32 (with its fmix32 finaliser): variant assignment, where
 *   every input bit must reach every output bit (FNV-1a has no finaliser, so
 *   ids that differ only in their last characters land in skewed buckets).
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

/**
 * Number in [0, 1) from FNV-1a, kept only for the pipeline's data split
 * (scripts/distill/dataset.ts), whose committed bundles depend on it. Not
 * uniform for sequential ids: never use it for assignment (see bucketPoint).
 */
export function unitInterval(text: string): number {
  // Two independent 32-bit hashes give 53 usable bits, enough for fine-grained weights.
  const hi = fnv1a32(text) >>> 5; // 27 bits
  const lo = fnv1a32(text, 0x9e3779b9) >>> 6; // 26 bits
  return (hi * 67108864 + lo) / 9007199254740992;
}

const M3_C1 = 0xcc9e2d51;
const M3_C2 = 0x1b873593;
const utf8 = new TextEncoder();
// Reused so that hashing allocates nothing; grown for longer keys (UTF-8 takes ≤ 3 bytes per UTF-16 unit).
let scratch = new Uint8Array(256);

/** MurmurHash3's finaliser: a bijection on 32 bits where each input bit flips each output bit with p ≈ 1/2. */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

function m3Scramble(k: number): number {
  k = Math.imul(k, M3_C1);
  k = (k << 15) | (k >>> 17);
  return Math.imul(k, M3_C2);
}

/** MurmurHash3 x86_32 (Appleby's reference) of the UTF-8 bytes of text. */
export function murmur3x86_32(text: string, seed = 0): number {
  if (scratch.length < text.length * 3) scratch = new Uint8Array(text.length * 3);
  const b = scratch;
  const n = utf8.encodeInto(text, b).written;
  const blocks = n & ~3;
  let h = seed | 0;
  for (let i = 0; i < blocks; i += 4) {
    h ^= m3Scramble(b[i] | (b[i + 1] << 8) | (b[i + 2] << 16) | (b[i + 3] << 24));
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  const rest = n & 3;
  if (rest > 0) {
    let k = b[blocks];
    if (rest > 1) k |= b[blocks + 1] << 8;
    if (rest > 2) k |= b[blocks + 2] << 16;
    h ^= m3Scramble(k);
  }
  return fmix32(h ^ n);
}

// Two fixed, unrelated seeds: changing either re-buckets every experiment.
const BUCKET_SEED_HI = 0x5f3759df;
const BUCKET_SEED_LO = 0x2545f491;

/**
 * Uniform number in [0, 1) for variant assignment: two MurmurHash3 values of
 * the same text under independent seeds give 27 + 26 = 53 bits, so weights
 * like 1:999 are honoured to far below any sample's noise.
 */
export function bucketPoint(text: string): number {
  const hi = murmur3x86_32(text, BUCKET_SEED_HI) >>> 5; // 27 bits
  const lo = murmur3x86_32(text, BUCKET_SEED_LO) >>> 6; // 26 bits
  return (hi * 67108864 + lo) / 9007199254740992;
}
