/**
 * Bundle state of one isolate: validated config, the embedded bundles, the
 * bundles published to R2 that aliases name, and which of them has a live
 * ORT session (session-pool.ts).
 *
 * Start-up does only what the first request needs: at module load, config and
 * the default bundle's session (a request must never pay ~200 ms of session
 * creation for the default). Every other bundle is verified on first use (an
 * embedded one in the request: hashes only, no I/O) and gets its session from
 * the pool's loader in `waitUntil`; meanwhile its requests get 503
 * bundle-loading with Retry-After. After the first request the loader also
 * warms the embedded bundles into free session places. A failed bundle never
 * takes the default down.
 *
 * Names: an embedded bundle id, or an alias (`candidate`, `default`, …) read
 * from D1 through AliasCache and resolved to a manifest digest (an embedded
 * bundle with that pin, else R2 `bundles/<digest>/`). The alias `default`, when
 * set, serves default traffic once its session is live; until then (or if it
 * is broken) the previous default, else the embedded one, keeps serving.
 * Invalid configuration leaves `config` null: every guarded route answers 503
 * naming the failing variables, and /healthz is unhealthy.
 */
import type { AliasRecord } from "../core/bundle-ref.js";
import { AliasName } from "../core/bundle-ref.js";
import { err, ok, type Reason, type Result } from "../core/result.js";
import { guessId, type EmbeddedBundle, type LoadedBundle, type VerifiedBundle } from "./bundle-loader.js";
import { configVariable, crossCheck, loadConfig, WorkerEnv, type Access, type Config } from "../core/config.js";
import { AliasCache, type ReadAliases } from "./alias-cache.js";
import { SessionPool, type Background, type FetchBundle, type Slot } from "./session-pool.js";
import { selectVariant } from "./variant-select.js";

export type { Background } from "./session-pool.js";

/** Seconds a client is asked to wait for a bundle whose session is being created (typically 0.1–0.5 s). */
export const LOADING_RETRY_AFTER_S = 1;

/** Where bundles and aliases outside the code come from (absent: that binding is not configured). */
export interface RuntimeSources {
  readAliases?: ReadAliases;
  fetchBundle?: FetchBundle;
}

export interface Runtime {
  config: Config | null;
  /** Full messages: for the logs and authenticated callers only. */
  configErrors: string[];
  /** Auth mode and keys when they parsed, even if other configuration did not (who may see details). */
  access: Access | null;
  /** Embedded bundles in registry order. */
  bundles: Slot[];
  /** The embedded default's id. */
  defaultId: string;
  pool: SessionPool;
  aliases: AliasCache;
  /** Bundles from R2 this isolate has met, by manifest digest (pruned to those aliases name or that are live). */
  remote: Map<string, Slot>;
  /** The slot that last served default traffic (keeps serving while a new `default` target loads). */
  lastDefault: Slot | undefined;
  warmed: boolean;
}

/** The ids and pools the configuration cross-check needs: a JSON parse of each manifest, no hashing, no session. */
function declared(e: EmbeddedBundle): { id: string; models: string[] } {
  try {
    const m = JSON.parse(e.manifestText) as { bundle_id?: string; pool?: { id?: string }[] };
    return { id: m.bundle_id ?? guessId(e.manifestText), models: (m.pool ?? []).flatMap((p) => (p.id ? [p.id] : [])) };
  } catch {
    return { id: guessId(e.manifestText), models: [] };
  }
}

export async function initRuntime(env: Record<string, unknown>, embedded: EmbeddedBundle[], sources: RuntimeSources = {}, now: () => number = Date.now): Promise<Runtime> {
  const cfg = loadConfig(env);
  const config = cfg.ok ? cfg.config : null;
  const configErrors = cfg.ok ? [] : [...cfg.errors];
  const decl = embedded.map(declared);
  const bundles: Slot[] = embedded.map((e, i) => ({ key: decl[i].id, id: decl[i].id, origin: "embedded", digest: e.manifestSha256, bytes: e }));
  const defaultId = config?.defaultBundle ?? bundles[0]?.id ?? "none";
  if (config) configErrors.push(...crossCheck(config, decl));
  const fallback = WorkerEnv.parse({});
  const ttl = config?.aliasTtlMs ?? fallback.ALIAS_TTL_MS;
  const pool = new SessionPool({
    max: config?.maxLiveSessions ?? fallback.MAX_LIVE_SESSIONS,
    overrides: config?.priceOverrides ?? {},
    fetch: sources.fetchBundle,
    now,
    retryFailedMs: Math.max(ttl, 1000),
  });
  const def = bundles.find((b) => b.id === defaultId);
  if (def) await pool.startAtLoad(def);
  for (const msg of configErrors) console.error(`[preflight] configuration error: ${msg}`);
  if (config?.auth === "disabled") console.warn("[preflight] AUTH=disabled: serving without API keys (local use only)");
  const access = cfg.ok ? { auth: cfg.config.auth, keys: cfg.config.keys } : cfg.access;
  return {
    config: configErrors.length ? null : config,
    configErrors,
    access,
    bundles,
    defaultId,
    pool,
    aliases: new AliasCache(sources.readAliases, ttl, now),
    remote: new Map(),
    lastDefault: def,
    warmed: false,
  };
}

