/**
 * Trust in the decision log (issue 15, items 1–3 and 8's feedback paths), in
 * real workerd against a real local D1 under a production-like config
 * (AUTH=required, several keys, PROMPT_HMAC_KEY): every decision_id handed
 * out is already committed when the response arrives; a failed write is a
 * 503 without a decision_id; feedback is owned by the key that made the
 * decision (or an admin key), names only logged candidates, and its errors
 * carry field paths.
 */
import { createHash } from "node:crypto";
import type { Miniflare } from "miniflare";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { call, startWorker } from "./harness.js";

const sha = (s: string) => createHash("sha256").update(s).digest("hex");
const KEYS = [
  { id: "tenant-a", sha256: sha("k-a"), scopes: ["route", "feedback", "report"] },
  { id: "tenant-b", sha256: sha("k-b"), scopes: ["route", "feedback"] },
  { id: "ops", sha256: sha("k-admin"), scopes: ["feedback", "admin"] },
];
const PROD = { AUTH: "required", API_KEYS: JSON.stringify(KEYS), PROMPT_HMAC_KEY: "trust-log-hmac-key-0123456789-abcdef" };
const auth = (k: string) => ({ authorization: `Bearer ${k}` });

let mf: Miniflare;
beforeAll(async () => {
  mf = await startWorker(PROD, { d1: true });
});
afterAll(async () => {
  await mf?.dispose();
});

async function rows(m: Miniflare, sql: string, ...args: unknown[]) {
  const db = await m.getD1Database("DB");
  return (await db.prepare(sql).bind(...args).all()).results as Record<string, unknown>[];
}
const route = (body: unknown, key: string, m = mf) => call(m, "POST", "/v1/route", { body, headers: auth(key) });
const feedback = (body: unknown, key: string) => call(mf, "POST", "/v1/feedback", { body, headers: auth(key) });

describe("durable before acknowledged", () => {
  it("every decision_id returned is in D1 the moment its response arrives", async () => {
    // Single and batch calls from two keys, each response checked at once: no waiting, no polling.
    // (The old logger wrote 25 ms after the response; most of these reads came too early for it.)
    const db = await mf.getD1Database("DB");
    const count = db.prepare("SELECT COUNT(*) AS n FROM decisions WHERE decision_id IN (SELECT value FROM json_each(?))");
    let returned = 0;
    for (let i = 0; i < 12; i++) {
      const batch = i % 3 === 2;
      const r = batch
        ? await call(mf, "POST", "/v1/route/batch", { body: { requests: Array.from({ length: 9 }, (_, j) => ({ prompt: `durable batch ${i}.${j}` })) }, headers: auth("k-a") })
        : await route({ prompt: `durable single ${i}` }, i % 2 ? "k-a" : "k-b");
      expect(r.status).toBe(200);
      expect(r.headers.get("x-preflight-logged")).toBe("true");
      const ids: string[] = batch ? r.body.results.map((x: { decision_id: string }) => x.decision_id) : [r.body.decision_id];
      returned += ids.length;
      expect((await count.bind(JSON.stringify(ids)).first())?.n).toBe(ids.length);
    }
    expect(returned).toBe(8 + 4 * 9);
  });

  it("a failed D1 write is a 503 log_unavailable and hands out no decision_id", async () => {
    const broken = await startWorker(PROD, { d1: true });
    try {
      const db = await broken.getD1Database("DB");
      await db.prepare("DROP TABLE feedback").run();
      await db.prepare("DROP TABLE decisions").run();
      const r = await route({ prompt: "nowhere to log" }, "k-a", broken);
      expect(r.status).toBe(503);
      expect(r.headers.get("content-type")).toBe("application/problem+json");
      expect(r.body.type).toMatch(/log-unavailable$/);
      expect(r.text).not.toMatch(/decision_id/);
      expect(r.headers.get("x-preflight-decision")).toBeNull();
      const b = await call(broken, "POST", "/v1/route/batch", { body: { requests: [{ prompt: "a" }, { prompt: "b" }] }, headers: auth("k-a") });
      expect(b.status).toBe(503);
      expect(b.text).not.toMatch(/decision_id/);
    } finally {
      await broken.dispose();
    }
  });

  it("without PROMPT_HMAC_KEY under AUTH=required no decision_id is handed out", async () => {
    const noKey = await startWorker({ AUTH: "required", API_KEYS: PROD.API_KEYS }, { d1: true });
    try {
      const r = await route({ prompt: "unloggable" }, "k-a", noKey);
      expect(r.status).toBe(503);
      expect(r.text).not.toMatch(/decision_id/);
      expect(await rows(noKey, "SELECT decision_id FROM decisions")).toHaveLength(0);
    } finally {
      await noKey.dispose();
    }
  });

  it("says so when there is no decision log to write to", async () => {
    const noDb = await startWorker({ AUTH: "disabled" });
    try {
      const r = await call(noDb, "POST", "/v1/route", { body: { prompt: "correlation only" } });
      expect(r.status).toBe(200);
      expect(r.body.decision_id).toMatch(/[0-9a-f-]{36}/);
      expect(r.headers.get("x-preflight-logged")).toBe("false");
    } finally {
      await noDb.dispose();
    }
  });
});

