/**
 * The OPE subsample of a large experiment: which usable rows the report
 * evaluates when there are more than OPE_MAX_ROWS of them, and how far that
 * can move an estimate. Pure: no I/O, no clock.
 *
 * A row is kept when a 32-bit integer hash of its D1 rowid falls below
 * rate·2³² (rate = OPE_MAX_ROWS / usable rows), so the sample is a fixed,
 * data-independent Bernoulli(rate) sample: the same log always gives the same
 * report, and the sample is as i.i.d. as the log itself. Each estimate's
 * interval is computed from the rows evaluated, so it stays a valid 95%
 * interval for the policy's value, only wider (se grows by √(1/rate)).
 * Against the estimate over ALL usable rows, the subsample's differs by
 * |θ̂ₙ − θ̂_N| ≤ 4·se·√(1 − n/N) with probability ≥ 0.9999 per estimate
 * (se the reported standard error, n rows evaluated of N usable; the
 * finite-population variance of a sample mean is σ²(1/n − 1/N));
 * test/node/report-bounded.test.ts checks that bound on a large log.
 */

/** Most usable rows the report's OPE evaluates; beyond it a hash subsample (about this many rows). */
export const OPE_MAX_ROWS = 10_000;

/** The fraction of usable rows to evaluate: 1 up to `max`, then max / usable. */
export function opeSamplingRate(usable: number, max = OPE_MAX_ROWS): number {
  return usable <= max ? 1 : max / usable;
}

/** Keep-threshold for hash32: a row is kept when hash32(rowid) < threshold. */
export function sampleThreshold(rate: number): number {
  return rate >= 1 ? 2 ** 32 : Math.floor(rate * 2 ** 32);
}

/**
 * A 32-bit avalanche hash of a non-negative integer id (the low 32 bits of
 * the id; the "0x45d9f3b" integer hash). Written with operations SQLite
 * has too (no XOR there: a ^ b = (a | b) − (a & b)), so report-store.ts
 * computes the same value in SQL, bit for bit (exact integer arithmetic on
 * both sides).
 */
export function hash32(id: number): number {
  let x = id % 2 ** 32;
  x = mulLow32(xorShift16(x), 0x45d9f3b);
  x = mulLow32(xorShift16(x), 0x45d9f3b);
  return xorShift16(x);
}

/** x ^ (x >>> 16) for 0 ≤ x < 2³². */
function xorShift16(x: number): number {
  return (x ^ Math.floor(x / 65536)) >>> 0;
}

/** (x · m) mod 2³², exactly, for 0 ≤ x < 2³² and 0 ≤ m < 2²⁷ (x split into 16-bit halves so no product exceeds 2⁵³). */
function mulLow32(x: number, m: number): number {
  const lo = (x % 65536) * m;
  const hi = (Math.floor(x / 65536) * m) % 65536;
  return (lo + hi * 65536) % 2 ** 32;
}

/** The same hash as an SQL expression over `col` (an INTEGER ≥ 0), for SQLite's 64-bit integers. */
export function hash32Sql(col: string): string {
  const xs = (e: string) => `((${e}) | ((${e}) >> 16)) - ((${e}) & ((${e}) >> 16))`;
  const mul = (e: string) => `(((${e}) * ${0x45d9f3b}) & 4294967295)`;
  return xs(mul(xs(mul(xs(`(${col}) & 4294967295`)))));
}
