/**
 * Scores prompts with an exported student through onnxruntime-node, using the
 * same core featurizer and batch packer as the worker's scorer, so golden
 * files compare like with like. Must not calibrate or decide.
 */
import { packBatch } from "../../src/core/batch.js";
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
      const b = packBatch(feats, DENSE_FEATURES);
      const out = await runSession(session, {
        [io.ids]: { type: "int64", data: b.ids, dims: [b.batch, b.length] },
        [io.mask]: { type: "float32", data: b.mask, dims: [b.batch, b.length] },
        [io.dense]: { type: "float32", data: b.dense, dims: [b.batch, b.denseWidth] },
      });
      const logits = out[io.output].data;
      const M = logits.length / b.batch;
      return feats.map((features, i) => ({ features, logits: logits.slice(i * M, (i + 1) * M) }));
    },
  };
}
