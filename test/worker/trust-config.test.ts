/**
 * Issue 15, configuration that cannot half-work (items 1, 7, 8), in real
 * workerd: a production config without a usable PROMPT_HMAC_KEY, an
 * unbounded MAX_BODY_BYTES or an absurd price is refused at start-up (503
 * naming the variable), and the public /healthz shows state, not
 * configuration text; details go to a caller with a report key.
 * Each test fails on cacd607 (where these configs served as healthy, and
 * /healthz echoed the start of a malformed API_KEYS).
 */
import { createHash } from "node:crypto";
import type { Miniflare } from "miniflare";
import { afterAll, describe, expect, it } from "vitest";
import { call, startWorker } from "./harness.js";

const sha = (s: string) => createHash("sha256").update(s).digest("hex");
const ROUTE_KEY = "pf_trust_route_key";
const REPORT_KEY = "pf_trust_report_key";
const API_KEYS = JSON.stringify([
  { id: "router", sha256: sha(ROUTE_KEY), scopes: ["route"] },
  { id: "ops", sha256: sha(REPORT_KEY), scopes: ["report"] },
]);
const HMAC = "0123456789abcdef0123456789abcdef"; // exactly the 32-character minimum
const PROD = { AUTH: "required", API_KEYS, PROMPT_HMAC_KEY: HMAC };
const bearer = (k: string) => ({ authorization: `Bearer ${k}` });

const started: Miniflare[] = [];
async function worker(bindings: Record<string, string>): Promise<Miniflare> {
  const mf = await startWorker(bindings);
  started.push(mf);
  return mf;
}
afterAll(async () => {
  for (const mf of started) await mf.dispose();
});

/** The worker refuses to serve: /healthz 503 naming `variable`, and a scoring request 503 naming it too. */
async function expectRefused(mf: Miniflare, variable: string, key = ROUTE_KEY) {
  const h = await call(mf, "GET", "/healthz");
  expect(h.status).toBe(503);
  expect(h.body).toMatchObject({ status: "unhealthy", config: "invalid" });
  expect(h.body.invalid).toContain(variable);
  const r = await call(mf, "POST", "/v1/route", { body: { prompt: "What is 2+2?" }, headers: bearer(key) });
  expect(r.status).toBe(503);
  expect(r.headers.get("content-type")).toBe("application/problem+json");
  expect(r.body.invalid).toContain(variable);
  expect(r.body.detail).toContain(variable);
  expect(r.text).not.toMatch(/decision_id/);
}

describe("PROMPT_HMAC_KEY under AUTH=required", () => {
  it("missing: unhealthy, every scoring request 503 naming it", async () => {
    const mf = await worker({ AUTH: "required", API_KEYS });
    await expectRefused(mf, "PROMPT_HMAC_KEY");
    for (const [method, path] of [["POST", "/v1/route/batch"], ["POST", "/v1/tokenize"], ["GET", "/v1/models"], ["GET", "/v1/artifact"]]) {
      const r = await call(mf, method, path, { body: method === "POST" ? { prompt: "hi" } : undefined, headers: bearer(ROUTE_KEY) });
      expect(r.status, path).toBe(503);
      expect(r.body.invalid, path).toEqual(["PROMPT_HMAC_KEY"]);
    }
  });
  it("31 characters is too short; 32 serves", async () => {
    await expectRefused(await worker({ ...PROD, PROMPT_HMAC_KEY: HMAC.slice(1) }), "PROMPT_HMAC_KEY");
    const good = await worker(PROD);
    expect((await call(good, "GET", "/healthz")).status).toBe(200);
    expect((await call(good, "POST", "/v1/route", { body: { prompt: "What is 2+2?" }, headers: bearer(ROUTE_KEY) })).status).toBe(200);
  });
});

