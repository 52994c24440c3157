/**
 * Bundles outside the code (issue 19 item 1) in real workerd against
 * Miniflare's local R2 and D1: a bundle published under
 * bundles/<manifest sha256>/ and named by an alias (set with alias-store's
 * SQL) serves requests that name the alias, directly or through an
 * experiment variant; an alias flip reaches new requests once ALIAS_TTL_MS
 * has passed (and not before, with a long TTL); the `default` alias takes
 * over default traffic; a corrupted or missing bundle is refused with a 503
 * naming it while the default keeps serving, and /healthz names it.
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import type { Miniflare } from "miniflare";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { writeAlias } from "../../src/store/alias-store.js";
import { call, startWorker, untilLoaded } from "./harness.js";

const FIXTURE = "test/fixtures/bundles/fixture-tiny";
const TTL_MS = 300;
const sha = (s: string | Uint8Array) => createHash("sha256").update(s).digest("hex");
/** A plain ArrayBuffer: Miniflare's proxy does not carry a Node Buffer into R2. */
const arrayBuffer = (b: Buffer) => b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Puts the fixture into R2 under another bundle id, as `pipeline publish` lays it out; returns the manifest digest. */
async function publish(mf: Miniflare, id: string, corruptStudent = false): Promise<string> {
  const manifest = readFileSync(`${FIXTURE}/manifest.json`, "utf8").replace('"bundle_id": "fixture-tiny"', `"bundle_id": "${id}"`);
  const digest = sha(manifest);
  const student = Buffer.from(readFileSync(`${FIXTURE}/student.onnx`));
  if (corruptStudent) student[student.length - 1] ^= 0xff; // one bit of one weight: the size still matches
  const bucket = await mf.getR2Bucket("BUNDLES");
  await bucket.put(`bundles/${digest}/manifest.json`, manifest);
  await bucket.put(`bundles/${digest}/student.onnx`, arrayBuffer(student));
  return digest;
}

async function setAlias(mf: Miniflare, alias: string, digest: string, bundleId: string): Promise<void> {
  await writeAlias(await mf.getD1Database("DB"), { alias, manifest_sha256: digest, bundle_id: bundleId, updated_at: Date.now(), updated_by: "test" });
}

const route = (mf: Miniflare, headers: Record<string, string> = {}) => call(mf, "POST", "/v1/route", { body: { prompt: "What is 17 * 23?" }, headers });

/** Default traffic until bundle `want` answers it; every answer on the way must be a 200. Returns the bundles seen, in order. */
async function defaultUntilServedBy(mf: Miniflare, want: string): Promise<string[]> {
  const seen: string[] = [];
  for (let i = 0; i < 200; i++) {
    const r = await route(mf);
    expect(r.status).toBe(200);
    if (seen.at(-1) !== r.body.artifact.id) seen.push(r.body.artifact.id);
    if (r.body.artifact.sha256 === want) return seen;
    await sleep(50);
  }
  throw new Error(`default traffic never served by ${want}`);
}

const EXPERIMENTS = [
  { name: "canary", variants: [{ name: "cand", weight: 1, bundle: "candidate" }] },
  { name: "unset", variants: [{ name: "arm", weight: 1, bundle: "nobody" }] },
];

