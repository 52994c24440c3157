/**
 * L2-regularised logistic regression on any LinearOperator:
 *   minimise (1/W)·Σ ω_k·[softplus(z_k) − y_k·z_k] + (λ/2)·‖w‖²,  z = A·w + b,
 * with an unpenalised intercept b, targets y ∈ [0, 1] (soft labels work) and
 * optional row weights ω ≥ 0 (W = Σ ω; all 1, and W = n, when none are given).
 * L-BFGS with an exact line search done on cached margins: along a direction
 * p only q = A·p is needed, so each iteration costs one forward and one
 * adjoint product, and the 1-D search is O(rows). Warm starts (init) make a λ
 * path cheap. Deterministic; no randomness, no I/O.
 */
import { LbfgsMemory, dot, maxAbs } from "./lbfgs.js";
import type { LinearOperator } from "./operator.js";

export interface FitOptions {
  lambda: number;
  /**
   * Warm start. A previous fit on the same rows may also pass its margins and
   * data-term gradient, which saves the two matrix products of the first step.
   */
  init?: { w: Float64Array; b: number; margins?: Float64Array; dataGrad?: Float64Array };
  /** Stop when max |gradient| ≤ gtol (objective is a mean, so this is scale-free in rows). */
  gtol?: number;
  maxIter?: number;
  /** Row weights ω ≥ 0 (default all 1): the loss is the ω-weighted mean, so λ keeps its meaning per unit of weight. */
  weights?: ArrayLike<number>;
}

export interface LinearFit {
  w: Float64Array;
  b: number;
  iterations: number;
  converged: boolean;
  objective: number;
  gradMax: number;
  /** A·w + b on the training rows, kept so callers need no extra product. */
  margins: Float64Array;
  /** Gradient of the data term alone (no penalty) w.r.t. [w; b] at the solution. */
  dataGrad: Float64Array;
}

export function softplus(z: number): number {
  return z > 0 ? z + Math.log1p(Math.exp(-z)) : Math.log1p(Math.exp(z));
}

export function sigmoid(z: number): number {
  if (z >= 0) return 1 / (1 + Math.exp(-z));
  const e = Math.exp(z);
  return e / (1 + e);
}

export function meanOf(y: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < y.length; i++) s += y[i];
  return y.length === 0 ? 0 : s / y.length;
}

/**
 * Starting point [w; b] and margins z = A·w + b shared by both solvers: the
 * warm start when given (reusing its margins when they fit), else w = 0 with
 * the intercept-only optimum the caller passes.
 */
export function startingPoint(op: LinearOperator, init: FitOptions["init"], intercept: () => number): { x: Float64Array; z: Float64Array } {
  const d = op.cols;
  const n = op.rows;
  const x = new Float64Array(d + 1); // [w; b]
  const z = new Float64Array(n);
  if (init) {
    x.set(init.w);
    x[d] = init.b;
    if (init.margins?.length === n) z.set(init.margins);
    else {
      op.forward(x.subarray(0, d), z);
      for (let k = 0; k < n; k++) z[k] += x[d];
    }
  } else {
    x[d] = intercept();
    z.fill(x[d]);
  }
  return { x, z };
}

/** Weighted mean logistic loss and its weighted residual ω·(σ(z) − y) (written into r); om null means all weights 1. */
function lossAndResidual(z: Float64Array, y: ArrayLike<number>, r: Float64Array, om: ArrayLike<number> | null, W: number): number {
  let s = 0;
  for (let k = 0; k < z.length; k++) {
    const w = om ? om[k] : 1;
    s += w * (softplus(z[k]) - y[k] * z[k]);
    r[k] = w * (sigmoid(z[k]) - y[k]);
  }
  return s / W;
}

/** The weights' sum, after checking them (finite, ≥ 0, one per row, not all 0). */
function weightTotal(om: ArrayLike<number>, n: number): number {
  if (om.length !== n) throw new Error("fitLogistic: weight length mismatch");
  let W = 0;
  for (let k = 0; k < n; k++) {
    if (!(om[k] >= 0) || !Number.isFinite(om[k])) throw new Error(`fitLogistic: weight ${k} is ${om[k]}, not a finite number ≥ 0`);
    W += om[k];
  }
  if (!(W > 0)) throw new Error("fitLogistic: the weights sum to 0");
  return W;
}

/** ω-weighted mean of y. */
function weightedMean(y: ArrayLike<number>, om: ArrayLike<number> | null, W: number): number {
  if (!om) return meanOf(y);
  let s = 0;
  for (let k = 0; k < y.length; k++) s += om[k] * y[k];
  return s / W;
}

