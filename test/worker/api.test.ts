/**
 * Worker API in real workerd with real ORT and the fixture bundle: every route,
 * every error status, policies, prices, experiments by header, golden replay.
 */
import { readFileSync } from "node:fs";
import type { Miniflare } from "miniflare";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { call, replayGolden, startWorker } from "./harness.js";

const EXPERIMENTS = [
  {
    name: "canary",
    variants: [
      { name: "control", weight: 1, model: "fixture-small" },
      { name: "treatment", weight: 3, policy: { type: "utility", lambda: 10 } },
    ],
  },
];

let mf: Miniflare;
beforeAll(async () => {
  mf = await startWorker({
    AUTH: "disabled",
    MAX_BODY_BYTES: "4096",
    EXPERIMENTS: JSON.stringify(EXPERIMENTS),
    PRICE_OVERRIDES: JSON.stringify({ "fixture-large": { input_per_mtok: 5, output_per_mtok: 15 } }),
  });
});
afterAll(async () => mf?.dispose());

const route = (body: unknown, headers: Record<string, string> = {}) => call(mf, "POST", "/v1/route", { body, headers });

describe("POST /v1/route", () => {
  it("returns a decision, sorted candidates and the response headers", async () => {
    const r = await route({ prompt: "What is 17 * 23?" });
    expect(r.status).toBe(200);
    expect(r.body.decision.type).toBe("route");
    const ps = r.body.candidates.map((c: { p_success: number }) => c.p_success);
    expect([...ps].sort((a, b) => b - a)).toEqual(ps);
    expect(r.body.candidates).toHaveLength(3);
    expect(r.body.artifact.id).toBe("fixture-tiny");
    expect(r.body.artifact.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(r.body.experiment).toBeNull();
    expect(r.headers.get("x-preflight-model")).toBe(r.body.decision.model);
    expect(r.headers.get("x-preflight-variant")).toBe("none");
    expect(r.headers.get("x-preflight-artifact")).toMatch(/^fixture-tiny@[0-9a-f]{12}$/);
    expect(r.headers.get("x-request-id")).toBe(r.body.request_id);
    expect(r.headers.get("server-timing")).toMatch(/^score;dur=/);
  });

  it("computes cost as input×price_in + output×price_out, with the override applied", async () => {
    const r = await route({ prompt: "What is 17 * 23?", expected_output_tokens: { "fixture-small": 1000 } });
    const small = r.body.candidates.find((c: { model: string }) => c.model === "fixture-small");
    const large = r.body.candidates.find((c: { model: string }) => c.model === "fixture-large");
    // 6 input tokens (What|is|17|*|23|?); fixture-small $0.1/$0.2 per 1M; fixture-large overridden to $5/$15.
    expect(small.input_tokens).toBe(6);
    expect(small.expected_cost_usd).toBeCloseTo((6 * 0.1 + 1000 * 0.2) / 1e6, 15);
    expect(small.price_source).toBe("bundle");
    expect(large.expected_output_tokens).toBe(400);
    expect(large.expected_cost_usd).toBeCloseTo((6 * 5 + 400 * 15) / 1e6, 15);
    expect(large.price_source).toBe("override");
    expect(large.cost_per_success_usd).toBeCloseTo(large.expected_cost_usd / large.p_success, 12);
  });

  it("formats messages as role-prefixed turns", async () => {
    const msgs = [
      { role: "system", content: "Be brief." },
      { role: "user", content: [{ type: "text", text: "What is 2+2?" }] },
    ];
    const a = await route({ messages: msgs });
    const b = await route({ prompt: "system: Be brief.\n\nuser: What is 2+2?" });
    expect(a.status).toBe(200);
    expect(a.body.candidates).toEqual(b.body.candidates);
  });

  it("applies each policy", async () => {
    const q = { prompt: "Write a Python function that returns the n-th Fibonacci number." };
    const fixed = await route({ ...q, policy: { type: "fixed", model: "fixture-large" } });
    expect(fixed.body.decision.model).toBe("fixture-large");
    const cheap = await route({ ...q, policy: { type: "threshold", min_p: 0 } });
    expect(cheap.body.decision.model).toBe("fixture-small");
    const none = await route({ ...q, policy: { type: "threshold", min_p: 1 } });
    const top = none.body.candidates[0].model;
    expect(none.body.decision.model).toBe(top);
    const budget = await route({ ...q, policy: { type: "budget", max_cost_usd: 0 } });
    expect(budget.body.decision.reason).toMatch(/no model within budget/);
    const util = await route({ ...q, policy: { type: "utility", lambda: 0 } });
    expect(util.body.decision.model).toBe(top);
    expect(util.body.candidates.every((c: { utility: number; p_success: number }) => c.utility === c.p_success)).toBe(true);
    const value = await route({ ...q, policy: { type: "utility", value_usd: 0.01 } });
    for (const c of value.body.candidates) expect(c.utility).toBeCloseTo(c.p_success * 0.01 - c.expected_cost_usd, 12);
    const abstain = await route({ ...q, abstain_below: 0.999 });
    expect(abstain.body.decision).toMatchObject({ type: "abstain", model: null });
    expect(abstain.headers.get("x-preflight-model")).toBe("abstain");
  });

  it("honours models and exclude, and names unknown models", async () => {
    const only = await route({ prompt: "hi", models: ["fixture-small", "fixture-medium"], exclude: ["fixture-medium"] });
    expect(only.body.candidates.map((c: { model: string }) => c.model)).toEqual(["fixture-small"]);
    const bad = await route({ prompt: "hi", models: ["gpt-9"] });
    expect(bad.status).toBe(422);
    expect(bad.headers.get("content-type")).toBe("application/problem+json");
    expect(bad.body.errors[0].path).toBe("models");
    expect(bad.body.valid).toContain("fixture-small");
    const empty = await route({ prompt: "hi", exclude: ["fixture-small", "fixture-medium", "fixture-large"] });
    expect(empty.status).toBe(422);
  });

  it("marks truncated prompts", async () => {
    const long = Array.from({ length: 400 }, (_, i) => `word${i}`).join(" ");
    const r = await call(mf, "POST", "/v1/route", { body: { prompt: long } });
    expect(r.status).toBe(200);
    expect(r.body.truncated).toBe(true);
  });
});

describe("errors", () => {
  it("400 on malformed JSON", async () => {
    const r = await call(mf, "POST", "/v1/route", { raw: "{nope", headers: { "content-type": "application/json" } });
    expect(r.status).toBe(400);
    expect(r.body).toMatchObject({ status: 400, title: "Malformed JSON" });
    expect(r.body.request_id).toBeTruthy();
  });
  it("415 on the wrong content type", async () => {
    const r = await call(mf, "POST", "/v1/route", { raw: "prompt=hi", headers: { "content-type": "text/plain" } });
    expect(r.status).toBe(415);
  });
  it("413 over the body limit", async () => {
    const r = await route({ prompt: "x".repeat(5000) });
    expect(r.status).toBe(413);
    expect(r.body.limit_bytes).toBe(4096);
  });
  it("422 with field paths on schema violations", async () => {
    const both = await route({ prompt: "a", messages: [{ role: "user", content: "b" }] });
    expect(both.status).toBe(422);
    expect(both.body.errors[0].path).toBe("prompt");
    const badPolicy = await route({ prompt: "a", policy: { type: "threshold", min_p: 2 } });
    expect(badPolicy.status).toBe(422);
    expect(badPolicy.body.errors.some((e: { path: string }) => e.path.startsWith("policy"))).toBe(true);
    const extra = await route({ prompt: "a", colour: "red" });
    expect(extra.status).toBe(422);
  });
  it("404 on unknown routes and 405 with Allow on wrong methods", async () => {
    const nf = await call(mf, "GET", "/nope");
    expect(nf.status).toBe(404);
    expect(nf.headers.get("content-type")).toBe("application/problem+json");
    const na = await call(mf, "GET", "/v1/route");
    expect(na.status).toBe(405);
    expect(na.headers.get("allow")).toBe("POST");
  });
  it("503 for a bundle whose files do not match its manifest", async () => {
    const r = await route({ prompt: "hi" }, { "x-preflight-bundle": "fixture-corrupt" });
    expect(r.status).toBe(503);
    expect(r.body.detail).toMatch(/sha256 mismatch for student.onnx/);
    const unknown = await route({ prompt: "hi" }, { "x-preflight-bundle": "nope" });
    expect(unknown.status).toBe(422);
    expect(unknown.body.valid).toContain("fixture-tiny");
  });
});

describe("batch", () => {
  it("routes up to 64 prompts in order and rejects 65", async () => {
    const prompts = ["What is 17 * 23?", "hello", "Prove that sqrt(2) is irrational."];
    const r = await call(mf, "POST", "/v1/route/batch", { body: { requests: prompts.map((prompt) => ({ prompt })) } });
    expect(r.status).toBe(200);
    expect(r.body.results).toHaveLength(3);
    for (const [i, p] of prompts.entries()) {
      const single = await route({ prompt: p });
      const a = r.body.results[i].candidates.map((c: { p_success: number }) => c.p_success);
      const b = single.body.candidates.map((c: { p_success: number }) => c.p_success);
      a.forEach((x: number, j: number) => expect(x).toBeCloseTo(b[j], 6));
    }
    const tooMany = await call(mf, "POST", "/v1/route/batch", { body: { requests: Array.from({ length: 65 }, () => ({ prompt: "a" })) } });
    expect(tooMany.status).toBe(422);
    const badItem = await call(mf, "POST", "/v1/route/batch", { body: { requests: [{ prompt: "a" }, { prompt: "b", models: ["x"] }] } });
    expect(badItem.status).toBe(422);
    expect(badItem.body.errors[0].path).toBe("requests.1.models");
  });
});

describe("experiments by header", () => {
  const exp = (unit: string, extra: Record<string, string> = {}) =>
    route({ prompt: "What is 17 * 23?" }, { "x-preflight-experiment": "canary", "x-preflight-unit": unit, ...extra });
  it("assigns deterministically by unit and reports the variant", async () => {
    const a = await exp("user-1");
    const b = await exp("user-1");
    expect(a.body.experiment).toEqual(b.body.experiment);
    expect(a.headers.get("x-preflight-variant")).toBe(a.body.experiment.variant);
    const seen = new Set<string>();
    for (let i = 0; i < 24; i++) seen.add((await exp(`u${i}`)).body.experiment.variant);
    expect(seen).toEqual(new Set(["control", "treatment"]));
  });
  it("forces a variant; the control arm is a fixed model", async () => {
    const c = await exp("anyone", { "x-preflight-variant": "control" });
    expect(c.body.decision).toMatchObject({ model: "fixture-small", policy: "fixed(fixture-small)" });
    const t = await exp("anyone", { "x-preflight-variant": "treatment" });
    expect(t.body.decision.policy).toBe("utility(lambda=10)");
  });
  it("422 names the valid experiments and variants", async () => {
    const e = await route({ prompt: "a" }, { "x-preflight-experiment": "nope" });
    expect(e.status).toBe(422);
    expect(e.body.valid).toEqual(["canary"]);
    const v = await exp("u", { "x-preflight-variant": "nope" });
    expect(v.status).toBe(422);
    expect(v.body.valid).toEqual(["control", "treatment"]);
  });
});

describe("info routes", () => {
  it("GET /v1/models shows prices and their source", async () => {
    const r = await call(mf, "GET", "/v1/models");
    expect(r.status).toBe(200);
    const large = r.body.models.find((m: { id: string }) => m.id === "fixture-large");
    expect(large).toMatchObject({ input_per_mtok: 5, output_per_mtok: 15, price_source: "override", price_origin: "PRICE_OVERRIDES" });
    const small = r.body.models.find((m: { id: string }) => m.id === "fixture-small");
    expect(small).toMatchObject({ price_source: "bundle", output_tokens_source: "estimate" });
  });
  it("GET /v1/artifact summarises the manifest", async () => {
    const r = await call(mf, "GET", "/v1/artifact");
    expect(r.body).toMatchObject({ id: "fixture-tiny", kind: "fixture", format_version: 1 });
    expect(r.body.available).toContain("fixture-corrupt");
  });
  it("GET /healthz reports each bundle", async () => {
    const r = await call(mf, "GET", "/healthz");
    expect(r.status).toBe(200);
    expect(r.body.bundles.find((b: { id: string }) => b.id === "fixture-corrupt").state).toBe("failed");
  });
  it("GET /openapi.json is OpenAPI 3.1 generated from the schemas", async () => {
    const r = await call(mf, "GET", "/openapi.json");
    expect(r.body.openapi).toBe("3.1.0");
    expect(Object.keys(r.body.paths)).toEqual(expect.arrayContaining(["/v1/route", "/v1/route/batch", "/v1/models", "/v1/artifact", "/healthz", "/v1/tokenize"]));
    expect(r.body.components.schemas.RouteRequest.properties.policy).toBeDefined();
  });
});

describe("golden replay", () => {
  // The fixture plus every production bundle embedded in src/worker/embedded-bundles.ts.
  const bundles = [
    { id: "fixture-tiny", dir: "test/fixtures/bundles/fixture-tiny" },
    ...readFileSync("src/worker/embedded-bundles.ts", "utf8")
      .split("\n")
      .flatMap((l) => {
        const m = /from "\.\.\/\.\.\/(artifacts\/([^/]+))\/manifest\.json"/.exec(l);
        return m ? [{ id: m[2], dir: m[1] }] : [];
      }),
  ];
  let big: Miniflare;
  beforeAll(async () => {
    big = await startWorker({ AUTH: "disabled", MAX_BODY_BYTES: "1000000" });
  });
  afterAll(async () => big?.dispose());

  it.each(bundles)("$id: ids exactly and probabilities within 1e-5 of golden.jsonl", async ({ id, dir }) => {
    expect(await replayGolden(big, dir, { headers: { "x-preflight-bundle": id }, maxPromptChars: Infinity })).toBeGreaterThan(5);
  });
});
