/**
 * No loss across the whole loop (issue 19's durability target), in real
 * workerd against Miniflare's local D1 and R2 kept on disk: traffic (single
 * and batch routes, feedback on every acknowledged decision, a canary arm on
 * the `candidate` alias) keeps flowing while a bundle is published to R2 and
 * `candidate` then `default` are flipped through PUT /v1/aliases; the worker
 * is then restarted on the same stores and the cycle repeats with a second
 * bundle, with part of the first worker's feedback sent only after the
 * restart. Afterwards D1 and the paged export hold every acknowledged
 * decision exactly once, as answered, and every acknowledged feedback row;
 * alias_events holds every flip with who and when; no refused (503) request
 * left a decision. Counts only: nothing here is timed.
 */
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Miniflare } from "miniflare";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FeedbackItem } from "../../src/core/decision-record.js";
import { ExportLine, type ExportDecision, type ExportEnd } from "../../src/core/export-row.js";
import { hmacSha256Hex } from "../../src/core/sha256.js";
import { call, startWorker, type Reply } from "./harness.js";

const sha = (s: string | Uint8Array) => createHash("sha256").update(s).digest("hex");
const HMAC_KEY = "loop-durability-hmac-key-0123456789-abcdef";
const KEYS = [
  { id: "app", sha256: sha("k-app"), scopes: ["route", "feedback"] },
  // Releases bundles and retrains: `admin` lets its export read the app key's decisions.
  { id: "ops", sha256: sha("k-ops"), scopes: ["alias", "export", "admin"] },
];
const EXPERIMENTS = [
  {
    name: "canary",
    variants: [
      { name: "control", weight: 95, policy: { type: "threshold", min_p: 0.6 }, epsilon: 0.2 },
      { name: "candidate", weight: 5, bundle: "candidate" },
    ],
  },
];
const BINDINGS = { AUTH: "required", API_KEYS: JSON.stringify(KEYS), PROMPT_HMAC_KEY: HMAC_KEY, EXPERIMENTS: JSON.stringify(EXPERIMENTS), ALIAS_TTL_MS: "200" };
const APP = { authorization: "Bearer k-app" };
const OPS = { authorization: "Bearer k-ops" };
const SOURCE = "artifacts/routellm-v1";
const TEXTS = ["What is 17 * 23?", "Write a haiku about autumn rain.", "Prove that sqrt(2) is irrational.", "Translate 'good morning' to French.", "Implement quicksort in Rust with generics."];
/** A plain ArrayBuffer: Miniflare's proxy does not carry a Node Buffer into R2. */
const arrayBuffer = (b: Buffer) => b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Acked { bundleId: string; sha: string; variant: string | null; worker: number }
interface Flip { alias: string; digest: string; bundleId: string; previous: string | null; before: number; after: number }

/** What the clients were told: only acknowledged writes count, and each must be found exactly as acknowledged. */
const ledger = {
  decisions: new Map<string, Acked>(),
  feedback: new Map<string, FeedbackItem>(), // `${decision_id} ${model}` → the item acknowledged last
  held: [] as FeedbackItem[], // the first worker's feedback, sent after the restart
  refused: [] as { text: string; type: string }[],
  flips: [] as Flip[],
  calls: { single: 0, batch: 0, feedback: 0 },
  error: null as unknown,
};

/** Puts `srcDir` into R2 under another bundle id, as `pipeline publish` lays it out (manifest last); returns its digest. */
async function publish(mf: Miniflare, srcDir: string, id: string): Promise<string> {
  const text = readFileSync(`${srcDir}/manifest.json`, "utf8");
  const from = JSON.parse(text).bundle_id as string;
  const manifest = text.replace(`"bundle_id": "${from}"`, `"bundle_id": "${id}"`);
  expect(manifest).not.toBe(text);
  const digest = sha(manifest);
  const bucket = await mf.getR2Bucket("BUNDLES");
  for (const f of JSON.parse(manifest).files as { path: string }[]) await bucket.put(`bundles/${digest}/${f.path}`, arrayBuffer(readFileSync(`${srcDir}/${f.path}`)));
  await bucket.put(`bundles/${digest}/manifest.json`, manifest);
  return digest;
}

async function flip(mf: Miniflare, alias: string, digest: string, bundleId: string, previous: string | null): Promise<void> {
  const before = Date.now();
  const r = await call(mf, "PUT", `/v1/aliases/${alias}`, { body: { manifest_sha256: digest, bundle_id: bundleId }, headers: OPS });
  expect(r.status).toBe(200);
  expect(r.body.previous_sha256).toBe(previous);
  ledger.flips.push({ alias, digest, bundleId, previous, before, after: Date.now() });
}

