/**
 * The one scoring path, shared by the worker and the pipeline: prompt text →
 * feature ids (featurizer) → the student graph's input tensors (packBatch) →
 * a model run → raw logits per prompt → calibrated P(success) per model.
 * The run itself is a port (`RunModel`): onnxruntime-web implements it in the
 * worker (src/infer/ort-engine.ts), onnxruntime-node in the pipeline
 * (scripts/bundle/score-node.ts). Pure apart from awaiting that port; must
 * not import a runtime, read a clock or know about HTTP.
 */
import { packBatch, type PackedBatch } from "./batch.js";
import { calibrate, type Calibration } from "./calibration.js";
import { DENSE_FEATURES, featurize, type Features, type FeaturizerSpec } from "./featurizer.js";

/** Runs the student graph on one packed batch; returns logits [batch × outputs], row-major. */
export type RunModel = (batch: PackedBatch) => Promise<Float32Array>;

export interface ScoredPrompt {
  features: Features;
  /** Raw student logits, one per graph output (the manifest's `outputs[].index`). */
  logits: Float32Array;
}

/** Featurizes `texts`, packs them into one batch, runs it and slices the logits per prompt. */
export async function scorePrompts(run: RunModel, spec: FeaturizerSpec, texts: string[]): Promise<ScoredPrompt[]> {
  const feats = texts.map((t) => featurize(t, spec));
  const b = packBatch(feats, DENSE_FEATURES);
  const out = await run(b);
  if (out.length % b.batch !== 0) throw new Error(`model returned ${out.length} logits for a batch of ${b.batch}`);
  const M = out.length / b.batch;
  return feats.map((features, i) => ({ features, logits: out.slice(i * M, (i + 1) * M) }));
}

/** One model's calibrated P(success): its column of the logits through its calibration map. */
export function modelP(logits: ArrayLike<number>, outputIndex: number, calibration: Calibration): number {
  const z = logits[outputIndex];
  if (z === undefined) throw new Error(`no student output at index ${outputIndex}`);
  return calibrate(z, calibration);
}

/** What `calibratedP` needs of a manifest: which column is which model, and each model's map. */
export interface CalibratedOutputs {
  outputs: { model: string; index: number }[];
  calibration: Record<string, Calibration>;
}

/** Calibrated P(success) of every model of a bundle, keyed by model id. */
export function calibratedP(logits: ArrayLike<number>, m: CalibratedOutputs): Record<string, number> {
  const p: Record<string, number> = {};
  for (const o of m.outputs) {
    const c = m.calibration[o.model];
    if (c === undefined) throw new Error(`no calibration for ${o.model}`);
    p[o.model] = modelP(logits, o.index, c);
  }
  return p;
}