describe("feedback is owned", () => {
  it("another key's decision is reported exactly like an unknown one and stays unchanged; an admin key may write it", async () => {
    const a = await route({ prompt: "tenant a decision" }, "k-a");
    const model = a.body.decision.model;
    expect((await feedback({ decision_id: a.body.decision_id, model, success: true, cost_usd: 0.5 }, "k-a")).status).toBe(200);
    const foreign = await feedback({ decision_id: a.body.decision_id, model, success: false, cost_usd: 9 }, "k-b");
    const unknown = await feedback({ decision_id: "00000000-0000-4000-8000-000000000000", model, success: false }, "k-b");
    expect(foreign.status).toBe(404);
    expect(unknown.status).toBe(404);
    // Same shape and wording apart from the id: nothing tells B that A's decision exists.
    const strip = (b: Record<string, unknown>, id: string) => JSON.parse(JSON.stringify({ ...b, request_id: "" }).replaceAll(id, "ID"));
    expect(strip(foreign.body, a.body.decision_id)).toEqual(strip(unknown.body, "00000000-0000-4000-8000-000000000000"));
    expect(foreign.body.errors).toEqual([{ path: "decision_id", message: `unknown decision ${a.body.decision_id}` }]);
    const [fb] = await rows(mf, "SELECT reward, cost_usd FROM feedback WHERE decision_id = ?", a.body.decision_id);
    expect(fb).toEqual({ reward: 1, cost_usd: 0.5 });
    // The admin scope widens feedback to every key's decisions.
    expect((await feedback({ decision_id: a.body.decision_id, model, score: 0.25 }, "k-admin")).status).toBe(200);
    const [after] = await rows(mf, "SELECT reward, cost_usd FROM feedback WHERE decision_id = ?", a.body.decision_id);
    expect(after).toEqual({ reward: 0.25, cost_usd: null });
  });

  it("a model outside the decision's candidates is a 422 naming `model`", async () => {
    const a = await route({ prompt: "two candidates only", models: ["fixture-small", "fixture-medium"] }, "k-a");
    expect(a.status).toBe(200);
    for (const model of ["fixture-large", "not-a-model"]) {
      const r = await feedback({ decision_id: a.body.decision_id, model, success: true }, "k-a");
      expect(r.status).toBe(422);
      expect(r.body.errors).toHaveLength(1);
      expect(r.body.errors[0].path).toBe("model");
      expect(r.body.errors[0].message).toContain(model);
    }
    // A candidate that was not chosen is fine: feedback may describe a counterfactual call.
    expect((await feedback({ decision_id: a.body.decision_id, model: "fixture-medium", success: true }, "k-a")).status).toBe(200);
    expect(await rows(mf, "SELECT model FROM feedback WHERE decision_id = ?", a.body.decision_id)).toEqual([{ model: "fixture-medium" }]);
  });

  it("batch errors name the item: items.<i>.decision_id (404) and items.<i>.model (422), and change nothing", async () => {
    const a = await route({ prompt: "batch owner a" }, "k-a");
    const b = await route({ prompt: "batch owner b" }, "k-b");
    const ok = { decision_id: a.body.decision_id, model: a.body.decision.model, success: true };
    const notMine = await feedback({ items: [ok, { decision_id: b.body.decision_id, model: b.body.decision.model, success: true }, { decision_id: "nope", model: "x", success: true }] }, "k-a");
    expect(notMine.status).toBe(404);
    expect(notMine.body.errors.map((e: { path: string }) => e.path)).toEqual(["items.1.decision_id", "items.2.decision_id"]);
    const badModel = await feedback({ items: [ok, ok, { ...ok, model: "not-a-model" }] }, "k-a");
    expect(badModel.status).toBe(422);
    expect(badModel.body.errors.map((e: { path: string }) => e.path)).toEqual(["items.2.model"]);
    expect(await rows(mf, "SELECT * FROM feedback WHERE decision_id IN (?, ?)", a.body.decision_id, b.body.decision_id)).toHaveLength(0);
    expect((await feedback({ items: [ok] }, "k-a")).status).toBe(200);
  });
});
