/**
 * The safetensors file format, raw: header parsing, positional row reads with
 * bounded buffers, dtype conversion (F16/BF16/F32 → Float32Array), and a
 * positional writer. Owns the byte layout only; the activation directory
 * layout (index + shards) lives in store.ts. Must not: read a whole tensor or
 * file into memory, know about prompts or models.
 *
 * Format: u64 little-endian header length N, then N bytes of UTF-8 JSON
 * {"__metadata__": {str: str}, "<name>": {"dtype", "shape", "data_offsets": [b, e]}},
 * then the byte buffer; offsets are relative to the buffer start (8 + N).
 */
import { open, type FileHandle } from "node:fs/promises";
import { endianness } from "node:os";
import { fromFloat16Bits, toFloat16Bits } from "../../onnx/float16.js";

export type Dtype = "F16" | "BF16" | "F32";
export const DTYPE_BYTES: Record<Dtype, number> = { F16: 2, BF16: 2, F32: 4 };
const MAX_HEADER = 100 * 1024 * 1024; // same sanity cap as the reference implementation

// Typed-array views reinterpret bytes in host order; safetensors is little-endian.
if (endianness() !== "LE") throw new Error("safetensors.ts assumes a little-endian host");

export interface TensorInfo {
  name: string;
  /** As written in the file; may be a dtype we cannot decode (reads then throw). */
  dtype: string;
  shape: number[];
  /** Absolute byte offsets in the file (header already added). */
  begin: number;
  end: number;
}

export interface SafetensorsHeader {
  file: string;
  dataStart: number;
  tensors: Record<string, TensorInfo>;
  metadata: Record<string, string>;
}

const product = (xs: number[]) => xs.reduce((a, b) => a * b, 1);
const isDtype = (d: string): d is Dtype => d === "F16" || d === "BF16" || d === "F32";

async function readFully(fh: FileHandle, buf: Uint8Array, position: number, file: string): Promise<void> {
  let done = 0;
  while (done < buf.length) {
    const { bytesRead } = await fh.read(buf, done, buf.length - done, position + done);
    if (bytesRead === 0) throw new Error(`${file}: unexpected end of file at byte ${position + done}`);
    done += bytesRead;
  }
}

async function parseHeader(fh: FileHandle, file: string): Promise<SafetensorsHeader> {
  const size = (await fh.stat()).size;
  if (size < 8) throw new Error(`${file}: not a safetensors file (${size} bytes)`);
  const lenBuf = new Uint8Array(8);
  await readFully(fh, lenBuf, 0, file);
  const n = Number(new DataView(lenBuf.buffer).getBigUint64(0, true));
  if (n > MAX_HEADER || 8 + n > size) throw new Error(`${file}: bad header length ${n}`);
  const json = new Uint8Array(n);
  await readFully(fh, json, 8, file);
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(new TextDecoder().decode(json)) as Record<string, unknown>;
  } catch (e) {
    throw new Error(`${file}: malformed header JSON: ${(e as Error).message}`);
  }
  const dataStart = 8 + n;
  const tensors: Record<string, TensorInfo> = {};
  let metadata: Record<string, string> = {};
  for (const [name, v] of Object.entries(raw)) {
    if (name === "__metadata__") {
      metadata = v as Record<string, string>;
      continue;
    }
    const t = v as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    const shape = t.shape as number[];
    const offs = t.data_offsets as number[];
    if (typeof t.dtype !== "string" || !Array.isArray(shape) || !Array.isArray(offs) || offs.length !== 2) {
      throw new Error(`${file}: tensor ${name}: header entry needs dtype, shape, data_offsets`);
    }
    const info: TensorInfo = { name, dtype: t.dtype, shape, begin: dataStart + offs[0], end: dataStart + offs[1] };
    if (info.end > size || info.begin > info.end) throw new Error(`${file}: tensor ${name}: data_offsets outside the file`);
    if (isDtype(t.dtype) && info.end - info.begin !== product(shape) * DTYPE_BYTES[t.dtype]) {
      throw new Error(`${file}: tensor ${name}: ${info.end - info.begin} bytes for shape [${shape}] ${t.dtype}`);
    }
    tensors[name] = info;
  }
  return { file, dataStart, tensors, metadata };
}

export async function readSafetensorsHeader(file: string): Promise<SafetensorsHeader> {
  const fh = await open(file, "r");
  try {
    return await parseHeader(fh, file);
  } finally {
    await fh.close();
  }
}

