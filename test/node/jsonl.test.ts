/**
 * Tests for scripts/lib/jsonl.ts: located errors (file:line:path), no silent
 * skipping, atomic writer round-trip, streaming sha256 against a known digest;
 * and for the ingest stage (scripts/stages/ingest.ts) that is built on it:
 * split rule, pool checks, per-split/model counts, content-keyed cache.
 */
import { mkdtemp, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { DataFileError, readJsonFile, readJsonl, sha256File, writeJsonl } from "../../scripts/lib/jsonl.js";
import { OutcomeRow, PoolConfig } from "../../scripts/formats/outcomes.js";
import { assignSplit, formatIngestReport, readIngestRows, runIngest } from "../../scripts/stages/ingest.js";

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
    expect(rows.map((r) => r.line)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
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

describe("ingest", () => {
  it("assigns splits by fnv1a32(id) % 100 (known hashes computed independently)", () => {
    // fnv1a32("q1") = 2622263703 → 3; "q12" → 75; "q17" → 80; "q11" → 94; boundaries "q28" → 70, "q27" → 79, "q29" → 89.
    expect(["q1", "q12", "q17", "q11", "q28", "q27", "q29"].map(assignSplit)).toEqual(["train", "val", "cal", "test", "val", "val", "cal"]);
    const counts: Record<string, number> = {};
    for (let i = 0; i < 10000; i++) counts[assignSplit(`id-${i}`)] = (counts[assignSplit(`id-${i}`)] ?? 0) + 1;
    expect(counts).toEqual({ train: 6962, val: 1031, cal: 980, test: 1027 });
  });

  it("counts rows per split and model (ties are failures, missing models masked) and caches by content", async () => {
    const cacheDir = join(tmp, "cache");
    const r = await runIngest({ outcomes: `${FIX}/outcomes.jsonl`, pool: `${FIX}/pool.json`, cacheDir });
    expect(r.cached).toBe(false);
    expect(r.key).toMatch(/^[0-9a-f]{64}$/);
    expect(r.dir).toBe(join(cacheDir, "ingest", r.key));
    expect(r.meta.counts).toEqual({
      rows: 8,
      splits_assigned: 7,
      by_split: { train: 3, val: 1, cal: 1, test: 2, unlabelled: 1 },
      by_model: {
        small: { labelled: 6, masked: 2, majority_success: 3, by_split: { train: 3, val: 1, cal: 0, test: 2, unlabelled: 0 } },
        large: { labelled: 5, masked: 3, majority_success: 4, by_split: { train: 2, val: 1, cal: 1, test: 1, unlabelled: 0 } },
      },
    });
    const rows = await collect(readIngestRows(r.dir));
    expect(rows.map((x) => [x.value.id, x.value.split])).toEqual([
      ["q1", "train"], ["q2", "train"], ["q3", "train"], ["q4", "test"], ["q5", "unlabelled"], ["q11", "test"], ["q12", "val"], ["q17", "cal"],
    ]);
    expect(rows[2].value.messages?.[1]).toEqual({ role: "user", content: "Capital of France?" });
    expect(formatIngestReport(r)).toMatch(/labelled 6, masked 2, majority success 3/);

    const again = await runIngest({ outcomes: `${FIX}/outcomes.jsonl`, pool: `${FIX}/pool.json`, cacheDir });
    expect(again.cached).toBe(true);
    expect(again.key).toBe(r.key);
    expect(again.meta).toEqual(r.meta);

    // Any byte change in an input is a new key.
    const copy = join(tmp, "outcomes-copy.jsonl");
    await writeFile(copy, (await readFile(`${FIX}/outcomes.jsonl`, "utf8")) + "\n");
    const changed = await runIngest({ outcomes: copy, pool: `${FIX}/pool.json`, cacheDir });
    expect(changed.key).not.toBe(r.key);
  });

  it("names file, line and model for a model not in the pool, and leaves no cache entry", async () => {
    const cacheDir = join(tmp, "cache-bad");
    const e = await errorOf(runIngest({ outcomes: `${FIX}/outcomes-unknown-model.jsonl`, pool: `${FIX}/pool.json`, cacheDir }));
    expect(e.message).toBe(`${FIX}/outcomes-unknown-model.jsonl:2: outcomes.gpt-9: unknown model "gpt-9" (pool tiny-pool: small, large)`);
    expect(await readdir(join(cacheDir, "ingest"))).toEqual([]);
  });

  it("rejects duplicate ids and duplicate pool models, naming both places", async () => {
    const f = join(tmp, "dup.jsonl");
    await writeFile(f, '{"id":"a","prompt":"x","outcomes":{}}\n{"id":"b","prompt":"y","outcomes":{}}\n{"id":"a","prompt":"z","outcomes":{}}\n');
    const e = await errorOf(runIngest({ outcomes: f, pool: `${FIX}/pool.json`, cacheDir: join(tmp, "c2") }));
    expect(e.message).toBe(`${f}:3: id: duplicate id "a" (first on line 1)`);
    const pool = JSON.parse(await readFile(`${FIX}/pool.json`, "utf8"));
    pool.models.push(pool.models[0]);
    const pf = join(tmp, "pool-dup.json");
    await writeFile(pf, JSON.stringify(pool));
    const e2 = await errorOf(runIngest({ outcomes: f, pool: pf, cacheDir: join(tmp, "c3") }));
    expect(e2.message).toBe(`${pf}: models.2.id: duplicate model id "small" (also models.0.id)`);
  });

  it("propagates row validation errors unchanged (k > n)", async () => {
    const f = join(tmp, "bad-k.jsonl");
    await writeFile(f, '{"id":"a","prompt":"x","outcomes":{"small":{"n":1,"k":1}}}\n{"id":"b","prompt":"y","outcomes":{"large":{"n":2,"k":3}}}\n');
    const e = await errorOf(runIngest({ outcomes: f, pool: `${FIX}/pool.json`, cacheDir: join(tmp, "c4") }));
    expect(e.message).toBe(`${f}:2: outcomes.large.k: k must be ≤ n`);
    expect(await readdir(join(tmp, "c4", "ingest"))).toEqual([]);
  });
});
