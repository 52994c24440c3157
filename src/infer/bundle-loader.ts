/**
 * Loads embedded bundles: checks manifest.json against the sha256 its registry
 * pinned, the manifest schema and every listed file's sha256, then creates the
 * ORT session. A bundle that fails any check is kept as `failed` with its
 * reason and never served. Must not handle HTTP.
 * The pin is what makes the manifest trustworthy: file hashes only prove the
 * files match the manifest, while calibration, prices and outputs live in the
 * manifest itself. Bundles loaded from storage later follow the same rule: an
 * alias resolves to a manifest digest, never to a mutable name.
 */
import { Manifest } from "../core/manifest.js";
import { modelLengthOf } from "../core/output-length.js";
import type { RuntimeModel } from "../core/decide.js";
import type { PriceOverride } from "../core/config.js";
import { createEngine, type Engine } from "./ort-engine.js";
import { sha256Hex } from "../core/sha256.js";

export interface EmbeddedBundle {
  /** manifest.json exactly as written by the pipeline (hashed for the artifact digest). */
  manifestText: string;
  /** sha256 (hex) of manifest.json pinned when the registry was generated; the text must match it. */
  manifestSha256: string;
  /** Every other file of the bundle the worker needs, by manifest path. */
  files: Record<string, ArrayBuffer>;
}

export interface LoadedBundle {
  id: string;
  manifest: Manifest;
  /** sha256 of manifest.json; it pins every file through their listed hashes. */
  sha256: string;
  engine: Engine;
  pool: RuntimeModel[];
}

export type BundleState =
  | { id: string; state: "ready"; bundle: LoadedBundle }
  | { id: string; state: "failed"; reason: string };

function guessId(text: string): string {
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

export async function loadBundle(embedded: EmbeddedBundle, overrides: PriceOverride): Promise<BundleState> {
  const id = guessId(embedded.manifestText);
  // Before anything reads the manifest: an edited manifest is not this bundle, whatever it says.
  const digest = await sha256Hex(embedded.manifestText);
  if (digest !== embedded.manifestSha256) {
    return {
      id,
      state: "failed",
      reason: `manifest.json sha256 ${digest.slice(0, 12)}… does not match the pinned ${embedded.manifestSha256.slice(0, 12) || "(none)"}…: the manifest changed after the registry was generated (re-run promote to pin a reviewed change)`,
    };
  }
  let raw: unknown;
  try {
    raw = JSON.parse(embedded.manifestText);
  } catch (e) {
    return { id, state: "failed", reason: `manifest.json is not JSON: ${(e as Error).message}` };
  }
  const parsed = Manifest.safeParse(raw);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    return { id, state: "failed", reason: `manifest invalid at ${first.path.join(".")}: ${first.message}` };
  }
  const manifest = parsed.data;
  for (const f of manifest.files) {
    const bytes = embedded.files[f.path];
    if (bytes === undefined) continue; // files the worker does not load (golden, docs) are checked by tests
    const got = await sha256Hex(bytes);
    if (got !== f.sha256) return { id: manifest.bundle_id, state: "failed", reason: `sha256 mismatch for ${f.path}` };
  }
  const model = embedded.files[manifest.onnx.file];
  if (model === undefined) return { id: manifest.bundle_id, state: "failed", reason: `missing ${manifest.onnx.file}` };
  try {
    const engine = await createEngine(model, { ...manifest.onnx.inputs, output: manifest.onnx.output });
    return {
      id: manifest.bundle_id,
      state: "ready",
      bundle: {
        id: manifest.bundle_id,
        manifest,
        sha256: digest,
        engine,
        pool: runtimePool(manifest, overrides),
      },
    };
  } catch (e) {
    return { id: manifest.bundle_id, state: "failed", reason: `ORT session failed: ${(e as Error).message}` };
  }
}
