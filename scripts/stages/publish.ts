/**
 * After a build, outside the code (issue 19): `publish` uploads a bundle to
 * the worker's R2 bucket under bundles/<manifest sha256>/<path>
 * (src/core/bundle-ref.ts), and `alias` points a name (`candidate`,
 * `default`, …) at such a digest, through the worker's admin route or, for
 * local development, straight into the local D1 with wrangler. Both go
 * through wrangler (the same tool `npm start` and deploys use), spawned.
 * Must not build, verify golden outputs or embed bundles (promote does).
 */
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { AliasName, bundleObjectKey, type AliasRecord, ManifestDigest } from "../../src/core/bundle-ref.js";
import { checkBundleFiles } from "./promote.js";

export interface PublishPlan {
  digest: string;
  bundle_id: string;
  /** R2 key and local file of every object, manifest.json last. */
  objects: { key: string; file: string }[];
}

/**
 * Checks the bundle in `dir` (manifest schema, every listed file's sha256)
 * and plans its upload. manifest.json goes last: the worker and the alias
 * route look a bundle up by its manifest, so a bundle whose upload stopped
 * half-way is never found as if it were complete.
 */
export function planPublish(dir: string): PublishPlan {
  const manifest = checkBundleFiles(dir);
  const digest = createHash("sha256").update(readFileSync(join(dir, "manifest.json"))).digest("hex");
  const files = manifest.files.map((f) => f.path).filter((p) => p !== "manifest.json");
  return {
    digest,
    bundle_id: manifest.bundle_id,
    objects: [...files, "manifest.json"].map((p) => ({ key: bundleObjectKey(digest, p), file: resolve(dir, p) })),
  };
}

/**
 * A value from wrangler.toml's array of tables `[[table]]` whose `binding`
 * is `binding` (e.g. r2_buckets / BUNDLES / bucket_name). A small reader
 * for flat `key = "value"` tables: that is all these entries hold.
 */
