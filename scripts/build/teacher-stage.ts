/**
 * The build's teacher stages, run when the config has a `probes` block:
 * ingest → one probe set per pool model on that model's own activations →
 * teacher logits (+ calibrated p) for every row with activations → the
 * teacher JSONL the distill stage reads. Returns the layer each model's probe
 * chose on validation. Must not train the student.
 */
import { join } from "node:path";
import type { BuildConfig } from "./config.js";
import type { ProbeLayer } from "../../src/core/manifest.js";
import { runIngest } from "../commands/ingest.js";
import { loadProbesInput, runProbes, type ProbesResult } from "../commands/probes.js";
import { teacherRows } from "../commands/teacher-logits.js";
import { writeJsonl } from "../lib/jsonl.js";

export async function runTeacherStage(cfg: BuildConfig, models: string[], log: (m: string) => void): Promise<{ layers: { model: string; layer: ProbeLayer }[] }> {
  if (!cfg.probes || !cfg.teacher) throw new Error("teacher stage needs both a probes and a teacher block");
  const ingest = await runIngest({ outcomes: cfg.data, pool: cfg.pool, cacheDir: ".cache" });
  const dataset = join(ingest.dir, "dataset.jsonl");
  const probes: Record<string, ProbesResult> = {};
  for (const m of models) {
    log(`[build] probes: ${m} on layers ${cfg.probes.layers.join(",")}`);
    const input = await loadProbesInput({ dataset, activations: cfg.probes.activations, teacher: m, layers: cfg.probes.layers });
    probes[m] = runProbes({ ...input, options: { bootstrapReps: cfg.probes.bootstrap_reps, seed: cfg.seed, stackLayers: cfg.probes.stack_layers }, onProgress: log });
  }
  await writeJsonl(cfg.teacher.logits, teacherRows(probes));
  return { layers: models.map((m) => ({ model: m, layer: probes[m].models[m].probe.layer })) };
}