// 64K-entry table: one lookup per element is far cheaper than bit-twiddling in JS.
let f16Table: Float32Array | undefined;
function f16Lut(): Float32Array {
  if (!f16Table) {
    f16Table = new Float32Array(65536);
    for (let h = 0; h < 65536; h++) f16Table[h] = fromFloat16Bits(h);
  }
  return f16Table;
}

/** Decodes little-endian `bytes` of `dtype` into `out` (length = element count). */
export function decodeInto(dtype: Dtype, bytes: Uint8Array, out: Float32Array): void {
  const n = out.length;
  if (bytes.byteLength < n * DTYPE_BYTES[dtype]) throw new Error(`decodeInto: ${bytes.byteLength} bytes < ${n} ${dtype}`);
  // Callers pass buffers allocated at offset 0, so the 2/4-byte views are aligned.
  if (dtype === "F32") {
    out.set(new Float32Array(bytes.buffer, bytes.byteOffset, n));
  } else if (dtype === "F16") {
    const lut = f16Lut();
    const h = new Uint16Array(bytes.buffer, bytes.byteOffset, n);
    for (let i = 0; i < n; i++) out[i] = lut[h[i]];
  } else {
    const h = new Uint16Array(bytes.buffer, bytes.byteOffset, n);
    const u = new Uint32Array(out.buffer, out.byteOffset, n);
    for (let i = 0; i < n; i++) u[i] = h[i] << 16; // bf16 is the top half of an f32
  }
}

/** Encodes floats as `dtype` bytes (F16 and BF16 round to nearest even). */
export function encode(dtype: Dtype, src: Float32Array): Uint8Array {
  if (dtype === "F32") return new Uint8Array(src.buffer.slice(src.byteOffset, src.byteOffset + src.byteLength));
  if (dtype === "F16") return new Uint8Array(toFloat16Bits(src).buffer);
  const u = new Uint32Array(Float32Array.from(src).buffer);
  const out = new Uint16Array(src.length);
  for (let i = 0; i < u.length; i++) {
    const x = u[i];
    if ((x & 0x7f800000) === 0x7f800000 && x & 0x7fffff) out[i] = (x >>> 16) | 0x40; // keep NaN a NaN
    else out[i] = (x + 0x7fff + ((x >>> 16) & 1)) >>> 16;
  }
  return new Uint8Array(out.buffer);
}

/**
 * Random-access reader over one file. Reads rows of 2-D (or N-D: first axis
 * = rows) tensors by explicit position into a scratch buffer that grows only
 * to the largest batch requested, so memory is bounded by batch size.
 */
export class SafetensorsReader {
  private scratch = new Uint8Array(0);
  private constructor(
    private readonly fh: FileHandle,
    readonly header: SafetensorsHeader,
  ) {}

  static async open(file: string): Promise<SafetensorsReader> {
    const fh = await open(file, "r");
    try {
      return new SafetensorsReader(fh, await parseHeader(fh, file));
    } catch (e) {
      await fh.close();
      throw e;
    }
  }

  tensor(name: string): TensorInfo & { dtype: Dtype; rows: number; rowSize: number } {
    const t = this.header.tensors[name];
    if (!t) throw new Error(`${this.header.file}: no tensor "${name}" (has: ${Object.keys(this.header.tensors).join(", ")})`);
    if (!isDtype(t.dtype)) throw new Error(`${this.header.file}: tensor ${name}: unsupported dtype ${t.dtype} (F16, BF16, F32)`);
    return { ...t, dtype: t.dtype, rows: t.shape[0] ?? 1, rowSize: product(t.shape.slice(1)) };
  }

  /** Rows [start, start+count) of `name` as a fresh Float32Array(count × rowSize). */
  async readRows(name: string, start: number, count: number): Promise<Float32Array> {
    const t = this.tensor(name);
    if (start < 0 || count < 0 || start + count > t.rows) {
      throw new Error(`${this.header.file}: tensor ${name}: rows [${start}, ${start + count}) outside [0, ${t.rows})`);
    }
    const rowBytes = t.rowSize * DTYPE_BYTES[t.dtype];
    const nbytes = count * rowBytes;
    if (this.scratch.byteLength < nbytes) this.scratch = new Uint8Array(nbytes);
    const view = this.scratch.subarray(0, nbytes);
    await readFully(this.fh, view, t.begin + start * rowBytes, this.header.file);
    const out = new Float32Array(count * t.rowSize);
    decodeInto(t.dtype, view, out);
    return out;
  }

