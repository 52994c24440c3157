/**
 * Layer-parallel probe selection on worker threads: layers are independent
 * (own standardiser, own λ paths), so each worker takes the next unstarted
 * layer until none remain, and mergeSelections combines them in layer order
 * — the result is identical to selectProbes whatever the finishing order.
 * Matrices must live in SharedArrayBuffers to avoid copying 164 MB per
 * layer; a plain-buffer matrix is copied into one first (costing its size
 * in memory). Under tsx the worker registers tsx's loader itself; compiled
 * .js runs load the worker directly. Must not change selection semantics.
 */
import { Worker } from "node:worker_threads";
import type { DenseMatrix } from "./dense.js";
import type { LayerJob } from "./select-worker.js";
import type { LayerId } from "./select.js";
import { Standardizer } from "./standardizer.js";
import {
  mergeSelections,
  selectProbes,
  type LayerInput,
  type LayerSelection,
  type SelectedLinear,
  type SelectionModel,
  type SelectionOptions,
  type SelectionResult,
} from "./select.js";

/** A Float32Array of the given length backed by shared memory (for worker-visible matrices). */
export function sharedFloat32(length: number): Float32Array {
  return new Float32Array(new SharedArrayBuffer(length * 4));
}

function shared(m: DenseMatrix): DenseMatrix {
  if (m.data.buffer instanceof SharedArrayBuffer) return m;
  const data = sharedFloat32(m.data.length);
  data.set(m.data);
  return { data, rows: m.rows, cols: m.cols };
}

function spawn(): Worker {
  const self = import.meta.url;
  if (self.endsWith(".js")) return new Worker(new URL("./select-worker.js", self));
  const worker = new URL("./select-worker.ts", self).href;
  const tsx = import.meta.resolve("tsx/esm/api");
  const src = `import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(worker)}); });`;
  return new Worker(src, { eval: true });
}

type Done = { type: "done"; layer: LayerId; mean: Float64Array; std: Float64Array; logistic: [string, SelectedLinear][]; ridge: [string, SelectedLinear][] };
type Progress = { type: "progress"; layer: LayerId; model: string; seconds: number };

export async function selectProbesParallel(
  layers: LayerInput[],
  fitRows: ArrayLike<number>,
  valRows: ArrayLike<number>,
  models: SelectionModel[],
  opts: SelectionOptions,
  threads: number,
): Promise<SelectionResult> {
  const n = Math.min(Math.floor(threads), layers.length);
  if (n <= 1) return selectProbes(layers, fitRows, valRows, models, opts);
  const { onProgress, now: _now, ...plain } = opts;
  const jobs: LayerJob[] = layers.map(({ layer, matrix }) => {
    const m = shared(matrix);
    return { layer, data: m.data, rows: m.rows, cols: m.cols, fitRows: Int32Array.from(fitRows), valRows: Int32Array.from(valRows), models, opts: plain };
  });
  const results = new Map<LayerId, LayerSelection>();
  const workers = Array.from({ length: n }, spawn);
  let next = 0;
  try {
    await Promise.all(
      workers.map(
        (w) =>
          new Promise<void>((resolve, reject) => {
            const give = () => (next < jobs.length ? w.postMessage(jobs[next++]) : resolve());
            w.on("message", (msg: Done | Progress) => {
              if (msg.type === "progress") return onProgress?.(msg);
              results.set(msg.layer, {
                layer: msg.layer,
                standardizer: new Standardizer(msg.mean, msg.std),
                logistic: new Map(msg.logistic),
                ridge: new Map(msg.ridge),
              });
              give();
            });
            w.on("error", reject);
            w.on("exit", (code) => (next < jobs.length || results.size < jobs.length) && reject(new Error(`select worker exited (${code}) early`)));
            give();
          }),
      ),
    );
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
  return mergeSelections(
    layers.map((l) => results.get(l.layer)!),
    models,
  );
}
