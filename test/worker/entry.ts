/**
 * Test-only worker entry: the production app with the fixture bundle first
 * (default in tests) followed by every production bundle. Config comes from
 * the Miniflare bindings each test file sets.
 */
import { env } from "cloudflare:workers";
import { createApp } from "../../src/worker/app.js";
import { EMBEDDED_BUNDLES } from "../../src/worker/embedded-bundles.js";
import { initRuntime } from "../../src/worker/runtime.js";
import { EMBEDDED_BUNDLES as FIXTURES } from "./fixture-bundles.js";

const runtime = initRuntime(env as unknown as Record<string, unknown>, [...FIXTURES, ...EMBEDDED_BUNDLES]);

export default createApp({ runtime, now: () => performance.now(), newId: () => crypto.randomUUID() });