export function wranglerTomlValue(toml: string, table: string, binding: string, key: string): string | null {
  for (const block of toml.split(/^\s*\[/m).filter((b) => b.startsWith(`[${table}]]`))) {
    const kv = new Map([...block.matchAll(/^\s*([A-Za-z_]+)\s*=\s*"([^"]*)"/gm)].map((m) => [m[1], m[2]]));
    if (kv.get("binding") === binding) return kv.get(key) ?? null;
  }
  return null;
}

/** wranglerTomlValue from the file `config`, or an error naming the missing entry. */
export function wranglerBinding(config: string, table: "r2_buckets" | "d1_databases", binding: string, key: string): string {
  const v = wranglerTomlValue(readFileSync(config, "utf8"), table, binding, key);
  if (!v) throw new Error(`${config} has no [[${table}]] entry with binding = "${binding}" and a ${key}`);
  return v;
}

/** Runs a command; the default spawns it (tests pass a recorder). */
export type Runner = (cmd: string, args: string[]) => { status: number | null; stdout: Buffer; stderr: string };
export const spawnRunner: Runner = (cmd, args) => {
  const r = spawnSync(cmd, args, { stdio: ["ignore", "pipe", "pipe"], maxBuffer: 256 * 1024 * 1024 });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr.toString("utf8") };
};

function wrangler(run: Runner, args: string[]): Buffer {
  const r = run("npx", ["wrangler", ...args]);
  // eslint-disable-next-line no-control-regex
  const why = r.stderr.replace(/\x1b\[[0-9;]*m/g, "").split("\n").map((l) => l.trim()).filter((l) => l && !l.includes("Logs were written"));
  if (r.status !== 0) throw new Error(`wrangler ${args.slice(0, 3).join(" ")} failed (exit ${r.status}): ${why.slice(-3).join(" | ")}`);
  return r.stdout;
}

export interface Where {
  /** --remote (the account's R2/D1) or --local (wrangler's local state, what `npm start` serves). */
  remote: boolean;
  run?: Runner;
}

/** Uploads every object of the plan with `wrangler r2 object put`; returns the digest to alias. */
export function publishBundle(plan: PublishPlan, bucket: string, where: Where): string {
  for (const o of plan.objects) {
    wrangler(where.run ?? spawnRunner, ["r2", "object", "put", `${bucket}/${o.key}`, "--file", o.file, where.remote ? "--remote" : "--local", "--force"]);
  }
  return plan.digest;
}

/** The digest a name refers to: a digest as given, or the manifest sha256 of a bundle directory. */
export function digestOf(arg: { digest?: string; bundle?: string }): string {
  if ((arg.digest === undefined) === (arg.bundle === undefined)) throw new Error("give exactly one of --digest or --bundle");
  if (arg.bundle !== undefined) return planPublish(arg.bundle).digest;
  const d = ManifestDigest.safeParse(arg.digest);
  if (!d.success) throw new Error(`--digest: ${d.error.issues[0].message}`);
  return d.data;
}

export type FetchLike = (url: string, init: { method: string; headers: Record<string, string>; body: string }) => Promise<Response>;

/** PUT /v1/aliases/{name} on a running worker (scope `alias`); the worker checks the bundle in R2 and logs who and when. */
export async function aliasViaRoute(base: string, key: string, name: string, digest: string, fetchImpl: FetchLike = fetch): Promise<{ alias: AliasRecord; previous_sha256: string | null }> {
  const url = `${base.replace(/\/$/, "")}/v1/aliases/${AliasName.parse(name)}`;
  const res = await fetchImpl(url, {
    method: "PUT",
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    body: JSON.stringify({ manifest_sha256: digest }),
  });
  const body = (await res.json().catch(() => ({}))) as { detail?: string; alias?: AliasRecord; previous_sha256?: string | null };
  if (!res.ok) throw new Error(`PUT ${url}: ${res.status} ${body.detail ?? ""}`);
  return { alias: body.alias!, previous_sha256: body.previous_sha256 ?? null };
}

const lit = (s: string | number) => (typeof s === "number" ? String(s) : `'${s.replace(/'/g, "''")}'`);

/**
 * The SQL of one alias change for `wrangler d1 execute --command` (which
 * binds no parameters, hence literals): the history row first, reading the
 * previous digest before the upsert, as src/store/alias-store.ts writeAlias does.
 */
export function aliasSql(rec: AliasRecord): string {
  const a = lit(AliasName.parse(rec.alias));
  const v = [lit(ManifestDigest.parse(rec.manifest_sha256)), lit(rec.bundle_id)];
  return [
    `INSERT INTO alias_events (alias, manifest_sha256, bundle_id, previous_sha256, updated_at, updated_by) VALUES (${a}, ${v.join(", ")}, (SELECT manifest_sha256 FROM bundle_aliases WHERE alias = ${a}), ${lit(rec.updated_at)}, ${lit(rec.updated_by)})`,
    `INSERT INTO bundle_aliases (alias, manifest_sha256, bundle_id, updated_at, updated_by) VALUES (${a}, ${v.join(", ")}, ${lit(rec.updated_at)}, ${lit(rec.updated_by)}) ON CONFLICT (alias) DO UPDATE SET manifest_sha256 = excluded.manifest_sha256, bundle_id = excluded.bundle_id, updated_at = excluded.updated_at, updated_by = excluded.updated_by`,
  ].join("; ");
}

/**
 * Local development: checks the bundle is in the local R2 (its manifest
 * hashes to the digest), then writes the alias into the local D1, updated_by
 * `wrangler`. The worker serving that state picks it up like a route change.
 */
export function aliasLocal(name: string, digest: string, opts: { bucket: string; database: string; now: number; run?: Runner }): AliasRecord {
  const run = opts.run ?? spawnRunner;
  let manifest: Buffer;
  try {
    manifest = wrangler(run, ["r2", "object", "get", `${opts.bucket}/${bundleObjectKey(digest, "manifest.json")}`, "--local", "--pipe"]);
  } catch (e) {
    throw new Error(`local R2 bucket ${opts.bucket} has no bundle ${digest}; run \`pipeline publish --bundle <dir>\` first (${(e as Error).message})`);
  }
  const got = createHash("sha256").update(manifest).digest("hex");
  if (got !== digest) throw new Error(`local R2 has no bundle ${digest} (its manifest.json hashes to ${got}); run \`pipeline publish --local\` first`);
  const rec: AliasRecord = { alias: AliasName.parse(name), manifest_sha256: digest, bundle_id: JSON.parse(manifest.toString("utf8")).bundle_id, updated_at: opts.now, updated_by: "wrangler" };
  wrangler(run, ["d1", "execute", opts.database, "--local", "--command", aliasSql(rec)]);
  return rec;
}
