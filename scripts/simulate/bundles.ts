/**
 * Bundles of the simulator: each one built by `build`'s own training half
 * (scripts/stages/build.ts trainForBuild: base data + logged files with their
 * IPS weights → distill → calibrate) with a small deep-only student, then
 * exported and wrapped in the manifest the build's evaluation step drafts.
 * The build's test-set evaluation and bundle writing are skipped (seconds
 * per bundle instead of a minute). Must not route or gate.
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { FeaturizerSpec } from "../../src/core/featurizer.js";
import { exportStudent } from "../onnx/export-student.js";
import { writeJsonl } from "../lib/jsonl.js";
import { Replayer } from "../lib/ope/replay.js";
import { BuildConfig } from "../stages/build-config.js";
import { trainForBuild } from "../stages/build.js";
import { draftManifest } from "../stages/evaluate.js";
import type { OutcomeRow } from "../formats/outcomes.js";
import type { SimBundle } from "./traffic.js";
import type { WorldPrompt } from "./world.js";

/** Small and fast: seconds per build on one shared core (docs/loop-simulation.md). */
export const SIM_FEATURIZER: FeaturizerSpec = {
  kind: "hashed-ngram-v1",
  buckets: 8192,
  word_ngrams: [1, 2],
  char_ngrams: [3],
  max_features: 256,
  lowercase: true,
  seed: 2538058380,
};
export const SIM_TRAIN = { dim: 32, hidden: 64, batchSize: 128, maxEpochs: 20, patience: 3 };

export interface SimBuildSpec {
  id: string;
  /** Labelled rows (split assigned by ingest's rule when absent). */
  data: string;
  logged: string[];
  weighting: "ips" | "none";
  clip: number;
  pool: string;
  seed: number;
}

export async function simBuild(s: SimBuildSpec): Promise<SimBundle> {
  const cfg = BuildConfig.parse({
    bundle_id: s.id,
    description: `simulator bundle ${s.id}`,
    data: s.data,
    pool: s.pool,
    featurizer: SIM_FEATURIZER,
    train: { ...SIM_TRAIN, seed: s.seed },
    dtype: "float32",
    seed: s.seed,
    ...(s.logged.length > 0 ? { logged: s.logged.map((file) => ({ file })), ips_clip: s.clip, logged_weighting: s.weighting } : {}),
  });
  const t = await trainForBuild(cfg, { progress: "none" });
  const onnx = exportStudent(t.weights, cfg.dtype);
  const files = { manifest: draftManifest(cfg, t.draft, onnx), onnx };
  return { id: s.id, files, replayer: await Replayer.open(files), routes: new Map() };
}

/** Writes labelled rows for a build: the given prompts' full outcome rows, with `split` forced when given. */
export async function writeRows(dir: string, name: string, prompts: WorldPrompt[], split?: OutcomeRow["split"]): Promise<string> {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, name);
  await writeJsonl(
    file,
    prompts.map((w) => (split ? { ...w.row, split } : w.row)),
  );
  return file;
}
