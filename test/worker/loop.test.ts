/**
 * Decision log and feedback in real workerd against a real local D1
 * (SQLite, migrations/ applied): logging (committed before the response, so
 * rows are read back at once, without waiting), privacy, ε-greedy
 * propensities, feedback idempotency and errors, key scopes, rate limiting.
 */
import { createHash } from "node:crypto";
import type { Miniflare } from "miniflare";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { choose } from "../../src/core/policy.js";
import { mulberry32 } from "../../src/core/random.js";
import { call, startWorker } from "./harness.js";

const sha = (s: string) => createHash("sha256").update(s).digest("hex");
const KEYS = [
  { id: "app", sha256: sha("k-app"), scopes: ["route", "feedback", "report"] },
  { id: "logger", sha256: sha("k-text"), scopes: ["route"], store_prompts: true },
];
const EXPERIMENTS = [
  {
    name: "ab",
    variants: [
      { name: "control", weight: 1, model: "fixture-small" },
      { name: "treatment", weight: 1, model: "fixture-large" },
    ],
  },
  {
    name: "ope",
    variants: [{ name: "eps", weight: 1, policy: { type: "threshold", min_p: 0.5 }, epsilon: 0.5 }],
  },
  {
    name: "explore",
    variants: [
      { name: "greedy", weight: 1, policy: { type: "threshold", min_p: 0.5 } },
      { name: "eps", weight: 1, policy: { type: "threshold", min_p: 0.5 }, epsilon: 1 },
    ],
  },
];
const auth = (k: string) => ({ authorization: `Bearer ${k}` });

let mf: Miniflare;
let limited: Miniflare;
beforeAll(async () => {
  mf = await startWorker({ AUTH: "required", API_KEYS: JSON.stringify(KEYS), EXPERIMENTS: JSON.stringify(EXPERIMENTS), PROMPT_HMAC_KEY: "test-hmac-key-0123456789-abcdef-0123456789" }, { d1: true });
  limited = await startWorker({ AUTH: "disabled" }, { rateLimit: { limit: 3, period: 60 } });
});
afterAll(async () => {
  await mf?.dispose();
  await limited?.dispose();
});

async function rows(sql: string, ...args: unknown[]) {
  const db = await mf.getD1Database("DB");
  return (await db.prepare(sql).bind(...args).all()).results as Record<string, unknown>[];
}
const route = (body: unknown, key = "k-app", headers: Record<string, string> = {}) =>
  call(mf, "POST", "/v1/route", { body, headers: { ...auth(key), ...headers } });
const feedback = (body: unknown, key = "k-app") => call(mf, "POST", "/v1/feedback", { body, headers: auth(key) });

describe("decision log", () => {
  it("logs every decision with a decision_id, without prompt text by default", async () => {
    const r = await route({ prompt: "What is 17 * 23?" });
    expect(r.status).toBe(200);
    expect(r.body.decision_id).toMatch(/[0-9a-f-]{36}/);
    expect(r.headers.get("x-preflight-decision")).toBe(r.body.decision_id);
    const [rec] = await rows("SELECT * FROM decisions WHERE decision_id = ?", r.body.decision_id);
    expect(rec).toMatchObject({ key_id: "app", chosen: r.body.decision.model, propensity: 1, explored: 0, prompt_text: null, input_tokens: 6 });
    expect(String(rec.prompt_hmac)).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.parse(String(rec.candidates))).toHaveLength(3);
  });
  it("stores prompt text only for keys that opted in", async () => {
    const r = await route({ prompt: "keep me" }, "k-text");
    const [rec] = await rows("SELECT prompt_text FROM decisions WHERE decision_id = ?", r.body.decision_id);
    expect(rec.prompt_text).toBe("keep me");
  });
  it("logs true propensities under ε-greedy exploration", async () => {
    const ids: string[] = [];
    for (let i = 0; i < 12; i++) {
      const r = await route({ prompt: `question ${i}` }, "k-app", { "x-preflight-experiment": "explore", "x-preflight-variant": "eps" });
      ids.push(r.body.decision_id);
    }
    const logged = await rows(`SELECT propensity, explored, chosen FROM decisions WHERE variant = 'eps'`);
    expect(logged).toHaveLength(12);
    // ε = 1 over K = 3 candidates: every model has propensity 1/3, and every row explored.
    for (const r of logged) {
      expect(r.propensity).toBeCloseTo(1 / 3, 12);
      expect(r.explored).toBe(1);
    }
  });
});

