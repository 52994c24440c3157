/**
 * The one exhaustive mapping from core failure reasons to HTTP status and an
 * RFC 9457 problem+json body. Adding a Reason without a case here fails the
 * type check. Must not log or touch the request.
 */
import type { Problem } from "../core/api-schemas.js";
import type { Reason } from "../core/result.js";

const TYPE_BASE = "https://preflight.dev/problems/";

function body(type: string, title: string, status: number, detail: string, extra: Record<string, unknown> = {}) {
  return { type: TYPE_BASE + type, title, status, detail, ...extra };
}

function toProblem(r: Reason, requestId: string): Problem {
  const withId = (p: ReturnType<typeof body>): Problem => ({ ...p, request_id: requestId });
  switch (r.reason) {
    case "malformed_json":
      return withId(body("malformed-json", "Malformed JSON", 400, r.detail));
    case "unsupported_media_type":
      return withId(body("unsupported-media-type", "Unsupported Media Type", 415, r.detail));
    case "payload_too_large":
      return withId(body("payload-too-large", "Payload Too Large", 413, `body exceeds ${r.limit_bytes} bytes`, { limit_bytes: r.limit_bytes }));
    case "validation":
      return withId(body("validation", "Unprocessable Content", 422, r.issues.map((i) => `${i.path}: ${i.message}`).join("; "), { errors: r.issues }));
    case "unknown_model":
      return withId(
        body("unknown-model", "Unknown model", 422, `unknown model(s) in ${r.field}: ${r.unknown.join(", ")}`, {
          errors: r.unknown.map((u) => ({ path: r.field, message: `unknown model ${u}` })),
          valid: r.valid,
        }),
      );
    case "no_candidates":
      return withId(body("no-candidates", "No candidate models", 422, r.detail, { errors: [{ path: "models", message: r.detail }] }));
    case "unauthorized":
      return withId(body("unauthorized", "Unauthorized", 401, r.detail));
    case "forbidden":
      return withId(body("forbidden", "Forbidden", 403, r.detail));
    case "not_found":
      return withId(body("not-found", "Not Found", 404, r.detail));
    case "method_not_allowed":
      return withId(body("method-not-allowed", "Method Not Allowed", 405, `allowed: ${r.allowed.join(", ")}`, { allowed: r.allowed }));
    case "unknown_experiment":
      return withId(
        body("unknown-experiment", "Unknown experiment", 422, `unknown experiment ${r.experiment}; valid: ${r.valid.join(", ") || "(none)"}`, {
          errors: [{ path: "header:x-preflight-experiment", message: "unknown experiment" }],
          valid: r.valid,
        }),
      );
    case "unknown_variant":
      return withId(
        body("unknown-variant", "Unknown variant", 422, `unknown variant ${r.variant} of ${r.experiment}; valid: ${r.valid.join(", ")}`, {
          errors: [{ path: "header:x-preflight-variant", message: "unknown variant" }],
          valid: r.valid,
        }),
      );
    case "unknown_bundle":
      return withId(
        body("unknown-bundle", "Unknown bundle", 422, `unknown bundle ${r.bundle}; valid: ${r.valid.join(", ")}`, {
          errors: [{ path: "header:x-preflight-bundle", message: "unknown bundle" }],
          valid: r.valid,
        }),
      );
    case "bundle_unavailable":
      return withId(body("bundle-unavailable", "Service Unavailable", 503, r.detail, r.bundle !== undefined ? { bundle: r.bundle } : {}));
    case "bundle_loading":
      return withId(
        body("bundle-loading", "Service Unavailable", 503, `bundle ${r.bundle} is loading in this isolate; retry after ${r.retry_after_s} s`, {
          bundle: r.bundle,
          retry_after_s: r.retry_after_s,
        }),
      );
    case "config_invalid":
      return withId(
        body("config-invalid", "Service Unavailable", 503, `configuration invalid: ${r.variables.join(", ")}${r.errors ? `: ${r.errors.join("; ")}` : " (details in the worker log, or ask with an API key)"}`, {
          invalid: r.variables,
          ...(r.errors ? { config_errors: r.errors } : {}),
        }),
      );
    case "rate_limited":
      return withId(body("rate-limited", "Too Many Requests", 429, `rate limit reached for key ${r.key_id}; retry after ${r.retry_after_s} s`, { retry_after_s: r.retry_after_s }));
    case "unknown_decision":
      return withId(
        body("unknown-decision", "Unknown decision", 404, `unknown decision_id: ${r.unknown.slice(0, 10).map((u) => u.decision_id).join(", ")}${r.unknown.length > 10 ? ", …" : ""}`, {
          errors: r.unknown.map((u) => ({ path: u.path, message: `unknown decision ${u.decision_id}` })),
        }),
      );
    case "log_unavailable":
      return withId(body("log-unavailable", "Service Unavailable", 503, r.detail));
    case "bundle_not_published":
      return withId(body("bundle-not-published", "Bundle not published", 422, r.detail, { errors: [{ path: "manifest_sha256", message: r.detail }], manifest_sha256: r.manifest_sha256 }));
    case "bundle_invalid":
      return withId(body("bundle-invalid", "Bundle invalid", 422, r.detail, { errors: [{ path: "manifest_sha256", message: r.detail }], manifest_sha256: r.manifest_sha256 }));
    case "bundle_store_unavailable":
      return withId(body("bundle-store-unavailable", "Service Unavailable", 503, r.detail));
    case "internal":
      return withId(body("internal", "Internal Server Error", 500, `unexpected error; quote request id ${r.request_id}`));
  }
}

export function problemResponse(r: Reason, requestId: string, headers: Record<string, string> = {}): Response {
  const p = toProblem(r, requestId);
  // Every reason that says when to come back says it in Retry-After too (RFC 9110 §10.2.3).
  const retry: Record<string, string> = "retry_after_s" in r ? { "retry-after": String(r.retry_after_s) } : {};
  return new Response(JSON.stringify(p), {
    status: p.status,
    headers: { "content-type": "application/problem+json", "x-request-id": requestId, ...retry, ...headers },
  });
}
