/**
 * Builds the OpenAPI 3.1 document from the same zod schemas the worker
 * validates with (src/core/api-schemas.ts). Must not define schemas itself.
 */
import { OpenAPIRegistry, OpenApiGeneratorV31 } from "@asteasolutions/zod-to-openapi";
import { z } from "zod";
import { ExperimentReport } from "../core/report/experiment-report.js";
import {
  ArtifactResponse,
  BatchRouteRequest,
  BatchRouteResponse,
  FeedbackRequest,
  FeedbackResponse,
  Health,
  ModelsResponse,
  Problem,
  RouteRequest,
  RouteResponse,
  TokenizeRequest,
  TokenizeResponse,
} from "../core/api-schemas.js";
import { AliasListQuery, AliasListResponse, AliasRequest, AliasResponse } from "../core/api-schemas.js";
import { AliasName } from "../core/bundle-ref.js";
import { ExportLine, ExportQuery } from "../core/export-row.js";

const problem = (description: string) => ({ description, content: { "application/problem+json": { schema: Problem } } });
const errors = {
  400: problem("Malformed JSON"),
  401: problem("Missing API key"),
  403: problem("Rejected API key or missing scope"),
  413: problem("Body over the size limit"),
  415: problem("Content type is not application/json"),
  422: problem("Schema violation, unknown model, experiment, variant or bundle"),
  503: problem("Configuration invalid, the bundle failed to load (bundle-unavailable), or its session is still being created (bundle-loading, with Retry-After)"),
};
const experimentHeaders = z.object({
  "x-preflight-experiment": z.string().optional().meta({ description: "Experiment name from EXPERIMENTS." }),
  "x-preflight-unit": z.string().optional().meta({ description: "Stable unit id (user/session) hashed into a variant." }),
  "x-preflight-variant": z.string().optional().meta({ description: "Force a variant." }),
  "x-preflight-bundle": z.string().optional().meta({ description: "Select a bundle directly (canary): a built-in bundle id or an alias such as `candidate`." }),
});

let cached: unknown;

export function openApiDocument(): unknown {
  if (cached) return cached;
  const r = new OpenAPIRegistry();
  r.registerComponent("securitySchemes", "bearer", { type: "http", scheme: "bearer" });
  const json = (schema: z.ZodType, description: string) => ({ description, content: { "application/json": { schema } } });
  r.registerPath({
    method: "post",
    path: "/v1/route",
    summary: "Route one prompt",
    security: [{ bearer: [] }],
    request: { headers: experimentHeaders, body: { content: { "application/json": { schema: RouteRequest } } } },
    responses: { 200: json(RouteResponse, "Route decision"), ...errors },
  });
  r.registerPath({
    method: "post",
    path: "/v1/route/batch",
    summary: "Route up to 64 prompts",
    security: [{ bearer: [] }],
    request: { headers: experimentHeaders, body: { content: { "application/json": { schema: BatchRouteRequest } } } },
    responses: { 200: json(BatchRouteResponse, "Route decisions in request order"), ...errors },
  });
  r.registerPath({
    method: "post",
    path: "/v1/tokenize",
    summary: "Feature ids and input-token count for a prompt, as the worker computes them",
    security: [{ bearer: [] }],
    request: { headers: experimentHeaders, body: { content: { "application/json": { schema: TokenizeRequest } } } },
    responses: { 200: json(TokenizeResponse, "Tokenization"), ...errors },
  });
  r.registerPath({ method: "get", path: "/v1/models", summary: "Pool and prices", security: [{ bearer: [] }], request: { headers: experimentHeaders }, responses: { 200: json(ModelsResponse, "Pool"), ...errors } });
  r.registerPath({ method: "get", path: "/v1/artifact", summary: "Bundle summary and metrics", security: [{ bearer: [] }], request: { headers: experimentHeaders }, responses: { 200: json(ArtifactResponse, "Artifact"), ...errors } });
  r.registerPath({
    method: "post",
    path: "/v1/feedback",
    summary: "Report the outcome of a routed call (idempotent per decision_id and model); one item or {items: [...]} up to 500",
    security: [{ bearer: [] }],
    request: { body: { content: { "application/json": { schema: FeedbackRequest } } } },
    responses: { 200: json(FeedbackResponse, "Stored"), 404: problem("Unknown decision_id"), 429: problem("Rate limited"), ...errors },
  });
  r.registerPath({
    method: "get",
    path: "/v1/experiments/{name}/report",
    summary: "Per-variant success, cost, model mix, calibration, differences with CIs, and IPS/DR off-policy estimates",
    security: [{ bearer: [] }],
    request: { params: z.object({ name: z.string() }) },
    responses: { 200: json(ExperimentReport, "Report"), 404: problem("Unknown experiment"), ...errors },
  });
  r.registerPath({
    method: "get",
    path: "/dashboard",
    summary: "HTML dashboard of every configured experiment's report",
    security: [{ bearer: [] }],
    responses: { 200: { description: "HTML page", content: { "text/html": { schema: z.string() } } }, ...errors },
  });
  r.registerPath({
    method: "put",
    path: "/v1/aliases/{alias}",
    summary: "Point an alias (default, candidate, …) at a bundle published to R2; checked there first, logged with who and when (scope alias)",
    security: [{ bearer: [] }],
    request: { params: z.object({ alias: AliasName }), body: { content: { "application/json": { schema: AliasRequest } } } },
    responses: { 200: json(AliasResponse, "The alias's new record and the digest it named before"), ...errors, 422: problem("Schema violation, or the digest does not name a complete, valid published bundle") },
  });
  r.registerPath({
    method: "get",
    path: "/v1/aliases",
    summary: "Current aliases and their recent changes (scope alias or report)",
    security: [{ bearer: [] }],
    request: { query: AliasListQuery },
    responses: { 200: json(AliasListResponse, "Aliases and history"), ...errors },
  });
  r.registerPath({
    method: "get",
    path: "/v1/export",
    summary: "The caller's decisions joined with all their feedback, NDJSON, keyset-paged (scope export; admin exports every key's)",
    security: [{ bearer: [] }],
    request: { query: ExportQuery },
    responses: {
      200: {
        description: "One ExportDecision per line in log order, then one ExportEnd line; a body without its end line was cut short",
        headers: z.object({
          "x-preflight-next-cursor": z.string().optional().meta({ description: "present when more decisions follow this page" }),
          link: z.string().optional().meta({ description: 'the next page, rel="next"' }),
        }),
        content: { "application/x-ndjson": { schema: ExportLine } },
      },
      ...errors,
    },
  });
  r.registerPath({ method: "get", path: "/healthz", summary: "Health", responses: { 200: json(Health, "Healthy"), 503: json(Health, "Unhealthy") } });
  cached = new OpenApiGeneratorV31(r.definitions).generateDocument({
    openapi: "3.1.0",
    info: { title: "Preflight", version: "1.0.0", description: "Pre-generation LLM routing: P(success) per model, cost, decision." },
  });
  return cached;
}