describe("feedback", () => {
  it("is idempotent per (decision_id, model) and updates in place", async () => {
    const r = await route({ prompt: "feedback target" });
    const id = r.body.decision_id;
    const model = r.body.decision.model;
    expect((await feedback({ decision_id: id, model, success: true, output_tokens: 12 })).status).toBe(200);
    const again = await feedback({ decision_id: id, model, success: false, cost_usd: 0.002, latency_ms: 850 });
    expect(again.status).toBe(200);
    const fb = await rows("SELECT * FROM feedback WHERE decision_id = ?", id);
    expect(fb).toHaveLength(1);
    expect(fb[0]).toMatchObject({ reward: 0, success: 0, cost_usd: 0.002, latency_ms: 850, output_tokens: null });
  });
  it("accepts a batch and rejects unknown decisions with 404", async () => {
    const a = await route({ prompt: "one" });
    const b = await route({ prompt: "two" });
    const ok = await feedback({ items: [{ decision_id: a.body.decision_id, model: "fixture-small", score: 0.5 }, { decision_id: b.body.decision_id, model: "fixture-large", success: true }] });
    expect(ok.status).toBe(200);
    expect(ok.body.accepted).toBe(2);
    const nf = await feedback({ items: [{ decision_id: a.body.decision_id, model: "fixture-small", success: true }, { decision_id: "nope", model: "x", success: true }] });
    expect(nf.status).toBe(404);
    expect(nf.body.errors).toEqual([{ path: "items.1.decision_id", message: "unknown decision nope" }]);
    // The rejected batch changed nothing.
    const fb = await rows("SELECT reward FROM feedback WHERE decision_id = ? AND model = 'fixture-small'", a.body.decision_id);
    expect(fb[0].reward).toBe(0.5);
  });
  it("422 names the failing field; batches are capped at 500", async () => {
    const bad = await feedback({ decision_id: "x", model: "m", score: 2 });
    expect(bad.status).toBe(422);
    expect(bad.body.errors.some((e: { path: string }) => e.path.includes("score"))).toBe(true);
    const both = await feedback({ decision_id: "x", model: "m", success: true, score: 1 });
    expect(both.status).toBe(422);
    const big = await feedback({ items: Array.from({ length: 501 }, () => ({ decision_id: "x", model: "m", success: true })) });
    expect(big.status).toBe(422);
  });
  it("needs the feedback scope", async () => {
    const r = await feedback({ decision_id: "x", model: "m", success: true }, "k-text");
    expect(r.status).toBe(403);
  });
});

describe("experiment report", () => {
  it("matches a hand-computed example", async () => {
    const h = (variant: string) => ({ "x-preflight-experiment": "ab", "x-preflight-variant": variant });
    const ids: Record<string, string[]> = { control: [], treatment: [] };
    for (const v of ["control", "treatment"]) {
      for (let i = 0; i < 4; i++) ids[v].push((await route({ prompt: `ab ${v} ${i}` }, "k-app", h(v))).body.decision_id);
    }
    // control: 3 of 4 succeed at $0.001 each; treatment: 2 of 4 at $0.01 each.
    const items = [
      ...ids.control.map((id, i) => ({ decision_id: id, model: "fixture-small", success: i < 3, cost_usd: 0.001 })),
      ...ids.treatment.map((id, i) => ({ decision_id: id, model: "fixture-large", success: i < 2, cost_usd: 0.01 })),
    ];
    expect((await feedback({ items })).status).toBe(200);
    const r = await call(mf, "GET", "/v1/experiments/ab/report", { headers: auth("k-app") });
    expect(r.status).toBe(200);
    const [c, t] = r.body.variants;
    expect(c).toMatchObject({ variant: "control", requests: 4, with_feedback: 4, feedback_share: 1, abstains: 0 });
    expect(c.success.value).toBeCloseTo(0.75, 12);
    // Wilson 95% for 3/4: centre (0.75 + 1.96²/8)/(1 + 1.96²/4), half-width 1.96·√(0.75·0.25/4 + 1.96²/64)/(1 + 1.96²/4).
    expect(c.success.lo).toBeCloseTo(0.3006, 3);
    expect(c.success.hi).toBeCloseTo(0.9544, 3);
    expect(c.mean_cost.value).toBeCloseTo(0.001, 12);
    expect(c.cost_per_success).toBeCloseTo(0.004 / 3, 12);
    expect(c.model_mix).toEqual([expect.objectContaining({ model: "fixture-small", count: 4, share: 1 })]);
    expect(t.success.value).toBeCloseTo(0.5, 12);
    expect(t.cost_per_success).toBeCloseTo(0.04 / 2, 12);
    const d = r.body.differences[0];
    expect(d).toMatchObject({ variant: "treatment", control: "control" });
    expect(d.success_diff.value).toBeCloseTo(-0.25, 12);
    expect(d.mean_cost_diff.value).toBeCloseTo(0.009, 12);
    const missing = await call(mf, "GET", "/v1/experiments/nope/report", { headers: auth("k-app") });
    expect(missing.status).toBe(404);
    expect((await call(mf, "GET", "/v1/experiments/ab/report", { headers: auth("k-text") })).status).toBe(403);
  });
  it("serves the dashboard as HTML", async () => {
    const r = await call(mf, "GET", "/dashboard", { headers: auth("k-app") });
    expect(r.status).toBe(200);
    expect(r.headers.get("content-type")).toMatch(/text\/html/);
    expect(r.text).toContain("treatment");
    expect(r.text).toContain("<svg");
  });
});

