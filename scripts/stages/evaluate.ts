/**
 * Stage 8, evaluate: loads a bundle (manifest validated, student.onnx checked
 * against its sha256), reads an outcomes JSONL with the validating reader,
 * runs evaluateBundle and writes report.md / metrics.json / SVGs
 * (runEvaluate; the CLI shell is scripts/commands/evaluate.ts). Inside
 * `build`, evaluateForBuild runs the same evaluation on a draft manifest
 * before the bundle exists. Must not call process.exit or modify a bundle.
 *
 * Baseline training data: --train-data if given; else the first entry of the
 * manifest's provenance.data, whose `name` is read as a repo-relative path
 * and must match its recorded sha256; else the evaluation file itself (its
 * "train" rows, or its unsplit rows — see scripts/evaluate/baselines.ts).
 *
 * --teacher <teacher.jsonl> (probe-distilled bundles): teacher-logits rows
 * {id, teacher, p?}; adds fidelity, the teacher probe's AUROC and a
 * teacher-probe router (see scripts/evaluate/teacher.ts).
 */
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { isAbsolute, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { Calibration } from "../../src/core/calibration.js";
import type { FeaturizerSpec } from "../../src/core/featurizer.js";
import { Manifest, type PoolModel } from "../../src/core/manifest.js";
import type { Policy } from "../../src/core/policy.js";
import { OutcomeRow } from "../formats/outcomes.js";
import { readJsonFile, readJsonl, sha256File } from "../lib/jsonl.js";
import type { WrittenReport } from "../lib/report/markdown.js";
import { evaluateBundle, type EvalResult, type EvalSplit } from "../evaluate/evaluate-bundle.js";
import { writeEvalReport } from "../evaluate/report.js";
import { readTeacher, type TeacherMap } from "../evaluate/teacher.js";
import { ONNX_FILE } from "../bundle/write-bundle.js";
import { IO, OPSET } from "../onnx/export-student.js";
import type { BuildConfig } from "./build-config.js";

const REPO_ROOT = fileURLToPath(new URL("../..", import.meta.url));

export interface RunEvaluateOptions {
  data: string;
  bundle: string;
  artifacts?: string;
  /** Report directory; default <artifacts>/<bundle>/eval. */
  out?: string;
  split?: EvalSplit;
  trainData?: string;
  seed?: number;
  reps?: number;
  /** Teacher JSONL (teacher-logits format) for a probe-distilled bundle. */
  teacher?: string;
}

export interface RunEvaluateResult {
  result: EvalResult;
  report: WrittenReport;
  outDir: string;
  trainData: { path: string; sha256: string; source: "--train-data" | "provenance" | "evaluation-file" };
}

export async function readOutcomes(file: string): Promise<OutcomeRow[]> {
  const rows: OutcomeRow[] = [];
  for await (const { value } of readJsonl(file, OutcomeRow)) rows.push(value);
  return rows;
}

/** Loads artifacts/<id>/manifest.json and the student, checking the ONNX sha256. */
export async function loadBundle(artifacts: string, id: string): Promise<{ dir: string; manifest: Manifest; onnx: Uint8Array }> {
  const dir = join(artifacts, id);
  const manifest = await readJsonFile(join(dir, "manifest.json"), Manifest);
  if (manifest.bundle_id !== id) throw new Error(`evaluate: ${dir}/manifest.json has bundle_id ${manifest.bundle_id}, expected ${id}`);
  const onnx = new Uint8Array(await readFile(join(dir, manifest.onnx.file)));
  const sha = createHash("sha256").update(onnx).digest("hex");
  if (sha !== manifest.onnx.sha256) throw new Error(`evaluate: ${join(dir, manifest.onnx.file)} sha256 ${sha} does not match the manifest (${manifest.onnx.sha256})`);
  return { dir, manifest, onnx };
}

async function resolveTrainData(opts: RunEvaluateOptions, manifest: Manifest, dataSha: string): Promise<RunEvaluateResult["trainData"]> {
  if (opts.trainData) return { path: opts.trainData, sha256: await sha256File(opts.trainData), source: "--train-data" };
  const entry = manifest.provenance.data[0];
  if (entry) {
    const path = isAbsolute(entry.name) ? entry.name : join(REPO_ROOT, entry.name);
    if (!existsSync(path)) throw new Error(`evaluate: training data ${entry.name} from the manifest's provenance is not at ${path}; pass --train-data`);
    const sha = await sha256File(path);
    if (sha !== entry.sha256) throw new Error(`evaluate: ${path} sha256 ${sha} differs from the manifest's provenance (${entry.sha256}); pass --train-data explicitly`);
    return { path, sha256: sha, source: "provenance" };
  }
  return { path: opts.data, sha256: dataSha, source: "evaluation-file" };
}

export async function runEvaluate(opts: RunEvaluateOptions): Promise<RunEvaluateResult> {
  const artifacts = opts.artifacts ?? "artifacts";
  const { manifest, onnx, dir } = await loadBundle(artifacts, opts.bundle);
  const dataSha = await sha256File(opts.data);
  const rows = await readOutcomes(opts.data);
  const train = await resolveTrainData(opts, manifest, dataSha);
  const trainRows = train.source === "evaluation-file" ? rows : await readOutcomes(train.path);
  const teacher = opts.teacher ? await readTeacher(opts.teacher) : undefined;
  const result = await evaluateBundle({
    manifest,
    onnx,
    rows,
    trainRows,
    split: opts.split ?? "test",
    seed: opts.seed ?? 1,
    reps: opts.reps,
    data: { name: opts.data, sha256: dataSha },
    ...(teacher ? { teacher } : {}),
  });
  if (result.teacher && opts.teacher) result.teacher.source = { file: opts.teacher, sha256: await sha256File(opts.teacher) };
  const outDir = resolve(opts.out ?? join(dir, "eval"));
  const report = await writeEvalReport(outDir, result, {
    dataFile: opts.data,
    dataSha256: dataSha,
    trainFile: train.source === "evaluation-file" ? null : { path: train.path, sha256: train.sha256 },
  });
  return { result, report, outDir, trainData: train };
}

export interface BuildDraft {
  pool: PoolModel[];
  featurizer: FeaturizerSpec;
  outputModels: string[];
  calibration: Record<string, Calibration>;
  outputLength: Manifest["output_length"];
  /** Default policy chosen before evaluation (scripts/stages/crossfit.ts) and its provenance.trainer figures. */
  chosenPolicy?: { policy: Policy; summary: Record<string, string | number> };
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
    default_policy: draft.chosenPolicy?.policy ?? { type: "threshold", min_p: 0.5 },
    provenance: { mode: cfg.teacher ? "probe-distilled" : "label-supervised", teacher: "none", data: [], trainer: { ...draft.chosenPolicy?.summary }, created_at: new Date(0).toISOString() },
    metrics: { split: "none", headline: {}, per_model: {} },
    files: [{ path: ONNX_FILE, sha256: sha, bytes: onnx.byteLength }],
  };
}