/** Feedback for one acknowledged decision: its chosen model (first candidate on an abstain), sometimes a second model too. */
function feedbackFor(n: number, r: { decision_id: string; decision: { type: string; model?: string }; candidates: { model: string }[] }): FeedbackItem[] {
  const model = r.decision.type === "route" ? r.decision.model! : r.candidates[0].model;
  const items: FeedbackItem[] = [{ decision_id: r.decision_id, model, success: n % 3 !== 0, cost_usd: (n % 10) / 1000, output_tokens: 10 + (n % 50) }];
  const other = r.candidates.find((c) => c.model !== model);
  if (n % 7 === 0 && other) items.push({ decision_id: r.decision_id, model: other.model, score: 0.25 });
  return items;
}

async function sendFeedback(mf: Miniflare, items: FeedbackItem[]): Promise<void> {
  for (let i = 0; i < items.length; i += 500) {
    const chunk = items.slice(i, i + 500);
    const r = await call(mf, "POST", "/v1/feedback", { body: chunk.length === 1 ? chunk[0] : { items: chunk }, headers: APP });
    ledger.calls.feedback++;
    if (r.status !== 200 || r.body.accepted !== chunk.length) throw new Error(`feedback answered ${r.status}: ${r.text}`);
    for (const f of chunk) ledger.feedback.set(`${f.decision_id} ${f.model}`, f);
  }
}

/** One client call: default or canary traffic, single or batch, then feedback on what was acknowledged. */
async function step(mf: Miniflare, worker: number, n: number): Promise<void> {
  const kind = n % 5; // 0 default single, 1 default batch, 2 control single, 3 candidate single, 4 candidate batch
  const size = kind === 1 ? 6 : kind === 4 ? 4 : 1;
  const texts = Array.from({ length: size }, (_, j) => `${TEXTS[(n + j) % TEXTS.length]} [w${worker} n${n} i${j}]`);
  const headers: Record<string, string> = kind < 2 ? { ...APP } : { ...APP, "x-preflight-experiment": "canary", "x-preflight-variant": kind === 2 ? "control" : "candidate" };
  const r: Reply =
    size === 1
      ? await call(mf, "POST", "/v1/route", { body: { prompt: texts[0] }, headers })
      : await call(mf, "POST", "/v1/route/batch", { body: { requests: texts.map((prompt) => ({ prompt })) }, headers });
  ledger.calls[size === 1 ? "single" : "batch"]++;
  if (r.status === 503 && /\/bundle-(loading|unavailable)$/.test(String(r.body?.type))) {
    // Refused before anything was decided: no id may leave, and none may be logged (checked by HMAC at the end).
    if (/decision_id/.test(r.text) || r.headers.get("x-preflight-decision") !== null) throw new Error(`a 503 carried a decision id: ${r.text}`);
    for (const text of texts) ledger.refused.push({ text, type: r.body.type });
    return;
  }
  if (r.status !== 200 || r.headers.get("x-preflight-logged") !== "true") throw new Error(`route answered ${r.status} (logged ${r.headers.get("x-preflight-logged")}): ${r.text}`);
  const results = size === 1 ? [r.body] : r.body.results;
  const items: FeedbackItem[] = [];
  for (const [j, res] of results.entries()) {
    if (ledger.decisions.has(res.decision_id)) throw new Error(`decision_id ${res.decision_id} handed out twice`);
    ledger.decisions.set(res.decision_id, { bundleId: res.artifact.id, sha: res.artifact.sha256, variant: res.experiment?.variant ?? null, worker });
    const fb = feedbackFor(n + j, res);
    if (worker === 1 && (n + j) % 4 === 0) ledger.held.push(...fb);
    else items.push(...fb);
  }
  await sendFeedback(mf, items);
}

/** Two concurrent clients calling until `stop()`; the first failure stops both and is kept for waitFor to throw. */
async function traffic(mf: Miniflare, worker: number, stop: () => boolean): Promise<void> {
  let n = 0;
  const lane = async () => {
    while (!stop() && ledger.error === null) {
      try {
        await step(mf, worker, n++);
      } catch (e) {
        ledger.error = e;
      }
    }
  };
  await Promise.all([lane(), lane()]);
}

