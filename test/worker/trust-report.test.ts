/**
 * Reports in bounded memory (issue 15, item 4), in real workerd against a
 * real local D1 with migrations/ applied. The report and the dashboard read
 * per-variant aggregates from SQL and stream only the exploring variants'
 * rows with feedback in pages, so:
 *  - on a small experiment whose decisions and feedback came through the
 *    API (route, then feedback), the report equals core's in-memory
 *    experimentReport over every row read back as the old code read them;
 *    so it does for rows a pre-0003 worker wrote, after the migration's backfill;
 *  - on 150,000 seeded decisions (10% with feedback, one ε-greedy arm so OPE
 *    runs) the report answers 200 with the right counts and OPE, and the
 *    isolate's committed JS heap stays within 32 MiB of where it stood
 *    before any report (report and dashboard). The code before this change loaded every row, JSON-parsed:
 *    ~2.4 KiB of heap per decision (96k → 230 MiB), so ≈ 350 MiB here.
 * The heap is read through workerd's inspector (isolate-memory.ts); the
 * bounds are on memory, never on time.
 */
import { readFileSync } from "node:fs";
import type { Miniflare } from "miniflare";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { experimentReport } from "../../src/core/report/experiment-report.js";
import { hash32, hash32Sql } from "../../src/core/report/ope-sampling.js";
import { call } from "./harness.js";
import { startMeasuredWorker, type IsolateProbe, type IsolateSample } from "./isolate-memory.js";
import { expectClose, joinedRows, SEED_POLICY, seedExperiment } from "./report-fixtures.js";

const BIG = 150_000;
const MiB = 2 ** 20;
const EXPERIMENTS = [
  { name: "scale", variants: [{ name: "control", weight: 1, policy: SEED_POLICY }, { name: "explore", weight: 1, policy: SEED_POLICY, epsilon: 0.1 }] },
  { name: "live", variants: [{ name: "greedy", weight: 1, policy: { type: "threshold", min_p: 0.5 } }, { name: "eps", weight: 1, policy: { type: "threshold", min_p: 0.5 }, epsilon: 0.5 }] },
  { name: "old", variants: [{ name: "greedy", weight: 1, policy: { type: "threshold", min_p: 0.5 } }, { name: "eps", weight: 1, policy: { type: "threshold", min_p: 0.5 }, epsilon: 0.5 }] },
];

let mf: Miniflare;
let probe: IsolateProbe;
let idle: IsolateSample;
beforeAll(async () => {
  ({ mf, probe } = await startMeasuredWorker({ AUTH: "disabled", EXPERIMENTS: JSON.stringify(EXPERIMENTS) }, { d1: true }));
  await call(mf, "GET", "/healthz");
  idle = await probe.sample();
}, 180_000);
afterAll(async () => {
  probe?.close();
  await mf?.dispose();
});

/**
 * How far the isolate's committed JS heap stands, after `action`, above where
 * it stood before any report ran (`idle`). The inspector answers only between
 * requests (a sample sent during one waits for its end) and workerd cannot be
 * made to collect garbage, so a peak inside the request shows as the heap V8
 * had to commit to hold it: V8 grows the heap before it collects and does not
 * hand it back at once. Against `idle` rather than the sample just before,
 * because V8 also resizes its young generation (up to tens of MiB) with the
 * allocation rate of any busy request, whatever its size.
 */
async function heapAboveIdle(label: string, action: () => Promise<unknown>): Promise<number> {
  const before = await probe.sample();
  await action();
  const after = await probe.sample();
  const mib = (x: number) => (x / MiB).toFixed(1);
  console.log(`[trust-report] ${label}: JS heap committed idle ${mib(idle.jsHeapTotalBytes)}, before ${mib(before.jsHeapTotalBytes)}, after ${mib(after.jsHeapTotalBytes)} MiB`);
  return after.jsHeapTotalBytes - idle.jsHeapTotalBytes;
}

