/**
 * Tests for scripts/lib/jsonl.ts: located errors (file:line:path), no silent
 * skipping, atomic writer round-trip, streaming sha256 against a known digest.
 */
import { mkdtemp, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { DataFileError, readJsonFile, readJsonl, sha256File, writeJsonl } from "../../scripts/lib/jsonl.js";
import { OutcomeRow, PoolConfig } from "../../scripts/formats/outcomes.js";

const FIX = "test/fixtures/formats";
const tmp = await mkdtemp(join(tmpdir(), "preflight-jsonl-"));
afterAll(() => rm(tmp, { recursive: true, force: true }));

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

async function errorOf(p: Promise<unknown>): Promise<DataFileError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(DataFileError);
    return e as DataFileError;
  }
  throw new Error("expected a DataFileError");
}

describe("readJsonl", () => {
  it("reads valid rows with their line numbers", async () => {
    const rows = await collect(readJsonl(`${FIX}/outcomes.jsonl`, OutcomeRow));
    expect(rows.map((r) => r.line)).toEqual([1, 2, 3, 4, 5]);
    expect(rows[1].value.outcomes.large).toEqual({ n: 4, k: 2 });
  });

  it("names file, line, field path and the refinement message for k > n", async () => {
    const e = await errorOf(collect(readJsonl(`${FIX}/outcomes-bad-k.jsonl`, OutcomeRow)));
    expect(e.message).toBe(`${FIX}/outcomes-bad-k.jsonl:2: outcomes.gpt-4.k: k must be ≤ n`);
    expect(e.line).toBe(2);
    expect(e.issues).toEqual([{ path: "outcomes.gpt-4.k", message: "k must be ≤ n" }]);
  });

  it("names file and physical line for malformed JSON (blank lines still count)", async () => {
    const e = await errorOf(collect(readJsonl(`${FIX}/outcomes-malformed.jsonl`, OutcomeRow)));
    expect(e.message).toMatch(new RegExp(`^${FIX}/outcomes-malformed\\.jsonl:3: malformed JSON: `));
  });

  it("says what was expected for a wrong type, and lists every issue in the row", async () => {
    const f = join(tmp, "types.jsonl");
    await writeFile(f, '{"id":"a","outcomes":{}}\n{"id":5,"prompt":"x","outcomes":{"m":{"n":"3","k":1}}}\n');
    const e = await errorOf(collect(readJsonl(f, OutcomeRow)));
    expect(e.line).toBe(1);
    // Row 1 lacks both prompt and messages: a root-level refinement on "prompt".
    expect(e.message).toBe(`${f}:1: prompt: give exactly one of prompt or messages`);
    const f2 = join(tmp, "types2.jsonl");
    await writeFile(f2, '{"id":5,"prompt":"x","outcomes":{"m":{"n":"3","k":1}}}\n');
    const e2 = await errorOf(collect(readJsonl(f2, OutcomeRow)));
    expect(e2.issues.map((i) => i.path)).toEqual(["id", "outcomes.m.n"]);
    expect(e2.issues[0].message).toMatch(/expected string/);
    expect(e2.issues[1].message).toMatch(/expected number/);
  });

  it("does not yield rows after a bad one (fails at the bad row, not at the end)", async () => {
    const seen: number[] = [];
    await errorOf(
      (async () => {
        for await (const r of readJsonl(`${FIX}/outcomes-bad-k.jsonl`, OutcomeRow)) seen.push(r.line);
      })(),
    );
    expect(seen).toEqual([1]);
  });

  it("handles CRLF and a BOM without shifting line numbers", async () => {
    const f = join(tmp, "crlf.jsonl");
    await writeFile(f, '\ufeff{"a":1}\r\n{"a":2}\r\n{"a":"x"}\r\n');
    const e = await errorOf(collect(readJsonl(f, z.object({ a: z.number() }))));
    expect(e.line).toBe(3);
    expect(e.issues[0].path).toBe("a");
  });
});

describe("readJsonFile", () => {
  it("validates a pool config and names the field on error", async () => {
    const pool = await readJsonFile(`${FIX}/pool.json`, PoolConfig);
    expect(pool.models.map((m) => m.id)).toEqual(["small", "large"]);
    const f = join(tmp, "pool-bad.json");
    await writeFile(f, JSON.stringify({ name: "p", models: [{ ...pool.models[0], input_per_mtok: -1 }] }));
    const e = await errorOf(readJsonFile(f, PoolConfig));
    expect(e.message).toMatch(new RegExp(`^${f}: models\\.0\\.input_per_mtok: `));
  });
});

describe("writeJsonl / sha256File", () => {
  it("round-trips rows and leaves no temp file", async () => {
    const f = join(tmp, "out.jsonl");
    const n = await writeJsonl(f, (async function* () {
      for (let i = 0; i < 1000; i++) yield { i, s: `row ${i}` };
    })());
    expect(n).toBe(1000);
    const back = await collect(readJsonl(f, z.object({ i: z.number(), s: z.string() })));
    expect(back[999]).toEqual({ line: 1000, value: { i: 999, s: "row 999" } });
    expect((await readdir(tmp)).filter((x) => x.includes(".tmp-"))).toEqual([]);
  });

  it("matches the known sha256 of 'abc' and of the empty file", async () => {
    const f = join(tmp, "abc.txt");
    await writeFile(f, "abc");
    expect(await sha256File(f)).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    await writeFile(f, "");
    expect(await sha256File(f)).toBe("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    expect((await readFile(f)).length).toBe(0);
  });
});