/** Waits (bounded by polls, not asserted on time) until traffic shows `pred`. */
async function waitFor(what: string, pred: () => boolean): Promise<void> {
  for (let i = 0; i < 3000; i++) {
    if (ledger.error !== null) throw ledger.error;
    if (pred()) return;
    await sleep(10);
  }
  throw new Error(`traffic never showed: ${what}`);
}
const servedBy = (worker: number, digest: string, variant: string | null) => () =>
  [...ledger.decisions.values()].some((d) => d.worker === worker && d.sha === digest && d.variant === variant);
const routeCalls = () => ledger.calls.single + ledger.calls.batch;
/** Until clients have made `k` more route calls than now. */
const more = (k: number) => {
  const base = routeCalls();
  return waitFor(`${k} more route calls`, () => routeCalls() >= base + k);
};

/** Flips `candidate`, then `default`, to `digest` while traffic flows, each once traffic shows it served. */
async function rollOut(mf: Miniflare, worker: number, digest: string, id: string, previous: string | null): Promise<void> {
  await flip(mf, "candidate", digest, id, previous);
  await waitFor(`canary served by ${id}`, servedBy(worker, digest, "candidate"));
  await more(50);
  await flip(mf, "default", digest, id, previous);
  await waitFor(`default served by ${id}`, servedBy(worker, digest, null));
  await more(50);
}

const dir = mkdtempSync(join(tmpdir(), "loop-durability-"));
let mf: Miniflare;
let x: string;
let y: string;
beforeAll(async () => {
  let stop = false;
  mf = await startWorker(BINDINGS, { d1: true, r2: true, persist: dir });
  let lanes = traffic(mf, 1, () => stop);
  await more(60);
  x = await publish(mf, SOURCE, "loop-r2-x");
  await rollOut(mf, 1, x, "loop-r2-x", null);
  stop = true;
  await lanes;
  await mf.dispose();

  // Restart: a new workerd on the same D1 and R2 files; aliases and the log come from them alone.
  stop = false;
  mf = await startWorker(BINDINGS, { d1: true, r2: true, persist: dir });
  lanes = traffic(mf, 2, () => stop);
  await waitFor("default served by loop-r2-x after the restart", servedBy(2, x, null));
  await waitFor("canary served by loop-r2-x after the restart", servedBy(2, x, "candidate"));
  await more(60);
  y = await publish(mf, SOURCE, "loop-r2-y");
  await rollOut(mf, 2, y, "loop-r2-y", x);
  stop = true;
  await lanes;
  if (ledger.error !== null) throw ledger.error;
  await sendFeedback(mf, ledger.held);
  // A client retrying feedback it already got an answer for changes nothing.
  await sendFeedback(mf, [...ledger.feedback.values()].slice(0, 50));
}, 120_000);
afterAll(async () => {
  await mf?.dispose();
  rmSync(dir, { recursive: true, force: true });
});

async function rows(sql: string) {
  return (await (await mf.getD1Database("DB")).prepare(sql).all()).results as Record<string, unknown>[];
}
const reward = (f: FeedbackItem) => (f.success === undefined ? f.score! : f.success ? 1 : 0);

