/**
 * Public API schemas (request and response bodies). The worker validates with
 * them and src/http/openapi.ts generates /openapi.json from them, so the
 * document cannot drift from the code. Pure: schemas and types only.
 */
import { z } from "zod";
import { AliasName, AliasRecord, ManifestDigest } from "./bundle-ref.js";
import { FeedbackItem } from "./decision-record.js";
import { contentChars, MAX_TEXT_CHARS, MessageList } from "./messages.js";
import { Policy } from "./policy.js";

const ModelList = z.array(z.string().min(1)).min(1).max(64);
// Together with MAX_BODY_BYTES (≤ 1 MiB) these bound what one request can make the isolate hold.
const PromptText = z.string().max(MAX_TEXT_CHARS, `at most ${MAX_TEXT_CHARS} characters`);

export const RouteRequest = z
  .object({
    prompt: PromptText.optional().meta({ description: "Raw prompt text (at most 262,144 characters). Give this or messages." }),
    messages: MessageList.optional().meta({
      description: "OpenAI-style chat messages (1–1000, contents at most 262,144 characters together), formatted as 'role: content' turns joined by blank lines.",
    }),
    models: ModelList.optional().meta({ description: "Allow-list of pool model ids." }),
    exclude: ModelList.optional().meta({ description: "Pool model ids to leave out." }),
    policy: Policy.optional().meta({ description: "Routing policy; defaults to the bundle's default policy." }),
    abstain_below: z.number().min(0).max(1).optional().meta({
      description: "If no candidate reaches this P(success), the decision is abstain.",
    }),
    expected_output_tokens: z
      .union([z.number().int().min(0).max(1_000_000), z.record(z.string(), z.number().int().min(0).max(1_000_000))])
      .optional()
      .meta({ description: "Override expected output tokens: one number for all models, or per model id." }),
  })
  .strict()
  .refine((r) => (r.prompt === undefined) !== (r.messages === undefined), {
    message: "give exactly one of prompt or messages",
    path: ["prompt"],
  })
  .meta({ id: "RouteRequest" });
export type RouteRequest = z.infer<typeof RouteRequest>;

export const BatchRouteRequest = z
  .object({ requests: z.array(RouteRequest).min(1).max(64) })
  .strict()
  // One body, one text budget: a batch may not featurize more than a single request could.
  .superRefine((b, ctx) => {
    const total = b.requests.reduce((s, r) => s + (r.prompt?.length ?? 0) + (r.messages ?? []).reduce((t, m) => t + contentChars(m.content), 0), 0);
    if (total > MAX_TEXT_CHARS) ctx.addIssue({ code: "custom", path: ["requests"], message: `prompts and message contents total ${total} characters; at most ${MAX_TEXT_CHARS} per request body` });
  })
  .meta({ id: "BatchRouteRequest" });
export type BatchRouteRequest = z.infer<typeof BatchRouteRequest>;

export const PriceSource = z.enum(["bundle", "override"]);

export const Candidate = z
  .object({
    model: z.string(),
    p_success: z.number(),
    input_tokens: z.number().int(),
    expected_output_tokens: z.number(),
    expected_cost_usd: z.number(),
    cost_per_success_usd: z.number().nullable(),
    utility: z.number().nullable().meta({ description: "Utility under a utility policy; null for other policies." }),
    price_source: PriceSource,
  })
  .meta({ id: "Candidate" });
export type Candidate = z.infer<typeof Candidate>;

export const Decision = z
  .union([
    z.object({ type: z.literal("route"), model: z.string(), provider: z.string(), policy: z.string(), reason: z.string() }),
    z.object({ type: z.literal("abstain"), model: z.null(), provider: z.null(), policy: z.string(), reason: z.string() }),
  ])
  .meta({ id: "Decision" });
export type Decision = z.infer<typeof Decision>;

export const RouteResponse = z
  .object({
    request_id: z.string(),
    decision_id: z.string().meta({ description: "Quote it in POST /v1/feedback." }),
    decision: Decision,
    candidates: z.array(Candidate),
    artifact: z.object({ id: z.string(), sha256: z.string() }),
    experiment: z.object({ name: z.string(), variant: z.string() }).nullable(),
    truncated: z.boolean(),
    timing: z.object({ score_us: z.number() }),
  })
  .meta({ id: "RouteResponse" });
export type RouteResponse = z.infer<typeof RouteResponse>;

export const BatchRouteResponse = z
  .object({ request_id: z.string(), results: z.array(RouteResponse) })
  .meta({ id: "BatchRouteResponse" });

export const ModelInfo = z
  .object({
    id: z.string(),
    provider: z.string(),
    input_per_mtok: z.number(),
    output_per_mtok: z.number(),
    default_output_tokens: z.number(),
    output_tokens_source: z.enum(["measured", "estimate"]),
    output_tokens_by_family: z
      .record(z.string(), z.number())
      .optional()
      .meta({
        description:
          "Measured expected output tokens per prompt family (the bundle's family rule); a prompt of any other family gets default_output_tokens. Absent when the bundle has no per-family figures.",
      }),
    output_tokens_per_prompt: z
      .string()
      .optional()
      .meta({ description: "The per-prompt expected-output-tokens rule fitted on measured outputs, in words; absent when the bundle has none." }),
    price_source: PriceSource,
    price_origin: z.string(),
    signal: z.enum(["ok", "none"]).nullable().meta({
      description: 'From the bundle\'s validation check: "none" = the student\'s score showed no signal for this model, so p_success is its constant calibrated base rate; null = bundle built before the check.',
    }),
    calibration: z
      .object({ method: z.enum(["platt", "isotonic", "base-rate"]), n: z.number().int(), positives: z.number().int(), val_auroc: z.number().nullable() })
      .nullable()
      .meta({ description: "How p_success was calibrated: map, cal-split outcomes and successes, validation AUROC of the score; null for older bundles." }),
  })
  .meta({ id: "ModelInfo" });

