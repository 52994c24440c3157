/**
 * Writes the student as an ONNX graph (opset 17) with onnx-proto. Owns the
 * graph layout only; weights come from src/core/student.ts. The graph mirrors
 * forward(): Gather → masked mean → Concat(dense) → MatMul/Relu → MatMul, plus,
 * when the weights have a wide part, Gather(wide) → masked sum ÷ sqrt(max(1,
 * masked sum of Gather(wide_norm))) added to the logits (same inputs). A
 * TF-IDF-weighted wide part (weights.wideTfidf) first counts each id within
 * its prompt (ScatterElements add into [B,V], read back per occurrence) and
 * weighs occurrence t by (1 + ln c_t)/c_t in the sum and (1 + ln c_t)²/c_t in
 * the norm, which is wideTerm's sum over distinct ids. A task prior
 * (weights.task) scores tasks by MatMul(h, task_h) (input "hidden") or by a
 * second table read like the wide one (input "ids": same weights and norm),
 * then task_bias, Softmax over tasks, MatMul task_prior [T,M], added too.
 * Inputs: ids int64 [B,L], mask float [B,L] (1 = real id), dense float [B,F].
 * Output: logits float [B,M]; calibration stays in the manifest (not the graph).
 */
import onnxProto from "onnx-proto";
import type { StudentWeights, TaskPrior } from "../../src/core/student.js";
import { toFloat16Bits } from "./float16.js";

const { onnx } = onnxProto;
export const OPSET = 17;
export const IO = { ids: "ids", mask: "mask", dense: "dense", output: "logits" } as const;
export type WeightDtype = "float32" | "float16";

function tensor(name: string, dims: number[], data: Float32Array, dtype: WeightDtype) {
  const raw =
    dtype === "float16"
      ? new Uint8Array(toFloat16Bits(data).buffer)
      : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return onnx.TensorProto.create({
    name,
    dims,
    dataType: dtype === "float16" ? onnx.TensorProto.DataType.FLOAT16 : onnx.TensorProto.DataType.FLOAT,
    rawData: raw,
  });
}

function int64s(name: string, values: number[]) {
  const buf = new BigInt64Array(values.map((v) => BigInt(v)));
  return onnx.TensorProto.create({
    name,
    dims: [values.length],
    dataType: onnx.TensorProto.DataType.INT64,
    rawData: new Uint8Array(buf.buffer),
  });
}

function valueInfo(name: string, elem: number, dims: (number | string)[]) {
  return onnx.ValueInfoProto.create({
    name,
    type: {
      tensorType: {
        elemType: elem,
        shape: { dim: dims.map((d) => (typeof d === "number" ? { dimValue: d } : { dimParam: d })) },
      },
    },
  });
}

function node(op: string, inputs: string[], outputs: string[], attrs: Record<string, number | string> = {}) {
  return onnx.NodeProto.create({
    opType: op,
    input: inputs,
    output: outputs,
    name: outputs[0],
    attribute: Object.entries(attrs).map(([name, v]) =>
      typeof v === "string"
        ? onnx.AttributeProto.create({ name, s: new TextEncoder().encode(v), type: onnx.AttributeProto.AttributeType.STRING })
        : onnx.AttributeProto.create({ name, i: v, type: onnx.AttributeProto.AttributeType.INT }),
    ),
  });
}

function taskTensors(task: TaskPrior, V: number, H: number, M: number, dtype: WeightDtype) {
  const T = task.bias.length;
  const table = task.input === "ids" ? tensor("task", [V, T], task.table, dtype) : tensor("task_h", [H, T], task.table, dtype);
  return [table, tensor("task_bias", [T], task.bias, dtype), tensor("task_prior", [T, M], task.prior, dtype)];
}