/** The names of the invalid variables, deduplicated: what a caller without a key may learn. */
export function invalidVariables(rt: Runtime): string[] {
  return [...new Set(rt.configErrors.map(configVariable))];
}

/** The 503 for a runtime whose configuration is invalid; `detailed` only for an authenticated caller. */
export function configProblem(rt: Runtime, detailed: boolean): Reason {
  return { reason: "config_invalid", variables: invalidVariables(rt), errors: detailed ? rt.configErrors : undefined };
}

/** After the first request: verify the other embedded bundles and fill free session places, in the background. */
function warm(rt: Runtime, bg: Background): void {
  if (rt.warmed) return;
  rt.warmed = true;
  for (const s of rt.bundles) if (s.id !== rt.defaultId) rt.pool.request(s, "warm", bg);
}

/** The alias table (read again when TTL old), dropping R2 slots no alias names and no session holds. */
async function aliasTable(rt: Runtime): Promise<Map<string, AliasRecord>> {
  const table = await rt.aliases.current();
  if (rt.remote.size > table.size + rt.pool.opts.max) {
    const named = new Set([...table.values()].map((r) => r.manifest_sha256));
    for (const [d, s] of rt.remote) if (!named.has(d) && !s.live && !s.queued) rt.remote.delete(d);
  }
  return table;
}

function slotFor(rt: Runtime, rec: AliasRecord): Slot {
  const embedded = rt.bundles.find((b) => b.digest === rec.manifest_sha256);
  if (embedded) return embedded;
  let s = rt.remote.get(rec.manifest_sha256);
  if (!s) {
    s = { key: rec.manifest_sha256, id: rec.bundle_id, origin: "r2", digest: rec.manifest_sha256 };
    rt.remote.set(rec.manifest_sha256, s);
  }
  return s;
}

/** The slot default traffic uses now; queues the `default` alias's bundle when it has no session yet. */
async function defaultSlot(rt: Runtime, bg: Background): Promise<Slot | undefined> {
  const embedded = rt.bundles.find((b) => b.id === rt.defaultId);
  const rec = rt.aliases.enabled ? (await aliasTable(rt)).get("default") : undefined;
  if (!rec) return (rt.lastDefault = embedded);
  const target = slotFor(rt, rec);
  if (target.live) return (rt.lastDefault = target);
  if (rt.pool.failure(target) !== undefined) return (rt.lastDefault = embedded);
  rt.pool.request(target, "session", bg);
  const prev = rt.lastDefault;
  return prev?.live && rt.pool.failure(prev) === undefined ? prev : embedded;
}

/** An id or alias → its slot; an unknown name is the caller's 422, an unset alias named by a variant a 503. */
async function namedSlot(rt: Runtime, name: string, fromVariant: boolean): Promise<Result<Slot>> {
  const embedded = rt.bundles.find((b) => b.id === name);
  if (embedded) return ok(embedded);
  const table = rt.aliases.enabled ? await aliasTable(rt) : new Map<string, AliasRecord>();
  const rec = table.get(name);
  if (rec) return ok(slotFor(rt, rec));
  const couldBeAlias = rt.aliases.enabled && AliasName.safeParse(name).success;
  if (couldBeAlias && rt.aliases.error) return err({ reason: "bundle_unavailable", bundle: name, detail: `cannot resolve alias ${name}: the alias table could not be read (${rt.aliases.error})` });
  if (fromVariant) return err({ reason: "bundle_unavailable", bundle: name, detail: `alias ${name} is not set: publish a bundle and point the alias at it` });
  return err({ reason: "unknown_bundle", bundle: name, valid: [...rt.bundles.map((b) => b.id), ...table.keys()] });
}

function unavailable(rt: Runtime, slot: Slot, label: string): Reason {
  const what = label === slot.id ? `bundle ${slot.id}` : `bundle ${label} (${slot.id}@${slot.digest.slice(0, 12)})`;
  return { reason: "bundle_unavailable", bundle: label, detail: `${what} failed to load: ${rt.pool.failure(slot)}` };
}

type Need = "session" | "manifest";

async function usable(rt: Runtime, slot: Slot | undefined, label: string, need: Need, bg: Background): Promise<Result<LoadedBundle | VerifiedBundle>> {
  if (!slot) return err({ reason: "bundle_unavailable", bundle: label, detail: `default bundle ${label} is not embedded in this build` });
  await rt.pool.verifyEmbedded(slot);
  if (rt.pool.failure(slot) !== undefined) return err(unavailable(rt, slot, label));
  if (slot.live) {
    rt.pool.touch(slot);
    return ok(slot.live);
  }
  if (need === "manifest" && slot.verified) return ok(slot.verified);
  rt.pool.request(slot, need === "session" ? "session" : "verify", bg);
  return err({ reason: "bundle_loading", bundle: label, retry_after_s: LOADING_RETRY_AFTER_S });
}

