/**
 * Scores prompts with an exported student through onnxruntime-node, using the
 * same core featurizer and the same batch layout as the worker's scorer, so
 * golden files compare like with like. Must not calibrate or decide.
 */
import { DENSE_FEATURES, featurize, type FeaturizerSpec, type Features } from "../../src/core/featurizer.js";
import { loadSession, runSession, type Session } from "../lib/ort-node.js";

export interface NodeScorer {
  score(texts: string[]): Promise<{ features: Features; logits: Float32Array }[]>;
}

export async function nodeScorer(onnx: Uint8Array, spec: FeaturizerSpec, io: { ids: string; mask: string; dense: string; output: string }): Promise<NodeScorer> {
  const session: Session = await loadSession(onnx);
  return {
    async score(texts) {
      const feats = texts.map((t) => featurize(t, spec));
      const L = Math.max(1, ...feats.map((f) => f.ids.length));
      const B = feats.length;
      const ids = new BigInt64Array(B * L);
      const mask = new Float32Array(B * L);
      const dense = new Float32Array(B * DENSE_FEATURES);
      feats.forEach((f, b) => {
        for (let t = 0; t < f.ids.length; t++) {
          ids[b * L + t] = BigInt(f.ids[t]);
          mask[b * L + t] = 1;
        }
        dense.set(f.dense, b * DENSE_FEATURES);
      });
      const out = await runSession(session, {
        [io.ids]: { type: "int64", data: ids, dims: [B, L] },
        [io.mask]: { type: "float32", data: mask, dims: [B, L] },
        [io.dense]: { type: "float32", data: dense, dims: [B, DENSE_FEATURES] },
      });
      const logits = out[io.output].data;
      const M = logits.length / B;
      return feats.map((features, b) => ({ features, logits: logits.slice(b * M, (b + 1) * M) }));
    },
  };
}
