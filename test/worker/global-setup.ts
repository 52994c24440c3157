/**
 * Builds the test worker once per `npm run test:worker` with wrangler's own
 * bundler (the same esbuild pipeline and module rules as `wrangler deploy`),
 * so tests exercise the real bundle, the real ORT WASM and real workerd.
 */
import { execFileSync } from "node:child_process";
import { rmSync } from "node:fs";

export const BUILD_DIR = ".cache/build-test";

export default function setup() {
  rmSync(BUILD_DIR, { recursive: true, force: true }); // wrangler's --outdir keeps stale modules
  execFileSync(
    process.execPath,
    ["node_modules/wrangler/bin/wrangler.js", "deploy", "--dry-run", "--outdir", BUILD_DIR, "test/worker/entry.ts"],
    { stdio: "pipe", env: { ...process.env, WRANGLER_SEND_METRICS: "false", CI: "1" } },
  );
}
