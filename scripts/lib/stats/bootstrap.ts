/**
 * Seeded percentile bootstrap for any statistic computed from row indices.
 * Owns resampling only; the statistic is the caller's. Randomness comes
 * solely from mulberry32(seed), so intervals are reproducible run to run.
 */
import { mulberry32 } from "../../../src/core/random.js";

export interface BootstrapOptions {
  reps?: number;
  seed: number;
  alpha?: number;
}

export interface Interval {
  estimate: number | null;
  lo: number | null;
  hi: number | null;
}

/** Linear-interpolated quantile of sorted values (type 7, as numpy/R default). */
export function quantileSorted(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  if (n === 0) throw new Error("quantile of empty array");
  const h = (n - 1) * q;
  const lo = Math.floor(h);
  const hi = Math.min(n - 1, lo + 1);
  return sorted[lo] + (h - lo) * (sorted[hi] - sorted[lo]);
}

/**
 * estimate = statFn(0..n-1); lo/hi = alpha/2 and 1-alpha/2 percentiles of
 * statFn over `reps` resamples of n indices with replacement. Resamples
 * where the statistic is undefined (null, e.g. one class drawn) are dropped;
 * if more than half are undefined the interval is reported as null because
 * the remaining ones are a biased sample.
 */
export function bootstrapCI(
  n: number,
  statFn: (indices: Int32Array) => number | null,
  { reps = 1000, seed, alpha = 0.05 }: BootstrapOptions,
): Interval {
  const all = new Int32Array(n);
  for (let i = 0; i < n; i++) all[i] = i;
  const estimate = n === 0 ? null : statFn(all);
  if (estimate === null || !Number.isFinite(estimate)) return { estimate: null, lo: null, hi: null };
  const rng = mulberry32(seed);
  const values: number[] = [];
  const idx = new Int32Array(n);
  for (let r = 0; r < reps; r++) {
    for (let i = 0; i < n; i++) idx[i] = Math.floor(rng() * n);
    const v = statFn(idx);
    if (v !== null && Number.isFinite(v)) values.push(v);
  }
  if (values.length < reps / 2) return { estimate, lo: null, hi: null };
  values.sort((a, b) => a - b);
  return { estimate, lo: quantileSorted(values, alpha / 2), hi: quantileSorted(values, 1 - alpha / 2) };
}

/** Gather helper so statistics can be written against plain arrays. */
export function take(values: ArrayLike<number>, indices: ArrayLike<number>): Float64Array {
  const out = new Float64Array(indices.length);
  for (let i = 0; i < indices.length; i++) out[i] = values[indices[i]];
  return out;
}

/**
 * Several statistics over the same resamples (paired: every statistic sees
 * identical index draws), which halves the cost of drawing and lets intervals
 * of different predictors on one seed be compared like for like. Each entry
 * equals bootstrapCI(n, fn, opts) for the same seed.
 */
export function bootstrapMany<K extends string>(
  n: number,
  stats: Record<K, (indices: Int32Array) => number | null>,
  { reps = 1000, seed, alpha = 0.05 }: BootstrapOptions,
): Record<K, Interval> {
  const keys = Object.keys(stats) as K[];
  const all = new Int32Array(n);
  for (let i = 0; i < n; i++) all[i] = i;
  const est = new Map<K, number | null>();
  const draws = new Map<K, number[]>();
  for (const k of keys) {
    const e = n === 0 ? null : stats[k](all);
    est.set(k, e !== null && Number.isFinite(e) ? e : null);
    draws.set(k, []);
  }
  const rng = mulberry32(seed);
  const idx = new Int32Array(n);
  for (let r = 0; r < reps && n > 0; r++) {
    for (let i = 0; i < n; i++) idx[i] = Math.floor(rng() * n);
    for (const k of keys) {
      if (est.get(k) === null) continue;
      const v = stats[k](idx);
      if (v !== null && Number.isFinite(v)) draws.get(k)!.push(v);
    }
  }
  const out = {} as Record<K, Interval>;
  for (const k of keys) {
    const e = est.get(k)!;
    const v = draws.get(k)!.sort((a, b) => a - b);
    out[k] = e === null ? { estimate: null, lo: null, hi: null } : v.length < reps / 2 ? { estimate: e, lo: null, hi: null } : { estimate: e, lo: quantileSorted(v, alpha / 2), hi: quantileSorted(v, 1 - alpha / 2) };
  }
  return out;
}
