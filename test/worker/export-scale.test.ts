/**
 * GET /v1/export at scale in real workerd with a real local D1: 30,000
 * seeded decisions (9 candidates each, 10% with feedback) walked page by page
 * at the largest limit return every decision and feedback row exactly once,
 * and a full 5,000-decision page leaves the isolate's committed JS heap
 * within a bound (the body streams in chunks; it is never built whole). A
 * per-key page reads that key's index (migration 0006), not the whole table.
 */
import { createHash } from "node:crypto";
import type { Miniflare } from "miniflare";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EXPORT_MAX_LIMIT } from "../../src/core/export-row.js";
import { exportPages, type FetchLike } from "../../scripts/stages/pull.js";
import { pageEndQuery } from "../../src/store/export-store.js";
import { call } from "./harness.js";
import { startMeasuredWorker, type IsolateProbe, type IsolateSample } from "./isolate-memory.js";
import { seedExperiment } from "./report-fixtures.js";

const N = 30_000;
const MiB = 2 ** 20;
const sha = (s: string) => createHash("sha256").update(s).digest("hex");
const KEYS = [
  { id: "root", sha256: sha("k-root"), scopes: ["export", "admin"] },
  { id: "other", sha256: sha("k-other"), scopes: ["export"] },
];

let mf: Miniflare;
let probe: IsolateProbe;
let idle: IsolateSample;
beforeAll(async () => {
  ({ mf, probe } = await startMeasuredWorker({ AUTH: "required", API_KEYS: JSON.stringify(KEYS), PROMPT_HMAC_KEY: "test-hmac-key-0123456789-abcdef-0123456789" }, { d1: true }));
  await seedExperiment(mf, { experiment: "scale", rows: N });
  await call(mf, "GET", "/healthz");
  idle = await probe.sample();
}, 180_000);
afterAll(async () => {
  probe?.close();
  await mf?.dispose();
});

describe(`export over ${N.toLocaleString("en")} decisions`, () => {
  it(`a full page of ${EXPORT_MAX_LIMIT} streams with JS heap growth ≤ 32 MiB`, async () => {
    const before = await probe.sample();
    const r = await call(mf, "GET", `/v1/export?limit=${EXPORT_MAX_LIMIT}`, { headers: { authorization: "Bearer k-root" } });
    const after = await probe.sample();
    const lines = r.text.trim().split("\n");
    const mib = (x: number) => (x / MiB).toFixed(1);
    console.log(`[export-scale] page of ${lines.length - 1} decisions, ${mib(r.text.length)} MiB of NDJSON: JS heap committed idle ${mib(idle.jsHeapTotalBytes)}, before ${mib(before.jsHeapTotalBytes)}, after ${mib(after.jsHeapTotalBytes)} MiB`);
    expect(r.status).toBe(200);
    expect(lines).toHaveLength(EXPORT_MAX_LIMIT + 1);
    expect(JSON.parse(lines[lines.length - 1])).toMatchObject({ type: "end", rows: EXPORT_MAX_LIMIT, next_cursor: expect.any(String) });
    expect(after.jsHeapTotalBytes - idle.jsHeapTotalBytes).toBeLessThanOrEqual(32 * MiB);
  }, 120_000);

  it("paging returns every decision and feedback row exactly once; another key sees none of them", async () => {
    const fetchImpl: FetchLike = async (url, init) => (await mf.dispatchFetch(url, init)) as unknown as Response;
    const seen = new Set<string>();
    let feedback = 0;
    for await (const d of exportPages("http://localhost", "k-root", 0, fetchImpl)) {
      expect(seen.has(d.decision_id)).toBe(false);
      seen.add(d.decision_id);
      feedback += d.feedback.length;
    }
    const db = await mf.getD1Database("DB");
    const fbRows = (await db.prepare("SELECT COUNT(*) AS n FROM feedback").first<{ n: number }>())!.n;
    expect(seen.size).toBe(N);
    expect(feedback).toBe(fbRows);
    expect(fbRows).toBeGreaterThan(0);
    const none = await call(mf, "GET", "/v1/export?limit=10", { headers: { authorization: "Bearer k-other" } });
    expect(none.text.trim().split("\n")).toEqual([JSON.stringify({ type: "end", rows: 0, next_cursor: null, resume_cursor: null })]);
  }, 180_000);

  it("a per-key page walks that key's index (migration 0006), an admin page the table's rowid order", async () => {
    const db = await mf.getD1Database("DB");
    const plan = async (keyId: string | null) => {
      const q = pageEndQuery({ since: 0, afterRowid: 0, keyId }, EXPORT_MAX_LIMIT);
      const rows = (await db.prepare(`EXPLAIN QUERY PLAN ${q.sql}`).bind(...q.args).all<{ detail: string }>()).results;
      return rows.map((r) => r.detail).join(" | ");
    };
    // Without the index the per-key plan is a rowid range scan of every tenant's rows.
    const perKey = await plan("other");
    expect(perKey).toMatch(/USING (COVERING )?INDEX decisions_key \(key_id=\? AND rowid>\?\)/);
    expect(perKey).not.toMatch(/TEMP B-TREE/);
    expect(await plan(null)).toMatch(/USING INTEGER PRIMARY KEY \(rowid>\?\)/);
  });
});
