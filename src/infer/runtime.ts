/**
 * Start-up state of one isolate: validated config plus every embedded bundle,
 * loaded once at module load (session creation costs ~200 ms of CPU, far over a
 * request's budget). A failure is recorded, logged and never retried in the
 * same isolate: ORT cannot re-initialise its WASM after a failed start.
 * Invalid configuration leaves `config` null: every guarded route answers 503
 * naming the failing variables (details only to an authenticated caller, via
 * `access`), and /healthz is unhealthy.
 */
import { err, ok, type Reason, type Result } from "../core/result.js";
import { loadBundle, type BundleState, type EmbeddedBundle, type LoadedBundle } from "./bundle-loader.js";
import { configVariable, crossCheck, loadConfig, type Access, type Config } from "../core/config.js";
import { selectVariant } from "./variant-select.js";

export interface Runtime {
  config: Config | null;
  /** Full messages: for the logs and authenticated callers only. */
  configErrors: string[];
  /** Auth mode and keys when they parsed, even if other configuration did not (who may see details). */
  access: Access | null;
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
  const defaultId = config?.defaultBundle ?? bundles[0]?.id ?? "none";
  if (config) {
    const known = bundles.map((b) => ({ id: b.id, models: b.state === "ready" ? b.bundle.manifest.pool.map((m) => m.id) : [] }));
    configErrors.push(...crossCheck(config, known));
  }
  for (const msg of configErrors) console.error(`[preflight] configuration error: ${msg}`);
  for (const b of bundles) if (b.state === "failed") console.error(`[preflight] bundle ${b.id} failed to load: ${b.reason}`);
  if (config?.auth === "disabled") console.warn("[preflight] AUTH=disabled: serving without API keys (local use only)");
  const access = cfg.ok ? { auth: cfg.config.auth, keys: cfg.config.keys } : cfg.access;
  return { config: configErrors.length ? null : config, configErrors, access, bundles, defaultId };
}

/** The names of the invalid variables, deduplicated: what a caller without a key may learn. */
export function invalidVariables(rt: Runtime): string[] {
  return [...new Set(rt.configErrors.map(configVariable))];
}

/** The 503 for a runtime whose configuration is invalid; `detailed` only for an authenticated caller. */
export function configProblem(rt: Runtime, detailed: boolean): Reason {
  return { reason: "config_invalid", variables: invalidVariables(rt), errors: detailed ? rt.configErrors : undefined };
}

export function bundleFor(rt: Runtime, id: string | undefined): Result<LoadedBundle> {
  if (rt.config === null) return err(configProblem(rt, false));
  const want = id ?? rt.defaultId;
  const b = rt.bundles.find((x) => x.id === want);
  if (!b) return err({ reason: "unknown_bundle", bundle: want, valid: rt.bundles.map((x) => x.id) });
  if (b.state === "failed") return err({ reason: "bundle_unavailable", detail: `bundle ${b.id} failed to load: ${b.reason}` });
  return ok(b.bundle);
}

/**
 * The bundle a non-scoring request (tokenize, models, artifact) reads, chosen
 * by the same headers as /v1/route: an unknown experiment, variant or bundle
 * is the same 422 here as there, never silently ignored.
 */
export function bundleForRequest(rt: Runtime, headers: Headers, requestId: string): Result<LoadedBundle> {
  const sel = selectVariant(rt.config?.experiments ?? [], headers, requestId, rt.bundles.map((b) => b.id));
  if (!sel.ok) return sel;
  return bundleFor(rt, sel.value.bundleId);
}
