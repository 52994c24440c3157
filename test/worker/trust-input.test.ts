/**
 * Issue 15, input that cannot slip through (items 7 and 8), in real workerd:
 * unknown keys are 422 naming their path, text is capped with a 422 naming
 * the field, non-UTF-8 bodies are 415/400, an unknown experiment header is a
 * 422 on every route that reads it, and the worst-case body the configuration
 * allows keeps the isolate under 64 MB (JS heap + WASM, measured through
 * workerd's inspector and the process's peak RSS; see isolate-memory.ts).
 * Each test fails on cacd607.
 */
import type { Miniflare } from "miniflare";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MAX_TEXT_CHARS } from "../../src/core/messages.js";
import { MAX_BODY_LIMIT } from "../../src/core/config.js";
import { call, startWorker, untilLoaded } from "./harness.js";
import { startMeasuredWorker, type IsolateProbe } from "./isolate-memory.js";

const EXPERIMENTS = [{ name: "canary", variants: [{ name: "a", weight: 1, bundle: "llmrouter-v5" }] }];
let mf: Miniflare;
beforeAll(async () => {
  mf = await startWorker({ AUTH: "disabled", MAX_BODY_BYTES: String(MAX_BODY_LIMIT), EXPERIMENTS: JSON.stringify(EXPERIMENTS) });
});
afterAll(async () => mf?.dispose());

const route = (body: unknown, headers: Record<string, string> = {}) => call(mf, "POST", "/v1/route", { body, headers });
const paths = (r: { body: { errors?: { path: string }[] } }) => (r.body.errors ?? []).map((e) => e.path);

describe("unknown keys are 422 with their path", () => {
  it("in policy, in a batch item's policy, in messages and in text parts", async () => {
    const p = await route({ prompt: "hi", policy: { type: "threshold", min_p: 0.5, min_prob: 0.9 } });
    expect(p.status).toBe(422);
    expect(paths(p)).toEqual(["policy.min_prob"]);
    const b = await call(mf, "POST", "/v1/route/batch", { body: { requests: [{ prompt: "a" }, { prompt: "b", policy: { type: "fixed", model: "fixture-small", why: 1 } }] } });
    expect(b.status).toBe(422);
    expect(paths(b)).toEqual(["requests.1.policy.why"]);
    const m = await route({ messages: [{ role: "user", content: "hi", colour: "red" }] });
    expect(m.status).toBe(422);
    expect(paths(m)).toEqual(["messages.0.colour"]);
    const t = await route({ messages: [{ role: "user", content: [{ type: "text", text: "hi", cache_control: {} }] }] });
    expect(t.status).toBe(422);
    expect(paths(t)).toEqual(["messages.0.content.0.cache_control"]);
    const tok = await call(mf, "POST", "/v1/tokenize", { body: { messages: [{ role: "user", content: "hi", colour: "red" }] } });
    expect(paths(tok)).toEqual(["messages.0.colour"]);
  });
  it("a per-model output length for a model outside the pool names the field", async () => {
    const r = await route({ prompt: "hi", expected_output_tokens: { "fixture-small": 10, "gpt-9": 10 } });
    expect(r.status).toBe(422);
    expect(r.body.errors).toEqual([{ path: "expected_output_tokens", message: "unknown model gpt-9" }]);
  });
  it("documented pass-through: OpenAI message fields and non-text parts are accepted and not scored", async () => {
    const plain = await route({ messages: [{ role: "assistant", content: "Sure." }] });
    const rich = await route({
      messages: [{ role: "assistant", content: [{ type: "text", text: "Sure." }, { type: "image_url", image_url: { url: "data:," } }], tool_calls: [], refusal: null }],
    });
    expect(rich.status).toBe(200);
    expect(rich.body.candidates).toEqual(plain.body.candidates);
  });
});

