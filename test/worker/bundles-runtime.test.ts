/**
 * The bundle runtime in real workerd (issue 18 items 1 and 3): only the
 * default bundle gets a session at module load, whatever the number of
 * embedded bundles (the start-up budget, counted, not timed); another bundle
 * answers 503 bundle-loading with Retry-After until its session, created in
 * the background after first use, is live; live sessions are an LRU capped
 * at MAX_LIVE_SESSIONS that never evicts the default.
 * Workers embed copies of the fixture bundle under other ids (serveBundles).
 */
import { mkdirSync, rmSync } from "node:fs";
import type { Miniflare } from "miniflare";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { call, renamedBundle, serveBundles, settledSessions, startWorker, untilLoaded, type Reply } from "./harness.js";

const WORK = ".cache/test-bundles-runtime";
const FIXTURE = "test/fixtures/bundles/fixture-tiny";

const ids = (n: number) => ["fixture-tiny", ...Array.from({ length: n - 1 }, (_, k) => `fixture-copy${k + 1}`)];
// Copies of the fixture under other ids (their manifests re-pinned by the registry serveBundles writes).
const dirsOf = (n: number) => ids(n).map((id, i) => (i === 0 ? FIXTURE : renamedBundle(FIXTURE, WORK, id)));
const route = (mf: Miniflare, bundle: string) => call(mf, "POST", "/v1/route", { body: { prompt: "What is 17 * 23?" }, headers: { "x-preflight-bundle": bundle } });

function expectLoading(r: Reply, bundle: string) {
  expect(r.status).toBe(503);
  expect(r.headers.get("content-type")).toBe("application/problem+json");
  expect(r.headers.get("retry-after")).toBe("1");
  expect(r.body).toMatchObject({ type: expect.stringMatching(/\/bundle-loading$/), bundle, retry_after_s: 1 });
}

beforeAll(() => {
  rmSync(WORK, { recursive: true, force: true });
  mkdirSync(WORK, { recursive: true });
});

describe("start-up budget: one session at module load, however many bundles are embedded", () => {
  it.each([1, 2, 4])("%i embedded bundle(s): exactly one session created at load", async (n) => {
    const dir = `${WORK}/w${n}`;
    mkdirSync(dir, { recursive: true });
    const mf = await serveBundles(dir, dirsOf(n), "test/worker/bundles-runtime.test.ts");
    try {
      const h = await call(mf, "GET", "/healthz");
      expect(h.body.bundles.map((b: { id: string }) => b.id)).toEqual(ids(n));
      expect(h.body.detail.sessions.created_at_load).toBe(1);
      // The others verify and warm up after the first request, into the free places.
      const s = await settledSessions(mf);
      expect(s.created_at_load).toBe(1);
      expect(s.live).toEqual(expect.arrayContaining(ids(n)));
    } finally {
      await mf.dispose();
    }
  });
});

describe("lazy sessions and the LRU cap (4 bundles, MAX_LIVE_SESSIONS=2)", () => {
  let mf: Miniflare;
  beforeAll(async () => {
    // The 4-bundle build from the budget test, started fresh: no request has reached it yet.
    mf = await startWorker({ AUTH: "disabled", MAX_LIVE_SESSIONS: "2" }, `${WORK}/w4/build`);
  });
  afterAll(async () => mf?.dispose());

  it("a bundle without a session is 503 bundle-loading with Retry-After, then serves", async () => {
    expectLoading(await route(mf, "fixture-copy2"), "fixture-copy2");
    // The manifest alone answers tokenize: no session needed.
    const t = await call(mf, "POST", "/v1/tokenize", { body: { prompt: "hi" }, headers: { "x-preflight-bundle": "fixture-copy3" } });
    expect(t.status).toBe(200);
    expect(t.body.artifact.id).toBe("fixture-copy3");
    const r = await untilLoaded(mf, { "x-preflight-bundle": "fixture-copy2" });
    expect(r.status).toBe(200);
    expect(r.body.artifact.id).toBe("fixture-copy2");
    const s = await settledSessions(mf);
    expect(s.max).toBe(2);
    // Warm-up only fills free places: copy1 and copy3 are verified, not loaded.
    expect([...s.live].sort()).toEqual(["fixture-copy2", "fixture-tiny"]);
  });

  it("loading a third bundle evicts the least recently used one, never the default", async () => {
    const before = await settledSessions(mf);
    expectLoading(await route(mf, "fixture-copy3"), "fixture-copy3");
    expect((await untilLoaded(mf, { "x-preflight-bundle": "fixture-copy3" })).body.artifact.id).toBe("fixture-copy3");
    const after = await settledSessions(mf);
    expect([...after.live].sort()).toEqual(["fixture-copy3", "fixture-tiny"]);
    expect(after.evicted).toBe(before.evicted + 1);
    // The evicted bundle loads again on its next use (and evicts copy3 in turn).
    expectLoading(await route(mf, "fixture-copy2"), "fixture-copy2");
    expect((await untilLoaded(mf, { "x-preflight-bundle": "fixture-copy2" })).status).toBe(200);
    const again = await settledSessions(mf);
    expect([...again.live].sort()).toEqual(["fixture-copy2", "fixture-tiny"]);
    expect(again.created - again.evicted).toBe(again.live.length);
    // The default was never evicted: it serves at once.
    const d = await call(mf, "POST", "/v1/route", { body: { prompt: "hi" } });
    expect(d.status).toBe(200);
    expect(d.body.artifact.id).toBe("fixture-tiny");
  });
});
