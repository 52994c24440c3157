/**
 * Tests for scripts/lib/ort-node.ts and form (b) teacher activations
 * (scripts/lib/activations/onnx-teacher.ts, tokenizer.ts) against a toy ONNX
 * decoder built in test/fixtures/teacher/build-decoder.ts. Known answers come
 * from the fixture's float64 reference forward pass on unpadded sequences.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { loadSession, runSession, sessionIO, closeSession } from "../../scripts/lib/ort-node.js";
import { padBatch, runOnnxTeacher, truncateLeft, type TeacherConfigInput } from "../../scripts/lib/activations/onnx-teacher.js";
import { applyTemplate, loadVocabTokenizer } from "../../scripts/lib/activations/tokenizer.js";
import { streamActivations } from "../../scripts/lib/activations/store.js";
import { buildToyDecoder, referenceLastHidden, toyWeights, type ToyDecoderSpec } from "../fixtures/teacher/build-decoder.js";

const VOCAB = "test/fixtures/teacher/vocab.json";
const TEMPLATE = "<|user|>{prompt}<|assistant|>";
const tmp = await mkdtemp(join(tmpdir(), "preflight-teacher-"));
afterAll(() => rm(tmp, { recursive: true, force: true }));

const PROMPTS = [
  "what is 2+2?", // "+" is not in the vocab → unk
  "hi",
  "name three primes, please.",
  "",
  "a much longer prompt so that padding is substantial in this batch",
  "ok!",
  "why is the sky blue",
].map((text, i) => ({ id: `p${i}`, text }));

async function readAll(dir: string, model: string, layers: number[]) {
  const rows: Record<string, Float32Array[]> = {};
  for await (const b of streamActivations({ dir, model, layers, batchRows: 4 })) {
    b.ids.forEach((id, i) => (rows[id] = layers.map((l) => b.layers[l].slice(i * b.d, (i + 1) * b.d))));
  }
  return rows;
}

const maxAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
};

describe("ort-node wrapper", () => {
  const spec: ToyDecoderSpec = { vocab: 10, d: 4, layers: 2, maskType: "float32" };
  it("loads from bytes, reports IO metadata, runs with plain number feeds", async () => {
    const s = await loadSession(buildToyDecoder(spec));
    const io = sessionIO(s);
    expect(io.inputs.map((i) => [i.name, i.type])).toEqual([
      ["input_ids", "int64"],
      ["attention_mask", "float32"],
    ]);
    expect(io.outputs.map((o) => o.name)).toEqual(["hidden_0", "hidden_1", "hidden_2", "logits"]);
    const out = await runSession(
      s,
      { input_ids: { type: "int64", data: [1, 2, 3], dims: [1, 3] }, attention_mask: { type: "float32", data: [1, 1, 1], dims: [1, 3] } },
      ["hidden_0", "logits"],
    );
    expect(Object.keys(out).sort()).toEqual(["hidden_0", "logits"]);
    expect(out.hidden_0.dims).toEqual([1, 3, 4]);
    expect(out.logits.dims).toEqual([1, 3, 10]);
    // hidden_0 is a plain embedding lookup: row 2 of emb for the middle token.
    const w = toyWeights(spec);
    expect(Array.from(out.hidden_0.data.subarray(4, 8))).toEqual(Array.from(w.emb.subarray(8, 12)));
    await expect(
      runSession(s, { input_ids: { type: "int64", data: [1, 2], dims: [1, 3] }, attention_mask: { type: "float32", data: [1, 1, 1], dims: [1, 3] } }),
    ).rejects.toThrow(/feed input_ids: 2 values for dims \[1,3\]/);
    await closeSession(s);
  });
});

describe("tokenizer and padding", () => {
  it("matches chat markers greedily, maps unknown characters to unk, prepends bos", async () => {
    const tok = await loadVocabTokenizer(VOCAB);
    expect(tok.encode(applyTemplate(TEMPLATE, "ab+"))).toEqual([2, 3, 5, 6, 1, 4]);
    expect(applyTemplate("x{prompt}y", "$&")).toBe("x$&y");
  });

  it("pads right and left with the documented end positions", () => {
    const r = padBatch([[5, 6, 7], [8]], 0, "right");
    expect(r).toEqual({ ids: [5, 6, 7, 8, 0, 0], mask: [1, 1, 1, 1, 0, 0], positions: [0, 1, 2, 0, 0, 0], T: 3, ends: [2, 0] });
    const l = padBatch([[5, 6, 7], [8]], 0, "left");
    expect(l).toEqual({ ids: [5, 6, 7, 0, 0, 8], mask: [1, 1, 1, 0, 0, 1], positions: [0, 1, 2, 0, 0, 0], T: 3, ends: [2, 2] });
  });

  it("truncates from the left but keeps bos", () => {
    expect(truncateLeft([2, 10, 11, 12, 13], 3, 2)).toEqual([2, 12, 13]);
    expect(truncateLeft([10, 11, 12, 13], 3)).toEqual([11, 12, 13]);
    expect(truncateLeft([10, 11], 3)).toEqual([10, 11]);
  });
});

describe("onnx teacher (form b)", () => {
  const variants: { name: string; spec: ToyDecoderSpec }[] = [
    { name: "int64 mask, no positions", spec: { vocab: 46, d: 8, layers: 3, maskType: "int64" } },
    { name: "float mask, position_ids", spec: { vocab: 46, d: 8, layers: 3, maskType: "float32", withPositions: true, maxPositions: 128 } },
  ];
  for (const { name, spec } of variants) {
    it(`left and right padding agree within 1e-5 and match the reference (${name})`, async () => {
      const tok = await loadVocabTokenizer(VOCAB);
      const weights = toyWeights(spec);
      const bytes = buildToyDecoder(spec, weights);
      const results: Record<string, Record<string, Float32Array[]>> = {};
      for (const padSide of ["left", "right"] as const) {
        const config: TeacherConfigInput = {
          model: `toy-${padSide}`,
          onnx: "(bytes)",
          template: TEMPLATE,
          padSide,
          batchSize: 3,
          dtype: "F32",
          shardRows: 4,
        };
        const res = await runOnnxTeacher({ config, prompts: PROMPTS, outDir: tmp, tokenizer: tok, modelBytes: bytes });
        expect(res).toEqual({ rows: 7, shards: 2, d: 8, layers: [0, 1, 2, 3], truncated: 0 });
        results[padSide] = await readAll(tmp, `toy-${padSide}`, [0, 1, 2, 3]);
      }
      for (const p of PROMPTS) {
        const ref = referenceLastHidden(spec, weights, tok.encode(applyTemplate(TEMPLATE, p.text)));
        for (let l = 0; l <= 3; l++) {
          expect(maxAbsDiff(results.left[p.id][l], results.right[p.id][l])).toBeLessThan(1e-5);
          expect(maxAbsDiff(results.right[p.id][l], ref[l])).toBeLessThan(1e-5);
        }
      }
      // Position matters: the same final token in different prompts gives different states.
      expect(maxAbsDiff(results.left.p0[3], results.left.p6[3])).toBeGreaterThan(1e-3);
    });
  }

  it("keeps only the requested layers, truncates long prompts, and stores F16 within F16 precision", async () => {
    const spec: ToyDecoderSpec = { vocab: 46, d: 8, layers: 3 };
    const tok = await loadVocabTokenizer(VOCAB);
    const weights = toyWeights(spec);
    const res = await runOnnxTeacher({
      config: { model: "toy-f16", onnx: "(bytes)", template: TEMPLATE, padSide: "left", batchSize: 4, maxTokens: 10, layers: [2] },
      prompts: PROMPTS,
      outDir: tmp,
      tokenizer: tok,
      modelBytes: buildToyDecoder(spec, weights),
    });
    expect(res.layers).toEqual([2]);
    expect(res.truncated).toBe(4); // prompts whose templated length exceeds 10 tokens
    const got = await readAll(tmp, "toy-f16", [2]);
    for (const p of PROMPTS) {
      const ids = truncateLeft(tok.encode(applyTemplate(TEMPLATE, p.text)), 10, tok.bosId);
      const ref = referenceLastHidden(spec, weights, ids)[2];
      // |x| < 4 here, and F16 spacing below 4 is 2^-9, so rounding error ≤ 2^-10.
      expect(maxAbsDiff(got[p.id][0], ref)).toBeLessThan(2 ** -10 + 1e-5);
    }
    await expect(
      runOnnxTeacher({
        config: { model: "toy-bad", onnx: "(bytes)", layers: [7] },
        prompts: PROMPTS,
        outDir: tmp,
        tokenizer: tok,
        modelBytes: buildToyDecoder(spec, weights),
      }),
    ).rejects.toThrow(/no output for layer 7 \(has 0, 1, 2, 3\)/);
  });
});
