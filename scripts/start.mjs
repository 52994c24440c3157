/**
 * `npm start`: serves the worker locally with wrangler dev (workerd) on
 * http://127.0.0.1:8787 with the embedded default bundle, fully offline.
 * Auth is disabled here, and only here, and it says so loudly.
 */
import { spawn, spawnSync } from "node:child_process";

const port = process.env.PORT ?? "8787";
console.warn(
  `\n[preflight] LOCAL MODE: AUTH=disabled — no API key is needed on http://127.0.0.1:${port}.\n` +
    "[preflight] Production requires API_KEYS (see README 'Auth').\n",
);
const env = {
  ...process.env,
  WRANGLER_SEND_METRICS: "false",
  // Miniflare otherwise fetches Request.cf data from the internet at start-up.
  CLOUDFLARE_CF_FETCH_ENABLED: "false",
};
// The local D1 database (decision log) needs its schema before the first request.
const migrate = spawnSync(process.execPath, ["node_modules/wrangler/bin/wrangler.js", "d1", "migrations", "apply", "preflight", "--local"], {
  stdio: "inherit",
  env: { ...env, CI: "1" },
});
if (migrate.status !== 0) process.exit(migrate.status ?? 1);
const child = spawn(
  process.execPath,
  [
    "node_modules/wrangler/bin/wrangler.js",
    "dev",
    "--ip", "127.0.0.1",
    "--port", port,
    "--var", "AUTH:disabled",
    "--show-interactive-dev-session=false",
    ...process.argv.slice(2),
  ],
  {
    stdio: "inherit",
    env,
  },
);
for (const sig of ["SIGINT", "SIGTERM"]) process.on(sig, () => child.kill(sig));
child.on("exit", (code) => process.exit(code ?? 0));