describe("text caps (422 naming the field)", () => {
  it(`prompt: ${MAX_TEXT_CHARS} characters pass, one more is refused`, async () => {
    expect((await route({ prompt: "x".repeat(MAX_TEXT_CHARS) })).status).toBe(200);
    const over = await route({ prompt: "x".repeat(MAX_TEXT_CHARS + 1) });
    expect(over.status).toBe(422);
    expect(paths(over)).toEqual(["prompt"]);
  });
  it("a batch: all its prompts and messages together", async () => {
    const quarter = (c: string) => ({ prompt: c.repeat(MAX_TEXT_CHARS / 4) });
    expect((await call(mf, "POST", "/v1/route/batch", { body: { requests: ["a", "b", "c", "d"].map(quarter) } })).status).toBe(200);
    const over = await call(mf, "POST", "/v1/route/batch", { body: { requests: [...["a", "b", "c"].map(quarter), { messages: [{ role: "user", content: "d".repeat(MAX_TEXT_CHARS / 4 + 1) }] }] } });
    expect(over.status).toBe(422);
    expect(paths(over)).toEqual(["requests"]);
  });
  it("messages: the contents together, not each message", async () => {
    const half = "y".repeat(MAX_TEXT_CHARS / 2);
    expect((await route({ messages: [{ role: "user", content: half }, { role: "user", content: [{ type: "text", text: half }] }] })).status).toBe(200);
    const over = await route({ messages: [{ role: "user", content: half }, { role: "user", content: half + "y" }] });
    expect(over.status).toBe(422);
    expect(paths(over)).toEqual(["messages"]);
  });
});

describe("bodies are UTF-8", () => {
  const send = (contentType: string, bytes: Uint8Array) =>
    mf.dispatchFetch("http://localhost/v1/route", { method: "POST", headers: { "content-type": contentType }, body: bytes });
  const json = new TextEncoder().encode(JSON.stringify({ prompt: "What is 2+2?" }));
  it("a declared non-UTF-8 charset is 415, UTF-8 spelled either way is accepted", async () => {
    for (const ct of ["application/json; charset=utf-16", "application/json;charset=ISO-8859-1", 'application/json; charset="utf-16le"']) {
      const r = await send(ct, json);
      expect(r.status, ct).toBe(415);
      expect(await r.json()).toMatchObject({ detail: expect.stringMatching(/UTF-8/) });
    }
    for (const ct of ["application/json; charset=utf-8", "application/json; charset=UTF8"]) {
      const r = await send(ct, json);
      expect(r.status, ct).toBe(200);
      await r.arrayBuffer();
    }
  });
  it("bytes that are not UTF-8 are 400, not silently replaced", async () => {
    const bad = new Uint8Array([...new TextEncoder().encode('{"prompt":"caf'), 0xe9, ...new TextEncoder().encode('"}')]);
    const r = await send("application/json", bad);
    expect(r.status).toBe(400);
    expect(await r.json()).toMatchObject({ detail: "body is not valid UTF-8" });
  });
});

describe("an unknown experiment is a 422 wherever the header is read", () => {
  it("on /v1/route, /v1/tokenize, /v1/models and /v1/artifact alike; a known one selects its variant's bundle", async () => {
    const h = { "x-preflight-experiment": "nope" };
    for (const [method, path] of [["POST", "/v1/route"], ["POST", "/v1/tokenize"], ["GET", "/v1/models"], ["GET", "/v1/artifact"]]) {
      const r = await call(mf, method, path, { body: method === "POST" ? { prompt: "hi" } : undefined, headers: h });
      expect(r.status, path).toBe(422);
      expect(r.body.valid, path).toEqual(["canary"]);
    }
    const v = await call(mf, "GET", "/v1/models", { headers: { "x-preflight-experiment": "canary", "x-preflight-variant": "zz" } });
    expect(v.status).toBe(422);
    const known = await call(mf, "GET", "/v1/artifact", { headers: { "x-preflight-experiment": "canary" } });
    expect(known.body.id).toBe("llmrouter-v5");
  });
});

