/**
 * Bench workers that embed n bundles: llmrouter-v5 (the default) plus n − 1
 * copies under other bundle ids (test/worker/harness.ts renamedBundle: the
 * manifest renamed, the same student), each with its own registry
 * (scripts/bundle/registry.ts writeRegistry) behind the bench entry
 * (production app + `GET /hello`), and a wrangler.toml with the project's
 * module rules and compatibility date for `wrangler check startup`.
 * Owned by bench/; never imported by src/.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { relative } from "node:path";
import { writeRegistry } from "../scripts/bundle/registry.js";
import { renamedBundle } from "../test/worker/harness.js";

export const BASE_BUNDLE = "artifacts/llmrouter-v5";

/** The bundle ids a worker of `n` bundles embeds, the default first. */
export function bundleIds(n: number): string[] {
  return ["llmrouter-v5", ...Array.from({ length: n - 1 }, (_, k) => `llmrouter-v5-copy${k + 1}`)];
}

/** Writes `<work>/b<n>/{registry.ts, entry.ts, wrangler.toml}` and returns that dir. */
export function workerDir(work: string, n: number): string {
  const dir = `${work}/b${n}`;
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const dirs = [BASE_BUNDLE, ...bundleIds(n).slice(1).map((id) => renamedBundle(BASE_BUNDLE, work, id))];
  writeRegistry(`${dir}/registry.ts`, dirs, "bench/bundle-workers.ts");
  const bench = relative(dir, "bench");
  writeFileSync(
    `${dir}/entry.ts`,
    [
      'import { env } from "cloudflare:workers";',
      `import { benchApp } from "${bench}/entry-app.js";`,
      'import { EMBEDDED_BUNDLES } from "./registry.js";',
      "export default benchApp(env as unknown as Record<string, unknown>, EMBEDDED_BUNDLES);",
      "",
    ].join("\n"),
  );
  // No bindings: `wrangler check startup` evaluates the worker without any, as a deploy's check does.
  const root = readFileSync("wrangler.toml", "utf8");
  const rules = /^rules = \[[\s\S]*?^\]/m.exec(root)![0];
  const date = /^compatibility_date = .*$/m.exec(root)![0];
  writeFileSync(`${dir}/wrangler.toml`, `name = "preflight-bench-${n}"\nmain = "entry.ts"\n${date}\nsend_metrics = false\n${rules}\n`);
  return dir;
}
