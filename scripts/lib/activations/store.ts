/**
 * Teacher-activation directory layout (docs/formats.md, "Activations"):
 *   <dir>/<encodeURIComponent(model)>/index.jsonl            {"id","shard","row"} per row
 *   <dir>/<encodeURIComponent(model)>/shard-00000.safetensors one [rows, d] tensor per layer, "layer.<n>"
 * Owns: streaming reads of that layout in mini-batches and a streaming writer
 * for it (used by form (b), the bench and test fixtures). Must not: hold more
 * than one batch of activations or more than one batch of index rows in memory.
 */
import { mkdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { z } from "zod";
import { DataFileError, JsonlWriter, readJsonl } from "../jsonl.js";
import { SafetensorsReader, SafetensorsWriter, type Dtype } from "./safetensors.js";

export const FORMAT_TAG = "preflight-activations/1";

export const ActivationIndexRow = z.object({
  id: z.string().min(1),
  shard: z.number().int().min(0),
  row: z.number().int().min(0),
});
export type ActivationIndexRow = z.infer<typeof ActivationIndexRow>;

export const layerTensor = (layer: number): string => `layer.${layer}`;
export const shardFile = (shard: number): string => `shard-${String(shard).padStart(5, "0")}.safetensors`;
/** Model ids may contain "/" (org/name); URI-encoding keeps them one directory level. */
export const modelDir = (dir: string, model: string): string => join(dir, encodeURIComponent(model));

export interface ActivationBatch {
  ids: string[];
  rows: number;
  d: number;
  /** layer → Float32Array(rows × d), row-major, rows in index order. */
  layers: Record<number, Float32Array>;
}

export interface StreamOptions {
  dir: string;
  model: string;
  layers: number[];
  /** Maximum rows per batch; batches never span two shards, so the last of a shard may be smaller. */
  batchRows: number;
}

/**
 * Streams activations in index order. The index must list shards in order
 * (0, 1, …) and each shard's rows 0..rows-1 exactly once, contiguously; any
 * deviation is an error naming index.jsonl:line, because a silently reordered
 * index would pair prompts with the wrong activations.
 */
export async function* streamActivations(opts: StreamOptions): AsyncGenerator<ActivationBatch> {
  if (!(opts.batchRows >= 1)) throw new Error(`streamActivations: batchRows must be ≥ 1`);
  if (opts.layers.length === 0) throw new Error(`streamActivations: no layers requested`);
  const base = modelDir(opts.dir, opts.model);
  const indexFile = join(base, "index.jsonl");
  let reader: SafetensorsReader | undefined;
  let shard = -1;
  let shardRows = 0;
  let d = -1;
  let ids: string[] = [];
  let start = 0;

  const openShard = async (s: number) => {
    if (reader) await reader.close();
    reader = await SafetensorsReader.open(join(base, shardFile(s)));
    shard = s;
    shardRows = -1;
    for (const layer of opts.layers) {
      const t = reader.tensor(layerTensor(layer));
      if (t.shape.length !== 2) throw new Error(`${reader.header.file}: ${t.name}: expected shape [rows, d], got [${t.shape}]`);
      if (shardRows === -1) shardRows = t.rows;
      if (t.rows !== shardRows) throw new Error(`${reader.header.file}: layers disagree on row count`);
      if (d === -1) d = t.rowSize;
      if (t.rowSize !== d) throw new Error(`${reader.header.file}: ${t.name}: d=${t.rowSize}, expected ${d}`);
    }
  };
  const flush = async (): Promise<ActivationBatch> => {
    const layers: Record<number, Float32Array> = {};
    for (const layer of opts.layers) layers[layer] = await reader!.readRows(layerTensor(layer), start, ids.length);
    const batch = { ids, rows: ids.length, d, layers };
    start += ids.length;
    ids = [];
    return batch;
  };
  const shortShard = (line: number, next: string) =>
    new DataFileError(indexFile, line, [{ path: "shard", message: `${shardFile(shard)} has ${shardRows} rows but the index lists ${start + ids.length} before ${next}` }]);

  try {
    let lastLine = 0;
    for await (const { line, value } of readJsonl(indexFile, ActivationIndexRow)) {
      lastLine = line;
      if (value.shard !== shard) {
        if (value.shard !== shard + 1 || value.row !== 0) {
          throw new DataFileError(indexFile, line, [{ path: "shard", message: `expected shard ${shard + 1} row 0 (shards in order, rows from 0), got shard ${value.shard} row ${value.row}` }]);
        }
        if (ids.length > 0) yield await flush();
        if (shard >= 0 && start !== shardRows) throw shortShard(line, `shard ${value.shard}`);
        await openShard(value.shard);
        start = 0;
      } else if (value.row !== start + ids.length) {
        throw new DataFileError(indexFile, line, [{ path: "row", message: `expected row ${start + ids.length} of shard ${shard}, got ${value.row}` }]);
      }
      if (value.row >= shardRows) {
        throw new DataFileError(indexFile, line, [{ path: "row", message: `row ${value.row} past the end of ${shardFile(shard)} (${shardRows} rows)` }]);
      }
      ids.push(value.id);
      if (ids.length === opts.batchRows) yield await flush();
    }
    if (ids.length > 0) yield await flush();
    if (shard >= 0 && start !== shardRows) throw shortShard(lastLine, "the end of the index");
  } finally {
    if (reader) await reader.close();
  }
}

export interface WriterOptions {
  dir: string;
  model: string;
  layers: number[];
  /** Total rows that will be appended; fixes every shard's shape up front. */
  totalRows: number;
  shardRows?: number;
  dtype?: Dtype;
  /** Extra string metadata stored in every shard's __metadata__. */
  metadata?: Record<string, string>;
}

/**
 * Streaming writer for the layout. Replaces any previous output for the
 * model; writes index.jsonl atomically at close(), so a complete index means a
 * complete, consistent set of shards. d is taken from the first append.
 */
export class ActivationWriter {
  private index: JsonlWriter;
  private shard: SafetensorsWriter | undefined;
  private shardNo = -1;
  private written = 0;
  private d = -1;
  readonly shardRows: number;
  readonly dtype: Dtype;

  private constructor(
    private readonly opts: WriterOptions,
    private readonly base: string,
  ) {
    this.shardRows = opts.shardRows ?? 65536;
    this.dtype = opts.dtype ?? "F16";
    this.index = new JsonlWriter(join(base, "index.jsonl"));
  }

  static async create(opts: WriterOptions): Promise<ActivationWriter> {
    if (!(opts.shardRows === undefined || opts.shardRows >= 1)) throw new Error("ActivationWriter: shardRows must be ≥ 1");
    if (opts.layers.length === 0) throw new Error("ActivationWriter: no layers");
    const base = modelDir(opts.dir, opts.model);
    await rm(base, { recursive: true, force: true });
    await mkdir(base, { recursive: true });
    return new ActivationWriter(opts, base);
  }

  /** Appends rows in order; `layers[l]` is Float32Array(ids.length × d). */
  async append(ids: string[], layers: Record<number, Float32Array>): Promise<void> {
    const n = ids.length;
    if (n === 0) return;
    if (this.written + n > this.opts.totalRows) throw new Error(`ActivationWriter: more than the declared ${this.opts.totalRows} rows`);
    for (const l of this.opts.layers) {
      const data = layers[l];
      if (!data) throw new Error(`ActivationWriter: batch lacks layer ${l}`);
      if (this.d === -1) this.d = data.length / n;
      if (!Number.isInteger(this.d) || this.d < 1 || data.length !== n * this.d) {
        throw new Error(`ActivationWriter: layer ${l}: ${data.length} values for ${n} rows of d=${this.d}`);
      }
    }
    let done = 0;
    while (done < n) {
      const row = this.written;
      const shardNo = Math.floor(row / this.shardRows);
      const inShard = row - shardNo * this.shardRows;
      if (shardNo !== this.shardNo) await this.openShard(shardNo);
      const take = Math.min(n - done, this.shardRows - inShard);
      for (const l of this.opts.layers) {
        await this.shard!.writeRows(layerTensor(l), inShard, layers[l].subarray(done * this.d, (done + take) * this.d));
      }
      for (let i = 0; i < take; i++) await this.index.write({ id: ids[done + i], shard: shardNo, row: inShard + i });
      done += take;
      this.written += take;
    }
  }

  private async openShard(shardNo: number): Promise<void> {
    if (this.shard) await this.shard.close();
    const rows = Math.min(this.shardRows, this.opts.totalRows - shardNo * this.shardRows);
    this.shard = await SafetensorsWriter.create(
      join(this.base, shardFile(shardNo)),
      this.opts.layers.map((l) => ({ name: layerTensor(l), dtype: this.dtype, shape: [rows, this.d] })),
      { format: FORMAT_TAG, model: this.opts.model, first_row: String(shardNo * this.shardRows), ...this.opts.metadata },
    );
    this.shardNo = shardNo;
  }

  async close(): Promise<{ rows: number; shards: number; d: number }> {
    const shard = this.shard;
    this.shard = undefined;
    if (this.written !== this.opts.totalRows) {
      // Report the row shortfall (the cause), not the shard's byte shortfall (the symptom).
      await shard?.close().catch(() => undefined);
      await this.index.abort();
      throw new Error(`ActivationWriter: wrote ${this.written} of the declared ${this.opts.totalRows} rows`);
    }
    if (shard) await shard.close();
    await this.index.close();
    return { rows: this.written, shards: this.shardNo + 1, d: this.d };
  }

  async abort(): Promise<void> {
    await this.index.abort();
    await rm(this.base, { recursive: true, force: true });
  }
}
