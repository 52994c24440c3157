/**
 * `export --in <student.onnx> --out <file> --dtype float16`: re-exports a
 * student's weights at another precision and reports the fidelity loss
 * (max |Δlogit| over probe inputs) measured with the TypeScript forward pass.
 */
import { defineCommand } from "citty";
import { readFileSync, writeFileSync } from "node:fs";
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

export default defineCommand({
  meta: { name: "export", description: "Re-export a student ONNX at float32 or float16 and report the fidelity loss" },
  args: {
    in: { type: "string", required: true, description: "source student.onnx" },
    out: { type: "string", required: true, description: "destination .onnx" },
    dtype: { type: "enum", options: ["float32", "float16"], default: "float16", description: "weight dtype" },
  },
  async run({ args }) {
    const src = readFileSync(args.in);
    const out = exportStudent(weightsFromOnnx(src), args.dtype as WeightDtype);
    writeFileSync(args.out, out);
    console.log(JSON.stringify({ out: args.out, bytes: out.byteLength, source_bytes: src.byteLength, max_abs_logit_delta: fidelityLoss(src, out) }));
  },
});