/** Serialises the weights to ONNX bytes. float16 stores weights as fp16 and casts on load. */
export function exportStudent(w: StudentWeights, dtype: WeightDtype = "float32", docString = ""): Uint8Array {
  const { buckets: V, dim: D, dense: F, hidden: H, outputs: M } = w.shape;
  const FLOAT = onnx.TensorProto.DataType.FLOAT;
  const nodes = [];
  const weight = (n: string) => (dtype === "float16" ? `${n}_f32` : n);
  if (dtype === "float16") {
    for (const n of ["w1", "b1", "w2", "b2"]) nodes.push(node("Cast", [n], [`${n}_f32`], { to: FLOAT }));
    // Gather the fp16 rows first and cast only those: casting the whole table
    // would convert V×D values on every run (≈ 0.7 ms for 32k×16 in workerd).
    nodes.push(node("Gather", ["emb", IO.ids], ["gathered_f16"], { axis: 0 }), node("Cast", ["gathered_f16"], ["gathered"], { to: FLOAT }));
  } else {
    nodes.push(node("Gather", ["emb", IO.ids], ["gathered"], { axis: 0 }));
  }
  nodes.push(
    node("Unsqueeze", [IO.mask, "axis2"], ["mask3"]),
    node("Mul", ["gathered", "mask3"], ["masked"]),
    node("ReduceSum", ["masked", "axis1"], ["summed"], { keepdims: 0 }),
    node("ReduceSum", [IO.mask, "axis1"], ["count"], { keepdims: 1 }),
    node("Max", ["count", "one"], ["count1"]),
    node("Div", ["summed", "count1"], ["pooled"]),
    node("Concat", ["pooled", IO.dense], ["x"], { axis: 1 }),
    node("MatMul", ["x", weight("w1")], ["xw1"]),
    node("Add", ["xw1", weight("b1")], ["pre"]),
    node("Relu", ["pre"], ["h"]),
    node("MatMul", ["h", weight("w2")], ["hw2"]),
  );
  const hasWide = w.wide !== undefined && w.wideNorm !== undefined;
  if (hasWide) {
    // Gather then cast (as for emb): only the prompt's rows are converted per run.
    const gatherRows = (table: string, out: string) =>
      dtype === "float16"
        ? [node("Gather", [table, IO.ids], [`${out}_f16`], { axis: 0 }), node("Cast", [`${out}_f16`], [out], { to: FLOAT })]
        : [node("Gather", [table, IO.ids], [out], { axis: 0 })];
    // Per-occurrence weights: the mask itself, or (TF-IDF) (1 + ln c)/c in the sum and (1 + ln c)²/c in the norm.
    let sumWeight3 = "mask3";
    let normWeight: string = IO.mask;
    if (w.wideTfidf) {
      nodes.push(
        node("Shape", [IO.ids], ["ids_shape"]),
        node("Gather", ["ids_shape", "index0"], ["batch1"], { axis: 0 }),
        node("Concat", ["batch1", "vocab"], ["batch_vocab"], { axis: 0 }),
        node("ConstantOfShape", ["batch_vocab"], ["zeros_bv"]), // float 0 [B,V]
        node("ScatterElements", ["zeros_bv", IO.ids, IO.mask], ["id_counts"], { axis: 1, reduction: "add" }), // [B,V]
        node("GatherElements", ["id_counts", IO.ids], ["occ_counts"], { axis: 1 }), // [B,L]
        node("Max", ["occ_counts", "one"], ["occ1"]), // padding may read a count of 0
        node("Log", ["occ1"], ["log_occ"]),
        node("Add", ["log_occ", "one"], ["tf"]),
        node("Div", ["tf", "occ1"], ["tf_share"]),
        node("Mul", ["tf_share", IO.mask], ["occ_w"]),
        node("Unsqueeze", ["occ_w", "axis2"], ["occ_w3"]),
        node("Mul", ["occ_w", "tf"], ["occ_norm_w"]),
      );
      sumWeight3 = "occ_w3";
      normWeight = "occ_norm_w";
    }
    nodes.push(
      ...gatherRows("wide", "wide_rows"), // [B,L,M]
      node("Mul", ["wide_rows", sumWeight3], ["wide_masked"]),
      node("ReduceSum", ["wide_masked", "axis1"], ["wide_sum"], { keepdims: 0 }), // [B,M]
      ...gatherRows("wide_norm", "norm_rows"), // [B,L]
      node("Mul", ["norm_rows", normWeight], ["norm_masked"]),
      node("ReduceSum", ["norm_masked", "axis1"], ["norm_sum"], { keepdims: 1 }), // [B,1]
      node("Max", ["norm_sum", "one"], ["norm_sum1"]),
      node("Sqrt", ["norm_sum1"], ["norm"]),
      node("Div", ["wide_sum", "norm"], ["wide_logits"]),
      node("Add", ["hw2", "wide_logits"], ["hw2_wide"]),
    );
  }
  const byIds = w.task?.input === "ids";
  if (byIds && !hasWide) throw new Error("export: a task prior over ids needs the wide part (it shares its norm)");
  const hasTask = w.task !== undefined;
  if (hasTask) {
    if (dtype === "float16") for (const n of ["task_bias", "task_prior", ...(byIds ? [] : ["task_h"])]) nodes.push(node("Cast", [n], [`${n}_f32`], { to: FLOAT }));
    if (byIds)
      nodes.push(
        ...(dtype === "float16"
          ? [node("Gather", ["task", IO.ids], ["task_rows_f16"], { axis: 0 }), node("Cast", ["task_rows_f16"], ["task_rows"], { to: FLOAT })]
          : [node("Gather", ["task", IO.ids], ["task_rows"], { axis: 0 })]), // [B,L,T]
        node("Mul", ["task_rows", w.wideTfidf ? "occ_w3" : "mask3"], ["task_masked"]),
        node("ReduceSum", ["task_masked", "axis1"], ["task_sum"], { keepdims: 0 }), // [B,T]
        node("Div", ["task_sum", "norm"], ["task_score"]),
      );
    else nodes.push(node("MatMul", ["h", weight("task_h")], ["task_score"])); // [B,T] from the hidden layer
    nodes.push(
      node("Add", ["task_score", weight("task_bias")], ["task_logits"]),
      node("Softmax", ["task_logits"], ["task_p"], { axis: 1 }),
      node("MatMul", ["task_p", weight("task_prior")], ["task_add"]), // [B,M]
      node("Add", [hasWide ? "hw2_wide" : "hw2", "task_add"], ["hw2_task"]),
    );
  }
  nodes.push(node("Add", [hasTask ? "hw2_task" : hasWide ? "hw2_wide" : "hw2", weight("b2")], [IO.output]));
  const graph = onnx.GraphProto.create({
    name: "preflight_student",
    node: nodes,
    initializer: [
      tensor("emb", [V, D], w.emb, dtype),
      tensor("w1", [D + F, H], w.w1, dtype),
      tensor("b1", [H], w.b1, dtype),
      tensor("w2", [H, M], w.w2, dtype),
      tensor("b2", [M], w.b2, dtype),
      ...(hasWide ? [tensor("wide", [V, M], w.wide!, dtype), tensor("wide_norm", [V], w.wideNorm!, dtype)] : []),
      ...(hasTask ? taskTensors(w.task!, V, H, M, dtype) : []),
      int64s("axis1", [1]),
      int64s("axis2", [2]),
      ...(hasWide && w.wideTfidf ? [int64s("index0", [0]), int64s("vocab", [V])] : []),
      tensor("one", [1], new Float32Array([1]), "float32"),
    ],
    input: [
      valueInfo(IO.ids, onnx.TensorProto.DataType.INT64, ["batch", "length"]),
      valueInfo(IO.mask, FLOAT, ["batch", "length"]),
      valueInfo(IO.dense, FLOAT, ["batch", F]),
    ],
    output: [valueInfo(IO.output, FLOAT, ["batch", M])],
  });
  const model = onnx.ModelProto.create({
    irVersion: 8,
    producerName: "preflight",
    producerVersion: "1",
    docString,
    opsetImport: [{ domain: "", version: OPSET }],
    graph,
  });
  return onnx.ModelProto.encode(model).finish();
}
