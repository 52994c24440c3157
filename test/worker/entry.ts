/**
 * Test-only worker entry: the production app with the fixture bundle first
 * (default in tests) followed by every production bundle. Config comes from
 * the Miniflare bindings each test file sets.
 */
import { env } from "cloudflare:workers";
import { createApp } from "../../src/worker/app.js";
import { EMBEDDED_BUNDLES } from "../../src/worker/embedded-bundles.js";
import { workerDeps } from "../../src/worker/deps.js";
import { EMBEDDED_BUNDLES as FIXTURES } from "./fixture-bundles.js";

// A deliberately broken copy of the fixture (wrong bytes for student.onnx) proves
// the loader refuses bundles whose files do not match their manifest.
const corrupt = {
  manifestText: FIXTURES[0].manifestText.replace('"bundle_id": "fixture-tiny"', '"bundle_id": "fixture-corrupt"'),
  files: { "student.onnx": new ArrayBuffer(16) },
};

export default createApp(workerDeps(env as unknown as Record<string, unknown>, [...FIXTURES, corrupt, ...EMBEDDED_BUNDLES]));
