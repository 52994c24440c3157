/**
 * Tests for scripts/lib/activations/safetensors.ts and store.ts: a hand-built
 * file with known bit patterns (independent of our writer), dtype round trips,
 * and the shard+index layout streamed in mini-batches with strict index checks.
 */
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  SafetensorsReader,
  SafetensorsWriter,
  readSafetensorsHeader,
  writeSafetensors,
} from "../../scripts/lib/activations/safetensors.js";
import { ActivationWriter, modelDir, streamActivations, type ActivationBatch } from "../../scripts/lib/activations/store.js";

const tmp = await mkdtemp(join(tmpdir(), "preflight-st-"));
afterAll(() => rm(tmp, { recursive: true, force: true }));

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

/** Builds a safetensors file byte by byte from the spec, without our writer. */
function handBuilt(header: object, data: Uint8Array): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

describe("safetensors reader", () => {
  it("decodes known F16, BF16 and F32 bit patterns from a hand-built file", async () => {
    // F16: 1.0=0x3C00, -2.0=0xC000, 65504=0x7BFF, 2^-24=0x0001 (smallest subnormal)
    const f16 = new Uint8Array(new Uint16Array([0x3c00, 0xc000, 0x7bff, 0x0001]).buffer);
    // BF16: 1.0=0x3F80, -0.5=0xBF00, 3.0=0x4040
    const bf16 = new Uint8Array(new Uint16Array([0x3f80, 0xbf00, 0x4040]).buffer);
    const f32 = new Uint8Array(new Float32Array([0.1, -7.25]).buffer);
    const data = new Uint8Array(8 + 6 + 8);
    data.set(f16, 0);
    data.set(bf16, 8);
    data.set(f32, 14);
    const file = join(tmp, "hand.safetensors");
    await writeFile(
      file,
      handBuilt(
        {
          __metadata__: { note: "hand" },
          h: { dtype: "F16", shape: [2, 2], data_offsets: [0, 8] },
          b: { dtype: "BF16", shape: [3, 1], data_offsets: [8, 14] },
          f: { dtype: "F32", shape: [1, 2], data_offsets: [14, 22] },
        },
        data,
      ),
    );
    const r = await SafetensorsReader.open(file);
    expect(r.header.metadata).toEqual({ note: "hand" });
    expect(Array.from(await r.readRows("h", 0, 2))).toEqual([1, -2, 65504, 2 ** -24]);
    expect(Array.from(await r.readRows("h", 1, 1))).toEqual([65504, 2 ** -24]);
    expect(Array.from(await r.readRows("b", 1, 2))).toEqual([-0.5, 3]);
    expect(Array.from(await r.readRows("f", 0, 1))).toEqual([Math.fround(0.1), -7.25]);
    await expect(r.readRows("h", 1, 2)).rejects.toThrow(/rows \[1, 3\) outside \[0, 2\)/);
    await expect(r.readRows("nope", 0, 1)).rejects.toThrow(/no tensor "nope"/);
    await r.close();
  });

  it("rejects a header whose byte range disagrees with shape × dtype", async () => {
    const file = join(tmp, "bad.safetensors");
    await writeFile(file, handBuilt({ x: { dtype: "F32", shape: [2, 2], data_offsets: [0, 8] } }, new Uint8Array(8)));
    await expect(readSafetensorsHeader(file)).rejects.toThrow(/8 bytes for shape \[2,2\] F32/);
  });
});

describe("safetensors writer", () => {
  it("writes an 8-aligned header that the reader (and the spec) accept, and round-trips each dtype", async () => {
    const file = join(tmp, "rt.safetensors");
    const vals = new Float32Array([0, 1, -1, 0.5, 1024, -3.75]); // exact in F16 and BF16
    await writeSafetensors(file, {
      a: { dtype: "F16", shape: [3, 2], data: vals },
      b: { dtype: "BF16", shape: [2, 3], data: vals },
      c: { dtype: "F32", shape: [6, 1], data: new Float32Array([Math.PI, 1e-30, -1e30, 7, 8, 9]) },
    });
    const bytes = await readFile(file);
    const n = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
    expect((8 + n) % 8).toBe(0);
    expect(bytes.length).toBe(8 + n + 12 + 12 + 24);
    const r = await SafetensorsReader.open(file);
    expect(Array.from(await r.readRows("a", 0, 3))).toEqual(Array.from(vals));
    expect(Array.from(await r.readRows("b", 0, 2))).toEqual(Array.from(vals));
    expect(Array.from(await r.readRows("c", 0, 6))).toEqual(Array.from(new Float32Array([Math.PI, 1e-30, -1e30, 7, 8, 9])));
    await r.close();
  });

  it("rounds F16 to nearest even (1 + 2^-11 → 1, 1 + 3·2^-11 → 1 + 2^-9)", async () => {
    const file = join(tmp, "round.safetensors");
    await writeSafetensors(file, { x: { dtype: "F16", shape: [1, 2], data: new Float32Array([1 + 2 ** -11, 1 + 3 * 2 ** -11]) } });
    const r = await SafetensorsReader.open(file);
    expect(Array.from(await r.readRows("x", 0, 1))).toEqual([1, 1 + 2 ** -9]);
    await r.close();
  });

  it("refuses to close with an incomplete tensor", async () => {
    const w = await SafetensorsWriter.create(join(tmp, "inc.safetensors"), [{ name: "x", dtype: "F32", shape: [4, 2] }]);
    await w.writeRows("x", 0, new Float32Array(4));
    await expect(w.close()).rejects.toThrow(/wrote 16 of 32 bytes/);
  });
});

