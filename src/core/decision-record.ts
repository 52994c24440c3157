/**
 * The decision log's record shapes, shared by the worker (which writes them
 * to D1) and the report code (which reads them back). Pure schemas.
 * Privacy: no prompt text by default — a keyed HMAC and the token count.
 */
import { z } from "zod";
import { Policy } from "./policy.js";

export const LoggedCandidate = z.object({
  model: z.string(),
  p: z.number(),
  cost: z.number(),
  utility: z.number().nullable(),
});
export type LoggedCandidate = z.infer<typeof LoggedCandidate>;

export const DecisionRecord = z.object({
  decision_id: z.string(),
  ts: z.number().int().meta({ description: "ms since epoch" }),
  key_id: z.string(),
  experiment: z.string().nullable(),
  variant: z.string().nullable(),
  bundle_id: z.string(),
  bundle_sha256: z.string().nullable().optional().meta({ description: "sha256 of the serving bundle's manifest.json (null for decisions logged before migration 0005)" }),
  policy: Policy,
  candidates: z.array(LoggedCandidate),
  chosen: z.string().nullable().meta({ description: "null when the decision was abstain" }),
  propensity: z.number().min(0).max(1).meta({ description: "P(chosen | context) under the logging policy; 1 for deterministic policies" }),
  explored: z.boolean(),
  prompt_hmac: z.string(),
  input_tokens: z.number().int(),
  prompt_text: z.string().nullable(),
});
export type DecisionRecord = z.infer<typeof DecisionRecord>;

export const FeedbackItem = z
  .object({
    decision_id: z.string().min(1).max(128),
    model: z.string().min(1).max(200),
    success: z.boolean().optional(),
    score: z.number().min(0).max(1).optional(),
    output_tokens: z.number().int().min(0).max(10_000_000).optional(),
    cost_usd: z.number().min(0).max(1_000_000).optional(),
    latency_ms: z.number().min(0).max(86_400_000).optional(),
  })
  .strict()
  .refine((f) => (f.success === undefined) !== (f.score === undefined), { message: "give exactly one of success or score", path: ["success"] })
  .meta({ id: "FeedbackItem" });
export type FeedbackItem = z.infer<typeof FeedbackItem>;

/** A decision joined with the feedback for its chosen model (if any). */
export interface JoinedDecision extends DecisionRecord {
  /** Outcome in [0,1] for the chosen model: success as 0/1, or score. */
  reward: number | null;
  /** Realised cost from feedback when given, else the logged expected cost of the chosen model. */
  realised_cost: number | null;
}
