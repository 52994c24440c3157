/**
 * The only module in src/ that imports onnxruntime-web. Owns WASM start-up
 * inside workerd and running a student graph. Must not know about HTTP,
 * manifests or pools.
 *
 * Why the shim: workerd refuses to compile WebAssembly from bytes ("Wasm code
 * generation disallowed by embedder") and ORT's emscripten glue cannot locate
 * its .wasm by script URL. Wrangler's CompiledWasm rule hands us the binary
 * precompiled as a WebAssembly.Module, so we give ORT a placeholder
 * `wasmBinary` (which stops it fetching) and, for the duration of start-up
 * only, answer the glue's `WebAssembly.instantiate(bytes, imports)` with an
 * instance of the precompiled module. This depends on ORT internals, which is
 * why onnxruntime-web is pinned to an exact version in package.json.
 */
import * as ort from "onnxruntime-web/wasm";
import ortWasm from "onnxruntime-web/ort-wasm-simd-threaded.wasm";
import type { RunModel } from "../core/scoring.js";

let started = false;

/** Runs `create` with ORT configured for workerd and the instantiate shim in place. */
async function withWasmShim<T>(create: () => Promise<T>): Promise<T> {
  if (!started) {
    ort.env.wasm.numThreads = 1; // no SharedArrayBuffer worker pool inside an isolate
    ort.env.wasm.proxy = false; // no Web Worker proxy either
    ort.env.wasm.wasmBinary = new ArrayBuffer(8); // placeholder: stops ORT fetching by URL
    started = true;
  }
  const original = WebAssembly.instantiate;
  const shim = async (source: unknown, imports?: WebAssembly.Imports) => {
    if (source instanceof WebAssembly.Module) return original(source, imports);
    // The glue passes our placeholder bytes; answer with the precompiled module.
    return { instance: new WebAssembly.Instance(ortWasm, imports), module: ortWasm };
  };
  (WebAssembly as { instantiate: unknown }).instantiate = shim;
  try {
    return await create();
  } finally {
    (WebAssembly as { instantiate: unknown }).instantiate = original;
  }
}

export interface Engine {
  /** The core scoring port: one packed batch in, logits [B,M] out. */
  run: RunModel;
  /** Frees the session's WASM memory (LRU eviction in src/infer/session-pool.ts); run must not be called after. */
  release: () => Promise<void>;
}

export interface EngineIO {
  ids: string;
  mask: string;
  dense: string;
  output: string;
}

export async function createEngine(model: ArrayBuffer, io: EngineIO): Promise<Engine> {
  const session = await withWasmShim(() =>
    ort.InferenceSession.create(new Uint8Array(model), {
      executionProviders: ["wasm"],
      graphOptimizationLevel: "disabled", // a tiny graph gains nothing from fusion; saves start-up CPU
    }),
  );
  return {
    release: () => session.release(),
    async run({ ids, mask, dense, batch, length, denseWidth }) {
      const feeds = {
        [io.ids]: new ort.Tensor("int64", ids, [batch, length]),
        [io.mask]: new ort.Tensor("float32", mask, [batch, length]),
        [io.dense]: new ort.Tensor("float32", dense, [batch, denseWidth]),
      };
      const out = await session.run(feeds);
      const t = out[io.output];
      return t.data as Float32Array;
    },
  };
}
