/**
 * Verifies bundle bytes and starts their ORT session, for embedded bundles and
 * bundles fetched from R2 alike (one code path): manifest.json against the
 * sha256 it is pinned to (the registry's pin, or the digest in its R2 key),
 * the manifest schema and every supplied file's sha256; then, separately, the
 * session. A bundle that fails any check gets a reason and is never served.
 * Must not handle HTTP, fetch bytes or decide when to load (runtime.ts and
 * session-pool.ts do).
 * The pin is what makes the manifest trustworthy: file hashes only prove the
 * files match the manifest, while calibration, prices and outputs live in the
 * manifest itself. An alias resolves to a manifest digest, never to a
 * mutable name, and what is fetched is checked against that digest.
 */
import { Manifest } from "../core/manifest.js";
import { modelLengthOf } from "../core/output-length.js";
import type { RuntimeModel } from "../core/decide.js";
import type { PriceOverride } from "../core/config.js";
import { createEngine, type Engine } from "./ort-engine.js";
import { sha256Hex } from "../core/sha256.js";

/** A bundle's bytes, from the registry (embedded) or from R2. */
export interface EmbeddedBundle {
  /** manifest.json exactly as written by the pipeline (hashed for the artifact digest). */
  manifestText: string;
  /** sha256 (hex) of manifest.json it must have: the registry's pin, or the digest in its R2 key. */
  manifestSha256: string;
  /** Every other file of the bundle the worker needs, by manifest path. */
  files: Record<string, ArrayBuffer>;
  /** Where the bytes came from, for failure messages ("R2 bundles/<digest>/"); absent: the registry. */
  origin?: string;
}
export type BundleBytes = EmbeddedBundle;

/** A bundle whose manifest and files passed every check: enough for tokenize, models and artifact. */
export interface VerifiedBundle {
  id: string;
  manifest: Manifest;
  /** sha256 of manifest.json; it pins every file through their listed hashes. */
  sha256: string;
  pool: RuntimeModel[];
}

/** A verified bundle with a live ORT session: what scoring needs. */
export interface LoadedBundle extends VerifiedBundle {
  engine: Engine;
}

export type Verification = { ok: true; bundle: VerifiedBundle } | { ok: false; id: string; reason: string };

/** The bundle_id a manifest text claims, for naming a bundle that fails before it parses. */
export function guessId(text: string): string {
  const m = /"bundle_id"\s*:\s*"([^"]+)"/.exec(text);
  return m ? m[1] : "unknown";
}

function runtimePool(manifest: Manifest, overrides: PriceOverride): RuntimeModel[] {
  return manifest.pool.map((m) => {
    const o = overrides[m.id];
    return {
      id: m.id,
      provider: m.provider,
      price: o ?? { input_per_mtok: m.input_per_mtok, output_per_mtok: m.output_per_mtok },
      price_source: o ? "override" : "bundle",
      default_output_tokens: manifest.output_length?.tokens[m.id] ?? m.default_output_tokens,
      output_length: modelLengthOf(manifest.output_length, m.id),
      output_index: manifest.outputs.find((x) => x.model === m.id)!.index,
      calibration: manifest.calibration[m.id],
    };
  });
}

export async function verifyBundle(src: BundleBytes, overrides: PriceOverride): Promise<Verification> {
  const id = guessId(src.manifestText);
  // Before anything reads the manifest: an edited manifest is not this bundle, whatever it says.
  const digest = await sha256Hex(src.manifestText);
  if (digest !== src.manifestSha256) {
    const why = src.origin
      ? `manifest.json in ${src.origin} has sha256 ${digest.slice(0, 12)}…, not the digest ${src.manifestSha256.slice(0, 12)}… in its key: the upload is corrupt or was overwritten`
      : `manifest.json sha256 ${digest.slice(0, 12)}… does not match the pinned ${src.manifestSha256.slice(0, 12) || "(none)"}…: the manifest changed after the registry was generated (re-run promote to pin a reviewed change)`;
    return { ok: false, id, reason: why };
  }
  let raw: unknown;
  try {
    raw = JSON.parse(src.manifestText);
  } catch (e) {
    return { ok: false, id, reason: `manifest.json is not JSON: ${(e as Error).message}` };
  }
  const parsed = Manifest.safeParse(raw);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    return { ok: false, id, reason: `manifest invalid at ${first.path.join(".")}: ${first.message}` };
  }
  const manifest = parsed.data;
  for (const f of manifest.files) {
    const bytes = src.files[f.path];
    if (bytes === undefined) continue; // files the worker does not load (golden, docs) are checked by tests
    const got = await sha256Hex(bytes);
    if (got !== f.sha256) return { ok: false, id: manifest.bundle_id, reason: `sha256 mismatch for ${f.path}${src.origin ? ` in ${src.origin}` : ""}` };
  }
  if (src.files[manifest.onnx.file] === undefined) return { ok: false, id: manifest.bundle_id, reason: `missing ${manifest.onnx.file}` };
  return { ok: true, bundle: { id: manifest.bundle_id, manifest, sha256: digest, pool: runtimePool(manifest, overrides) } };
}

/**
 * Creates the ORT session of a verified bundle from its (already checked) bytes.
 * Callers serialise this: ORT's WASM start-up happens on the first call only.
 */
export async function startSession(v: VerifiedBundle, src: BundleBytes): Promise<{ ok: true; engine: Engine } | { ok: false; reason: string }> {
  try {
    const engine = await createEngine(src.files[v.manifest.onnx.file], { ...v.manifest.onnx.inputs, output: v.manifest.onnx.output });
    return { ok: true, engine };
  } catch (e) {
    return { ok: false, reason: `ORT session failed: ${(e as Error).message}` };
  }
}
