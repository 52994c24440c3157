/**
 * The only onnxruntime-node import in scripts/. A deliberately small, generic
 * wrapper: load a session from a path or bytes, run it with plain typed feeds,
 * get every output back as Float32Array + dims. Must not: know about the
 * student, teachers, manifests or any particular graph's names.
 */
import * as ort from "onnxruntime-node";
import { fromFloat16Bits } from "../onnx/float16.js";

export type Session = ort.InferenceSession;

export type FeedType = "int64" | "float32";
export interface Feed {
  type: FeedType;
  /** int64 accepts numbers (must be safe integers) or a BigInt64Array. */
  data: ArrayLike<number> | BigInt64Array | Float32Array;
  dims: number[];
}
export interface Output {
  data: Float32Array;
  dims: number[];
}

export interface LoadOptions {
  /** Intra-op threads; default 1 so results and timings are reproducible. */
  threads?: number;
}

export interface ValueInfo {
  name: string;
  /** e.g. "float32", "int64"; undefined for non-tensor values. */
  type: string | undefined;
  /** Symbolic dims are strings; empty when the graph does not say. */
  shape: (number | string)[];
}

export async function loadSession(pathOrBytes: string | Uint8Array, opts: LoadOptions = {}): Promise<Session> {
  const options: ort.InferenceSession.SessionOptions = {
    intraOpNumThreads: opts.threads ?? 1,
    interOpNumThreads: 1,
    graphOptimizationLevel: "all",
  };
  // Two calls, not one: the overloads (path vs buffer) do not accept the union.
  if (typeof pathOrBytes === "string") return ort.InferenceSession.create(pathOrBytes, options);
  return ort.InferenceSession.create(pathOrBytes, options);
}

/**
 * Writes `onnxPath` re-saved in ORT's own flatbuffer format (what
 * bench/ort-format.ts compares against .onnx for session start-up), at the
 * given graph optimisation level, single-threaded.
 */
export async function saveOrtFormat(onnxPath: string, outPath: string, level: "disabled" | "basic" | "extended" | "all"): Promise<void> {
  const s = await ort.InferenceSession.create(onnxPath, {
    graphOptimizationLevel: level,
    intraOpNumThreads: 1,
    optimizedModelFilePath: outPath,
    extra: { session: { save_model_format: "ORT" } },
  });
  await s.release();
}

/** Input and output names, element types and declared shapes. */
export function sessionIO(session: Session): { inputs: ValueInfo[]; outputs: ValueInfo[] } {
  const info = (names: readonly string[], meta: readonly ort.InferenceSession.ValueMetadata[]): ValueInfo[] =>
    names.map((name, i) => {
      const m = meta[i];
      return m && m.isTensor ? { name, type: m.type, shape: [...m.shape] } : { name, type: undefined, shape: [] };
    });
  return { inputs: info(session.inputNames, session.inputMetadata), outputs: info(session.outputNames, session.outputMetadata) };
}

function toTensor(name: string, f: Feed): ort.Tensor {
  const size = f.dims.reduce((a, b) => a * b, 1);
  if (f.data.length !== size) throw new Error(`feed ${name}: ${f.data.length} values for dims [${f.dims}]`);
  if (f.type === "float32") {
    const data = f.data instanceof Float32Array ? f.data : Float32Array.from(f.data as ArrayLike<number>);
    return new ort.Tensor("float32", data, f.dims);
  }
  if (f.data instanceof BigInt64Array) return new ort.Tensor("int64", f.data, f.dims);
  const src = f.data as ArrayLike<number>;
  const data = new BigInt64Array(size);
  for (let i = 0; i < size; i++) {
    if (!Number.isSafeInteger(src[i])) throw new Error(`feed ${name}: int64 value ${src[i]} at ${i} is not a safe integer`);
    data[i] = BigInt(src[i]);
  }
  return new ort.Tensor("int64", data, f.dims);
}

/** Any numeric ORT output as Float32Array (float16 and integer types converted). */
function toFloat32(t: ort.Tensor, name: string): Float32Array {
  const data = t.data as unknown;
  if (data instanceof Float32Array) return data;
  if (t.type === "float16" && data instanceof Uint16Array) return Float32Array.from(data, (h) => fromFloat16Bits(h));
  if (data instanceof BigInt64Array || data instanceof BigUint64Array) return Float32Array.from(data, (v) => Number(v));
  if (ArrayBuffer.isView(data) && !(data instanceof DataView)) return Float32Array.from(data as unknown as ArrayLike<number>);
  throw new Error(`output ${name}: unsupported tensor type ${t.type}`);
}

/**
 * Runs the session. `outputs` limits which outputs are fetched (default all),
 * which matters for teachers with many per-layer outputs.
 */
export async function runSession(
  session: Session,
  feeds: Record<string, Feed>,
  outputs?: string[],
): Promise<Record<string, Output>> {
  const tensors: Record<string, ort.Tensor> = {};
  for (const [name, f] of Object.entries(feeds)) tensors[name] = toTensor(name, f);
  const res = outputs ? await session.run(tensors, outputs) : await session.run(tensors);
  const out: Record<string, Output> = {};
  for (const [name, t] of Object.entries(res)) {
    // CPU outputs are plain JS-owned typed arrays here, so there is nothing to dispose.
    out[name] = { data: toFloat32(t, name), dims: t.dims.map(Number) };
  }
  return out;
}

export async function closeSession(session: Session): Promise<void> {
  await session.release();
}