  async close(): Promise<void> {
    await this.fh.close();
  }
}

export interface TensorSpec {
  name: string;
  dtype: Dtype;
  shape: number[];
}

/**
 * Positional writer: the header is fixed from the specs up front (shapes must
 * be known), so rows can be written in any order, one batch at a time, without
 * ever holding a tensor in memory. close() fails if any tensor is incomplete.
 */
export class SafetensorsWriter {
  private readonly written = new Map<string, number>();
  private constructor(
    private readonly fh: FileHandle,
    readonly file: string,
    private readonly layout: Map<string, TensorSpec & { begin: number; bytes: number }>,
  ) {}

  static async create(file: string, specs: TensorSpec[], metadata: Record<string, string> = {}): Promise<SafetensorsWriter> {
    const header: Record<string, unknown> = {};
    if (Object.keys(metadata).length > 0) header.__metadata__ = metadata;
    const layout = new Map<string, TensorSpec & { begin: number; bytes: number }>();
    let offset = 0;
    for (const s of specs) {
      if (layout.has(s.name)) throw new Error(`${file}: duplicate tensor ${s.name}`);
      const bytes = product(s.shape) * DTYPE_BYTES[s.dtype];
      header[s.name] = { dtype: s.dtype, shape: s.shape, data_offsets: [offset, offset + bytes] };
      layout.set(s.name, { ...s, begin: offset, bytes });
      offset += bytes;
    }
    let json = JSON.stringify(header);
    // Pad with spaces so the byte buffer starts 8-aligned, as the reference writer does.
    const jsonLen = new TextEncoder().encode(json).length;
    json += " ".repeat((8 - ((8 + jsonLen) % 8)) % 8);
    const jsonBytes = new TextEncoder().encode(json);
    const head = new Uint8Array(8 + jsonBytes.length);
    new DataView(head.buffer).setBigUint64(0, BigInt(jsonBytes.length), true);
    head.set(jsonBytes, 8);
    const fh = await open(file, "w");
    await fh.write(head, 0, head.length, 0);
    for (const l of layout.values()) l.begin += head.length;
    return new SafetensorsWriter(fh, file, layout);
  }

  /** Writes `data` (whole rows) at row `rowStart` of tensor `name`. */
  async writeRows(name: string, rowStart: number, data: Float32Array): Promise<void> {
    const l = this.layout.get(name);
    if (!l) throw new Error(`${this.file}: no tensor ${name} declared`);
    const rowSize = product(l.shape.slice(1));
    if (data.length % rowSize !== 0) throw new Error(`${this.file}: ${name}: ${data.length} values is not whole rows of ${rowSize}`);
    const bytes = encode(l.dtype, data);
    const pos = rowStart * rowSize * DTYPE_BYTES[l.dtype];
    if (rowStart < 0 || pos + bytes.length > l.bytes) throw new Error(`${this.file}: ${name}: rows past the declared shape`);
    let done = 0;
    while (done < bytes.length) {
      const { bytesWritten } = await this.fh.write(bytes, done, bytes.length - done, l.begin + pos + done);
      done += bytesWritten;
    }
    this.written.set(name, (this.written.get(name) ?? 0) + bytes.length);
  }

  async close(): Promise<void> {
    await this.fh.close();
    for (const l of this.layout.values()) {
      // Counting bytes (not ranges) suffices because callers write each row once.
      const w = this.written.get(l.name) ?? 0;
      if (w !== l.bytes) throw new Error(`${this.file}: tensor ${l.name}: wrote ${w} of ${l.bytes} bytes`);
    }
  }
}

/** Convenience for tests and fixtures: writes whole in-memory tensors. */
export async function writeSafetensors(
  file: string,
  tensors: Record<string, { dtype: Dtype; shape: number[]; data: Float32Array }>,
  metadata: Record<string, string> = {},
): Promise<void> {
  const w = await SafetensorsWriter.create(
    file,
    Object.entries(tensors).map(([name, t]) => ({ name, dtype: t.dtype, shape: t.shape })),
    metadata,
  );
  for (const [name, t] of Object.entries(tensors)) await w.writeRows(name, 0, t.data);
  await w.close();
}
