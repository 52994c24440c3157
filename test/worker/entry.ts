/**
 * Test-only worker entry: the production app with the fixture bundle first
 * (default in tests) followed by every production bundle, plus two broken
 * copies of the fixture that the loader must refuse. Config comes from the
 * Miniflare bindings each test file sets.
 */
import { env } from "cloudflare:workers";
import { createApp } from "../../src/http/app.js";
import type { EmbeddedBundle } from "../../src/infer/bundle-loader.js";
import { EMBEDDED_BUNDLES } from "../../src/worker/embedded-bundles.js";
import { workerDeps } from "../../src/worker/deps.js";
import { sha256Hex } from "../../src/core/sha256.js";
import { EMBEDDED_BUNDLES as FIXTURES } from "./fixture-bundles.js";

/** The fixture's manifest under another id, pinned as a registry would pin it. */
async function renamed(id: string): Promise<EmbeddedBundle> {
  const manifestText = FIXTURES[0].manifestText.replace('"bundle_id": "fixture-tiny"', `"bundle_id": "${id}"`);
  return { manifestText, manifestSha256: await sha256Hex(manifestText), files: FIXTURES[0].files };
}

// Files that do not match their (correctly pinned) manifest: wrong bytes for student.onnx.
const corrupt = { ...(await renamed("fixture-corrupt")), files: { "student.onnx": new ArrayBuffer(16) } };

// A manifest edited after its pin was taken: one digit of a calibration number
// (fixture-medium's Platt slope 0.8 → 0.9). Its files still match it, so only the pin can catch it.
const pinned = await renamed("fixture-tampered");
const tamperedText = pinned.manifestText.replace('"a": 0.8,', '"a": 0.9,');
if (tamperedText === pinned.manifestText) throw new Error("entry.ts: the fixture has no calibration slope 0.8 to tamper with");
const tampered = { ...pinned, manifestText: tamperedText };

export default createApp(workerDeps(env as unknown as Record<string, unknown>, [...FIXTURES, corrupt, tampered, ...EMBEDDED_BUNDLES]));
