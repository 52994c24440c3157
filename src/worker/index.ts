/**
 * Worker entry point: loads config and the embedded bundles at module load
 * (not in the first request) and serves the Hono app. `env` is read through
 * cloudflare:workers so start-up can validate it before any request.
 */
import { env } from "cloudflare:workers";
import { createApp } from "./app.js";
import { EMBEDDED_BUNDLES } from "./embedded-bundles.js";
import { initRuntime } from "./runtime.js";

const runtime = initRuntime(env as unknown as Record<string, unknown>, EMBEDDED_BUNDLES);

const app = createApp({
  runtime,
  now: () => performance.now(),
  newId: () => crypto.randomUUID(),
});

export default app;