describe("bounds on vars", () => {
  it("MAX_BODY_BYTES above 1 MiB is refused; exactly 1 MiB serves", async () => {
    await expectRefused(await worker({ ...PROD, MAX_BODY_BYTES: "10000000" }), "MAX_BODY_BYTES");
    await expectRefused(await worker({ ...PROD, MAX_BODY_BYTES: "1048577" }), "MAX_BODY_BYTES");
    expect((await call(await worker({ ...PROD, MAX_BODY_BYTES: "1048576" }), "GET", "/healthz")).status).toBe(200);
  });
  it("a price override beyond 10,000 USD per Mtok is refused, naming the field", async () => {
    const mf = await worker({ ...PROD, PRICE_OVERRIDES: JSON.stringify({ "fixture-large": { input_per_mtok: 1e308, output_per_mtok: 1 } }) });
    await expectRefused(mf, "PRICE_OVERRIDES");
    const detail = await call(mf, "GET", "/healthz", { headers: bearer(REPORT_KEY) });
    expect(detail.body.detail.config_errors.join("\n")).toMatch(/PRICE_OVERRIDES\.fixture-large\.input_per_mtok/);
  });
  it("unknown keys in an API_KEYS entry are refused (a typo'd scope list must not become the default scopes)", async () => {
    const keys = JSON.stringify([{ id: "router", sha256: sha(ROUTE_KEY), scope: ["route"] }]);
    await expectRefused(await worker({ ...PROD, API_KEYS: keys }), "API_KEYS");
  });
});

describe("/healthz shows state, details only to an authenticated caller", () => {
  const malformed = '[{"id":"team-a","sha256":"5e884898da28047151d0e56f8dc62927' + "SECRET-TAIL"; // cut off mid-entry
  it("a malformed API_KEYS is named, never quoted, on /healthz and on 503s", async () => {
    const mf = await worker({ ...PROD, API_KEYS: malformed });
    const h = await call(mf, "GET", "/healthz");
    expect(h.status).toBe(503);
    expect(h.body.invalid).toEqual(["API_KEYS"]);
    expect(h.body.detail).toBeUndefined();
    const r = await call(mf, "POST", "/v1/route", { body: { prompt: "hi" }, headers: bearer(ROUTE_KEY) });
    for (const text of [h.text, r.text]) {
      expect(text).not.toMatch(/team-a|5e8848|SECRET/);
      expect(text).not.toMatch(/not valid JSON|Unexpected|position/);
    }
  });
  it("public /healthz has no messages; a report key gets config errors and bundle reasons; other keys 403", async () => {
    const mf = await worker({ ...PROD, EXPERIMENTS: '[{"name":"x","variants":[]}]' });
    const pub = await call(mf, "GET", "/healthz");
    expect(pub.status).toBe(503);
    expect(Object.keys(pub.body).sort()).toEqual(["bundles", "config", "default_bundle", "invalid", "status"]);
    expect(pub.body.bundles.find((b: { id: string }) => b.id === "fixture-corrupt")).toEqual({ id: "fixture-corrupt", state: "failed" });
    expect(pub.text).not.toMatch(/variants|sha256 mismatch/);
    const ops = await call(mf, "GET", "/healthz", { headers: bearer(REPORT_KEY) });
    expect(ops.status).toBe(503);
    expect(ops.body.detail.config_errors.join("\n")).toMatch(/EXPERIMENTS\.0\.variants/);
    expect(ops.body.detail.bundle_errors).toContainEqual({ id: "fixture-corrupt", reason: expect.stringMatching(/sha256 mismatch/) });
    expect((await call(mf, "GET", "/healthz", { headers: bearer(ROUTE_KEY) })).status).toBe(403);
    expect((await call(mf, "GET", "/healthz", { headers: bearer("not-a-key") })).status).toBe(403);
    // The 503 on a scoring route: names for anyone, messages for a key that passes that route.
    const anon = await call(mf, "POST", "/v1/route", { body: { prompt: "hi" } });
    expect(anon.status).toBe(503);
    expect(anon.body.config_errors).toBeUndefined();
    const authed = await call(mf, "POST", "/v1/route", { body: { prompt: "hi" }, headers: bearer(ROUTE_KEY) });
    expect(authed.body.config_errors.join("\n")).toMatch(/EXPERIMENTS\.0\.variants/);
  });
});
