/**
 * `probes`: CLI shell over the probes stage (scripts/stages/probes.ts): parse
 * flags, load dataset + activations, fit on worker threads, write
 * probes.json, print timing. Holds no stage logic.
 */
import { defineCommand } from "citty";
import { writeFile } from "node:fs/promises";
import { loadProbesInput, runProbesParallel, type ProbesOptions } from "../stages/probes.js";
import { numberFlag } from "../lib/flags.js";

export default defineCommand({
  meta: { name: "probes", description: "Fit per-model linear probes on teacher activations; writes probes.json" },
  args: {
    dataset: { type: "string", required: true, description: "dataset.jsonl written by ingest" },
    activations: { type: "string", required: true, description: "activation store directory" },
    teacher: { type: "string", required: true, description: "teacher model name inside the store" },
    layers: { type: "string", required: true, description: "comma-separated candidate layers, e.g. 8,16,24" },
    out: { type: "string", required: true, description: "output probes.json" },
    seed: { type: "string", description: "seed for calibration carving and bootstrap" },
    reps: { type: "string", description: "bootstrap resamples (default 1000)" },
    threads: { type: "string", description: "worker threads for layer selection (default 1; see bench/probes-speed.md)" },
    stack: { type: "boolean", description: "also try every candidate layer side by side as one candidate (\"all\"), chosen on val like a layer" },
  },
  async run({ args }) {
    const layers = args.layers.split(",").map((s) => Number(s.trim()));
    if (layers.some((l) => !Number.isInteger(l))) throw new Error(`--layers: expected integers, got ${args.layers}`);
    const input = await loadProbesInput({ dataset: args.dataset, activations: args.activations, teacher: args.teacher, layers });
    const options: Partial<ProbesOptions> = {};
    if (args.seed !== undefined) options.seed = numberFlag("seed", args.seed, { integer: true });
    if (args.reps !== undefined) options.bootstrapReps = numberFlag("reps", args.reps, { integer: true, min: 1 });
    if (args.stack) options.stackLayers = true;
    const t0 = performance.now();
    const threads = args.threads === undefined ? 1 : numberFlag("threads", args.threads, { integer: true, min: 1 });
    const result = await runProbesParallel({ ...input, options, onProgress: (m) => console.error(m), now: () => performance.now() }, threads);
    await writeFile(args.out, JSON.stringify(result));
    console.error(`probes: ${Object.keys(result.models).length} models in ${((performance.now() - t0) / 1000).toFixed(1)} s → ${args.out}`);
  },
});