describe("isolate memory under the worst-case body the configuration allows", () => {
  let measured: { mf: Miniflare; probe: IsolateProbe };
  beforeAll(async () => {
    measured = await startMeasuredWorker({ AUTH: "disabled", MAX_BODY_BYTES: String(MAX_BODY_LIMIT) });
    // llmrouter-v5 is not this worker's default: its session is created after first use.
    await untilLoaded(measured.mf, { "x-preflight-bundle": "llmrouter-v5" });
  });
  afterAll(async () => {
    measured?.probe.close();
    await measured?.mf.dispose();
  });

  /** Pads `make(n)` with n filler characters so that its JSON is exactly MAX_BODY_LIMIT bytes. */
  function fullBody(make: (fill: number) => unknown): string {
    const base = JSON.stringify(make(0)).length;
    const text = JSON.stringify(make(MAX_BODY_LIMIT - base));
    expect(Buffer.byteLength(text)).toBe(MAX_BODY_LIMIT);
    return text;
  }
  // Every character its own piece and n-gram source: the featurizer's heaviest input.
  const dense = (n: number) => "a!1 ".repeat(Math.ceil(n / 4)).slice(0, n);
  const cases: [string, string, () => string][] = [
    ["prompt at the cap + an image part up to the body limit", "/v1/route", () =>
      fullBody((fill) => ({ messages: [{ role: "user", content: [{ type: "text", text: dense(MAX_TEXT_CHARS) }, { type: "image_url", image_url: { url: "A".repeat(fill) } }] }] }))],
    ["one word of 262,144 letters (half a million char n-grams) + an image part up to the body limit", "/v1/route", () =>
      fullBody((fill) => ({ messages: [{ role: "user", content: [{ type: "text", text: "x".repeat(MAX_TEXT_CHARS) }, { type: "image_url", image_url: { url: "A".repeat(fill) } }] }] }))],
    ["1000 messages at the content cap + names up to the body limit", "/v1/route", () =>
      fullBody((fill) => ({ messages: Array.from({ length: 1000 }, (_, i) => ({ role: "user", name: "n".repeat(Math.floor(fill / 1000) + (i < fill % 1000 ? 1 : 0)), content: dense(MAX_TEXT_CHARS / 1000) })) }))],
    ["a batch of 64 prompts at the text cap + image parts up to the body limit", "/v1/route/batch", () =>
      fullBody((fill) => ({
        requests: Array.from({ length: 64 }, (_, i) => ({
          messages: [{ role: "user", content: [{ type: "text", text: dense(MAX_TEXT_CHARS / 64) }, { type: "image_url", image_url: { url: "A".repeat(Math.floor(fill / 64) + (i < fill % 64 ? 1 : 0)) } }] }],
        })),
      }))],
  ];

  it("MAX_BODY_BYTES cannot exceed 1 MiB, and each worst case at 1 MiB peaks ≤ 64 MiB (JS heap + WASM)", async () => {
    // The bound below holds only because the configuration cannot allow more (cacd607 accepted 10 MB: 308 MiB peak).
    const over = await startWorker({ AUTH: "disabled", MAX_BODY_BYTES: String(MAX_BODY_LIMIT + 1) });
    try {
      expect((await call(over, "GET", "/healthz")).status).toBe(503);
    } finally {
      await over.dispose();
    }
    const { mf: m, probe } = measured;
    const headers = { "content-type": "application/json", "x-preflight-bundle": "llmrouter-v5" }; // the production default's featurizer
    for (const [name, path, body] of cases) {
      const raw = body();
      let status = 0;
      const r = await probe.measure(raw.length, async () => {
        status = (await call(m, "POST", path, { raw, headers })).status;
      });
      const mib = (x: number) => (x / 2 ** 20).toFixed(1);
      console.log(
        `[isolate-memory] ${name}: status ${status}, peak ≤ ${mib(r.peakBoundBytes)} MiB = WASM ${mib(r.after.wasmBytes)} + min(` +
          `used ${mib(r.before.jsHeapUsedBytes)} + allocated ${mib(r.allocatedBytes)} + 2 × body ${mib(2 * raw.length)}, ` +
          `committed ${mib(r.before.jsHeapTotalBytes)} + process peak growth ${mib(r.processPeakGrowthBytes)})`,
      );
      expect(status, name).toBe(200);
      expect(r.peakBoundBytes, name).toBeLessThanOrEqual(64 * 2 ** 20);
    }
  });
});