export function fitLogistic(op: LinearOperator, y: ArrayLike<number>, opts: FitOptions): LinearFit {
  const n = op.rows;
  const d = op.cols;
  if (y.length !== n) throw new Error("fitLogistic: label length mismatch");
  if (n === 0) throw new Error("fitLogistic: no rows");
  const { lambda, gtol = 1e-6, maxIter = 500 } = opts;
  const om = opts.weights ?? null;
  const W = om ? weightTotal(om, n) : n;
  // Intercept-only optimum: w = 0 is then a good start.
  const { x, z } = startingPoint(op, opts.init, () => {
    const p = Math.min(1 - 1e-6, Math.max(1e-6, weightedMean(y, om, W)));
    return Math.log(p / (1 - p));
  });
  const r = new Float64Array(n);
  const q = new Float64Array(n);
  const g = new Float64Array(d + 1);
  const gradient = (cached?: Float64Array): number => {
    const f = lossAndResidual(z, y, r, om, W);
    let ww = 0;
    if (cached) {
      for (let j = 0; j < d; j++) {
        g[j] = cached[j] + lambda * x[j];
        ww += x[j] * x[j];
      }
      g[d] = cached[d];
      return f + 0.5 * lambda * ww;
    }
    op.adjoint(r, g);
    let rs = 0;
    for (let j = 0; j < d; j++) {
      g[j] = g[j] / W + lambda * x[j];
      ww += x[j] * x[j];
    }
    for (let k = 0; k < n; k++) rs += r[k];
    g[d] = rs / W;
    return f + 0.5 * lambda * ww;
  };
  const cached = opts.init?.margins?.length === n && opts.init.dataGrad?.length === d + 1 ? opts.init.dataGrad : undefined;
  let f = gradient(cached);
  const mem = new LbfgsMemory(10);
  let iter = 0;
  let converged = maxAbs(g) <= gtol;
  while (!converged && iter < maxIter) {
    iter++;
    const p = mem.direction(g);
    let gp = dot(g, p);
    if (!(gp < 0)) {
      // Lost descent (numerical noise): restart from steepest descent.
      for (let j = 0; j <= d; j++) p[j] = -g[j];
      gp = dot(g, p);
    }
    op.forward(p.subarray(0, d), q);
    for (let k = 0; k < n; k++) q[k] += p[d];
    let wp = 0;
    let pp = 0;
    for (let j = 0; j < d; j++) {
      wp += x[j] * p[j];
      pp += p[j] * p[j];
    }
    const t = lineSearch(z, q, y, lambda, wp, pp, gp, om, W);
    if (t === 0) break; // no progress possible along a descent direction: at numerical optimum
    const s = new Float64Array(d + 1);
    for (let j = 0; j <= d; j++) {
      s[j] = t * p[j];
      x[j] += s[j];
    }
    for (let k = 0; k < n; k++) z[k] += t * q[k];
    const gOld = Float64Array.from(g);
    const fOld = f;
    f = gradient();
    const yv = new Float64Array(d + 1);
    for (let j = 0; j <= d; j++) yv[j] = g[j] - gOld[j];
    mem.push(s, yv);
    converged = maxAbs(g) <= gtol;
    if (!converged && Math.abs(fOld - f) <= 1e-14 * Math.max(1, Math.abs(f))) break;
  }
  const dataGrad = Float64Array.from(g);
  for (let j = 0; j < d; j++) dataGrad[j] -= lambda * x[j];
  return { w: x.slice(0, d), b: x[d], iterations: iter, converged, objective: f, gradMax: maxAbs(g), margins: z, dataGrad };
}

/**
 * Minimise φ(t) = mean ℓ(z + t·q) + (λ/2)‖w + t·p‖² by safeguarded Newton on
 * φ'(t), which is monotone because φ is convex. Stops at |φ'(t)| ≤ 0.1·|φ'(0)|
 * with φ(t) < φ(0) (a strong-Wolfe point), so L-BFGS pairs keep sᵀy > 0.
 */
function lineSearch(
  z: Float64Array,
  q: Float64Array,
  y: ArrayLike<number>,
  lambda: number,
  wp: number,
  pp: number,
  d0: number,
  om: ArrayLike<number> | null,
  W: number,
): number {
  const n = z.length;
  const phi = (t: number): [number, number, number] => {
    let v = 0;
    let d1 = 0;
    let d2 = 0;
    for (let k = 0; k < n; k++) {
      const m = z[k] + t * q[k];
      const s = sigmoid(m);
      const w = om ? om[k] : 1;
      v += w * (softplus(m) - y[k] * m);
      d1 += w * (s - y[k]) * q[k];
      d2 += w * s * (1 - s) * q[k] * q[k];
    }
    return [v / W + lambda * (t * wp + 0.5 * t * t * pp), d1 / W + lambda * (wp + t * pp), d2 / W + lambda * pp];
  };
  const [v0] = phi(0);
  let lo = 0;
  let hi = Infinity;
  let t = 1;
  for (let it = 0; it < 50; it++) {
    const [v, d1, d2] = phi(t);
    if (Math.abs(d1) <= 0.1 * Math.abs(d0) && v < v0) return t;
    if (d1 > 0) hi = t;
    else lo = t;
    let next = d2 > 0 ? t - d1 / d2 : NaN;
    if (!(next > lo && next < hi)) next = hi === Infinity ? 2 * t : 0.5 * (lo + hi);
    t = next;
  }
  return lo; // best bracketed point that still decreases φ
}
