/**
 * The build's evaluation step: scores val and test with the exported student
 * through onnxruntime-node (as the worker would), picks the default policy's
 * threshold on validation, and delegates test metrics to the evaluate
 * stage so the manifest holds exactly what `evaluate` reproduces.
 */
import type { Manifest, PoolModel } from "../../src/core/manifest.js";
import type { Calibration } from "../../src/core/calibration.js";
import type { FeaturizerSpec } from "../../src/core/featurizer.js";
import type { Policy } from "../../src/core/policy.js";
import type { BuildConfig } from "./config.js";
import type { OutcomeRow } from "../formats/outcomes.js";
import { evaluateBundle } from "../evaluate/evaluate-bundle.js";
import { readTeacher, type TeacherMap } from "../evaluate/teacher.js";
import { ONNX_FILE } from "../bundle/write-bundle.js";
import { IO, OPSET } from "../onnx/export-student.js";
import { createHash } from "node:crypto";

export interface BuildDraft {
  pool: PoolModel[];
  featurizer: FeaturizerSpec;
  outputModels: string[];
  calibration: Record<string, Calibration>;
  outputLength: Manifest["output_length"];
}

/** A manifest-shaped view of the bundle before its metrics exist. */
export function draftManifest(cfg: BuildConfig, draft: BuildDraft, onnx: Uint8Array): Manifest {
  const sha = createHash("sha256").update(onnx).digest("hex");
  return {
    format_version: 1,
    bundle_id: cfg.bundle_id,
    kind: "release",
    description: cfg.description,
    pool: draft.pool,
    featurizer: draft.featurizer,
    onnx: { file: ONNX_FILE, sha256: sha, opset: OPSET, weight_dtype: cfg.dtype, inputs: { ids: IO.ids, mask: IO.mask, dense: IO.dense }, output: IO.output },
    outputs: draft.outputModels.map((model, index) => ({ index, model })),
    calibration: draft.calibration,
    output_length: draft.outputLength,
    default_policy: { type: "threshold", min_p: 0.5 },
    provenance: { mode: cfg.teacher ? "probe-distilled" : "label-supervised", teacher: "none", data: [], trainer: {}, created_at: new Date(0).toISOString() },
    metrics: { split: "none", headline: {}, per_model: {} },
    files: [{ path: ONNX_FILE, sha256: sha, bytes: onnx.byteLength }],
  };
}

export async function evaluateForBuild(a: { cfg: BuildConfig; rows: OutcomeRow[]; draft: BuildDraft; onnx: Uint8Array; dataSha: string; teacher?: TeacherMap }): Promise<{ metrics: Manifest["metrics"]; defaultPolicy: Policy }> {
  const manifest = draftManifest(a.cfg, a.draft, a.onnx);
  const trainRows = a.rows.filter((r) => r.split === "train" || r.split === "val");
  const data = { name: a.cfg.data, sha256: a.dataSha };
  // With a teacher block, the teacher rows (default: re-read from its logits file) add fidelity and teacher-probe figures.
  const teacher = a.teacher ?? (a.cfg.teacher ? await readTeacher(a.cfg.teacher.logits) : undefined);
  const res = await evaluateBundle({ manifest, onnx: a.onnx, rows: a.rows, trainRows, split: "test", seed: a.cfg.seed, data, ...(teacher ? { teacher } : {}) });
  // The default policy is the threshold cascade with min_p chosen on validation (never on test).
  const sel = res.routing.selections?.student.threshold;
  if (!sel) throw new Error("evaluate: no validation rows to choose the default threshold on");
  return { metrics: res.manifestMetrics, defaultPolicy: { type: "threshold", min_p: sel.param } };
}
