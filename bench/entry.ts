/**
 * Bench-only worker entry (production bundles): the production app over
 * src/worker/embedded-bundles.ts, wrapped so `GET /hello` answers from the
 * same worker as the latency floor. Owned by bench/; not imported by src/.
 */
import { env } from "cloudflare:workers";
import { EMBEDDED_BUNDLES } from "../src/worker/embedded-bundles.js";
import { benchApp } from "./entry-app.js";

export default benchApp(env as unknown as Record<string, unknown>, EMBEDDED_BUNDLES);