describe("activation store", () => {
  const d = 3;
  const value = (row: number, layer: number, j: number) => row * 10 + layer + j / 4; // exact in F16 for small rows

  async function writeSet(dir: string, total: number, shardRows: number, appendSizes: number[]) {
    const w = await ActivationWriter.create({ dir, model: "org/teacher", layers: [0, 12], totalRows: total, shardRows });
    let row = 0;
    for (const n of appendSizes) {
      const ids = Array.from({ length: n }, (_, i) => `p${row + i}`);
      const layers: Record<number, Float32Array> = {};
      for (const l of [0, 12]) layers[l] = Float32Array.from({ length: n * d }, (_, k) => value(row + Math.floor(k / d), l, k % d));
      await w.append(ids, layers);
      row += n;
    }
    return w.close();
  }

  it("streams rows in index order, batches never spanning shards, values exact", async () => {
    const dir = join(tmp, "acts");
    expect(await writeSet(dir, 7, 3, [4, 1, 2])).toEqual({ rows: 7, shards: 3, d: 3 });
    expect(modelDir(dir, "org/teacher")).toBe(join(dir, "org%2Fteacher"));
    const batches: ActivationBatch[] = await collect(streamActivations({ dir, model: "org/teacher", layers: [12, 0], batchRows: 2 }));
    expect(batches.map((b) => b.rows)).toEqual([2, 1, 2, 1, 1]);
    expect(batches.flatMap((b) => b.ids)).toEqual(["p0", "p1", "p2", "p3", "p4", "p5", "p6"]);
    let row = 0;
    for (const b of batches) {
      expect(b.d).toBe(3);
      for (let i = 0; i < b.rows; i++, row++) {
        for (const l of [0, 12]) {
          expect(Array.from(b.layers[l].subarray(i * d, (i + 1) * d))).toEqual([0, 1, 2].map((j) => value(row, l, j)));
        }
      }
    }
  });

  it("names the index line when rows are out of order, and the shard when a layer is missing", async () => {
    const dir = join(tmp, "acts2");
    await writeSet(dir, 4, 4, [4]);
    const index = join(modelDir(dir, "org/teacher"), "index.jsonl");
    const lines = (await readFile(index, "utf8")).trim().split("\n");
    [lines[1], lines[2]] = [lines[2], lines[1]];
    await writeFile(index, lines.join("\n") + "\n");
    await expect(collect(streamActivations({ dir, model: "org/teacher", layers: [0], batchRows: 8 }))).rejects.toThrow(
      `${index}:2: row: expected row 1 of shard 0, got 2`,
    );
    await expect(collect(streamActivations({ dir, model: "org/teacher", layers: [5], batchRows: 8 }))).rejects.toThrow(
      /shard-00000\.safetensors: no tensor "layer\.5"/,
    );
  });

  it("refuses an index that lists fewer rows than a shard holds", async () => {
    const dir = join(tmp, "acts3");
    await writeSet(dir, 4, 4, [4]);
    const index = join(modelDir(dir, "org/teacher"), "index.jsonl");
    const lines = (await readFile(index, "utf8")).trim().split("\n");
    await writeFile(index, lines.slice(0, 3).join("\n") + "\n");
    await expect(collect(streamActivations({ dir, model: "org/teacher", layers: [0], batchRows: 8 }))).rejects.toThrow(
      /index\.jsonl:3: shard: shard-00000\.safetensors has 4 rows but the index lists 3/,
    );
  });

  it("writer refuses to close short of the declared row count", async () => {
    await expect(writeSet(join(tmp, "acts4"), 5, 2, [3])).rejects.toThrow(/wrote 3 of the declared 5 rows/);
  });
});
