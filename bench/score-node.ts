/**
 * Scoring time outside workerd: the same featurizer (src/core) and the same
 * ONNX run by onnxruntime-web's WASM backend (single-threaded, SIMD build, as
 * in the worker) under Node, timed with process.hrtime.bigint(). workerd
 * coarsens and freezes its clock during compute, so this is the µs number.
 * Owned by bench/; never imported by src/.
 */
import { readFileSync } from "node:fs";
import * as ort from "onnxruntime-web/wasm";
import { DENSE_FEATURES, featurize, type FeaturizerSpec } from "../src/core/featurizer.js";

export interface ScoreStats {
  tokens: number;
  featurize_p50_us: number;
  run_p50_us: number;
  total_p50_us: number;
  total_p99_us: number;
  iterations: number;
}

interface ManifestBits {
  featurizer: FeaturizerSpec;
  onnx: { file: string; inputs: { ids: string; mask: string; dense: string }; output: string };
}

const q = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(p * s.length))];
};

export async function scoreInNode(bundleDir: string, prompts: { tokens: number; text: string }[], iterations: number, warmup: number): Promise<ScoreStats[]> {
  const m = JSON.parse(readFileSync(`${bundleDir}/manifest.json`, "utf8")) as ManifestBits;
  ort.env.wasm.numThreads = 1;
  ort.env.wasm.proxy = false;
  const session = await ort.InferenceSession.create(new Uint8Array(readFileSync(`${bundleDir}/${m.onnx.file}`)), {
    executionProviders: ["wasm"],
    graphOptimizationLevel: "all",
  });
  const out: ScoreStats[] = [];
  for (const p of prompts) {
    const fz: number[] = [];
    const run: number[] = [];
    const tot: number[] = [];
    for (let i = 0; i < warmup + iterations; i++) {
      const t0 = process.hrtime.bigint();
      const f = featurize(p.text, m.featurizer);
      const L = Math.max(1, f.ids.length);
      const ids = new BigInt64Array(L);
      const mask = new Float32Array(L);
      for (let t = 0; t < f.ids.length; t++) {
        ids[t] = BigInt(f.ids[t]);
        mask[t] = 1;
      }
      const t1 = process.hrtime.bigint();
      const res = await session.run({
        [m.onnx.inputs.ids]: new ort.Tensor("int64", ids, [1, L]),
        [m.onnx.inputs.mask]: new ort.Tensor("float32", mask, [1, L]),
        [m.onnx.inputs.dense]: new ort.Tensor("float32", f.dense, [1, DENSE_FEATURES]),
      });
      void res[m.onnx.output].data;
      const t2 = process.hrtime.bigint();
      if (i >= warmup) {
        fz.push(Number(t1 - t0) / 1000);
        run.push(Number(t2 - t1) / 1000);
        tot.push(Number(t2 - t0) / 1000);
      }
    }
    out.push({
      tokens: p.tokens,
      featurize_p50_us: Math.round(q(fz, 0.5)),
      run_p50_us: Math.round(q(run, 0.5)),
      total_p50_us: Math.round(q(tot, 0.5)),
      total_p99_us: Math.round(q(tot, 0.99)),
      iterations,
    });
  }
  await session.release();
  return out;
}
