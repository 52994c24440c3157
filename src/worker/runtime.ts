/**
 * Start-up state of one isolate: validated config plus every embedded bundle,
 * loaded once at module load (session creation costs ~200 ms of CPU, far over a
 * request's budget). A failure is recorded, logged and never retried in the
 * same isolate: ORT cannot re-initialise its WASM after a failed start.
 */
import { err, ok, type Result } from "../core/result.js";
import { loadBundle, type BundleState, type EmbeddedBundle, type LoadedBundle } from "./bundle-loader.js";
import { loadConfig, type Config } from "./config.js";

export interface Runtime {
  config: Config | null;
  configErrors: string[];
  bundles: BundleState[];
  defaultId: string;
}

export async function initRuntime(env: Record<string, unknown>, embedded: EmbeddedBundle[]): Promise<Runtime> {
  const cfg = loadConfig(env);
  const config = cfg.ok ? cfg.config : null;
  const configErrors = cfg.ok ? [] : [...cfg.errors];
  const bundles: BundleState[] = [];
  // Sequential on purpose: ORT's WASM start-up must happen exactly once.
  for (const e of embedded) bundles.push(await loadBundle(e, config?.priceOverrides ?? {}));
  const ids = bundles.map((b) => b.id);
  const defaultId = config?.defaultBundle ?? ids[0] ?? "none";
  if (config && !ids.includes(defaultId)) configErrors.push(`DEFAULT_BUNDLE: unknown bundle ${defaultId}; built in: ${ids.join(", ")}`);
  const poolIds = new Set(bundles.flatMap((b) => (b.state === "ready" ? b.bundle.manifest.pool.map((m) => m.id) : [])));
  for (const id of Object.keys(config?.priceOverrides ?? {})) {
    if (!poolIds.has(id)) configErrors.push(`PRICE_OVERRIDES.${id}: not a model of any built-in bundle`);
  }
  for (const x of config?.experiments ?? []) {
    for (const v of x.variants) {
      if (v.bundle !== undefined && !ids.includes(v.bundle)) configErrors.push(`EXPERIMENTS.${x.name}.${v.name}: unknown bundle ${v.bundle}`);
    }
  }
  for (const msg of configErrors) console.error(`[preflight] configuration error: ${msg}`);
  for (const b of bundles) if (b.state === "failed") console.error(`[preflight] bundle ${b.id} failed to load: ${b.reason}`);
  if (config?.auth === "disabled") console.warn("[preflight] AUTH=disabled: serving without API keys (local use only)");
  return { config: configErrors.length ? null : config, configErrors, bundles, defaultId };
}

export function bundleFor(rt: Runtime, id: string | undefined): Result<LoadedBundle> {
  if (rt.config === null) return err({ reason: "bundle_unavailable", detail: `configuration invalid: ${rt.configErrors.join("; ")}` });
  const want = id ?? rt.defaultId;
  const b = rt.bundles.find((x) => x.id === want);
  if (!b) return err({ reason: "unknown_bundle", bundle: want, valid: rt.bundles.map((x) => x.id) });
  if (b.state === "failed") return err({ reason: "bundle_unavailable", detail: `bundle ${b.id} failed to load: ${b.reason}` });
  return ok(b.bundle);
}