/**
 * The build's evaluation step: scores val and test with the exported student
 * through onnxruntime-node (as the worker would), picks the default policy's
 * threshold on validation, and takes test metrics from the same
 * evaluateBundle as runEvaluate, so the manifest holds exactly what
 * `evaluate` reproduces.
 */
export async function evaluateForBuild(a: { cfg: BuildConfig; rows: OutcomeRow[]; draft: BuildDraft; onnx: Uint8Array; dataSha: string; teacher?: TeacherMap }): Promise<{ metrics: Manifest["metrics"]; defaultPolicy: Policy }> {
  const manifest = draftManifest(a.cfg, a.draft, a.onnx);
  const trainRows = a.rows.filter((r) => r.split === "train" || r.split === "val");
  const data = { name: a.cfg.data, sha256: a.dataSha };
  // With a teacher block, the teacher rows (default: re-read from its logits file) add fidelity and teacher-probe figures.
  const teacher = a.teacher ?? (a.cfg.teacher ? await readTeacher(a.cfg.teacher.logits) : undefined);
  const res = await evaluateBundle({ manifest, onnx: a.onnx, rows: a.rows, trainRows, split: "test", seed: a.cfg.seed, data, ...(teacher ? { teacher } : {}) });
  // Chosen on cross-fitted train+val rows (the draft carries it), else the threshold cascade with min_p chosen on validation; never on test.
  if (a.draft.chosenPolicy) return { metrics: res.manifestMetrics, defaultPolicy: a.draft.chosenPolicy.policy };
  const sel = res.routing.selections?.student.threshold;
  if (!sel) throw new Error("evaluate: no validation rows to choose the default threshold on");
  return { metrics: res.manifestMetrics, defaultPolicy: { type: "threshold", min_p: sel.param } };
}
