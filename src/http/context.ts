/**
 * What every HTTP handler sees: the Hono context variables (`Env`) and the
 * dependencies the entry point injects (`AppDeps`). Types only, so route
 * modules can share them without importing app.ts (no import loop). Must not
 * hold values or logic.
 */
import type { Runtime } from "../infer/runtime.js";
import type { DecisionLogger } from "../store/decision-log.js";
import type { Principal } from "./auth.js";

export type Env = { Variables: { requestId: string; rt: Runtime; principal: Principal } };

export interface AppDeps {
  runtime: Promise<Runtime>;
  /** Monotonic ms clock for timings. */
  now: () => number;
  /** Wall clock (ms since epoch) for the decision log. */
  wallClock: () => number;
  newId: () => string;
  random: () => number;
  /** Present when a D1 binding is configured. */
  logger?: DecisionLogger;
  db?: D1Database;
  /** Present when an R2 binding (BUNDLES) holds published bundles (bundles/<manifest sha256>/<path>). */
  bundles?: R2Bucket;
  rateLimiter?: RateLimit;
  /** Seconds a client should wait after a 429 (the limiter's period). */
  rateLimitPeriod?: number;
}
