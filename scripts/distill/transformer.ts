/**
 * Tiny-transformer comparison student (docs/student.md): subword ids →
 * token + learned position embeddings → one single-head self-attention block
 * with a residual → masked mean pool ⊕ standardised dense features → the same
 * ReLU MLP head as the bag student. Float64 forward/backward for one example
 * (analytic gradients, checked by finite differences in the tests). Pure maths.
 */
import { sigmoid, softplus } from "./network.js";

export interface TfShape {
  vocab: number; // Vt (id 0 = [UNK])
  maxLen: number; // P, position table rows
  dim: number; // d
  dense: number; // F
  hidden: number; // H
  outputs: number; // M
}

export const TF_KEYS = ["tok", "pos", "wq", "wk", "wv", "wo", "w1", "b1", "w2", "b2"] as const;
export type TfKey = (typeof TF_KEYS)[number];
export type TfParams = { shape: TfShape } & Record<TfKey, Float64Array>;

export function tfSizes(s: TfShape): Record<TfKey, number> {
  const d = s.dim;
  return { tok: s.vocab * d, pos: s.maxLen * d, wq: d * d, wk: d * d, wv: d * d, wo: d * d, w1: (d + s.dense) * s.hidden, b1: s.hidden, w2: s.hidden * s.outputs, b2: s.outputs };
}

export function tfZeros(shape: TfShape): TfParams {
  const sz = tfSizes(shape);
  const p = { shape } as TfParams;
  for (const k of TF_KEYS) p[k] = new Float64Array(sz[k]);
  return p;
}

export interface TfExample {
  ids: Int32Array; // subword ids, length ≤ maxLen
  dense: Float32Array; // already standardised by the caller
  teacher?: Float32Array;
  label?: Float32Array;
}

/** y[r×n] += x[r×m] · W[m×n] (row-major). */
function matmulAdd(x: Float64Array, W: Float64Array, y: Float64Array, r: number, m: number, n: number): void {
  for (let t = 0; t < r; t++) {
    for (let i = 0; i < m; i++) {
      const xi = x[t * m + i];
      if (xi === 0) continue;
      for (let j = 0; j < n; j++) y[t * n + j] += xi * W[i * n + j];
    }
  }
}

interface Cache {
  L: number;
  X: Float64Array;
  Q: Float64Array;
  K: Float64Array;
  V: Float64Array;
  A: Float64Array;
  O: Float64Array;
  x: Float64Array; // pooled ⊕ dense
  pre: Float64Array;
  h: Float64Array;
  z: Float64Array;
}

export function tfForward(p: TfParams, ex: TfExample): Cache {
  const { dim: d, dense: F, hidden: H, outputs: M } = p.shape;
  const L = ex.ids.length;
  const X = new Float64Array(L * d);
  for (let t = 0; t < L; t++) for (let j = 0; j < d; j++) X[t * d + j] = p.tok[ex.ids[t] * d + j] + p.pos[t * d + j];
  const Q = new Float64Array(L * d);
  const K = new Float64Array(L * d);
  const V = new Float64Array(L * d);
  matmulAdd(X, p.wq, Q, L, d, d);
  matmulAdd(X, p.wk, K, L, d, d);
  matmulAdd(X, p.wv, V, L, d, d);
  const A = new Float64Array(L * L);
  const sc = 1 / Math.sqrt(d);
  for (let t = 0; t < L; t++) {
    let mx = -Infinity;
    for (let u = 0; u < L; u++) {
      let s = 0;
      for (let j = 0; j < d; j++) s += Q[t * d + j] * K[u * d + j];
      A[t * L + u] = s * sc;
      mx = Math.max(mx, s * sc);
    }
    let sum = 0;
    for (let u = 0; u < L; u++) sum += A[t * L + u] = Math.exp(A[t * L + u] - mx);
    for (let u = 0; u < L; u++) A[t * L + u] /= sum;
  }
  const O = new Float64Array(L * d);
  matmulAdd(A, V, O, L, L, d);
  const Y = X.slice();
  matmulAdd(O, p.wo, Y, L, d, d);
  const x = new Float64Array(d + F);
  if (L > 0) for (let t = 0; t < L; t++) for (let j = 0; j < d; j++) x[j] += Y[t * d + j] / L;
  for (let f = 0; f < F; f++) x[d + f] = ex.dense[f];
  const pre = p.b1.slice();
  matmulAdd(x, p.w1, pre, 1, d + F, H);
  const h = pre.map((v) => (v > 0 ? v : 0));
  const z = p.b2.slice();
  matmulAdd(h, p.w2, z, 1, H, M);
  return { L, X, Q, K, V, A, O, x, pre, h, z };
}

