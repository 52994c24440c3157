/**
 * Small interval estimators for the experiment report: Wilson score interval,
 * normal-approximation mean intervals and a seeded percentile bootstrap for a
 * difference of means. Pure: no I/O, no clock; randomness only from a seed.
 */
import { z } from "zod";
import { mulberry32 } from "../random.js";

/** Two-sided 95% standard-normal quantile. */
export const Z95 = 1.959963984540054;

export const Interval = z.object({
  value: z.number().nullable(),
  lo: z.number().nullable(),
  hi: z.number().nullable(),
});
export type Interval = z.infer<typeof Interval>;

export const NULL_INTERVAL: Interval = { value: null, lo: null, hi: null };

/**
 * Wilson score 95% interval for `successes` out of `n`. `successes` may be
 * fractional (sum of scores in [0,1]); the interval then treats the mean
 * reward as a proportion, which is conservative for scores.
 */
export function wilson(successes: number, n: number, z = Z95): Interval {
  if (n <= 0) return NULL_INTERVAL;
  const p = successes / n;
  const z2 = z * z;
  const denom = 1 + z2 / n;
  const centre = (p + z2 / (2 * n)) / denom;
  const half = (z / denom) * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n));
  return { value: p, lo: Math.max(0, centre - half), hi: Math.min(1, centre + half) };
}

export interface Moments {
  n: number;
  mean: number;
  /** Population variance (divides by n); for 0/1 data this is p(1−p). */
  varPop: number;
  /** Sample variance (divides by n−1); 0 when n < 2. */
  varSample: number;
}

export function moments(xs: ArrayLike<number>): Moments {
  const n = xs.length;
  if (n === 0) return { n: 0, mean: NaN, varPop: NaN, varSample: NaN };
  let s = 0;
  for (let i = 0; i < n; i++) s += xs[i];
  const mean = s / n;
  let ss = 0;
  for (let i = 0; i < n; i++) ss += (xs[i] - mean) ** 2;
  return { n, mean, varPop: ss / n, varSample: n > 1 ? ss / (n - 1) : 0 };
}

/**
 * Moments from sufficient statistics (count, Σx, Σx²), as SQL aggregates
 * return them. The variance is clamped at 0: Σx² − (Σx)²/n can round below
 * it when every x is equal.
 */
export function momentsFromSums(n: number, sum: number, sumSq: number): Moments {
  if (n === 0) return { n: 0, mean: NaN, varPop: NaN, varSample: NaN };
  const mean = sum / n;
  const ss = Math.max(0, sumSq - sum * mean);
  return { n, mean, varPop: ss / n, varSample: n > 1 ? ss / (n - 1) : 0 };
}

/** Welford's running mean and sum of squared deviations: one pass, constant memory, no cancellation. */
export class RunningMoments {
  n = 0;
  mean = 0;
  private m2 = 0;

  add(x: number): void {
    this.n++;
    const d = x - this.mean;
    this.mean += d / this.n;
    this.m2 += d * (x - this.mean);
  }

  moments(): Moments {
    if (this.n === 0) return { n: 0, mean: NaN, varPop: NaN, varSample: NaN };
    return { n: this.n, mean: this.mean, varPop: this.m2 / this.n, varSample: this.n > 1 ? this.m2 / (this.n - 1) : 0 };
  }
}

/** Normal-approximation 95% interval for a mean from per-row terms (sample sd / √n). */
export function meanInterval(xs: ArrayLike<number>, z = Z95): Interval & { se: number | null } {
  return meanIntervalOf(moments(xs), z);
}

/** meanInterval from moments already summarised. */
export function meanIntervalOf(m: Moments, z = Z95): Interval & { se: number | null } {
  if (m.n === 0) return { ...NULL_INTERVAL, se: null };
  const se = Math.sqrt(m.varSample / m.n);
  return { value: m.mean, lo: m.mean - z * se, hi: m.mean + z * se, se };
}

/**
 * Difference b − a of two means with the unpooled normal approximation,
 * se = √(var_a/n_a + var_b/n_b) using population variances, which for 0/1
 * outcomes is the textbook two-proportion interval √(p_a(1−p_a)/n_a + p_b(1−p_b)/n_b).
 */
export function diffNormal(a: ArrayLike<number>, b: ArrayLike<number>, z = Z95): Interval {
  return diffOfMoments(moments(a), moments(b), "varPop", z);
}

/** Welch (unpooled, sample-variance) normal 95% interval for mean(b) − mean(a). */
export function diffWelch(a: ArrayLike<number>, b: ArrayLike<number>, z = Z95): Interval {
  return diffOfMoments(moments(a), moments(b), "varSample", z);
}

/** mean(b) − mean(a) ± z·√(var_a/n_a + var_b/n_b) with the chosen variance ("varPop": diffNormal, "varSample": diffWelch). */
export function diffOfMoments(ma: Moments, mb: Moments, variance: "varPop" | "varSample", z = Z95): Interval {
  if (ma.n === 0 || mb.n === 0) return NULL_INTERVAL;
  const d = mb.mean - ma.mean;
  const se = Math.sqrt(ma[variance] / ma.n + mb[variance] / mb.n);
  return { value: d, lo: d - z * se, hi: d + z * se };
}

/** q-th quantile (0..1) of a sorted array by linear interpolation (type 7). */
export function quantileSorted(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  const h = (n - 1) * q;
  const lo = Math.floor(h);
  const hi = Math.min(n - 1, lo + 1);
  return sorted[lo] + (h - lo) * (sorted[hi] - sorted[lo]);
}

/**
 * Percentile-bootstrap 95% interval for mean(b) − mean(a), resampling each
 * group independently with a mulberry32 stream from `seed`.
 */
export function diffBootstrap(a: ArrayLike<number>, b: ArrayLike<number>, seed: number, reps = 1000): Interval {
  const na = a.length;
  const nb = b.length;
  if (na === 0 || nb === 0) return NULL_INTERVAL;
  const d = moments(b).mean - moments(a).mean;
  const rng = mulberry32(seed);
  const out = new Float64Array(reps);
  for (let r = 0; r < reps; r++) {
    let sa = 0;
    for (let i = 0; i < na; i++) sa += a[Math.floor(rng() * na)];
    let sb = 0;
    for (let i = 0; i < nb; i++) sb += b[Math.floor(rng() * nb)];
    out[r] = sb / nb - sa / na;
  }
  out.sort();
  return { value: d, lo: quantileSorted(out, 0.025), hi: quantileSorted(out, 0.975) };
}

/** NaN/±Infinity become null so every number survives JSON. */
export function finiteOrNull(x: number): number | null {
  return Number.isFinite(x) ? x : null;
}
