/**
 * Starts the built test worker in workerd through Miniflare with the given
 * bindings (vars/secrets), and offers a small fetch helper. One Miniflare per
 * configuration; ORT start-up costs ~0.3 s, so tests share instances.
 */
import { readdirSync } from "node:fs";
import { Miniflare } from "miniflare";
import { BUILD_DIR } from "./global-setup.js";

export const KEY = "pf_test_key_123";
export const KEY_SHA = "__computed__";

export async function startWorker(bindings: Record<string, string>, buildDir = BUILD_DIR): Promise<Miniflare> {
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
    bindings,
  });
  await mf.ready;
  return mf;
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
