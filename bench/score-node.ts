/**
 * Scoring time outside workerd: the same featurizer (src/core) and the same
 * ONNX run by onnxruntime-web's WASM backend (single-threaded, SIMD build, as
 * in the worker) under Node, timed with process.hrtime.bigint(). workerd
 * coarsens and freezes its clock during compute, so this is the µs number.
 * Owned by bench/; never imported by src/.
 */
import { readFileSync } from "node:fs";
import * as ort from "onnxruntime-web/wasm";
import { quantile as q } from "./loadgen.js";
import type { FeaturizerSpec } from "../src/core/featurizer.js";
import type { PackedBatch } from "../src/core/batch.js";
import { scorePrompts, type RunModel } from "../src/core/scoring.js";

export interface ScoreStats {
  tokens: number;
  featurize_p50_us: number;
  run_p50_us: number;
  total_p50_us: number;
  total_p99_us: number;
  /** Process CPU (user+sys, all threads) per scoring, p50: less sensitive to preemption on a shared machine. */
  total_cpu_p50_us: number;
  /** Fastest iteration: the closest to an uncontended run on a shared machine. */
  featurize_min_us: number;
  run_min_us: number;
  total_min_us: number;
  iterations: number;
}

interface ManifestBits {
  featurizer: FeaturizerSpec;
  onnx: { file: string; inputs: { ids: string; mask: string; dense: string }; output: string };
}

/** onnxruntime-web feeds for one packed batch under the manifest's input names (as src/infer/ort-engine.ts builds them). */
export function ortFeeds(inputs: ManifestBits["onnx"]["inputs"], b: PackedBatch): Record<string, ort.Tensor> {
  return {
    [inputs.ids]: new ort.Tensor("int64", b.ids, [b.batch, b.length]),
    [inputs.mask]: new ort.Tensor("float32", b.mask, [b.batch, b.length]),
    [inputs.dense]: new ort.Tensor("float32", b.dense, [b.batch, b.denseWidth]),
  };
}


/** Scores each prompt `warmup` + up to `iterations` times (at most `maxSeconds` of measuring per prompt). */
export async function scoreInNode(bundleDir: string, prompts: { tokens: number; text: string }[], iterations: number, warmup: number, maxSeconds: number): Promise<ScoreStats[]> {
  const m = JSON.parse(readFileSync(`${bundleDir}/manifest.json`, "utf8")) as ManifestBits;
  ort.env.wasm.numThreads = 1;
  ort.env.wasm.proxy = false;
  const session = await ort.InferenceSession.create(new Uint8Array(readFileSync(`${bundleDir}/${m.onnx.file}`)), {
    executionProviders: ["wasm"],
    graphOptimizationLevel: "all",
  });
  // core's RunModel port over this session, timed inside so featurize + pack = total − run.
  let runNs = 0n;
  const run: RunModel = async (b) => {
    const s = process.hrtime.bigint();
    const res = await session.run(ortFeeds(m.onnx.inputs, b));
    const data = res[m.onnx.output].data as Float32Array;
    runNs = process.hrtime.bigint() - s;
    return data;
  };
  const out: ScoreStats[] = [];
  for (const p of prompts) {
    const fz: number[] = [];
    const runs: number[] = [];
    const tot: number[] = [];
    const cpu: number[] = [];
    let deadline = Infinity;
    for (let i = 0; i < warmup + iterations && performance.now() < deadline; i++) {
      if (i === warmup) deadline = performance.now() + maxSeconds * 1000;
      const c0 = process.cpuUsage();
      const t0 = process.hrtime.bigint();
      // The worker's path (src/infer/scorer.ts): core scorePrompts with this runtime's RunModel.
      await scorePrompts(run, m.featurizer, [p.text]);
      const t2 = process.hrtime.bigint();
      const t1 = t2 - runNs;
      const c1 = process.cpuUsage(c0);
      if (i >= warmup) {
        cpu.push(c1.user + c1.system);
        fz.push(Number(t1 - t0) / 1000);
        runs.push(Number(t2 - t1) / 1000);
        tot.push(Number(t2 - t0) / 1000);
      }
    }
    out.push({
      tokens: p.tokens,
      featurize_p50_us: Math.round(q(fz, 0.5)),
      run_p50_us: Math.round(q(runs, 0.5)),
      total_p50_us: Math.round(q(tot, 0.5)),
      total_p99_us: Math.round(q(tot, 0.99)),
      total_cpu_p50_us: Math.round(q(cpu, 0.5)),
      featurize_min_us: Math.round(Math.min(...fz)),
      run_min_us: Math.round(Math.min(...runs)),
      total_min_us: Math.round(Math.min(...tot)),
      iterations: tot.length,
    });
  }
  await session.release();
  return out;
}

/**
 * CPU per `session.run` in Node (process.cpuUsage over `n` runs after `warmup`)
 * for one prompt's packed tensors, under a graph optimisation level, after a long warm-up
 * (the first thousands of runs also pay V8's background compilation of the 14 MB module): the
 * Node side of the workerd-vs-Node comparison in bench/route-profile.ts.
 * `around` wraps the measured runs (route-profile starts Node's own CPU profiler there).
 */
export async function nodeRunCpuUs(bundleDir: string, text: string, level: "disabled" | "all", n: number, warmup = 3000, around: (runs: () => Promise<void>) => Promise<void> = (runs) => runs()): Promise<number> {
  const m = JSON.parse(readFileSync(`${bundleDir}/manifest.json`, "utf8")) as ManifestBits;
  ort.env.wasm.numThreads = 1;
  ort.env.wasm.proxy = false;
  const session = await ort.InferenceSession.create(new Uint8Array(readFileSync(`${bundleDir}/${m.onnx.file}`)), { executionProviders: ["wasm"], graphOptimizationLevel: level });
  // The tensors come from the one scoring path (src/core/scoring.ts): capture the batch it packs.
  let packed: PackedBatch | undefined;
  await scorePrompts(async (batch) => ((packed = batch), new Float32Array(batch.batch)), m.featurizer, [text]);
  const feeds = ortFeeds(m.onnx.inputs, packed!);
  for (let i = 0; i < warmup; i++) await session.run(feeds);
  let c = { user: 0, system: 0 };
  await around(async () => {
    const c0 = process.cpuUsage();
    for (let i = 0; i < n; i++) await session.run(feeds);
    c = process.cpuUsage(c0);
  });
  await session.release();
  return (c.user + c.system) / n;
}
