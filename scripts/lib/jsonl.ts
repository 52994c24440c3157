/**
 * JSONL and file-hash I/O for the offline pipeline. Owns: a streaming,
 * schema-validating JSONL reader whose errors name file:line:path, a
 * streaming atomic JSONL writer, a JSON-file reader with the same error shape,
 * and streaming sha256 of a file. Must not: skip or repair bad rows, hold a
 * whole file in memory, know about any particular schema.
 *
 * Error format (documented in docs/formats.md):
 *   <file>:<line>: <path>: <message>[; <path>: <message>...]
 * e.g. `data.jsonl:17: outcomes.gpt-4.k: k must be ≤ n`.
 */
import { createHash } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { rename, rm } from "node:fs/promises";
import { readFile } from "node:fs/promises";
import { once } from "node:events";
import { createInterface } from "node:readline";
import type { z } from "zod";

/** One validation or parse failure, located precisely enough to fix by hand. */
export class DataFileError extends Error {
  override readonly name = "DataFileError";
  constructor(
    readonly file: string,
    /** 1-based line number; 0 when the problem is the whole file (e.g. a JSON document). */
    readonly line: number,
    readonly issues: { path: string; message: string }[],
  ) {
    super(`${file}${line > 0 ? `:${line}` : ""}: ${issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message)).join("; ")}`);
  }
}

/** Dot-joined zod path; the empty path (a root-level problem) reads as "(row)". */
export function formatPath(path: readonly PropertyKey[]): string {
  return path.length === 0 ? "(row)" : path.map((p) => String(p)).join(".");
}

/** Converts zod issues into our located issues, keeping zod's "expected …" wording. */
export function zodIssues(error: z.ZodError): { path: string; message: string }[] {
  return error.issues.map((i) => ({ path: formatPath(i.path), message: i.message }));
}

/** Validates one already-parsed value; throws DataFileError located at file:line. */
export function validateAt<S extends z.ZodType>(schema: S, value: unknown, file: string, line: number): z.infer<S> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new DataFileError(file, line, zodIssues(parsed.error));
  return parsed.data as z.infer<S>;
}

export interface JsonlRecord<T> {
  /** 1-based physical line number in the file. */
  line: number;
  value: T;
}

/**
 * Streams a JSONL file row by row, validating each with `schema`. Blank
 * (whitespace-only) lines are allowed and skipped — they carry no row, so they
 * are not "bad rows" — but every non-blank line must parse and validate, or
 * the iterator throws a DataFileError naming the file and line.
 */
export async function* readJsonl<S extends z.ZodType>(
  file: string,
  schema: S,
): AsyncGenerator<JsonlRecord<z.infer<S>>> {
  const stream = createReadStream(file, { encoding: "utf8" });
  // crlfDelay: treat \r\n as one break so Windows-edited files keep line numbers.
  const lines = createInterface({ input: stream, crlfDelay: Infinity });
  let line = 0;
  try {
    for await (let text of lines) {
      line++;
      if (line === 1 && text.charCodeAt(0) === 0xfeff) text = text.slice(1); // UTF-8 BOM
      if (text.trim() === "") continue;
      let raw: unknown;
      try {
        raw = JSON.parse(text);
      } catch (e) {
        throw new DataFileError(file, line, [{ path: "", message: `malformed JSON: ${(e as Error).message}` }]);
      }
      yield { line, value: validateAt(schema, raw, file, line) };
    }
  } finally {
    lines.close();
    stream.destroy();
  }
}

/** Reads and validates a whole JSON document (e.g. a pool config); errors name the file. */
export async function readJsonFile<S extends z.ZodType>(file: string, schema: S): Promise<z.infer<S>> {
  const text = await readFile(file, "utf8");
  let raw: unknown;
  try {
    raw = JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
  } catch (e) {
    throw new DataFileError(file, 0, [{ path: "", message: `malformed JSON: ${(e as Error).message}` }]);
  }
  return validateAt(schema, raw, file, 0);
}

/**
 * Streaming JSONL writer with backpressure. Writes to `<file>.tmp-<pid>` and
 * renames on close, so a crash never leaves a half-written file under the
 * final name (readers and caches key on the final name existing).
 */
export class JsonlWriter {
  private readonly tmp: string;
  private readonly out;
  private closed = false;
  rows = 0;

  constructor(readonly file: string) {
    this.tmp = `${file}.tmp-${process.pid}`;
    this.out = createWriteStream(this.tmp, { encoding: "utf8" });
  }

  async write(value: unknown): Promise<void> {
    if (this.closed) throw new Error(`JsonlWriter(${this.file}): write after close`);
    const text = JSON.stringify(value);
    if (text === undefined) throw new Error(`JsonlWriter(${this.file}): value is not JSON-serialisable`);
    this.rows++;
    if (!this.out.write(text + "\n")) await once(this.out, "drain");
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.out.end();
    await once(this.out, "finish");
    await rename(this.tmp, this.file);
  }

  /** Drops the partial file; use on error paths. */
  async abort(): Promise<void> {
    this.closed = true;
    // Pending writes fail with ERR_STREAM_DESTROYED; that is expected here, not an error to surface.
    this.out.on("error", () => undefined);
    if (!this.out.destroyed) {
      // Not events.once: it would reject on the very error we are ignoring.
      const closed = new Promise<void>((resolve) => this.out.once("close", () => resolve()));
      this.out.destroy();
      await closed;
    }
    await rm(this.tmp, { force: true });
  }
}

/** Writes all rows from a (possibly async) iterable; returns the row count. */
export async function writeJsonl(file: string, rows: Iterable<unknown> | AsyncIterable<unknown>): Promise<number> {
  const w = new JsonlWriter(file);
  try {
    for await (const r of rows) await w.write(r);
  } catch (e) {
    await w.abort();
    throw e;
  }
  await w.close();
  return w.rows;
}

/** Lowercase hex sha256 of a file, streamed in chunks (constant memory). */
export async function sha256File(file: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}