async function resolve(rt: Runtime, name: string | undefined, fromVariant: boolean, need: Need, bg: Background): Promise<Result<LoadedBundle | VerifiedBundle>> {
  if (rt.config === null) return err(configProblem(rt, false));
  warm(rt, bg);
  if (name === undefined || name === "default") {
    const slot = await defaultSlot(rt, bg);
    return usable(rt, slot, slot?.id ?? rt.defaultId, need, bg);
  }
  const slot = await namedSlot(rt, name, fromVariant);
  return slot.ok ? usable(rt, slot.value, name, need, bg) : slot;
}

/** The bundle, with a live session, that scores a route request naming `name` (undefined: the default). */
export function bundleFor(rt: Runtime, name: string | undefined, bg: Background, fromVariant = false): Promise<Result<LoadedBundle>> {
  return resolve(rt, name, fromVariant, "session", bg) as Promise<Result<LoadedBundle>>;
}

/**
 * The bundle a non-scoring request (tokenize, models, artifact) reads, chosen
 * by the same headers as /v1/route: an unknown experiment, variant or bundle
 * is the same 422 here as there, never silently ignored. Needs no session.
 */
export async function bundleForRequest(rt: Runtime, headers: Headers, requestId: string, bg: Background): Promise<Result<VerifiedBundle>> {
  const sel = selectVariant(rt.config?.experiments ?? [], headers, requestId);
  if (!sel.ok) return sel;
  return resolve(rt, sel.value.bundleId, sel.value.bundleFrom === "variant", "manifest", bg);
}

/** Before /healthz answers: every embedded bundle verified, the alias table fresh, each alias target queued for checking. */
export async function prepareHealth(rt: Runtime, bg: Background): Promise<void> {
  if (rt.config !== null) warm(rt, bg); // an isolate that serves nothing loads nothing more
  for (const s of rt.bundles) await rt.pool.verifyEmbedded(s);
  if (!rt.aliases.enabled) return;
  for (const rec of (await aliasTable(rt)).values()) rt.pool.request(slotFor(rt, rec), "verify", bg);
}

export interface BundleReport {
  bundles: { id: string; state: "ready" | "loading" | "pending" | "failed"; sha256?: string; aliases?: string[] }[];
  errors: { id: string; reason: string }[];
  /** What serves default traffic now. */
  defaultId: string;
  defaultReady: boolean;
  sessions: { max: number; live: string[]; loading: string[]; created_at_load: number; created: number; evicted: number; alias_error?: string };
}

/** The state /healthz reports: each bundle (embedded, then R2 ones aliases name), its aliases, and the sessions. */
export function bundleReport(rt: Runtime): BundleReport {
  const table = rt.aliases.cached();
  const aliasesOf = (s: Slot) => [...table.values()].filter((r) => r.manifest_sha256 === s.digest).map((r) => r.alias);
  const pending = new Set(rt.pool.pending());
  const state = (s: Slot) =>
    rt.pool.failure(s) !== undefined ? "failed" : s.live || s.verified ? "ready" : pending.has(s) ? "loading" : "pending";
  const remote = [...rt.remote.values()].filter((s) => s.live || aliasesOf(s).length > 0);
  const entry = (s: Slot, r2: boolean) => {
    const names = aliasesOf(s);
    return { id: s.id, state: state(s), ...(r2 ? { sha256: s.digest } : {}), ...(names.length ? { aliases: names } : {}) } as const;
  };
  const all = [...rt.bundles, ...remote];
  const rec = table.get("default");
  const aliased = rec ? (rt.bundles.find((b) => b.digest === rec.manifest_sha256) ?? rt.remote.get(rec.manifest_sha256)) : undefined;
  const embedded = rt.bundles.find((b) => b.id === rt.defaultId);
  // The same choice as defaultSlot, without queueing anything.
  const broken = aliased !== undefined && rt.pool.failure(aliased) !== undefined;
  const serving = !rec || broken ? embedded : aliased?.live ? aliased : rt.lastDefault?.live ? rt.lastDefault : embedded;
  const stats = rt.pool.stats;
  return {
    bundles: [...rt.bundles.map((s) => entry(s, false)), ...remote.map((s) => entry(s, true))],
    errors: all.flatMap((s) => {
      const reason = rt.pool.failure(s);
      return reason === undefined ? [] : [{ id: s.origin === "r2" ? `${s.id}@${s.digest.slice(0, 12)}` : s.id, reason }];
    }),
    defaultId: serving?.id ?? rt.defaultId,
    defaultReady: embedded?.live !== undefined,
    sessions: {
      max: rt.pool.opts.max,
      live: rt.pool.live.map((s) => s.id),
      loading: [...pending].map((s) => s.id),
      created_at_load: stats.createdAtLoad,
      created: stats.created,
      evicted: stats.evicted,
      ...(rt.aliases.error ? { alias_error: rt.aliases.error } : {}),
    },
  };
}

/** Forget the alias table after this isolate changed an alias (the admin route), so its own next request sees the change. */
export function aliasesChanged(rt: Runtime): void {
  rt.aliases.invalidate();
}
