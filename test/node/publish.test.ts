/**
 * `publish` and `alias` (scripts/stages/publish.ts) without a network:
 * the bundle check refuses a tampered file or a broken manifest, the upload
 * plan addresses every file by the manifest's sha256 with manifest.json last,
 * the wrangler commands are the ones documented, the wrangler.toml reader
 * finds bindings, and the alias paths send or write what the route expects.
 */
import { createHash } from "node:crypto";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { aliasLocal, aliasSql, aliasViaRoute, digestOf, planPublish, publishBundle, wranglerTomlValue, type Runner } from "../../scripts/stages/publish.js";

const FIXTURE = "test/fixtures/bundles/fixture-tiny";
const DIGEST = createHash("sha256").update(readFileSync(`${FIXTURE}/manifest.json`)).digest("hex");
const root = mkdtempSync(join(tmpdir(), "publish-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function copy(name: string): string {
  const dir = join(root, name);
  cpSync(FIXTURE, dir, { recursive: true });
  return dir;
}

/** A Runner that records each command and answers with `reply`. */
function recorder(reply: (args: string[]) => { status: number; stdout?: Buffer; stderr?: string } = () => ({ status: 0 })) {
  const calls: string[][] = [];
  const run: Runner = (cmd, args) => {
    calls.push([cmd, ...args]);
    const r = reply(args);
    return { status: r.status, stdout: r.stdout ?? Buffer.alloc(0), stderr: r.stderr ?? "" };
  };
  return { calls, run };
}

describe("publish: check and plan", () => {
  it("addresses every listed file under bundles/<manifest sha256>/ with manifest.json uploaded last", () => {
    const plan = planPublish(FIXTURE);
    expect(plan.digest).toBe(DIGEST);
    expect(plan.bundle_id).toBe("fixture-tiny");
    expect(plan.objects.map((o) => o.key)).toEqual([`bundles/${DIGEST}/student.onnx`, `bundles/${DIGEST}/golden.jsonl`, `bundles/${DIGEST}/manifest.json`]);
    expect(digestOf({ bundle: FIXTURE })).toBe(DIGEST);
  });
  it("refuses a bundle whose file does not match its manifest sha256", () => {
    const dir = copy("tampered");
    const onnx = readFileSync(join(dir, "student.onnx"));
    onnx[onnx.length - 1] ^= 1;
    writeFileSync(join(dir, "student.onnx"), onnx);
    expect(() => planPublish(dir)).toThrow(/student\.onnx: sha256 [0-9a-f]{64} does not match manifest/);
  });
  it("refuses a manifest that breaks the schema", () => {
    const dir = copy("bad-schema");
    const m = JSON.parse(readFileSync(join(dir, "manifest.json"), "utf8"));
    delete m.featurizer;
    writeFileSync(join(dir, "manifest.json"), JSON.stringify(m));
    expect(() => planPublish(dir)).toThrow(/featurizer/);
  });
  it("digestOf takes exactly one of --digest or --bundle and checks the digest's form", () => {
    expect(() => digestOf({})).toThrow(/exactly one/);
    expect(() => digestOf({ digest: DIGEST, bundle: FIXTURE })).toThrow(/exactly one/);
    expect(() => digestOf({ digest: "ABC" })).toThrow(/sha256/);
    expect(digestOf({ digest: DIGEST })).toBe(DIGEST);
  });
});

describe("publish: wrangler", () => {
  it("uploads each object with wrangler r2 object put, local or remote", () => {
    const plan = planPublish(FIXTURE);
    const { calls, run } = recorder();
    expect(publishBundle(plan, "my-bundles", { remote: false, run })).toBe(DIGEST);
    expect(calls).toHaveLength(3);
    expect(calls[0].slice(0, 8)).toEqual(["npx", "wrangler", "r2", "object", "put", `my-bundles/bundles/${DIGEST}/student.onnx`, "--file", plan.objects[0].file]);
    expect(calls.every((c) => c.includes("--local") && !c.includes("--remote"))).toBe(true);
    const remote = recorder();
    publishBundle(plan, "my-bundles", { remote: true, run: remote.run });
    expect(remote.calls.every((c) => c.includes("--remote") && !c.includes("--local"))).toBe(true);
  });
  it("stops at the first failed upload, before the manifest, and says why", () => {
    const { calls, run } = recorder(() => ({ status: 1, stderr: "✘ [ERROR] bucket not found" }));
    expect(() => publishBundle(planPublish(FIXTURE), "nope", { remote: true, run })).toThrow(/exit 1.*bucket not found/);
    expect(calls).toHaveLength(1);
  });
  it("reads bucket and database names from wrangler.toml tables by binding", () => {
    const toml = `name = "x"\n[[d1_databases]]\nbinding = "DB"\ndatabase_name = "preflight"\n\n[[r2_buckets]]\nbinding = "OTHER"\nbucket_name = "o"\n[[r2_buckets]]\nbinding = "BUNDLES"\nbucket_name = "preflight-bundles"\n`;
    expect(wranglerTomlValue(toml, "r2_buckets", "BUNDLES", "bucket_name")).toBe("preflight-bundles");
    expect(wranglerTomlValue(toml, "d1_databases", "DB", "database_name")).toBe("preflight");
    expect(wranglerTomlValue(toml, "r2_buckets", "MISSING", "bucket_name")).toBeNull();
  });
});

describe("alias", () => {
  it("through the route: PUT /v1/aliases/{name} with the digest and the key; a refusal carries the worker's detail", async () => {
    const seen: { url: string; init: { method: string; headers: Record<string, string>; body: string } }[] = [];
    const rec = { alias: "candidate", manifest_sha256: DIGEST, bundle_id: "fixture-tiny", updated_at: 5, updated_by: "ops" };
    const ok = await aliasViaRoute("http://w/", "k1", "candidate", DIGEST, async (url, init) => {
      seen.push({ url, init });
      return new Response(JSON.stringify({ alias: rec, previous_sha256: null }), { status: 200 });
    });
    expect(ok).toEqual({ alias: rec, previous_sha256: null });
    expect(seen[0].url).toBe("http://w/v1/aliases/candidate");
    expect(seen[0].init.method).toBe("PUT");
    expect(seen[0].init.headers.authorization).toBe("Bearer k1");
    expect(JSON.parse(seen[0].init.body)).toEqual({ manifest_sha256: DIGEST });
    const refused = aliasViaRoute("http://w", "k1", "candidate", DIGEST, async () => new Response(JSON.stringify({ detail: "no bundles/… in R2" }), { status: 422 }));
    await expect(refused).rejects.toThrow(/422 no bundles/);
    await expect(aliasViaRoute("http://w", "k1", "Bad Name", DIGEST)).rejects.toThrow(/alias/);
  });
  it("locally: checks the local R2 manifest against the digest, then writes the local D1 as `wrangler`", () => {
    const manifest = readFileSync(`${FIXTURE}/manifest.json`);
    const { calls, run } = recorder((args) => ({ status: 0, stdout: args[2] === "object" ? manifest : Buffer.alloc(0) }));
    const rec = aliasLocal("candidate", DIGEST, { bucket: "b", database: "preflight", now: 1234, run });
    expect(rec).toEqual({ alias: "candidate", manifest_sha256: DIGEST, bundle_id: "fixture-tiny", updated_at: 1234, updated_by: "wrangler" });
    expect(calls[0]).toEqual(["npx", "wrangler", "r2", "object", "get", `b/bundles/${DIGEST}/manifest.json`, "--local", "--pipe"]);
    expect(calls[1].slice(0, 6)).toEqual(["npx", "wrangler", "d1", "execute", "preflight", "--local"]);
    expect(calls[1][7]).toBe(aliasSql(rec));
    const wrong = recorder(() => ({ status: 0, stdout: Buffer.from("{}") }));
    expect(() => aliasLocal("candidate", DIGEST, { bucket: "b", database: "preflight", now: 1, run: wrong.run })).toThrow(/local R2 has no bundle/);
    expect(wrong.calls).toHaveLength(1);
  });
  it("aliasSql quotes literals, so a bundle id cannot break out of the statement", () => {
    const sql = aliasSql({ alias: "candidate", manifest_sha256: DIGEST, bundle_id: "it's'); DROP TABLE decisions; --", updated_at: 1, updated_by: "wrangler" });
    expect(sql).toContain("'it''s''); DROP TABLE decisions; --'");
    expect(sql.split("; ").filter((s) => s.startsWith("INSERT"))).toHaveLength(2);
  });
});
