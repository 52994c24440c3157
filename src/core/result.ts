/**
 * Errors are data: core functions return a Result whose failure carries a tagged
 * reason. Exactly one mapping (src/http/problem.ts) turns reasons into HTTP.
 * Pure: no I/O.
 */
export type Reason =
  | { reason: "malformed_json"; detail: string }
  | { reason: "unsupported_media_type"; detail: string }
  | { reason: "payload_too_large"; limit_bytes: number }
  | { reason: "validation"; issues: { path: string; message: string }[] }
  | { reason: "unknown_model"; field: string; unknown: string[]; valid: string[] }
  | { reason: "no_candidates"; detail: string }
  | { reason: "unauthorized"; detail: string }
  | { reason: "forbidden"; detail: string }
  | { reason: "not_found"; detail: string }
  | { reason: "method_not_allowed"; allowed: string[] }
  | { reason: "unknown_experiment"; experiment: string; valid: string[] }
  | { reason: "unknown_variant"; experiment: string; variant: string; valid: string[] }
  | { reason: "unknown_bundle"; bundle: string; valid: string[] }
  /** The bundle (id or alias, as the request named it) failed to load: missing, corrupt or refused. */
  | { reason: "bundle_unavailable"; detail: string; bundle?: string }
  /** The bundle is verified or fetched and its session created in the background; retry after retry_after_s. */
  | { reason: "bundle_loading"; bundle: string; retry_after_s: number }
  /** Start-up configuration is invalid: the variable names for anyone, the messages only for an authenticated caller. */
  | { reason: "config_invalid"; variables: string[]; errors?: string[] }
  | { reason: "rate_limited"; key_id: string; retry_after_s: number }
  /** Each unknown (or, for feedback, not the caller's) decision with its field path, e.g. items.3.decision_id. */
  | { reason: "unknown_decision"; unknown: { path: string; decision_id: string }[] }
  | { reason: "log_unavailable"; detail: string }
  /** An alias change named a digest with no manifest under bundles/<digest>/ in R2 (not published, or not yet). */
  | { reason: "bundle_not_published"; manifest_sha256: string; detail: string }
  /** The published bundle behind a digest is not one the worker could serve (hash, schema, missing file, bundle_id mismatch). */
  | { reason: "bundle_invalid"; manifest_sha256: string; detail: string }
  /** No R2 binding (BUNDLES) is configured, so published bundles cannot be checked or read. */
  | { reason: "bundle_store_unavailable"; detail: string }
  | { reason: "internal"; request_id: string };

export type Result<T> = { ok: true; value: T } | { ok: false; error: Reason };

export const ok = <T>(value: T): Result<T> => ({ ok: true, value });
export const err = <T = never>(error: Reason): Result<T> => ({ ok: false, error });
