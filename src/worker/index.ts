/**
 * Worker entry point: validates config and creates the default bundle's
 * session at module load (never in a request), and serves the Hono app; the
 * other bundles load on first use (src/infer/runtime.ts). `env` is read
 * through cloudflare:workers so start-up can validate it before any request.
 */
import { env } from "cloudflare:workers";
import { createApp } from "../http/app.js";
import { workerDeps } from "./deps.js";
import { EMBEDDED_BUNDLES } from "./embedded-bundles.js";

export default createApp(workerDeps(env as unknown as Record<string, unknown>, EMBEDDED_BUNDLES));
