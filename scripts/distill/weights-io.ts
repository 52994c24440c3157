/**
 * Reads StudentWeights back out of a student.onnx written by
 * scripts/onnx/export-student.ts (float32 or float16 initialisers), so later
 * stages and tests can run the reference forward() on exactly what shipped.
 * Owns decoding only; the graph layout belongs to export-student.ts.
 */
import onnxProto from "onnx-proto";
import type { StudentWeights } from "../../src/core/student.js";
import { fromFloat16Bits } from "../onnx/float16.js";

const { onnx } = onnxProto;

function floats(t: InstanceType<typeof onnx.TensorProto>): Float32Array {
  const raw = t.rawData;
  if (t.dataType === onnx.TensorProto.DataType.FLOAT) {
    const copy = new Uint8Array(raw.length);
    copy.set(raw);
    return new Float32Array(copy.buffer);
  }
  if (t.dataType === onnx.TensorProto.DataType.FLOAT16) {
    const out = new Float32Array(raw.length / 2);
    for (let i = 0; i < out.length; i++) out[i] = fromFloat16Bits(raw[2 * i] | (raw[2 * i + 1] << 8));
    return out;
  }
  throw new Error(`initialiser ${t.name}: unsupported data type ${t.dataType}`);
}

export function weightsFromOnnx(bytes: Uint8Array): StudentWeights {
  const model = onnx.ModelProto.decode(bytes);
  const init = new Map((model.graph?.initializer ?? []).map((t) => [t.name, t as InstanceType<typeof onnx.TensorProto>]));
  const get = (n: string) => {
    const t = init.get(n);
    if (!t) throw new Error(`student.onnx: missing initialiser ${n}`);
    return { data: floats(t), dims: (t.dims ?? []).map(Number) };
  };
  const emb = get("emb");
  const w1 = get("w1");
  const w2 = get("w2");
  const [V, D] = emb.dims;
  const [DF, H] = w1.dims;
  const M = w2.dims[1];
  // The graph counts ids (ScatterElements) only for a TF-IDF-weighted wide part (export-student.ts).
  const tfidf = (model.graph?.node ?? []).some((n) => n.opType === "ScatterElements");
  const wide = init.has("wide") ? { wide: get("wide").data, wideNorm: get("wide_norm").data, ...(tfidf ? { wideTfidf: true } : {}) } : {};
  // The task prior's classifier table names its input: task (over the ids) or task_h (over the hidden layer).
  const taskTable = init.has("task") ? { input: "ids" as const, table: get("task").data } : init.has("task_h") ? { input: "hidden" as const, table: get("task_h").data } : null;
  const task = taskTable ? { task: { ...taskTable, bias: get("task_bias").data, prior: get("task_prior").data } } : {};
  return {
    shape: { buckets: V, dim: D, dense: DF - D, hidden: H, outputs: M },
    emb: emb.data,
    w1: w1.data,
    b1: get("b1").data,
    w2: w2.data,
    b2: get("b2").data,
    ...wide,
    ...task,
  };
}
