/**
 * Worker entry point: loads config and the embedded bundles at module load
 * (not in the first request) and serves the Hono app. `env` is read through
 * cloudflare:workers so start-up can validate it before any request.
 */
import { env } from "cloudflare:workers";
import { createApp } from "../http/app.js";
import { workerDeps } from "./deps.js";
import { EMBEDDED_BUNDLES } from "./embedded-bundles.js";

export default createApp(workerDeps(env as unknown as Record<string, unknown>, EMBEDDED_BUNDLES));
