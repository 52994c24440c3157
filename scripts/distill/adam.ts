/**
 * Adam / AdamW for the bag student with lazy sparse embedding updates: only
 * embedding rows touched by the current mini-batch have their moments and
 * values updated (the "LazyAdam" rule), so a step costs O(touched · D) rather
 * than O(V · D). Dense layers get ordinary Adam. Weight decay is decoupled
 * (AdamW) and applies to emb / w1 / w2, never to biases; on the embedding it is
 * applied lazily, to touched rows only. Pure maths: no clock, no I/O.
 */
import type { Grads, Params } from "./network.js";

export interface AdamConfig {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
}

interface Moments {
  m: Float64Array;
  v: Float64Array;
}

const moments = (n: number): Moments => ({ m: new Float64Array(n), v: new Float64Array(n) });

export class Adam {
  private t = 0;
  private readonly emb: Moments;
  private readonly w1: Moments;
  private readonly b1: Moments;
  private readonly w2: Moments;
  private readonly b2: Moments;

  constructor(
    p: Params,
    readonly cfg: AdamConfig,
  ) {
    this.emb = moments(p.emb.length);
    this.w1 = moments(p.w1.length);
    this.b1 = moments(p.b1.length);
    this.w2 = moments(p.w2.length);
    this.b2 = moments(p.b2.length);
  }

  get steps(): number {
    return this.t;
  }

  /** One update of p from g; lrScale multiplies the base learning rate (schedules). */
  step(p: Params, g: Grads, lrScale = 1): void {
    this.t++;
    const { beta1, beta2 } = this.cfg;
    const lr = this.cfg.lr * lrScale;
    const c1 = 1 - beta1 ** this.t;
    const c2 = 1 - beta2 ** this.t;
    const wd = this.cfg.weightDecay;
    this.update(p.w1, g.w1, this.w1, 0, p.w1.length, lr, c1, c2, wd);
    this.update(p.b1, g.b1, this.b1, 0, p.b1.length, lr, c1, c2, 0);
    this.update(p.w2, g.w2, this.w2, 0, p.w2.length, lr, c1, c2, wd);
    this.update(p.b2, g.b2, this.b2, 0, p.b2.length, lr, c1, c2, 0);
    const D = p.shape.dim;
    for (const r of g.touched) this.update(p.emb, g.emb, this.emb, r * D, (r + 1) * D, lr, c1, c2, wd);
  }

  private update(
    w: Float64Array,
    g: Float64Array,
    mo: Moments,
    from: number,
    to: number,
    lr: number,
    c1: number,
    c2: number,
    wd: number,
  ): void {
    const { beta1, beta2, eps } = this.cfg;
    const { m, v } = mo;
    for (let i = from; i < to; i++) {
      const gi = g[i];
      m[i] = beta1 * m[i] + (1 - beta1) * gi;
      v[i] = beta2 * v[i] + (1 - beta2) * gi * gi;
      const upd = m[i] / c1 / (Math.sqrt(v[i] / c2) + eps);
      w[i] -= lr * (upd + wd * w[i]);
    }
  }
}
