/**
 * Bench-only worker entry (fixture bundle): the production app serving the
 * test fixture bundle, wrapped so `GET /hello` answers from the same worker as
 * the latency floor. Owned by bench/; must not be imported by src/ or tests.
 */
import { env } from "cloudflare:workers";
import { EMBEDDED_BUNDLES as FIXTURES } from "../test/worker/fixture-bundles.js";
import { benchApp } from "./entry-app.js";

export default benchApp(env as unknown as Record<string, unknown>, FIXTURES);
