/**
 * Stage 9, bundle: the build's last step. Assembles provenance (inputs with
 * their sha256, trainer summary, calibration split) and the golden prompts,
 * then writes the bundle directory through scripts/bundle/write-bundle.ts
 * (student.onnx, golden.jsonl, manifest.json; the manifest validated with the
 * worker's own schema). Must not train, calibrate or evaluate (it takes those
 * stages' outputs) and must not promote.
 */
import type { Manifest, PoolModel } from "../../src/core/manifest.js";
import type { Policy } from "../../src/core/policy.js";
import type { StudentWeights } from "../../src/core/student.js";
import { goldenPrompts } from "../bundle/golden-prompts.js";
import { writeBundle } from "../bundle/write-bundle.js";
import type { OutcomeRow } from "../formats/outcomes.js";
import type { BuildConfig } from "./build-config.js";
import { promptText, type StudentCalibration } from "./calibrate.js";

export interface BundleInput {
  cfg: BuildConfig;
  /** Every outcome row with its split (test rows seed the golden prompts). */
  rows: OutcomeRow[];
  pool: PoolModel[];
  /** Output column order of the student. */
  models: string[];
  weights: StudentWeights;
  calibrated: StudentCalibration;
  calRows: number;
  outputLength: Manifest["output_length"];
  evaluation: { metrics: Manifest["metrics"]; defaultPolicy: Policy };
  training: Record<string, string | number | boolean>;
  /** sha256 of the build's inputs; `teacher` with its row count when the build had teacher logits. */
  inputs: { dataSha: string; poolSha: string; teacher: { sha256: string; rows: number } | null; logged?: { name: string; sha256: string; rows: number }[] };
  createdAt: string;
}

export function writeBuildBundle(a: BundleInput): ReturnType<typeof writeBundle> {
  const { cfg } = a;
  const provenance: Omit<Manifest["provenance"], "created_at"> = {
    mode: cfg.teacher ? "probe-distilled" : "label-supervised",
    teacher: cfg.teacher ? cfg.teacher.layers : "none",
    data: [
      // `rows` holds the logged rows too (train split); the data file's own count excludes them.
      { name: cfg.data, sha256: a.inputs.dataSha, rows: a.rows.length - (a.inputs.logged ?? []).reduce((n, f) => n + f.rows, 0) },
      { name: cfg.pool, sha256: a.inputs.poolSha, rows: a.pool.length },
      ...(cfg.teacher && a.inputs.teacher ? [{ name: cfg.teacher.logits, sha256: a.inputs.teacher.sha256, rows: a.inputs.teacher.rows }] : []),
      ...(a.inputs.logged ?? []),
    ],
    trainer: { ...a.training, calibration: `${cfg.calibration} on split cal (${a.calRows} rows)`, config: JSON.stringify(cfg) },
    licence: cfg.licence,
  };
  const golden = goldenPrompts(a.rows.filter((r) => r.split === "test").slice(0, cfg.golden_extra).map(promptText));
  return writeBundle({
    root: cfg.out,
    id: cfg.bundle_id,
    kind: "release",
    description: cfg.description,
    pool: a.pool,
    featurizer: cfg.featurizer,
    weights: a.weights,
    dtype: cfg.dtype,
    outputModels: a.models,
    calibration: a.calibrated.calibration,
    calibrationStats: a.calibrated.stats,
    defaultPolicy: a.evaluation.defaultPolicy,
    outputLength: a.outputLength,
    provenance,
    metrics: a.evaluation.metrics,
    goldenPrompts: golden,
    createdAt: a.createdAt,
  });
}
