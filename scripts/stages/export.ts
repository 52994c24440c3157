/**
 * Stage 7, export: re-exports a student's weights at another precision
 * (float32 or float16) and reports the fidelity loss (max |Δlogit| over
 * seeded probe inputs) measured with the TypeScript forward pass. The build
 * exports with scripts/onnx/export-student.ts directly at its config's dtype;
 * the CLI shell is scripts/commands/export.ts. Must not touch bundles.
 */
import { DENSE_FEATURES } from "../../src/core/featurizer.js";
import { mulberry32 } from "../../src/core/random.js";
import { forward } from "../../src/core/student.js";
import { weightsFromOnnx } from "../distill/weights-io.js";
import { exportStudent, type WeightDtype } from "../onnx/export-student.js";

export function fidelityLoss(a: Uint8Array, b: Uint8Array, probes = 200, seed = 1): number {
  const wa = weightsFromOnnx(a);
  const wb = weightsFromOnnx(b);
  const rng = mulberry32(seed);
  let worst = 0;
  for (let i = 0; i < probes; i++) {
    const ids = Array.from({ length: 1 + Math.floor(rng() * 200) }, () => Math.floor(rng() * wa.shape.buckets));
    const dense = Array.from({ length: DENSE_FEATURES }, () => rng() * 5);
    const la = forward(wa, ids, dense).logits;
    const lb = forward(wb, ids, dense).logits;
    for (let m = 0; m < la.length; m++) worst = Math.max(worst, Math.abs(la[m] - lb[m]));
  }
  return worst;
}

/** The student in `src` (ONNX bytes) re-exported at `dtype`, with its fidelity loss against the source. */
export function reexport(src: Uint8Array, dtype: WeightDtype): { onnx: Uint8Array; maxAbsLogitDelta: number } {
  const onnx = exportStudent(weightsFromOnnx(src), dtype);
  return { onnx, maxAbsLogitDelta: fidelityLoss(src, onnx) };
}
