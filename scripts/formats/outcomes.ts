/**
 * Outcomes format (JSONL, one prompt per line) and pool config: the pipeline's
 * input schemas. Documented in docs/formats.md. Labels: success rate = k/n;
 * majority label = k/n > 0.5, so an exact tie (k/n = 0.5) is a failure.
 * Models missing from a row are masked, never counted as zero.
 */
import { z } from "zod";
import { ChatMessage } from "../../src/core/messages.js";
import { PoolModel } from "../../src/core/manifest.js";

export const ModelOutcome = z
  .object({
    n: z.number().int().min(1),
    k: z.number().int().min(0),
    output_tokens: z.number().min(0).optional(),
    cost_usd: z.number().min(0).optional(),
  })
  .refine((o) => o.k <= o.n, { message: "k must be ≤ n", path: ["k"] });
export type ModelOutcome = z.infer<typeof ModelOutcome>;

export const Split = z.enum(["train", "val", "cal", "test", "unlabelled"]);
export type Split = z.infer<typeof Split>;

/**
 * Where a row came from when it was logged by the worker rather than labelled
 * offline (issue 19, `pipeline pull`): only the called model's outcome is
 * known, chosen with probability `propensity` by the logging policy. Training
 * on such rows weighs each by 1/propensity (clipped, docs/loop.md) so the
 * models the old policy favoured do not dominate the new one.
 */
export const LoggedInfo = z.object({
  decision_id: z.string().min(1),
  ts: z.number().int().min(0).meta({ description: "ms since the epoch, when the decision was made" }),
  chosen: z.string().min(1).meta({ description: "the model that was called; the row's only outcome" }),
  propensity: z.number().gt(0).max(1).meta({ description: "probability the logging policy chose `chosen`" }),
  explored: z.boolean(),
  bundle_id: z.string().min(1),
  bundle_sha256: z.string().regex(/^[0-9a-f]{64}$/).optional(),
  policy: z.unknown().meta({ description: "the Policy that chose it, as logged" }),
  experiment: z.string().nullable().optional(),
  variant: z.string().nullable().optional(),
  prompt_hmac: z.string().optional().meta({ description: "HMAC-SHA256 of the prompt with the worker's PROMPT_HMAC_KEY, when the text was not stored" }),
  input_tokens: z.number().int().min(0).optional(),
});
export type LoggedInfo = z.infer<typeof LoggedInfo>;

export const OutcomeRow = z
  .object({
    id: z.string().min(1),
    prompt: z.string().optional(),
    messages: z.array(ChatMessage).min(1).optional(),
    task: z.string().optional(),
    source: z.string().optional(),
    human_difficulty: z.number().finite().optional(),
    human_features: z.record(z.string(), z.number().finite()).optional(),
    split: Split.optional(),
    outcomes: z.record(z.string(), ModelOutcome),
    logged: LoggedInfo.optional(),
  })
  .refine((r) => (r.prompt === undefined) !== (r.messages === undefined), {
    message: "give exactly one of prompt or messages",
    path: ["prompt"],
  });
export type OutcomeRow = z.infer<typeof OutcomeRow>;

export const PoolConfig = z.object({
  name: z.string().min(1),
  models: z.array(PoolModel).min(1),
  source: z.string().optional(),
});
export type PoolConfig = z.infer<typeof PoolConfig>;

export const successRate = (o: ModelOutcome): number => o.k / o.n;
/** Majority label; ties (exactly half) count as failure. */
export const majorityLabel = (o: ModelOutcome): 0 | 1 => (o.k / o.n > 0.5 ? 1 : 0);

/**
 * A row of the normalised dataset that `ingest` writes (dataset.jsonl): an
 * OutcomeRow whose split is always set and whose models are all in the pool.
 * Kept a valid OutcomeRow so every stage that reads outcomes also reads it.
 */
export const DatasetRow = OutcomeRow.and(z.object({ split: Split }));
export type DatasetRow = z.infer<typeof DatasetRow>;

const SplitCounts = z.record(z.string(), z.number().int().min(0));

/** dataset.json, written next to dataset.jsonl by `ingest`. */
export const DatasetMeta = z.object({
  format: z.literal("preflight-dataset/1"),
  key: z.string().regex(/^[0-9a-f]{64}$/),
  inputs: z.object({
    outcomes: z.object({ file: z.string(), sha256: z.string() }),
    pool: z.object({ file: z.string(), sha256: z.string() }),
  }),
  pool: PoolConfig,
  split_rule: z.string(),
  counts: z.object({
    rows: z.number().int().min(0),
    splits_assigned: z.number().int().min(0),
    by_split: SplitCounts,
    by_model: z.record(
      z.string(),
      z.object({ labelled: z.number().int().min(0), masked: z.number().int().min(0), majority_success: z.number().int().min(0), by_split: SplitCounts }),
    ),
  }),
});
export type DatasetMeta = z.infer<typeof DatasetMeta>;
