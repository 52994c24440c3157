/**
 * Training loop for the tiny-transformer comparison student: seeded init,
 * dense-feature standardisation (folded into w1/b1 by transformer-export.ts),
 * mini-batch Adam over all parameters, early stopping on validation loss with
 * best-weight restore. Same loss as the bag trainer. Deterministic per seed;
 * the clock is read only for throughput. No I/O beyond the log callback.
 */
import { gaussian, mulberry32, permutation } from "../../src/core/random.js";
import { countTargets, type Standardizer } from "./network.js";
import { fitStandardizer, logit } from "./params.js";
import { TF_KEYS, type TfExample, type TfParams, type TfShape, tfBackward, tfForward, tfZeros } from "./transformer.js";

export interface TfTrainConfig {
  seed: number;
  alpha: number;
  lr: number;
  batchSize: number;
  maxEpochs: number;
  patience: number;
}

export interface TfTrainResult {
  params: TfParams;
  std: Standardizer;
  bestEpoch: number;
  bestValLoss: number;
  promptsPerSec: number;
  epochs: number;
}

function init(shape: TfShape, seed: number, train: TfExample[]): TfParams {
  const rng = mulberry32(seed);
  const p = tfZeros(shape);
  const fill = (a: Float64Array, s: number) => {
    for (let i = 0; i < a.length; i++) a[i] = gaussian(rng) * s;
  };
  const d = shape.dim;
  fill(p.tok, 0.1);
  fill(p.pos, 0.02);
  for (const k of ["wq", "wk", "wv", "wo"] as const) fill(p[k], 1 / Math.sqrt(d));
  fill(p.w1, Math.sqrt(2 / (d + shape.dense)));
  fill(p.w2, 0.1 / Math.sqrt(shape.hidden));
  for (let m = 0; m < shape.outputs; m++) {
    let s = 0;
    let n = 0;
    for (const ex of train) {
      const y = ex.label ? ex.label[m] : NaN;
      if (!Number.isNaN(y)) {
        s += y;
        n++;
      }
    }
    p.b2[m] = n > 0 ? logit(s / n) : 0;
  }
  return p;
}

const standardise = (set: TfExample[], s: Standardizer): TfExample[] =>
  set.map((ex) => ({ ...ex, dense: Float32Array.from(ex.dense, (v, f) => (v - s.mean[f]) / s.std[f]) }));

function setLoss(p: TfParams, set: TfExample[], alpha: number): number {
  const idx = Int32Array.from(set.keys());
  const { nT, nL } = countTargets(set, idx);
  let sq = 0;
  let bce = 0;
  const g = tfZeros(p.shape); // gradients discarded
  for (const ex of set) {
    const [a, b] = tfBackward(p, ex, g, 0, 0);
    sq += a;
    bce += b;
  }
  return (nT ? (alpha * sq) / nT : 0) + (nL ? ((1 - alpha) * bce) / nL : 0);
}

export function trainTransformer(
  shape: TfShape,
  trainRaw: TfExample[],
  valRaw: TfExample[],
  cfg: TfTrainConfig,
  log: (line: string) => void = () => {},
): TfTrainResult {
  const std = fitStandardizer(trainRaw, shape.dense);
  const train = standardise(trainRaw, std);
  const val = standardise(valRaw, std);
  const p = init(shape, cfg.seed, train);
  const rng = mulberry32(cfg.seed ^ 0x5bd1e995);
  const g = tfZeros(shape);
  const m1 = tfZeros(shape);
  const m2 = tfZeros(shape);
  let best = tfZeros(shape);
  for (const k of TF_KEYS) best[k].set(p[k]);
  let bestVal = Infinity;
  let bestEpoch = 0;
  let bad = 0;
  let step = 0;
  let ms = 0;
  let seen = 0;
  let epoch = 0;
  for (epoch = 1; epoch <= cfg.maxEpochs; epoch++) {
    const t0 = performance.now();
    const order = permutation(train.length, rng);
    for (let from = 0; from < train.length; from += cfg.batchSize) {
      const to = Math.min(from + cfg.batchSize, train.length);
      const { nT, nL } = countTargets(train, order, from, to);
      const cT = nT ? (2 * cfg.alpha) / nT : 0;
      const cL = nL ? (1 - cfg.alpha) / nL : 0;
      for (const k of TF_KEYS) g[k].fill(0);
      for (let i = from; i < to; i++) tfBackward(p, train[order[i]], g, cT, cL);
      step++;
      const c1 = 1 - 0.9 ** step;
      const c2 = 1 - 0.999 ** step;
      for (const k of TF_KEYS) {
        const w = p[k];
        const gk = g[k];
        const a = m1[k];
        const b = m2[k];
        for (let i = 0; i < w.length; i++) {
          a[i] = 0.9 * a[i] + 0.1 * gk[i];
          b[i] = 0.999 * b[i] + 0.001 * gk[i] * gk[i];
          w[i] -= (cfg.lr * (a[i] / c1)) / (Math.sqrt(b[i] / c2) + 1e-8);
        }
      }
      seen += to - from;
    }
    ms += performance.now() - t0;
    const vl = setLoss(p, val.length ? val : train, cfg.alpha);
    log(`transformer epoch ${epoch}: val ${vl.toFixed(5)} ${Math.round((seen / ms) * 1000)} prompts/s`);
    if (vl < bestVal - 1e-4) {
      bestVal = vl;
      bestEpoch = epoch;
      bad = 0;
      for (const k of TF_KEYS) best[k].set(p[k]);
    } else if (++bad >= cfg.patience) break;
  }
  best = { ...best, shape };
  return { params: best, std, bestEpoch, bestValLoss: bestVal, promptsPerSec: (seen / ms) * 1000, epochs: Math.min(epoch, cfg.maxEpochs) };
}

/** Logits of one (raw-dense) example under trained params, standardising on the fly. */
export function tfPredict(p: TfParams, std: Standardizer, ex: TfExample): Float64Array {
  const dense = Float32Array.from(ex.dense, (v, f) => (v - std.mean[f]) / std.std[f]);
  return tfForward(p, { ids: ex.ids, dense }).z;
}
