/**
 * Loads embedded bundles: checks every listed file's sha256 and the manifest
 * schema, then creates the ORT session. A bundle that fails any check is kept
 * as `failed` with its reason and never served. Must not handle HTTP.
 */
import { Manifest } from "../core/manifest.js";
import type { RuntimeModel } from "../core/route.js";
import type { PriceOverride } from "./config.js";
import { createEngine, type Engine } from "./ort-engine.js";
import { sha256Hex } from "./sha256.js";

export interface EmbeddedBundle {
  /** manifest.json exactly as written by the pipeline (hashed for the artifact digest). */
  manifestText: string;
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

export function runtimePool(manifest: Manifest, overrides: PriceOverride): RuntimeModel[] {
  return manifest.pool.map((m) => {
    const o = overrides[m.id];
    return {
      id: m.id,
      provider: m.provider,
      price: o ?? { input_per_mtok: m.input_per_mtok, output_per_mtok: m.output_per_mtok },
      price_source: o ? "override" : "bundle",
      default_output_tokens: manifest.output_length?.tokens[m.id] ?? m.default_output_tokens,
      output_index: manifest.outputs.find((x) => x.model === m.id)!.index,
      calibration: manifest.calibration[m.id],
    };
  });
}

export async function loadBundle(embedded: EmbeddedBundle, overrides: PriceOverride): Promise<BundleState> {
  const id = guessId(embedded.manifestText);
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
        sha256: await sha256Hex(embedded.manifestText),
        engine,
        pool: runtimePool(manifest, overrides),
      },
    };
  } catch (e) {
    return { id: manifest.bundle_id, state: "failed", reason: `ORT session failed: ${(e as Error).message}` };
  }
}
