/**
 * A new model's per-task success logits by empirical Bayes (add-model's
 * "rate" block, scripts/stages/new-head.ts). With 100 outcomes over 14 tasks a
 * task has about 7, so its observed rate is noisy; the pool's existing models
 * know each task's difficulty well (the task prior's table R). Each task's
 * observed logit is shrunk toward a + b·r̄_t, where r̄_t is the existing
 * models' mean logit on task t and a, b (the new model's ability and how it
 * tracks the pool's difficulty) are fitted on the new model's outcomes pooled
 * by task. Counts are soft: a prompt adds its task probabilities p, not a hard
 * task. Pure maths; no I/O. Callers recompute it inside every CV fold: the
 * rates use labels, so a held-out fold must not see its own.
 */

/**
 * Prior variance of a task's logit around a + b·r̄_t (logit units). Chosen on validation (docs/student.md, "The rate
 * block"): 10 beat 1 at every N tried, by +0.64 ± 0.11 points of the full-data lift at N = 100 over 40 paired draws;
 * 3, 30 and 100 were within noise of 10 in the numpy replica. So the shrinkage mostly fills tasks with no or one
 * outcome; where a task has a handful, its own rate wins.
 */
export const RATE_PRIOR_VAR = 10;
/** Weak ridge on b toward 1 (the new model tracks the pool's difficulty one for one unless the data say otherwise). */
const B_RIDGE = 0.1;

/** The existing models' mean logit per task from the prior's table R (row-major T×M). */
export function meanTaskLogits(prior: ArrayLike<number>, T: number, M: number): Float64Array {
  return Float64Array.from({ length: T }, (_, t) => {
    let s = 0;
    for (let m = 0; m < M; m++) s += prior[t * M + m];
    return s / M;
  });
}

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

/** Newton fit of (a, b) in σ(a + b·r̄_t) to soft task counts k_t of n_t, with the ridge on b − 1. */
function fitAbility(k: Float64Array, n: Float64Array, rbar: Float64Array): { a: number; b: number } {
  let a = 0;
  let b = 1;
  for (let it = 0; it < 50; it++) {
    let ga = 0;
    let gb = B_RIDGE * (b - 1);
    let haa = 1e-9;
    let hab = 0;
    let hbb = B_RIDGE;
    for (let t = 0; t < rbar.length; t++) {
      if (n[t] <= 0) continue;
      const p = sigmoid(a + b * rbar[t]);
      const r = n[t] * p - k[t];
      const w = n[t] * p * (1 - p);
      ga += r;
      gb += r * rbar[t];
      haa += w;
      hab += w * rbar[t];
      hbb += w * rbar[t] * rbar[t];
    }
    const det = haa * hbb - hab * hab;
    if (!(det > 1e-12)) break;
    const da = (hbb * ga - hab * gb) / det;
    const db = (haa * gb - hab * ga) / det;
    a -= da;
    b -= db;
    if (Math.abs(da) + Math.abs(db) < 1e-10) break;
  }
  return { a, b };
}

/**
 * Shrunk per-task logits r̂_t of the rows `rows` (all when null) of p (n×T, task
 * probabilities) and y (success rates in [0, 1]).
 */
export function taskRates(p: Float64Array, y: ArrayLike<number>, rows: ArrayLike<number> | null, rbar: Float64Array, priorVar = RATE_PRIOR_VAR): Float64Array {
  const T = rbar.length;
  const k = new Float64Array(T);
  const n = new Float64Array(T);
  const count = rows ? rows.length : y.length;
  for (let r = 0; r < count; r++) {
    const i = rows ? rows[r] : r;
    for (let t = 0; t < T; t++) {
      n[t] += p[i * T + t];
      k[t] += p[i * T + t] * y[i];
    }
  }
  const { a, b } = fitAbility(k, n, rbar);
  return Float64Array.from({ length: T }, (_, t) => {
    const mu = a + b * rbar[t];
    // Observed logit with a continuity correction, its sampling variance from the n_t outcomes alone (the correction's
    // half-counts are not evidence: a task without outcomes keeps a + b·r̄_t exactly), and the normal-normal posterior mean.
    if (!(n[t] > 1e-9)) return mu;
    const q = (k[t] + 0.5) / (n[t] + 1);
    const lo = Math.log(q / (1 - q));
    const v = 1 / (n[t] * q * (1 - q));
    return mu + (priorVar / (priorVar + v)) * (lo - mu);
  });
}

/** e_i = Σ_t p_it·r̂_t for every row of p (n×T). */
export function rateFeature(p: Float64Array, rates: Float64Array): Float64Array {
  const T = rates.length;
  const n = T === 0 ? 0 : p.length / T;
  return Float64Array.from({ length: n }, (_, i) => {
    let s = 0;
    for (let t = 0; t < T; t++) s += p[i * T + t] * rates[t];
    return s;
  });
}
