/**
 * Builds a worker entry exactly as `wrangler deploy` bundles it (its esbuild
 * pipeline and wrangler.toml module rules), into an emptied output folder —
 * wrangler's --outdir keeps stale modules from earlier builds. Shared by the
 * tests and the benchmarks; must not start anything.
 */
import { execFileSync } from "node:child_process";
import { rmSync } from "node:fs";

export function buildWorker(entry: string | null, outDir: string): string {
  rmSync(outDir, { recursive: true, force: true });
  const args = ["node_modules/wrangler/bin/wrangler.js", "deploy", "--dry-run", "--outdir", outDir, ...(entry ? [entry] : [])];
  return execFileSync(process.execPath, args, {
    encoding: "utf8",
    stdio: "pipe",
    env: { ...process.env, WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false", CI: "1" },
  });
}
