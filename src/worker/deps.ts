/**
 * Builds the app's dependencies from the Worker env: clocks, ids,
 * crypto-backed randomness, and the optional D1 decision log, rate limiter
 * and R2 bundle bindings; wires the runtime's ports (alias table from D1,
 * published bundles from R2) so src/infer never imports src/store. Every
 * entry point (production, tests, bench) uses this, so they differ only in
 * which bundles they embed.
 */
import type { AppDeps } from "../http/context.js";
import type { EmbeddedBundle } from "../infer/bundle-loader.js";
import { DecisionLogger } from "../store/decision-log.js";
import { initRuntime } from "../infer/runtime.js";
import { readAliases } from "../store/alias-store.js";
import { fetchBundle } from "../store/bundle-store.js";

export interface PreflightBindings {
  DB?: D1Database;
  /** Published bundles (issue 19): bundles/<manifest sha256>/<path>, written by `pipeline publish`. */
  BUNDLES?: R2Bucket;
  RATE_LIMITER?: RateLimit;
  RATE_LIMIT_PERIOD?: string;
}

function cryptoRandom(): number {
  const a = new Uint32Array(2);
  crypto.getRandomValues(a);
  return (a[0] * 2 ** 21 + (a[1] >>> 11)) / 2 ** 53;
}

export function workerDeps(env: Record<string, unknown>, bundles: EmbeddedBundle[]): AppDeps {
  const b = env as PreflightBindings;
  return {
    runtime: initRuntime(env, bundles, {
      readAliases: b.DB ? () => readAliases(b.DB!) : undefined,
      fetchBundle: b.BUNDLES ? (digest) => fetchBundle(b.BUNDLES!, digest) : undefined,
    }),
    now: () => performance.now(),
    wallClock: () => Date.now(),
    newId: () => crypto.randomUUID(),
    random: cryptoRandom,
    db: b.DB,
    bundles: b.BUNDLES,
    logger: b.DB ? new DecisionLogger(b.DB) : undefined,
    rateLimiter: b.RATE_LIMITER,
    rateLimitPeriod: b.RATE_LIMIT_PERIOD ? Number(b.RATE_LIMIT_PERIOD) : 60,
  };
}
