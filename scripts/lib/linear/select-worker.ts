/**
 * Worker-thread side of parallel.ts: receives one layer at a time (its
 * matrix in a SharedArrayBuffer, so nothing is copied), runs selectLayer and
 * posts the per-model fits back. Owns no policy; stops when the parent
 * terminates it.
 */
import { parentPort } from "node:worker_threads";
import { selectLayer, type LayerId, type SelectionModel, type SelectionOptions } from "./select.js";

export interface LayerJob {
  layer: LayerId;
  data: Float32Array;
  rows: number;
  cols: number;
  fitRows: Int32Array;
  valRows: Int32Array;
  models: SelectionModel[];
  opts: Omit<SelectionOptions, "onProgress" | "now">;
}

const port = parentPort;
if (!port) throw new Error("select-worker: must run as a worker thread");
port.on("message", (job: LayerJob) => {
  const sel = selectLayer({ layer: job.layer, matrix: { data: job.data, rows: job.rows, cols: job.cols } }, job.fitRows, job.valRows, job.models, {
    ...job.opts,
    now: () => performance.now(),
    onProgress: (p) => port.postMessage({ type: "progress", ...p }),
  });
  port.postMessage({
    type: "done",
    layer: sel.layer,
    mean: sel.standardizer.mean,
    std: sel.standardizer.std,
    logistic: [...sel.logistic],
    ridge: [...sel.ridge],
  });
});
