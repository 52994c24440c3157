/**
 * Packs featurised prompts into the student graph's padded batch layout:
 * ids int64 [B,L], mask float [B,L] (1 = real id), dense float [B,F], with
 * L = the longest prompt (at least 1). An empty prompt becomes a single id 0
 * with mask 0, which the graph pools to a zero vector, exactly as forward().
 * Pure data layout shared by the worker and the pipeline, so both feed ORT
 * byte-identical tensors; no onnxruntime here (runners pass the arrays on).
 */
export interface PromptFeatures {
  ids: ArrayLike<number>;
  dense: ArrayLike<number>;
}

export interface PackedBatch {
  ids: BigInt64Array;
  mask: Float32Array;
  dense: Float32Array;
  batch: number;
  length: number;
  denseWidth: number;
}

export function packBatch(prompts: PromptFeatures[], denseWidth: number): PackedBatch {
  const B = prompts.length;
  let L = 1;
  for (const p of prompts) L = Math.max(L, p.ids.length);
  const ids = new BigInt64Array(B * L); // padding id 0, masked out
  const mask = new Float32Array(B * L);
  const dense = new Float32Array(B * denseWidth);
  for (const [b, p] of prompts.entries()) {
    if (p.dense.length !== denseWidth) throw new Error(`prompt ${b}: ${p.dense.length} dense features, expected ${denseWidth}`);
    for (let t = 0; t < p.ids.length; t++) {
      ids[b * L + t] = BigInt(p.ids[t]);
      mask[b * L + t] = 1;
    }
    for (let f = 0; f < denseWidth; f++) dense[b * denseWidth + f] = p.dense[f];
  }
  return { ids, mask, dense, batch: B, length: L, denseWidth };
}
