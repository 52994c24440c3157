/**
 * The admin alias routes in real workerd against a local Miniflare R2 and D1:
 * PUT /v1/aliases/{alias} only for a digest that names a complete, valid
 * published bundle (manifest hash, schema, every file uploaded at its size,
 * bundle_id if given), recorded with the key id and time and the previous
 * digest; refusals write nothing; GET /v1/aliases lists current aliases and
 * history for the alias or report scope; the CLI's local SQL (`pipeline alias
 * --local`) writes the same rows as the route.
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import type { Miniflare } from "miniflare";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { aliasSql, planPublish } from "../../scripts/stages/publish.js";
import { call, startWorker } from "./harness.js";

const sha = (s: string | Buffer) => createHash("sha256").update(s).digest("hex");
/** Bytes as a plain ArrayBuffer: Miniflare's proxy does not carry a Node Buffer into R2. */
const bytes = (b: Buffer) => b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
const KEYS = [
  { id: "ops", sha256: sha("k-ops"), scopes: ["alias"] },
  { id: "viewer", sha256: sha("k-view"), scopes: ["report"] },
  { id: "app", sha256: sha("k-app"), scopes: ["route", "feedback"] },
];
const auth = (k: string) => ({ authorization: `Bearer ${k}` });
const FIXTURE = "test/fixtures/bundles/fixture-tiny";

let mf: Miniflare;
let bare: Miniflare;
beforeAll(async () => {
  // A canary whose second arm serves the `candidate` alias: the dashboard shows that alias's history next to it.
  const experiments = [{ name: "canary", variants: [{ name: "control", weight: 9, policy: { type: "threshold", min_p: 0.6 } }, { name: "cand", weight: 1, bundle: "candidate" }] }];
  const env = { AUTH: "required", API_KEYS: JSON.stringify(KEYS), PROMPT_HMAC_KEY: "test-hmac-key-0123456789-abcdef-0123456789", EXPERIMENTS: JSON.stringify(experiments) };
  mf = await startWorker(env, { d1: true, r2: true });
  bare = await startWorker(env, { d1: true });
});
afterAll(async () => {
  await mf?.dispose();
  await bare?.dispose();
});

/** Uploads the fixture as `pipeline publish` would (same keys), with its manifest optionally rewritten; returns the digest. */
async function publish(edit: (m: string) => string = (m) => m, skip: string[] = []): Promise<string> {
  const bucket = await mf.getR2Bucket("BUNDLES");
  const plan = planPublish(FIXTURE);
  const manifest = edit(readFileSync(`${FIXTURE}/manifest.json`, "utf8"));
  const digest = sha(manifest);
  for (const o of plan.objects) {
    const path = o.key.slice(`bundles/${plan.digest}/`.length);
    if (skip.includes(path)) continue;
    await bucket.put(`bundles/${digest}/${path}`, path === "manifest.json" ? manifest : bytes(readFileSync(o.file)));
  }
  return digest;
}
const put = (alias: string, body: unknown, key = "k-ops") => call(mf, "PUT", `/v1/aliases/${alias}`, { body, headers: auth(key) });
async function events() {
  const db = await mf.getD1Database("DB");
  return (await db.prepare("SELECT * FROM alias_events ORDER BY seq").all()).results as Record<string, unknown>[];
}

describe("PUT /v1/aliases/{alias}", () => {
  it("points an alias at a published bundle, with who, when and the previous digest", async () => {
    const first = await publish();
    const second = await publish((m) => m.replace('"bundle_id": "fixture-tiny"', '"bundle_id": "fixture-tiny-2"'));
    const t0 = Date.now();
    const a = await put("candidate", { manifest_sha256: first });
    expect(a.status).toBe(200);
    expect(a.body.alias).toMatchObject({ alias: "candidate", manifest_sha256: first, bundle_id: "fixture-tiny", updated_by: "ops" });
    expect(a.body.alias.updated_at).toBeGreaterThanOrEqual(t0 - 1000);
    expect(a.body.previous_sha256).toBeNull();
    const b = await put("candidate", { manifest_sha256: second, bundle_id: "fixture-tiny-2" });
    expect(b.status).toBe(200);
    expect(b.body.previous_sha256).toBe(first);
    expect((await events()).map((e) => [e.manifest_sha256, e.previous_sha256, e.updated_by])).toEqual([
      [first, null, "ops"],
      [second, first, "ops"],
    ]);
  });
  it("refuses a digest with nothing published, a corrupt manifest, a missing file and a wrong bundle_id, writing nothing", async () => {
    const before = (await events()).length;
    const none = await put("candidate", { manifest_sha256: "0".repeat(64) });
    expect(none.status).toBe(422);
    expect(none.body.type).toMatch(/bundle-not-published$/);
    const bucket = await mf.getR2Bucket("BUNDLES");
    const fake = "f".repeat(64);
    await bucket.put(`bundles/${fake}/manifest.json`, readFileSync(`${FIXTURE}/manifest.json`, "utf8"));
    const corrupt = await put("candidate", { manifest_sha256: fake });
    expect(corrupt.status).toBe(422);
    expect(corrupt.body.detail).toMatch(/has sha256 [0-9a-f]{64}, not f{64}/);
    const partial = await publish((m) => m.replace('"bundle_id": "fixture-tiny"', '"bundle_id": "fixture-partial"'), ["golden.jsonl"]);
    const missing = await put("candidate", { manifest_sha256: partial });
    expect(missing.status).toBe(422);
    expect(missing.body.detail).toMatch(/golden\.jsonl is listed in the manifest but not uploaded/);
    const schema = await publish((m) => m.replace('"format_version": 1', '"format_version": 99'));
    expect((await put("candidate", { manifest_sha256: schema })).body.detail).toMatch(/manifest schema/);
    const wrongId = await put("candidate", { manifest_sha256: await publish(), bundle_id: "other" });
    expect(wrongId.status).toBe(422);
    expect(wrongId.body.detail).toMatch(/is fixture-tiny, not other/);
    expect((await events()).length).toBe(before);
  });
  it("checks scope, alias name and body", async () => {
    const d = await publish();
    expect((await put("candidate", { manifest_sha256: d }, "k-app")).status).toBe(403);
    expect((await put("candidate", { manifest_sha256: d }, "k-view")).status).toBe(403);
    expect((await call(mf, "PUT", "/v1/aliases/candidate", { body: { manifest_sha256: d } })).status).toBe(401);
    const bad = await put("Not_An_Alias", { manifest_sha256: d });
    expect(bad.status).toBe(422);
    expect(bad.body.errors[0].path).toBe("path.alias");
    expect((await put("candidate", { manifest_sha256: "abc" })).body.errors[0].path).toBe("manifest_sha256");
    expect((await put("candidate", { manifest_sha256: d, extra: 1 })).status).toBe(422);
  });
  it("answers 503 naming the binding when no R2 bucket is bound", async () => {
    const r = await call(bare, "PUT", "/v1/aliases/candidate", { body: { manifest_sha256: "0".repeat(64) }, headers: auth("k-ops") });
    expect(r.status).toBe(503);
    expect(r.body.detail).toMatch(/BUNDLES/);
  });
});