describe("off-policy estimates from a logged ε-greedy experiment", () => {
  it("IPS and DR recover the known value of other threshold policies", async () => {
    // Known world: each model succeeds with a fixed probability, whatever the prompt.
    const TRUE: Record<string, number> = { "fixture-small": 0.3, "fixture-medium": 0.6, "fixture-large": 0.85 };
    const rng = mulberry32(2026);
    const words = ["sum", "prove", "integral", "python", "history", "carry", "matrix", "poem", "derive", "sort"];
    const items = [];
    for (let i = 0; i < 400; i++) {
      const prompt = Array.from({ length: 3 + (i % 7) }, (_, j) => words[(i * 7 + j * 3) % words.length]).join(" ") + ` ${i}`;
      const r = await route({ prompt }, "k-app", { "x-preflight-experiment": "ope" });
      items.push({ decision_id: r.body.decision_id, model: r.body.decision.model, success: rng() < TRUE[r.body.decision.model] });
    }
    for (let i = 0; i < items.length; i += 200) expect((await feedback({ items: items.slice(i, i + 200) })).status).toBe(200);
    const report = (await call(mf, "GET", "/v1/experiments/ope/report", { headers: auth("k-app") })).body;
    expect(report.ope.grid.sample.rows_used).toBe(400);
    const logged = await rows(`SELECT candidates FROM decisions WHERE experiment = 'ope'`);
    let checked = 0;
    for (const point of report.ope.grid.threshold as { x: number; success: { ips: { value: number; se: number }; dr: { value: number; se: number } } }[]) {
      if (![0.3, 0.5, 0.7].includes(point.x)) continue;
      // Truth: the mean true success rate of the model the target policy picks on each logged context.
      const truth =
        logged
          .map((r) => {
            const c = JSON.parse(String(r.candidates)) as { model: string; p: number; cost: number }[];
            const pick = choose(c, { type: "threshold", min_p: point.x });
            return pick.kind === "route" ? TRUE[pick.model] : 0;
          })
          .reduce((a, b) => a + b, 0) / logged.length;
      for (const est of [point.success.ips, point.success.dr]) expect(Math.abs(est.value - truth)).toBeLessThan(3.5 * est.se + 1e-9);
      checked++;
    }
    expect(checked).toBe(3);
  }, 120_000);
});

describe("rate limiting", () => {
  it("answers 429 with Retry-After once a key exceeds its limit", async () => {
    const statuses: number[] = [];
    let last;
    for (let i = 0; i < 5; i++) {
      last = await call(limited, "POST", "/v1/route", { body: { prompt: "hi" } });
      statuses.push(last.status);
    }
    expect(statuses.slice(0, 3)).toEqual([200, 200, 200]);
    expect(statuses[4]).toBe(429);
    expect(last!.headers.get("retry-after")).toBe("60");
    expect(last!.headers.get("content-type")).toBe("application/problem+json");
  });
});
