/**
 * Admin routes for bundle aliases (issue 19). PUT /v1/aliases/{alias} (scope
 * `alias`) points an alias at a bundle published to R2 by `pipeline publish`,
 * after checking that the digest names a complete bundle there: its
 * manifest.json hashes to the digest, parses as a manifest, and every file it
 * lists is uploaded at its listed size. The change and who made it go to D1
 * (src/store/alias-store.ts, one batch with the history). GET /v1/aliases
 * (scope `alias` or `report`) lists current aliases and recent changes.
 * Must not load bundles for serving (src/infer does) or write SQL itself.
 */
import type { Context, Hono } from "hono";
import { AliasListQuery, AliasRequest } from "../core/api-schemas.js";
import { AliasName, bundleObjectKey, type AliasRecord } from "../core/bundle-ref.js";
import { Manifest } from "../core/manifest.js";
import { err, ok, type Reason, type Result } from "../core/result.js";
import { sha256Hex } from "../core/sha256.js";
import { aliasHistory, readAliases, writeAlias } from "../store/alias-store.js";
import { readBundleObject } from "../store/bundle-store.js";
import { aliasesChanged } from "../infer/runtime.js";
import { authenticate, type Scope } from "./auth.js";
import type { AppDeps, Env } from "./context.js";
import { readJsonBody, readQuery } from "./request-body.js";

type Guard = (c: Context<Env>, scope: Scope) => Promise<Response | null>;
type Fail = (c: Context<Env>, r: Reason) => Response;

const NO_DB: Reason = { reason: "log_unavailable", detail: "no D1 binding (DB) is configured; aliases live in D1" };
const NO_R2: Reason = { reason: "bundle_store_unavailable", detail: "no R2 binding (BUNDLES) is configured, so published bundles cannot be checked" };

/**
 * The published bundle a digest names, checked as far as R2 allows without
 * downloading the bundle: the manifest's bytes and schema, and each listed
 * file's presence and size (its sha256 is checked when the worker loads it).
 */
export async function checkPublished(bucket: R2Bucket, digest: string, expectId?: string): Promise<Result<Manifest>> {
  const invalid = (detail: string) => err<Manifest>({ reason: "bundle_invalid", manifest_sha256: digest, detail });
  const obj = await readBundleObject(bucket, bundleObjectKey(digest, "manifest.json"));
  if (!obj.ok && obj.missing) {
    return err({ reason: "bundle_not_published", manifest_sha256: digest, detail: `no ${bundleObjectKey(digest, "manifest.json")} in R2; run \`pipeline publish\` first` });
  }
  if (!obj.ok) return invalid(obj.reason);
  const bytes = obj.bytes;
  const got = await sha256Hex(bytes);
  if (got !== digest) return invalid(`manifest.json in R2 has sha256 ${got}, not ${digest}: the upload is corrupt or was overwritten`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder().decode(bytes));
  } catch (e) {
    return invalid(`manifest.json is not JSON: ${(e as Error).message}`);
  }
  const m = Manifest.safeParse(parsed);
  if (!m.success) return invalid(`manifest.json does not match the manifest schema: ${m.error.issues.slice(0, 3).map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`);
  const heads = await Promise.all(m.data.files.map((f) => bucket.head(bundleObjectKey(digest, f.path))));
  for (const [i, f] of m.data.files.entries()) {
    const h = heads[i];
    if (!h) return invalid(`${f.path} is listed in the manifest but not uploaded; rerun \`pipeline publish\``);
    if (h.size !== f.bytes) return invalid(`${f.path} is ${h.size} bytes in R2, the manifest says ${f.bytes}`);
  }
  if (expectId !== undefined && expectId !== m.data.bundle_id) return invalid(`the bundle at this digest is ${m.data.bundle_id}, not ${expectId}`);
  return ok(m.data);
}

export function registerAliasRoutes(app: Hono<Env>, deps: AppDeps, guard: Guard, fail: Fail): void {
  app.put("/v1/aliases/:alias", async (c) => {
    const denied = await guard(c, "alias");
    if (denied) return denied;
    const name = AliasName.safeParse(c.req.param("alias"));
    if (!name.success) return fail(c, { reason: "validation", issues: name.error.issues.map((i) => ({ path: "path.alias", message: i.message })) });
    if (!deps.db) return fail(c, NO_DB);
    if (!deps.bundles) return fail(c, NO_R2);
    const body = await readJsonBody(c.req.raw, AliasRequest, c.get("rt").config!.maxBodyBytes);
    if (!body.ok) return fail(c, body.error);
    const checked = await checkPublished(deps.bundles, body.value.manifest_sha256, body.value.bundle_id);
    if (!checked.ok) return fail(c, checked.error);
    const rec: AliasRecord = {
      alias: name.data,
      manifest_sha256: body.value.manifest_sha256,
      bundle_id: checked.value.bundle_id,
      updated_at: deps.wallClock(),
      updated_by: c.get("principal").keyId,
    };
    const previous = await writeAlias(deps.db, rec);
    // This isolate's next request resolves the alias afresh; others within ALIAS_TTL_MS (src/infer/alias-cache.ts).
    aliasesChanged(c.get("rt"));
    return c.json({ alias: rec, previous_sha256: previous, request_id: c.get("requestId") });
  });

  app.get("/v1/aliases", async (c) => {
    // Either scope reads the list: operators with `alias`, dashboards and reports with `report`.
    const cfg = c.get("rt").config;
    const hasAlias = cfg !== null && (await authenticate(cfg, c.req.header("authorization"), "alias")).ok;
    const denied = await guard(c, hasAlias ? "alias" : "report");
    if (denied) return denied;
    if (!deps.db) return fail(c, NO_DB);
    const q = readQuery(c.req.query(), AliasListQuery);
    if (!q.ok) return fail(c, q.error);
    const [aliases, history] = await Promise.all([readAliases(deps.db), aliasHistory(deps.db, q.value.limit, q.value.alias)]);
    return c.json({ aliases, history });
  });
}