describe("the report from SQL aggregates and streamed pages", () => {
  it("equals the in-memory report over every row, for decisions and feedback written through the API", async () => {
    const ids: { id: string; model: string }[] = [];
    for (let i = 0; i < 60; i++) {
      const r = await call(mf, "POST", "/v1/route", { body: { prompt: `question ${i}: ${"why ".repeat(i % 7)}` }, headers: { "x-preflight-experiment": "live", "x-preflight-unit": `user-${i}` } });
      expect(r.status).toBe(200);
      if (r.body.decision.type === "route") ids.push({ id: r.body.decision_id, model: r.body.decision.model });
    }
    // Feedback on 2 of 3 decisions: successes, scores, some with a realised cost; one repeated (an upsert).
    const items = ids
      .filter((_, i) => i % 3 !== 0)
      .map(({ id, model }, i) => ({ decision_id: id, model, ...(i % 4 === 0 ? { score: (i % 10) / 10 } : { success: i % 3 !== 1 }), ...(i % 2 ? { cost_usd: 0.0001 * i } : {}) }));
    expect((await call(mf, "POST", "/v1/feedback", { body: { items } })).status).toBe(200);
    expect((await call(mf, "POST", "/v1/feedback", { body: { ...items[0], score: undefined, success: false } })).status).toBe(200);

    const rep = await call(mf, "GET", "/v1/experiments/live/report");
    expect(rep.status).toBe(200);
    const reference = experimentReport("live", await joinedRows(mf, "live"), { seed: 1, variants: ["greedy", "eps"] });
    expect(rep.body.generated_from).toEqual({ rows: 60, with_feedback: items.length, seed: 1 });
    expect(reference.ope).not.toBeNull();
    expectClose(rep.body, reference);
  });

  it("counts rows logged before migration 0003 once its backfill has run", async () => {
    // Copies of the "live" rows as a pre-0003 worker wrote them: no report columns, feedback not copied.
    const db = await mf.getD1Database("DB");
    const cols = "ts, key_id, variant, bundle_id, policy, candidates, chosen, propensity, explored, prompt_hmac, input_tokens, prompt_text";
    await db.prepare(`INSERT INTO decisions (decision_id, experiment, ${cols}) SELECT decision_id || '-old', 'old', ${cols} FROM decisions WHERE experiment = 'live'`).run();
    await db
      .prepare(`INSERT INTO feedback SELECT f.decision_id || '-old', f.model, f.reward, f.success, f.score, f.output_tokens, f.cost_usd, f.latency_ms, f.updated_at
        FROM feedback f JOIN decisions d ON d.decision_id = f.decision_id WHERE d.experiment = 'live'`)
      .run();
    const backfill = readFileSync("migrations/0003_report_columns.sql", "utf8").replace(/--.*$/gm, "").split(";").map((x) => x.trim()).filter((x) => x.startsWith("UPDATE"));
    expect(backfill).toHaveLength(1);
    await db.prepare(backfill[0]).run();
    const rep = await call(mf, "GET", "/v1/experiments/old/report");
    expect(rep.status).toBe(200);
    expect(rep.body.generated_from.rows).toBe(60);
    expectClose(rep.body, experimentReport("old", await joinedRows(mf, "old"), { seed: 1, variants: ["greedy", "eps"] }));
  });

  it("equals the in-memory report on a seeded experiment with abstains, scores and realised costs", async () => {
    await seedExperiment(mf, { experiment: "scale", rows: 3000, k: 5 });
    const rep = await call(mf, "GET", "/v1/experiments/scale/report");
    expect(rep.status).toBe(200);
    expectClose(rep.body, experimentReport("scale", await joinedRows(mf, "scale"), { seed: 1, variants: ["control", "explore"] }));
  });

  it("takes the OPE subsample with the same hash in SQL as core's hash32", async () => {
    const db = await mf.getD1Database("DB");
    const res = await db.prepare(`SELECT rowid AS id, ${hash32Sql("rowid")} AS h FROM decisions ORDER BY rowid`).all<{ id: number; h: number }>();
    expect(res.results.length).toBeGreaterThan(3000);
    for (const r of res.results) expect(r.h, `rowid ${r.id}`).toBe(hash32(r.id));
  });
});

describe(`bounded memory at ${BIG.toLocaleString("en")} decisions`, () => {
  it("report: 200, every row counted, OPE computed, JS heap growth ≤ 32 MiB", async () => {
    const seeded = await seedExperiment(mf, { experiment: "scale", rows: BIG - 3000, from: 3000 });
    expect(seeded.feedback).toBe((BIG - 3000) / 10);
    let res = { status: 0, body: undefined as any }; // eslint-disable-line @typescript-eslint/no-explicit-any
    const growth = await heapAboveIdle(`report over ${BIG} decisions`, async () => {
      res = await call(mf, "GET", "/v1/experiments/scale/report");
    });
    expect(res.status).toBe(200);
    expect(res.body.generated_from.rows).toBe(BIG);
    expect(res.body.generated_from.with_feedback).toBe(BIG / 10);
    expect(res.body.variants.map((v: { requests: number }) => v.requests)).toEqual([BIG / 2, BIG / 2]);
    expect(res.body.differences[0].mean_cost_method).toBe("welch");
    expect(res.body.ope.variants).toEqual(["explore"]);
    expect(res.body.ope.grid.sample.rows_used).toBe(BIG / 20);
    expect(growth).toBeLessThanOrEqual(32 * MiB);
  }, 240_000);

  it("dashboard: 200 with every experiment, JS heap growth ≤ 32 MiB", async () => {
    let status = 0;
    let html = "";
    const growth = await heapAboveIdle(`dashboard over ${BIG + 60} decisions`, async () => {
      const r = await call(mf, "GET", "/dashboard");
      [status, html] = [r.status, r.text];
    });
    expect(status).toBe(200);
    expect(html).toContain(`${BIG} decisions`);
    expect(growth).toBeLessThanOrEqual(32 * MiB);
  }, 240_000);
});