describe("bundles from R2 named by aliases", () => {
  let mf: Miniflare;
  let a: string;
  let b: string;
  beforeAll(async () => {
    mf = await startWorker({ AUTH: "disabled", ALIAS_TTL_MS: String(TTL_MS), EXPERIMENTS: JSON.stringify(EXPERIMENTS) }, { d1: true, r2: true });
    a = await publish(mf, "fixture-r2a");
    b = await publish(mf, "fixture-r2b");
  });
  afterAll(async () => mf?.dispose());

  it("routes through an alias: 503 bundle-loading with Retry-After first, then the published bundle", async () => {
    await setAlias(mf, "candidate", a, "fixture-r2a");
    const first = await route(mf, { "x-preflight-bundle": "candidate" });
    expect(first.status).toBe(503);
    expect(first.headers.get("retry-after")).toBe("1");
    expect(first.body).toMatchObject({ type: expect.stringMatching(/\/bundle-loading$/), bundle: "candidate" });
    const r = await untilLoaded(mf, { "x-preflight-bundle": "candidate" });
    expect(r.status).toBe(200);
    expect(r.body.artifact).toEqual({ id: "fixture-r2a", sha256: a });
    // An experiment variant may name the alias too; an unset alias there is the operator's 503, not the caller's 422.
    const v = await route(mf, { "x-preflight-experiment": "canary" });
    expect(v.status).toBe(200);
    expect(v.body.artifact.sha256).toBe(a);
    const unset = await route(mf, { "x-preflight-experiment": "unset" });
    expect(unset.status).toBe(503);
    expect(unset.body).toMatchObject({ type: expect.stringMatching(/\/bundle-unavailable$/), bundle: "nobody" });
    const unknown = await route(mf, { "x-preflight-bundle": "nobody" });
    expect(unknown.status).toBe(422);
    expect(unknown.body.valid).toEqual(expect.arrayContaining(["fixture-tiny", "candidate"]));
  });

  it("an alias naming an embedded bundle's pinned digest is served from the embedded bundle, R2 untouched", async () => {
    // Nothing is published under this digest: a fetch from R2 would have failed as missing.
    const pinned = sha(readFileSync("artifacts/routellm-v1/manifest.json"));
    await setAlias(mf, "stable", pinned, "routellm-v1");
    await sleep(TTL_MS + 50);
    const r = await untilLoaded(mf, { "x-preflight-bundle": "stable" });
    expect(r.status).toBe(200);
    expect(r.body.artifact).toEqual({ id: "routellm-v1", sha256: pinned });
  });

  it("an alias flip reaches new requests once ALIAS_TTL_MS has passed", async () => {
    await setAlias(mf, "candidate", b, "fixture-r2b");
    await sleep(TTL_MS + 50);
    // Resolved to b now: b has no session yet, so the first answer is a 503 for it, never a's 200.
    const first = await route(mf, { "x-preflight-bundle": "candidate" });
    expect(first.status).toBe(503);
    expect(first.body.type).toMatch(/\/bundle-loading$/);
    const r = await untilLoaded(mf, { "x-preflight-bundle": "candidate" });
    expect(r.body.artifact).toEqual({ id: "fixture-r2b", sha256: b });
  });

  it("the `default` alias takes over default traffic without a 503 on the way", async () => {
    const c = await publish(mf, "fixture-r2c");
    await setAlias(mf, "default", c, "fixture-r2c");
    await sleep(TTL_MS + 50);
    // Until c's session is live the embedded default answers: every answer is a 200.
    expect(await defaultUntilServedBy(mf, c)).toEqual(["fixture-tiny", "fixture-r2c"]);
    const h = await call(mf, "GET", "/healthz");
    expect(h.body.default_bundle).toBe("fixture-r2c");
    expect(h.body.bundles).toContainEqual({ id: "fixture-r2c", state: "ready", sha256: c, aliases: ["default"] });
  });

  it("a corrupted bundle is refused with a 503 naming it, the embedded default keeps serving, /healthz names it", async () => {
    const bad = await publish(mf, "fixture-r2-corrupt", true);
    await setAlias(mf, "broken", bad, "fixture-r2-corrupt");
    await setAlias(mf, "default", bad, "fixture-r2-corrupt");
    await sleep(TTL_MS + 50);
    const r = await untilLoaded(mf, { "x-preflight-bundle": "broken" });
    expect(r.status).toBe(503);
    expect(r.body.type).toMatch(/\/bundle-unavailable$/);
    expect(r.body.bundle).toBe("broken");
    expect(r.body.detail).toContain(`bundle broken (fixture-r2-corrupt@${bad.slice(0, 12)}) failed to load: sha256 mismatch for student.onnx in R2 bundles/${bad}/`);
    // The `default` alias names the broken bundle: the embedded default serves instead.
    const d = await route(mf);
    expect(d.status).toBe(200);
    expect(d.body.artifact.id).toBe("fixture-tiny");
    const h = await call(mf, "GET", "/healthz");
    expect(h.status).toBe(200);
    expect(h.body.default_bundle).toBe("fixture-tiny");
    expect(h.body.bundles).toContainEqual({ id: "fixture-r2-corrupt", state: "failed", sha256: bad, aliases: expect.arrayContaining(["broken", "default"]) });
    expect(h.body.detail.bundle_errors).toContainEqual({ id: `fixture-r2-corrupt@${bad.slice(0, 12)}`, reason: expect.stringMatching(/sha256 mismatch for student\.onnx/) });
  });

  it("a bundle missing from R2 is a 503 naming the alias; R2 sessions share the LRU cap", async () => {
    const none = sha("no such manifest");
    await setAlias(mf, "ghost", none, "ghost-bundle");
    await sleep(TTL_MS + 50);
    const r = await untilLoaded(mf, { "x-preflight-bundle": "ghost" });
    expect(r.status).toBe(503);
    expect(r.body.bundle).toBe("ghost");
    expect(r.body.detail).toContain(`bundles/${none}/manifest.json is missing in R2`);
    const h = await call(mf, "GET", "/healthz");
    expect(h.body.bundles).toContainEqual({ id: "ghost-bundle", state: "failed", sha256: none, aliases: ["ghost"] });
    expect(h.body.detail.sessions.live.length).toBeLessThanOrEqual(h.body.detail.sessions.max);
    expect(h.body.detail.sessions.live).toContain("fixture-tiny");
  });
});

describe("the alias table is cached for ALIAS_TTL_MS", () => {
  let mf: Miniflare;
  afterAll(async () => mf?.dispose());

  it("with a TTL of an hour, a flip does not reach an isolate that has read the table", async () => {
    mf = await startWorker({ AUTH: "disabled", ALIAS_TTL_MS: "3600000" }, { d1: true, r2: true });
    const a = await publish(mf, "fixture-r2a");
    const b = await publish(mf, "fixture-r2b");
    await setAlias(mf, "candidate", a, "fixture-r2a");
    expect((await untilLoaded(mf, { "x-preflight-bundle": "candidate" })).body.artifact.sha256).toBe(a);
    await setAlias(mf, "candidate", b, "fixture-r2b");
    const r = await route(mf, { "x-preflight-bundle": "candidate" });
    expect(r.status).toBe(200);
    expect(r.body.artifact.sha256).toBe(a);
  });
});
