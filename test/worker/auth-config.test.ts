/**
 * Auth and start-up configuration in real workerd: bearer keys stored as
 * SHA-256 hashes with scopes, and loud failure on bad configuration.
 */
import { createHash } from "node:crypto";
import type { Miniflare } from "miniflare";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { call, startWorker } from "./harness.js";

const sha = (s: string) => createHash("sha256").update(s).digest("hex");
const ROUTE_KEY = "pf_live_route_key";
const REPORT_KEY = "pf_live_report_key";

let secured: Miniflare;
let broken: Miniflare;
beforeAll(async () => {
  secured = await startWorker({
    AUTH: "required",
    API_KEYS: JSON.stringify([
      { id: "router", sha256: sha(ROUTE_KEY), scopes: ["route"] },
      { id: "analyst", sha256: sha(REPORT_KEY), scopes: ["report"] },
    ]),
    PROMPT_HMAC_KEY: "auth-config-test-hmac-key-0123456789",
  });
  broken = await startWorker({
    AUTH: "disabled",
    PRICE_OVERRIDES: JSON.stringify({ "fixture-large": { input_per_mtok: -1, output_per_mtok: 2 }, "gpt-9": { input_per_mtok: 1, output_per_mtok: 1 } }),
  });
});
afterAll(async () => {
  await secured?.dispose();
  await broken?.dispose();
});

describe("auth", () => {
  const body = { prompt: "What is 2+2?" };
  it("401 without a key", async () => {
    const r = await call(secured, "POST", "/v1/route", { body });
    expect(r.status).toBe(401);
    expect(r.headers.get("content-type")).toBe("application/problem+json");
  });
  it("403 for a wrong key", async () => {
    const r = await call(secured, "POST", "/v1/route", { body, headers: { authorization: "Bearer nope" } });
    expect(r.status).toBe(403);
  });
  it("403 for a key without the route scope", async () => {
    const r = await call(secured, "POST", "/v1/route", { body, headers: { authorization: `Bearer ${REPORT_KEY}` } });
    expect(r.status).toBe(403);
    expect(r.body.detail).toMatch(/lacks scope route/);
  });
  it("200 with a valid key; healthz needs none", async () => {
    const r = await call(secured, "POST", "/v1/route", { body, headers: { authorization: `Bearer ${ROUTE_KEY}` } });
    expect(r.status).toBe(200);
    expect((await call(secured, "GET", "/healthz")).status).toBe(200);
  });
});

describe("bad configuration", () => {
  it("reports unhealthy with every error and answers 503 problem+json", async () => {
    const h = await call(broken, "GET", "/healthz");
    expect(h.status).toBe(503);
    expect(h.body.status).toBe("unhealthy");
    // AUTH=disabled (local): /healthz carries the details; under AUTH=required only a report key sees them.
    expect(h.body.detail.config_errors.join("\n")).toMatch(/PRICE_OVERRIDES.fixture-large.input_per_mtok/);
    const r = await call(broken, "POST", "/v1/route", { body: { prompt: "hi" } });
    expect(r.status).toBe(503);
    expect(r.body.detail).toMatch(/configuration invalid/);
  });
});
