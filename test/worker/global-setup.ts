/**
 * Builds the test worker once per `npm run test:worker` with wrangler's own
 * bundler (the same esbuild pipeline and module rules as `wrangler deploy`),
 * so tests exercise the real bundle, the real ORT WASM and real workerd.
 */
import { buildWorker } from "../../scripts/lib/worker-build.js";

// Overridable so that several checkouts or sessions sharing one tree do not build into each other.
export const BUILD_DIR = process.env.PREFLIGHT_TEST_BUILD_DIR ?? ".cache/build-test";

export default function setup() {
  buildWorker("test/worker/entry.ts", BUILD_DIR);
}
