/**
 * ONNX export (opset 17) of the tiny-transformer comparison student, with the
 * dense standardiser folded into w1/b1 so the graph takes raw dense features
 * like the bag student. Same I/O names and layout as export-student.ts:
 * ids int64 [B,L] (subword ids, L ≤ maxLen), mask float [B,L], dense [B,F] →
 * logits [B,M]. Padded keys get a −1e9 attention bias. Graph layout only.
 */
import onnxProto from "onnx-proto";
import { IO, OPSET } from "../onnx/export-student.js";
import type { Standardizer } from "./network.js";
import type { TfParams } from "./transformer.js";

const { onnx } = onnxProto;
const FLOAT = onnx.TensorProto.DataType.FLOAT;
const INT64 = onnx.TensorProto.DataType.INT64;

const f32 = (name: string, dims: number[], data: ArrayLike<number>) =>
  onnx.TensorProto.create({ name, dims, dataType: FLOAT, rawData: new Uint8Array(Float32Array.from(data).buffer) });
const i64 = (name: string, dims: number[], values: number[]) =>
  onnx.TensorProto.create({ name, dims, dataType: INT64, rawData: new Uint8Array(new BigInt64Array(values.map(BigInt)).buffer) });

function node(op: string, inputs: string[], outputs: string[], attrs: Record<string, number | number[]> = {}) {
  return onnx.NodeProto.create({
    opType: op,
    input: inputs,
    output: outputs,
    name: outputs[0],
    attribute: Object.entries(attrs).map(([name, v]) =>
      Array.isArray(v)
        ? onnx.AttributeProto.create({ name, ints: v, type: onnx.AttributeProto.AttributeType.INTS })
        : onnx.AttributeProto.create({ name, i: v, type: onnx.AttributeProto.AttributeType.INT }),
    ),
  });
}

function valueInfo(name: string, elem: number, dims: (number | string)[]) {
  return onnx.ValueInfoProto.create({
    name,
    type: { tensorType: { elemType: elem, shape: { dim: dims.map((d) => (typeof d === "number" ? { dimValue: d } : { dimParam: d })) } } },
  });
}

/** Folds x_f ↦ (x_f − μ_f)/σ_f into the head's first layer (as params.ts foldToWeights). */
function foldHead(p: TfParams, s: Standardizer): { w1: Float64Array; b1: Float64Array } {
  const { dim: d, dense: F, hidden: H } = p.shape;
  const w1 = p.w1.slice();
  const b1 = p.b1.slice();
  for (let f = 0; f < F; f++) {
    for (let j = 0; j < H; j++) {
      const w = p.w1[(d + f) * H + j] / s.std[f];
      w1[(d + f) * H + j] = w;
      b1[j] -= s.mean[f] * w;
    }
  }
  return { w1, b1 };
}

export function exportTransformer(p: TfParams, std: Standardizer): Uint8Array {
  const { vocab, maxLen, dim: d, dense: F, hidden: H, outputs: M } = p.shape;
  const { w1, b1 } = foldHead(p, std);
  const nodes = [
    node("Gather", ["tok", IO.ids], ["tokE"], { axis: 0 }),
    node("Shape", [IO.ids], ["idsShape"]),
    node("Gather", ["idsShape", "one_i"], ["len"], { axis: 0 }),
    node("Range", ["zero_i", "len", "one_i"], ["positions"]),
    node("Gather", ["pos", "positions"], ["posE"], { axis: 0 }),
    node("Add", ["tokE", "posE"], ["X"]),
    node("MatMul", ["X", "wq"], ["Q"]),
    node("MatMul", ["X", "wk"], ["K"]),
    node("MatMul", ["X", "wv"], ["V"]),
    node("Transpose", ["K"], ["Kt"], { perm: [0, 2, 1] }),
    node("MatMul", ["Q", "Kt"], ["S0"]),
    node("Mul", ["S0", "scale"], ["S1"]),
    node("Sub", [IO.mask, "one_f"], ["maskM1"]),
    node("Mul", ["maskM1", "big"], ["bias2"]),
    node("Unsqueeze", ["bias2", "axis1"], ["bias"]),
    node("Add", ["S1", "bias"], ["S"]),
    node("Softmax", ["S"], ["A"], { axis: -1 }),
    node("MatMul", ["A", "V"], ["O"]),
    node("MatMul", ["O", "wo"], ["OW"]),
    node("Add", ["X", "OW"], ["Y"]),
    node("Unsqueeze", [IO.mask, "axis2"], ["mask3"]),
    node("Mul", ["Y", "mask3"], ["masked"]),
    node("ReduceSum", ["masked", "axis1"], ["summed"], { keepdims: 0 }),
    node("ReduceSum", [IO.mask, "axis1"], ["count"], { keepdims: 1 }),
    node("Max", ["count", "one_f"], ["count1"]),
    node("Div", ["summed", "count1"], ["pooled"]),
    node("Concat", ["pooled", IO.dense], ["x"], { axis: 1 }),
    node("MatMul", ["x", "w1"], ["xw1"]),
    node("Add", ["xw1", "b1"], ["pre"]),
    node("Relu", ["pre"], ["h"]),
    node("MatMul", ["h", "w2"], ["hw2"]),
    node("Add", ["hw2", "b2"], [IO.output]),
  ];
  const graph = onnx.GraphProto.create({
    name: "preflight_tiny_transformer",
    node: nodes,
    initializer: [
      f32("tok", [vocab, d], p.tok),
      f32("pos", [maxLen, d], p.pos),
      f32("wq", [d, d], p.wq),
      f32("wk", [d, d], p.wk),
      f32("wv", [d, d], p.wv),
      f32("wo", [d, d], p.wo),
      f32("w1", [d + F, H], w1),
      f32("b1", [H], b1),
      f32("w2", [H, M], p.w2),
      f32("b2", [M], p.b2),
      f32("scale", [1], [1 / Math.sqrt(d)]),
      f32("one_f", [1], [1]),
      f32("big", [1], [1e9]),
      i64("zero_i", [], [0]),
      i64("one_i", [], [1]),
      i64("axis1", [1], [1]),
      i64("axis2", [1], [2]),
    ],
    input: [valueInfo(IO.ids, INT64, ["batch", "length"]), valueInfo(IO.mask, FLOAT, ["batch", "length"]), valueInfo(IO.dense, FLOAT, ["batch", F])],
    output: [valueInfo(IO.output, FLOAT, ["batch", M])],
  });
  const model = onnx.ModelProto.create({ irVersion: 8, producerName: "preflight", producerVersion: "1", opsetImport: [{ domain: "", version: OPSET }], graph });
  return onnx.ModelProto.encode(model).finish();
}