describe("no loss across publish, alias flips and a restart", () => {
  it("drove several hundred routes through both workers, every arm and both bundles", () => {
    const byWorker = [1, 2].map((w) => [...ledger.decisions.values()].filter((d) => d.worker === w));
    console.log(`loop-durability: ${ledger.calls.single} single + ${ledger.calls.batch} batch route calls, ${ledger.decisions.size} decisions acknowledged (${byWorker[0].length} before the restart), ${ledger.feedback.size} feedback rows (${ledger.held.length} sent after the restart) in ${ledger.calls.feedback} calls, ${ledger.refused.length} prompts refused with 503, ${ledger.flips.length} flips`);
    expect(routeCalls()).toBeGreaterThanOrEqual(300);
    expect(ledger.held.length).toBeGreaterThan(0);
    // Arm and bundle pairs each worker must have served (the embedded fixture-tiny is the default until `default` is set).
    const arms = [
      ["default fixture-tiny", "control fixture-tiny", "candidate loop-r2-x", "default loop-r2-x"],
      ["default loop-r2-x", "candidate loop-r2-x", "candidate loop-r2-y", "default loop-r2-y"],
    ];
    for (const [i, w] of byWorker.entries()) {
      const served = new Set(w.map((d) => `${d.variant ?? "default"} ${d.bundleId}`));
      for (const arm of arms[i]) expect(served).toContain(arm);
    }
    expect(ledger.refused.some((r) => r.type.endsWith("/bundle-loading"))).toBe(true);
  });

  it("every acknowledged decision is in D1 exactly once, with the bundle and arm it was answered with, and nothing else is", async () => {
    const got = await rows("SELECT decision_id, key_id, bundle_id, variant FROM decisions");
    expect(got).toHaveLength(ledger.decisions.size);
    expect(new Set(got.map((r) => r.decision_id)).size).toBe(got.length);
    for (const r of got) {
      const d = ledger.decisions.get(r.decision_id as string);
      expect(d, `unacknowledged row ${r.decision_id}`).toBeDefined();
      expect({ key: r.key_id, bundle: r.bundle_id, variant: r.variant }).toEqual({ key: "app", bundle: d!.bundleId, variant: d!.variant });
    }
  });

  it("every acknowledged feedback row is in D1, once, with its values", async () => {
    const got = await rows("SELECT decision_id, model, reward, cost_usd, output_tokens FROM feedback");
    expect(got).toHaveLength(ledger.feedback.size);
    for (const r of got) {
      const f = ledger.feedback.get(`${r.decision_id} ${r.model}`);
      expect(f, `unacknowledged feedback ${r.decision_id} ${r.model}`).toBeDefined();
      expect(r).toEqual({ decision_id: f!.decision_id, model: f!.model, reward: reward(f!), cost_usd: f!.cost_usd ?? null, output_tokens: f!.output_tokens ?? null });
    }
  });

  it("GET /v1/export, paged, returns every decision once with all of its feedback", async () => {
    const seen: ExportDecision[] = [];
    let pages = 0;
    for (let cursor: string | null = ""; cursor !== null; pages++) {
      const r = await call(mf, "GET", `/v1/export?limit=97${cursor ? `&cursor=${cursor}` : ""}`, { headers: OPS });
      expect(r.status).toBe(200);
      const lines = r.text.trim().split("\n").map((l) => ExportLine.parse(JSON.parse(l)));
      seen.push(...lines.filter((l): l is ExportDecision => l.type === "decision"));
      cursor = (lines.at(-1) as ExportEnd).next_cursor;
    }
    expect(pages).toBeGreaterThan(2);
    expect(seen).toHaveLength(ledger.decisions.size);
    expect(new Set(seen.map((d) => d.decision_id))).toEqual(new Set(ledger.decisions.keys()));
    const want = new Map<string, { model: string; reward: number }[]>();
    for (const f of ledger.feedback.values()) want.set(f.decision_id, [...(want.get(f.decision_id) ?? []), { model: f.model, reward: reward(f) }]);
    for (const d of seen) {
      expect(d.bundle_id).toBe(ledger.decisions.get(d.decision_id)!.bundleId);
      const fb = d.feedback.map((f) => ({ model: f.model, reward: f.reward }));
      expect(fb).toEqual((want.get(d.decision_id) ?? []).sort((a, b) => a.model.localeCompare(b.model)));
    }
  });

  it("alias_events has every flip with who and when; GET /v1/aliases lists the same", async () => {
    const events = await rows("SELECT alias, manifest_sha256, bundle_id, previous_sha256, updated_at, updated_by FROM alias_events ORDER BY seq");
    expect(events).toHaveLength(4);
    for (const [i, f] of ledger.flips.entries()) {
      expect(events[i]).toMatchObject({ alias: f.alias, manifest_sha256: f.digest, bundle_id: f.bundleId, previous_sha256: f.previous, updated_by: "ops" });
      expect(events[i].updated_at).toBeGreaterThanOrEqual(f.before);
      expect(events[i].updated_at).toBeLessThanOrEqual(f.after);
    }
    const list = await call(mf, "GET", "/v1/aliases", { headers: OPS });
    expect(list.body.history.map((e: { alias: string; manifest_sha256: string }) => `${e.alias} ${e.manifest_sha256}`)).toEqual(
      ledger.flips.map((f) => `${f.alias} ${f.digest}`).reverse(),
    );
    expect(list.body.aliases.map((a: { alias: string; manifest_sha256: string }) => `${a.alias} ${a.manifest_sha256}`)).toEqual([`candidate ${y}`, `default ${y}`]);
  });

  it("no request refused with 503 (bundle loading or unavailable) left a decision", async () => {
    const hmacs = await Promise.all(ledger.refused.map((r) => hmacSha256Hex(HMAC_KEY, r.text)));
    const logged = new Set((await rows("SELECT prompt_hmac FROM decisions")).map((r) => r.prompt_hmac));
    expect(logged.size).toBe(ledger.decisions.size); // every prompt text is unique, so one HMAC per decision
    expect(hmacs.filter((h) => logged.has(h))).toEqual([]);
  });
});
