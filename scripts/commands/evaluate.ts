/**
 * `evaluate` stage: loads a bundle (manifest validated, student.onnx checked
 * against its sha256), reads an outcomes JSONL with the validating reader,
 * runs evaluateBundle and writes report.md / metrics.json / SVGs.
 * runEvaluate() is the programmatic API; the default export is the citty
 * command. Must not call process.exit or modify the bundle.
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
import { defineCommand } from "citty";
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { isAbsolute, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { Manifest } from "../../src/core/manifest.js";
import { OutcomeRow } from "../formats/outcomes.js";
import { readJsonFile, readJsonl, sha256File } from "../lib/jsonl.js";
import type { WrittenReport } from "../lib/report/markdown.js";
import { evaluateBundle, type EvalResult, type EvalSplit } from "../evaluate/evaluate-bundle.js";
import { writeEvalReport } from "../evaluate/report.js";
import { readTeacher } from "../evaluate/teacher.js";

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

const num = (v: string | undefined): number | undefined => (v === undefined || v === "" ? undefined : Number(v));

export default defineCommand({
  meta: { name: "evaluate", description: "Evaluate a bundle on an outcomes JSONL: per-model AUROC/calibration vs baselines, routing accuracy–cost; writes report.md, metrics.json, SVGs" },
  args: {
    data: { type: "string", required: true, description: "outcomes JSONL to evaluate on" },
    bundle: { type: "string", required: true, description: "bundle id (directory under --artifacts)" },
    artifacts: { type: "string", default: "artifacts", description: "artifacts root" },
    out: { type: "string", description: "report directory (default <artifacts>/<bundle>/eval)" },
    split: { type: "enum", options: ["test", "all"], default: "test", description: "evaluate rows with split test, or every row" },
    "train-data": { type: "string", description: "outcomes JSONL the baselines are fitted on (default: the manifest's provenance data)" },
    seed: { type: "string", description: "bootstrap seed (default 1)" },
    reps: { type: "string", description: "bootstrap resamples (default 1000)" },
    teacher: { type: "string", description: "teacher JSONL {id, teacher: {model: logit}, p?: {model: prob}} (probe-distilled bundles): fidelity, teacher AUROC, teacher-probe router" },
  },
  async run({ args }) {
    const res = await runEvaluate({
      data: args.data,
      bundle: args.bundle,
      artifacts: args.artifacts,
      out: args.out,
      split: args.split as EvalSplit,
      trainData: args["train-data"],
      seed: num(args.seed),
      reps: num(args.reps),
      teacher: args.teacher,
    });
    const h = res.result.manifestMetrics.headline;
    const t = res.result.targets;
    console.log(`evaluate: ${res.result.counts.evaluated} rows (${res.result.split}); baselines from ${res.trainData.path} (${res.trainData.source})`);
    console.log(`router ${res.result.routing.headline_kind}: acc ${h.router_acc ?? "—"} cost ${h.router_cost ?? "—"} vs best single ${String(res.result.manifestMetrics.best_single_model)} acc ${h.best_single_acc} cost ${h.best_single_cost}`);
    console.log(`targets: AUROC ${t.auroc.met ? "met" : "NOT met"}; cost ${t.cost.met ? "met" : "NOT met"}`);
    console.log(`report: ${res.report.files[0]}`);
  },
});