describe("GET /v1/aliases", () => {
  it("lists current aliases and history, newest first, for the alias or report scope only", async () => {
    const d = await publish();
    await put("default", { manifest_sha256: d });
    for (const key of ["k-ops", "k-view"]) {
      const r = await call(mf, "GET", "/v1/aliases?limit=2", { headers: auth(key) });
      expect(r.status).toBe(200);
      expect(r.body.aliases.map((a: { alias: string }) => a.alias)).toEqual(["candidate", "default"]);
      expect(r.body.history).toHaveLength(2);
      expect(r.body.history[0]).toMatchObject({ alias: "default", manifest_sha256: d, previous_sha256: null, updated_by: "ops" });
      expect(r.body.history[0].seq).toBeGreaterThan(r.body.history[1].seq);
    }
    const one = await call(mf, "GET", "/v1/aliases?alias=candidate", { headers: auth("k-view") });
    expect(one.body.history.every((e: { alias: string }) => e.alias === "candidate")).toBe(true);
    expect((await call(mf, "GET", "/v1/aliases", { headers: auth("k-app") })).status).toBe(403);
    expect((await call(mf, "GET", "/v1/aliases?limit=0", { headers: auth("k-ops") })).body.errors[0].path).toBe("query.limit");
  });
  it("the dashboard shows each alias an experiment's arms serve, with bundle, digest, who and when", async () => {
    const r = await call(mf, "GET", "/dashboard", { headers: auth("k-view") });
    expect(r.status).toBe(200);
    const section = r.text.slice(r.text.indexOf('id="exp-canary"'));
    expect(section).toContain("Bundles and alias history");
    const list = await call(mf, "GET", "/v1/aliases?limit=500", { headers: auth("k-view") });
    for (const e of list.body.history as { alias: string; manifest_sha256: string; bundle_id: string }[]) {
      expect(section).toContain(`title="${e.manifest_sha256}"`);
      expect(section).toContain(e.bundle_id);
    }
    expect(section).toMatch(/<td class="l">candidate<\/td><td class="l">cand<\/td>/);
    expect(section).toMatch(/<td class="l">default \(current\)<\/td><td class="l">control<\/td>/);
    expect(section).toContain("<td class=\"l\">ops</td>");
  });
  it("/openapi.json documents the alias and export routes from their schemas", async () => {
    const r = await call(mf, "GET", "/openapi.json");
    expect(Object.keys(r.body.paths)).toEqual(expect.arrayContaining(["/v1/aliases/{alias}", "/v1/aliases", "/v1/export"]));
    expect(r.body.paths["/v1/aliases/{alias}"].put.requestBody.content["application/json"].schema.$ref).toBe("#/components/schemas/AliasRequest");
    expect(Object.keys(r.body.paths["/v1/export"].get.responses[200].content)).toEqual(["application/x-ndjson"]);
    expect(r.body.components.schemas.ExportDecision.properties.feedback).toBeDefined();
  });
  it("`pipeline alias --local` SQL writes the same current row and history as the route", async () => {
    const d = await publish();
    const db = await mf.getD1Database("DB");
    const prev = (await db.prepare("SELECT manifest_sha256 FROM bundle_aliases WHERE alias = 'default'").first<{ manifest_sha256: string }>())!.manifest_sha256;
    const rec = { alias: "default", manifest_sha256: d, bundle_id: "fixture-tiny", updated_at: 42, updated_by: "wrangler" };
    for (const stmt of aliasSql(rec).split("; ")) await db.prepare(stmt).run();
    const r = await call(mf, "GET", "/v1/aliases?alias=default&limit=1", { headers: auth("k-view") });
    expect(r.body.aliases.find((a: { alias: string }) => a.alias === "default")).toEqual(rec);
    expect(r.body.history[0]).toMatchObject({ ...rec, previous_sha256: prev });
  });
});
