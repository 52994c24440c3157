/**
 * Scores prompts with a loaded bundle: featurize (shared core), pad into one
 * batch, run the ORT engine, return raw logits per prompt. Must not apply
 * calibration or policy (core does that).
 */
import { DENSE_FEATURES, featurize, type Features } from "../core/featurizer.js";
import type { LoadedBundle } from "./bundle-loader.js";

export interface Scored {
  features: Features;
  logits: Float32Array;
}

export async function scoreTexts(bundle: LoadedBundle, texts: string[]): Promise<Scored[]> {
  const feats = texts.map((t) => featurize(t, bundle.manifest.featurizer));
  // An empty prompt still needs one position: id 0 with mask 0 pools to zeros.
  const length = Math.max(1, ...feats.map((f) => f.ids.length));
  const B = feats.length;
  const ids = new BigInt64Array(B * length);
  const mask = new Float32Array(B * length);
  const dense = new Float32Array(B * DENSE_FEATURES);
  feats.forEach((f, b) => {
    for (let t = 0; t < f.ids.length; t++) {
      ids[b * length + t] = BigInt(f.ids[t]);
      mask[b * length + t] = 1;
    }
    dense.set(f.dense, b * DENSE_FEATURES);
  });
  const out = await bundle.engine.run(ids, mask, dense, B, length, DENSE_FEATURES);
  const M = out.length / B;
  return feats.map((features, b) => ({ features, logits: out.slice(b * M, (b + 1) * M) }));
}
