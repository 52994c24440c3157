/**
 * Scores prompts with a loaded bundle: featurize and pack (shared core, the
 * same code the pipeline's golden scorer uses), run the ORT engine, return
 * raw logits per prompt. Must not apply calibration or policy (core does that).
 */
import { packBatch } from "../core/batch.js";
import { DENSE_FEATURES, featurize, type Features } from "../core/featurizer.js";
import type { LoadedBundle } from "./bundle-loader.js";

export interface Scored {
  features: Features;
  logits: Float32Array;
}

export async function scoreTexts(bundle: LoadedBundle, texts: string[]): Promise<Scored[]> {
  const feats = texts.map((t) => featurize(t, bundle.manifest.featurizer));
  const b = packBatch(feats, DENSE_FEATURES);
  const out = await bundle.engine.run(b.ids, b.mask, b.dense, b.batch, b.length, b.denseWidth);
  const M = out.length / b.batch;
  return feats.map((features, i) => ({ features, logits: out.slice(i * M, (i + 1) * M) }));
}
