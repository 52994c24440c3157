/**
 * `export --in <student.onnx> --out <file> --dtype float16`: CLI shell over
 * the export stage (scripts/stages/export.ts): read, re-export, write, print
 * the fidelity loss. Holds no stage logic.
 */
import { defineCommand } from "citty";
import { readFileSync, writeFileSync } from "node:fs";
import type { WeightDtype } from "../onnx/export-student.js";
import { reexport } from "../stages/export.js";

export default defineCommand({
  meta: { name: "export", description: "Re-export a student ONNX at float32 or float16 and report the fidelity loss" },
  args: {
    in: { type: "string", required: true, description: "source student.onnx" },
    out: { type: "string", required: true, description: "destination .onnx" },
    dtype: { type: "enum", options: ["float32", "float16"], default: "float16", description: "weight dtype" },
  },
  async run({ args }) {
    const src = readFileSync(args.in);
    const { onnx: out, maxAbsLogitDelta } = reexport(src, args.dtype as WeightDtype);
    writeFileSync(args.out, out);
    console.log(JSON.stringify({ out: args.out, bytes: out.byteLength, source_bytes: src.byteLength, max_abs_logit_delta: maxAbsLogitDelta }));
  },
});
