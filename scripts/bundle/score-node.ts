/**
 * Scores prompts with an exported student through onnxruntime-node: the
 * pipeline's implementation of core's RunModel port, driven by the same core
 * scoring path as the worker (src/core/scoring.ts), so golden files compare
 * like with like. Must not calibrate or decide.
 */
import type { FeaturizerSpec } from "../../src/core/featurizer.js";
import { scorePrompts, type RunModel, type ScoredPrompt } from "../../src/core/scoring.js";
import { loadSession, runSession, type Session } from "../lib/ort-node.js";

export interface NodeScorer {
  score(texts: string[]): Promise<ScoredPrompt[]>;
}

/** core's RunModel over an onnxruntime-node session with the bundle's tensor names. */
export function nodeRunModel(session: Session, io: { ids: string; mask: string; dense: string; output: string }): RunModel {
  return async (b) => {
    const out = await runSession(session, {
      [io.ids]: { type: "int64", data: b.ids, dims: [b.batch, b.length] },
      [io.mask]: { type: "float32", data: b.mask, dims: [b.batch, b.length] },
      [io.dense]: { type: "float32", data: b.dense, dims: [b.batch, b.denseWidth] },
    });
    return out[io.output].data;
  };
}

export async function nodeScorer(onnx: Uint8Array, spec: FeaturizerSpec, io: { ids: string; mask: string; dense: string; output: string }): Promise<NodeScorer> {
  const run = nodeRunModel(await loadSession(onnx), io);
  return { score: (texts) => scorePrompts(run, spec, texts) };
}