export const ModelsResponse = z
  .object({ artifact: z.object({ id: z.string(), sha256: z.string() }), models: z.array(ModelInfo) })
  .meta({ id: "ModelsResponse" });

export const ArtifactResponse = z
  .object({
    id: z.string(),
    kind: z.string(),
    description: z.string(),
    sha256: z.string(),
    format_version: z.number(),
    created_at: z.string(),
    provenance: z.record(z.string(), z.unknown()),
    metrics: z.record(z.string(), z.unknown()),
    available: z.array(z.string()).meta({ description: "Every bundle built into this worker." }),
  })
  .meta({ id: "ArtifactResponse" });

export const Health = z
  .object({
    status: z.enum(["ok", "unhealthy"]),
    config: z.enum(["ok", "invalid"]),
    invalid: z.array(z.string()).meta({ description: "Names of invalid configuration variables (never their values or messages)." }),
    bundles: z.array(
      z.object({
        id: z.string(),
        state: z.enum(["ready", "loading", "pending", "failed"]).meta({
          description: "ready: verified (its session may be created on first use); loading: being fetched or checked; pending: not checked yet; failed: refused (see detail)",
        }),
        sha256: z.string().optional().meta({ description: "manifest digest, for bundles published to R2" }),
        aliases: z.array(z.string()).optional().meta({ description: "aliases that name this bundle" }),
      }),
    ),
    default_bundle: z.string().meta({ description: "the bundle serving requests that name none (the `default` alias's once its session is live)" }),
    detail: z
      .object({
        config_errors: z.array(z.string()),
        bundle_errors: z.array(z.object({ id: z.string(), reason: z.string() })),
        sessions: z
          .object({
            max: z.number().int().meta({ description: "MAX_LIVE_SESSIONS" }),
            live: z.array(z.string()).meta({ description: "bundles with a live ORT session, least recently used first" }),
            loading: z.array(z.string()),
            created_at_load: z.number().int().meta({ description: "sessions created at module load (1: the default only)" }),
            created: z.number().int(),
            evicted: z.number().int(),
            alias_error: z.string().optional(),
          })
          .optional(),
      })
      .optional()
      .meta({ description: "Only for a caller with an API key that has the report scope (or any caller under AUTH=disabled)." }),
  })
  .meta({ id: "Health" });

export const Problem = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    instance: z.string().optional(),
    request_id: z.string(),
    errors: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
  })
  .passthrough()
  .meta({ id: "Problem" });
export type Problem = z.infer<typeof Problem>;

export const TokenizeRequest = z
  .object({
    prompt: PromptText.optional(),
    messages: MessageList.optional(),
  })
  .strict()
  .refine((r) => (r.prompt === undefined) !== (r.messages === undefined), {
    message: "give exactly one of prompt or messages",
    path: ["prompt"],
  })
  .meta({ id: "TokenizeRequest" });

export const TokenizeResponse = z
  .object({
    artifact: z.object({ id: z.string(), sha256: z.string() }),
    ids: z.array(z.number().int()).meta({ description: "Hashed feature ids the student reads, after truncation." }),
    input_tokens: z.number().int().meta({ description: "Tokens counted for cost." }),
    truncated: z.boolean(),
  })
  .meta({ id: "TokenizeResponse" });

/** POST /v1/feedback: one item, or a batch of at most 500. */
export const FeedbackRequest = z
  .union([FeedbackItem, z.object({ items: z.array(FeedbackItem).min(1).max(500) }).strict()])
  .meta({ id: "FeedbackRequest" });

export const FeedbackResponse = z.object({ accepted: z.number().int(), request_id: z.string() }).meta({ id: "FeedbackResponse" });

/** PUT /v1/aliases/{alias} (scope `alias`): point an alias at a bundle published to R2 (`pipeline publish`). */
export const AliasRequest = z
  .object({
    manifest_sha256: ManifestDigest.meta({ description: "sha256 of the bundle's manifest.json, as `pipeline publish` prints it" }),
    bundle_id: z.string().min(1).optional().meta({ description: "If given, must equal the published manifest's bundle_id (a guard against a wrong digest)." }),
  })
  .strict()
  .meta({ id: "AliasRequest" });
export type AliasRequest = z.infer<typeof AliasRequest>;

export const AliasEventBody = AliasRecord.extend({
  seq: z.number().int(),
  previous_sha256: z.string().nullable().meta({ description: "the digest the alias named before this change; null when it was created" }),
}).meta({ id: "AliasEvent" });

export const AliasResponse = z
  .object({ alias: AliasRecord, previous_sha256: z.string().nullable(), request_id: z.string() })
  .meta({ id: "AliasResponse" });

export const AliasListResponse = z
  .object({
    aliases: z.array(AliasRecord).meta({ description: "every alias's current target" }),
    history: z.array(AliasEventBody).meta({ description: "the newest alias changes, newest first (who and when)" }),
  })
  .meta({ id: "AliasListResponse" });

/** GET /v1/aliases query: how much history to list, and optionally for one alias. */
export const AliasListQuery = z
  .object({
    limit: z.coerce.number().int().min(1).max(500).default(50).meta({ description: "newest alias changes to list (1–500)" }),
    alias: AliasName.optional().meta({ description: "only this alias's history" }),
  })
  .strict();
