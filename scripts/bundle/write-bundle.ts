/**
 * Writes a bundle directory: student.onnx, golden.jsonl, manifest.json.
 * The manifest is validated with the same zod schema the worker reads with,
 * before anything is written. Golden rows are scored one prompt per ORT call
 * (as the worker's /v1/route does) with onnxruntime-node.
 */
import { createHash } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Calibration, CalibrationStats } from "../../src/core/calibration.js";
import { calibratedP } from "../../src/core/scoring.js";
import type { FeaturizerSpec } from "../../src/core/featurizer.js";
import { Manifest, type GoldenRow, type PoolModel } from "../../src/core/manifest.js";
import type { Policy } from "../../src/core/policy.js";
import type { StudentWeights } from "../../src/core/student.js";
import { exportStudent, IO, OPSET, type WeightDtype } from "../onnx/export-student.js";
import { nodeScorer } from "./score-node.js";

export const ONNX_FILE = "student.onnx";
export const GOLDEN_FILE = "golden.jsonl";

const sha256 = (b: Uint8Array | string) => createHash("sha256").update(b).digest("hex");

export interface BundleSpec {
  root: string;
  id: string;
  kind: "release" | "fixture";
  description: string;
  pool: PoolModel[];
  featurizer: FeaturizerSpec;
  weights: StudentWeights;
  dtype: WeightDtype;
  /** Pool model id for each output column of the student, in order. */
  outputModels: string[];
  calibration: Record<string, Calibration>;
  /** Per-model cal counts and validation signal (absent in fixtures and bundles built before issue 17). */
  calibrationStats?: Record<string, CalibrationStats>;
  defaultPolicy: Policy;
  outputLength?: Manifest["output_length"];
  provenance: Omit<Manifest["provenance"], "created_at">;
  metrics: Manifest["metrics"];
  goldenPrompts: string[];
  createdAt: string;
}

export async function writeBundle(spec: BundleSpec): Promise<{ dir: string; manifest: Manifest; manifestText: string }> {
  const dir = join(spec.root, spec.id);
  const onnx = exportStudent(spec.weights, spec.dtype, `preflight bundle ${spec.id}`);
  const scorer = await nodeScorer(onnx, spec.featurizer, { ...IO });
  const golden: GoldenRow[] = [];
  for (const prompt of spec.goldenPrompts) {
    const [s] = await scorer.score([prompt]);
    const p = calibratedP(s.logits, { outputs: spec.outputModels.map((model, index) => ({ model, index })), calibration: spec.calibration });
    golden.push({ prompt, ids: Array.from(s.features.ids), truncated: s.features.truncated, input_tokens: s.features.inputTokens, p });
  }
  const goldenText = golden.map((g) => JSON.stringify(g)).join("\n") + "\n";
  const manifest = Manifest.parse({
    format_version: 1,
    bundle_id: spec.id,
    kind: spec.kind,
    description: spec.description,
    pool: spec.pool,
    featurizer: spec.featurizer,
    onnx: { file: ONNX_FILE, sha256: sha256(onnx), opset: OPSET, weight_dtype: spec.dtype, inputs: { ids: IO.ids, mask: IO.mask, dense: IO.dense }, output: IO.output },
    outputs: spec.outputModels.map((model, index) => ({ index, model })),
    calibration: spec.calibration,
    calibration_stats: spec.calibrationStats,
    output_length: spec.outputLength,
    default_policy: spec.defaultPolicy,
    provenance: { ...spec.provenance, created_at: spec.createdAt },
    metrics: spec.metrics,
    files: [
      { path: ONNX_FILE, sha256: sha256(onnx), bytes: onnx.byteLength },
      { path: GOLDEN_FILE, sha256: sha256(goldenText), bytes: Buffer.byteLength(goldenText) },
    ],
  });
  const manifestText = JSON.stringify(manifest, null, 2) + "\n";
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, ONNX_FILE), onnx);
  writeFileSync(join(dir, GOLDEN_FILE), goldenText);
  writeFileSync(join(dir, "manifest.json"), manifestText);
  return { dir, manifest, manifestText };
}
