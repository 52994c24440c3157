/**
 * Response bodies of the read-only routes /v1/models, /v1/artifact and
 * /healthz (app.ts wires them). Must not score.
 */
import type { z } from "zod";
import type { ArtifactResponse, Health, ModelsResponse } from "../core/api-schemas.js";
import { describeLogLinear } from "../core/output-length.js";
import type { VerifiedBundle } from "../infer/bundle-loader.js";
import { bundleReport, invalidVariables, type Runtime } from "../infer/runtime.js";

export function modelsBody(b: VerifiedBundle): z.infer<typeof ModelsResponse> {
  return {
    artifact: { id: b.id, sha256: b.sha256 },
    models: b.pool.map((m) => {
      const src = b.manifest.pool.find((p) => p.id === m.id)!;
      const st = b.manifest.calibration_stats?.[m.id];
      return {
        id: m.id,
        provider: m.provider,
        input_per_mtok: m.price.input_per_mtok,
        output_per_mtok: m.price.output_per_mtok,
        default_output_tokens: m.default_output_tokens,
        // The bundle's output_length is fitted on measured output tokens, whatever the pool file said.
        output_tokens_source: b.manifest.output_length?.tokens[m.id] !== undefined ? "measured" : src.output_tokens_source,
        ...(m.output_length?.by_family ? { output_tokens_by_family: m.output_length.by_family } : {}),
        ...(m.output_length?.loglinear ? { output_tokens_per_prompt: describeLogLinear(m.output_length.loglinear) } : {}),
        price_source: m.price_source,
        price_origin: m.price_source === "override" ? "PRICE_OVERRIDES" : src.price_source,
        signal: st?.signal ?? null,
        calibration: st ? { method: st.method, n: st.n, positives: st.positives, val_auroc: st.val_auroc } : null,
      };
    }),
  };
}

export function artifactBody(rt: Runtime, b: VerifiedBundle): z.infer<typeof ArtifactResponse> {
  const m = b.manifest;
  return {
    id: b.id,
    kind: m.kind,
    description: m.description,
    sha256: b.sha256,
    format_version: m.format_version,
    created_at: m.provenance.created_at,
    provenance: m.provenance,
    metrics: m.metrics,
    available: rt.bundles.map((x) => x.id),
  };
}

/**
 * /healthz: state for anyone (load balancers, status pages): ok or not, which
 * bundles are ready, loading or failed (embedded ones, then R2 ones an alias
 * names, with their aliases), and the names of invalid variables. Messages
 * (config errors, bundle failure reasons) and session counts only with
 * `detailed`, i.e. for an
 * authenticated caller: they can quote configuration, and the public page
 * must not (a malformed API_KEYS was once echoed here).
 */
export function healthBody(rt: Runtime, detailed: boolean): { body: z.infer<typeof Health>; healthy: boolean } {
  const report = bundleReport(rt);
  const healthy = rt.config !== null && report.defaultReady;
  return {
    healthy,
    body: {
      status: healthy ? "ok" : "unhealthy",
      config: rt.config !== null ? "ok" : "invalid",
      invalid: invalidVariables(rt),
      bundles: report.bundles,
      default_bundle: report.defaultId,
      ...(detailed
        ? {
            detail: {
              config_errors: rt.configErrors,
              bundle_errors: report.errors,
              sessions: report.sessions,
            },
          }
        : {}),
    },
  };
}