/** Adds this example's loss gradient (weights cT, cL as in network.ts) into g; returns [sq, bce]. */
export function tfBackward(p: TfParams, ex: TfExample, g: TfParams, cT: number, cL: number): [number, number] {
  const { dim: d, dense: F, hidden: H, outputs: M } = p.shape;
  const c = tfForward(p, ex);
  const { L, X, Q, K, V, A, O, x, pre, h, z } = c;
  const dz = new Float64Array(M);
  let sq = 0;
  let bce = 0;
  for (let m = 0; m < M; m++) {
    const t = ex.teacher ? ex.teacher[m] : NaN;
    if (!Number.isNaN(t)) {
      sq += (z[m] - t) ** 2;
      dz[m] += cT * (z[m] - t);
    }
    const y = ex.label ? ex.label[m] : NaN;
    if (!Number.isNaN(y)) {
      bce += softplus(z[m]) - y * z[m];
      dz[m] += cL * (sigmoid(z[m]) - y);
    }
  }
  const dpre = new Float64Array(H);
  for (let j = 0; j < H; j++) {
    let acc = 0;
    for (let m = 0; m < M; m++) {
      g.w2[j * M + m] += h[j] * dz[m];
      acc += p.w2[j * M + m] * dz[m];
    }
    dpre[j] = pre[j] > 0 ? acc : 0;
  }
  for (let m = 0; m < M; m++) g.b2[m] += dz[m];
  for (let j = 0; j < H; j++) g.b1[j] += dpre[j];
  for (let i = 0; i < d + F; i++) for (let j = 0; j < H; j++) g.w1[i * H + j] += x[i] * dpre[j];
  if (L === 0) return [sq, bce];
  const dy = new Float64Array(d); // dY[t] is the same for every t (mean pool)
  for (let i = 0; i < d; i++) {
    let acc = 0;
    for (let j = 0; j < H; j++) acc += p.w1[i * H + j] * dpre[j];
    dy[i] = acc / L;
  }
  const dO = new Float64Array(L * d);
  const dOrow = new Float64Array(d);
  for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) dOrow[i] += p.wo[i * d + j] * dy[j];
  for (let t = 0; t < L; t++) {
    for (let i = 0; i < d; i++) {
      dO[t * d + i] = dOrow[i];
      for (let j = 0; j < d; j++) g.wo[i * d + j] += O[t * d + i] * dy[j];
    }
  }
  const dQ = new Float64Array(L * d);
  const dK = new Float64Array(L * d);
  const dV = new Float64Array(L * d);
  const sc = 1 / Math.sqrt(d);
  const dA = new Float64Array(L);
  for (let t = 0; t < L; t++) {
    let dot = 0;
    for (let u = 0; u < L; u++) {
      let s = 0;
      for (let j = 0; j < d; j++) s += dO[t * d + j] * V[u * d + j];
      dA[u] = s;
      dot += A[t * L + u] * s;
      const a = A[t * L + u];
      for (let j = 0; j < d; j++) dV[u * d + j] += a * dO[t * d + j];
    }
    for (let u = 0; u < L; u++) {
      const ds = A[t * L + u] * (dA[u] - dot) * sc;
      if (ds === 0) continue;
      for (let j = 0; j < d; j++) {
        dQ[t * d + j] += ds * K[u * d + j];
        dK[u * d + j] += ds * Q[t * d + j];
      }
    }
  }
  const dX = new Float64Array(L * d);
  for (let t = 0; t < L; t++) for (let j = 0; j < d; j++) dX[t * d + j] = dy[j];
  for (const [W, gW, dP] of [[p.wq, g.wq, dQ], [p.wk, g.wk, dK], [p.wv, g.wv, dV]] as const) {
    for (let t = 0; t < L; t++) {
      for (let i = 0; i < d; i++) {
        const xi = X[t * d + i];
        let acc = 0;
        for (let j = 0; j < d; j++) {
          gW[i * d + j] += xi * dP[t * d + j];
          acc += W[i * d + j] * dP[t * d + j];
        }
        dX[t * d + i] += acc;
      }
    }
  }
  for (let t = 0; t < L; t++) {
    const id = ex.ids[t];
    for (let j = 0; j < d; j++) {
      g.tok[id * d + j] += dX[t * d + j];
      g.pos[t * d + j] += dX[t * d + j];
    }
  }
  return [sq, bce];
}
