/**
 * Starts the built test worker in workerd through Miniflare with the given
 * bindings (vars/secrets), and offers a small fetch helper. One Miniflare per
 * configuration; ORT start-up costs ~0.3 s, so tests share instances.
 */
import { copyFileSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { relative } from "node:path";
import { Miniflare } from "miniflare";
import { expect } from "vitest";
import { GoldenRow } from "../../src/core/manifest.js";
import { writeRegistry } from "../../scripts/bundle/registry.js";
import { buildWorker } from "../../scripts/lib/worker-build.js";
import { BUILD_DIR } from "./global-setup.js";

export const KEY = "pf_test_key_123";
export const KEY_SHA = "__computed__";

export interface WorkerOptions {
  buildDir?: string;
  /** Bind a real local D1 (SQLite) as DB with migrations/ applied. */
  d1?: boolean;
  /** Bind a real local R2 bucket as BUNDLES (published bundles, issue 19); fill it with mf.getR2Bucket("BUNDLES"). */
  r2?: boolean;
  /** Bind the rate limiter with this limit per period. */
  rateLimit?: { limit: number; period: 10 | 60 };
  /** Open workerd's DevTools inspector on this port (see isolate-memory.ts). */
  inspectorPort?: number;
  /**
   * Keep D1 and R2 in files under this directory (`d1/`, `r2/`) instead of in
   * memory, so a second startWorker with the same directory is the same
   * worker restarted on the same stores. Migrations run only on a fresh store.
   */
  persist?: string;
}

export async function startWorker(bindings: Record<string, string>, buildDirOrOpts: string | WorkerOptions = {}): Promise<Miniflare> {
  const opts: WorkerOptions = typeof buildDirOrOpts === "string" ? { buildDir: buildDirOrOpts } : buildDirOrOpts;
  const buildDir = opts.buildDir ?? BUILD_DIR;
  const mf = new Miniflare({
    // ORT contains a dynamic import Miniflare cannot follow, so list the modules
    // wrangler emitted ourselves, typed as the wrangler.toml rules type them.
    modulesRoot: buildDir,
    modules: readdirSync(buildDir)
      .filter((f) => !f.endsWith(".map") && f !== "README.md")
      .sort((a, b) => (a === "entry.js" ? -1 : b === "entry.js" ? 1 : a.localeCompare(b)))
      .map((f) => ({
        path: `${buildDir}/${f}`,
        type: f.endsWith(".js") ? "ESModule" : f.endsWith(".wasm") ? "CompiledWasm" : f.endsWith(".onnx") ? "Data" : "Text",
      })) as { path: string; type: "ESModule" | "CompiledWasm" | "Data" | "Text" }[],
    compatibilityDate: "2026-04-20",
    cf: false, // offline: never fetch Request.cf data
    bindings: opts.rateLimit ? { ...bindings, RATE_LIMIT_PERIOD: String(opts.rateLimit.period) } : bindings,
    ...(opts.d1 ? { d1Databases: { DB: "preflight-test" } } : {}),
    ...(opts.r2 ? { r2Buckets: { BUNDLES: "preflight-bundles-test" } } : {}),
    ...(opts.rateLimit ? { ratelimits: { RATE_LIMITER: { simple: opts.rateLimit } } } : {}),
    ...(opts.inspectorPort ? { inspectorPort: opts.inspectorPort } : {}),
    ...(opts.persist ? { d1Persist: `${opts.persist}/d1`, r2Persist: `${opts.persist}/r2` } : {}),
  });
  await mf.ready;
  // A persisted store that already has the log was migrated by the start that created it (ALTER TABLE is not idempotent).
  const migrated = async () =>
    opts.persist !== undefined && (await (await mf.getD1Database("DB")).prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'decisions'").first()) !== null;
  if (opts.d1 && !(await migrated())) {
    // Same files wrangler's D1 tooling applies; statements run one by one in order.
    const db = await mf.getD1Database("DB");
    for (const f of readdirSync("migrations").filter((x) => x.endsWith(".sql")).sort()) {
      const sql = readFileSync(`migrations/${f}`, "utf8").replace(/--.*$/gm, "");
      for (const stmt of sql.split(";").map((x) => x.trim()).filter(Boolean)) await db.prepare(stmt).run();
    }
  }
  return mf;
}

/**
 * Builds a worker that embeds exactly `bundleDirs` (the first is the default)
 * under `workDir` and starts it: how a freshly built bundle is served in tests.
 * Checks that /healthz answers 200 with the first bundle as the default.
 */
export async function serveBundles(workDir: string, bundleDirs: string[], source: string, bindings: Record<string, string> = { AUTH: "disabled" }): Promise<Miniflare> {
  writeRegistry(`${workDir}/registry.ts`, bundleDirs, source);
  // The entry sits next to the registry; its imports are relative to wherever workDir is.
  const src = relative(workDir, "src");
  writeFileSync(
    `${workDir}/entry.ts`,
    [
      'import { env } from "cloudflare:workers";',
      `import { createApp } from "${src}/http/app.js";`,
      `import { workerDeps } from "${src}/worker/deps.js";`,
      'import { EMBEDDED_BUNDLES } from "./registry.js";',
      "export default createApp(workerDeps(env as never, EMBEDDED_BUNDLES));",
      "",
    ].join("\n"),
  );
  buildWorker(`${workDir}/entry.ts`, `${workDir}/build`);
  const mf = await startWorker(bindings, `${workDir}/build`);
  const h = await call(mf, "GET", "/healthz");
  expect(h.status).toBe(200);
  expect(h.body.default_bundle).toBe(JSON.parse(readFileSync(`${bundleDirs[0]}/manifest.json`, "utf8")).bundle_id);
  return mf;
}

/**
 * Replays a bundle's golden file through the worker: /v1/tokenize gives exactly the
 * golden ids, truncation flag and input tokens, and /v1/route answers from that bundle
 * with every probability within 1e-5. Prompts longer than maxPromptChars are skipped
 * (they exceed the default body limit). Returns the rows replayed.
 */
export async function replayGolden(mf: Miniflare, bundleDir: string, opts: { headers?: Record<string, string>; maxPromptChars?: number } = {}): Promise<number> {
  const { headers = {}, maxPromptChars = 10_000 } = opts;
  await untilLoaded(mf, headers);
  const bundleId: string = JSON.parse(readFileSync(`${bundleDir}/manifest.json`, "utf8")).bundle_id;
  const rows = readFileSync(`${bundleDir}/golden.jsonl`, "utf8").trim().split("\n").map((l) => GoldenRow.parse(JSON.parse(l)));
  const replayed = rows.filter((r) => r.prompt.length < maxPromptChars);
  for (const g of replayed) {
    const t = await call(mf, "POST", "/v1/tokenize", { body: { prompt: g.prompt }, headers });
    expect(t.body.ids).toEqual(g.ids);
    expect(t.body.truncated).toBe(g.truncated);
    expect(t.body.input_tokens).toBe(g.input_tokens);
    const r = await call(mf, "POST", "/v1/route", { body: { prompt: g.prompt }, headers });
    expect(r.status).toBe(200);
    expect(r.body.artifact.id).toBe(bundleId);
    for (const c of r.body.candidates) expect(Math.abs(c.p_success - g.p[c.model])).toBeLessThan(1e-5);
  }
  return replayed.length;
}

/**
 * Routes one prompt under `headers` until the answer is not 503 bundle-loading
 * (a non-default bundle gets its session in the background after first use,
 * src/infer/runtime.ts) and returns that answer. Bounded by attempts, not time.
 */
export async function untilLoaded(mf: Miniflare, headers: Record<string, string> = {}, attempts = 200): Promise<Reply> {
  for (let i = 0; ; i++) {
    const r = await call(mf, "POST", "/v1/route", { body: { prompt: "warm-up" }, headers });
    if (r.status !== 503 || !String(r.body?.type).endsWith("/bundle-loading") || i >= attempts) return r;
    await new Promise((res) => setTimeout(res, 50));
  }
}

/** /healthz's session counts (needs AUTH=disabled or a report key for the detail), once the background loader is idle. */
export async function settledSessions(mf: Miniflare, headers: Record<string, string> = {}) {
  for (let i = 0; i < 400; i++) {
    const h = await call(mf, "GET", "/healthz", { headers });
    if (h.body.detail.sessions.loading.length === 0) return h.body.detail.sessions;
    await new Promise((res) => setTimeout(res, 50));
  }
  throw new Error("the bundle loader never became idle");
}

/** A copy of the bundle in `srcDir` under another bundle id, in `${workDir}/bundles/${id}` (the student copied as is). */
export function renamedBundle(srcDir: string, workDir: string, id: string): string {
  const dir = `${workDir}/bundles/${id}`;
  mkdirSync(dir, { recursive: true });
  const from = JSON.parse(readFileSync(`${srcDir}/manifest.json`, "utf8")).bundle_id as string;
  const text = readFileSync(`${srcDir}/manifest.json`, "utf8").replace(`"bundle_id": "${from}"`, `"bundle_id": "${id}"`);
  if (!text.includes(`"bundle_id": "${id}"`)) throw new Error(`could not rename ${srcDir}`);
  writeFileSync(`${dir}/manifest.json`, text);
  copyFileSync(`${srcDir}/student.onnx`, `${dir}/student.onnx`);
  return dir;
}

export interface Reply {
  status: number;
  headers: Headers;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any
  text: string;
}

export async function call(mf: Miniflare, method: string, path: string, opts: { body?: unknown; raw?: string; headers?: Record<string, string> } = {}): Promise<Reply> {
  const headers: Record<string, string> = { ...(opts.headers ?? {}) };
  let body: string | undefined;
  if (opts.raw !== undefined) body = opts.raw;
  else if (opts.body !== undefined) {
    body = JSON.stringify(opts.body);
    headers["content-type"] ??= "application/json";
  }
  const res = await mf.dispatchFetch(`http://localhost${path}`, { method, headers, body });
  const text = await res.text();
  let parsed: unknown = undefined;
  try {
    parsed = JSON.parse(text);
  } catch {
    /* not JSON */
  }
  return { status: res.status, headers: res.headers as unknown as Headers, body: parsed, text };
}
