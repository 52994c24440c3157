/**
 * Bundle manifest v1: the one zod schema that the pipeline validates on write
 * and the worker validates on read. Documented field by field in
 * artifacts/README.md. Pure: parsing only, no file access.
 */
import { z } from "zod";
import { Calibration, CalibrationStats, isConstant } from "./calibration.js";
import { FeaturizerSpec } from "./featurizer.js";
import { LogLinear, PromptFamily } from "./output-length.js";
import { Policy } from "./policy.js";

const Sha256 = z.string().regex(/^[0-9a-f]{64}$/, "lowercase hex sha256");

export const PoolModel = z.object({
  id: z.string().min(1),
  provider: z.string().min(1),
  input_per_mtok: z.number().min(0).finite().meta({ description: "USD per 1M input tokens" }),
  output_per_mtok: z.number().min(0).finite().meta({ description: "USD per 1M output tokens" }),
  default_output_tokens: z.number().int().min(0),
  output_tokens_source: z.enum(["measured", "estimate"]),
  price_source: z.string().min(1).meta({ description: "Where the price came from (file, page, rule)." }),
});
export type PoolModel = z.infer<typeof PoolModel>;

export const OutputLength = z.object({
  kind: z.enum(["per-model-mean", "per-model-median", "per-family-mean", "per-family-median", "per-model-loglinear"]),
  /** Per model: served for every prompt whose family has no figure of its own. */
  tokens: z.record(z.string(), z.number().min(0)),
  source: z.string(),
  /** Optional (bundles before issue 17 have none): the prompt-family rule (src/core/output-length.ts) and per family, per model tokens. */
  family_rule: z.string().optional(),
  by_family: z.partialRecord(PromptFamily, z.record(z.string(), z.number().min(0))).optional(),
  /** Optional: per model, a per-prompt fit on input tokens (kind per-model-loglinear). */
  loglinear: z.record(z.string(), LogLinear).optional(),
});

export const FileEntry = z.object({ path: z.string().min(1), sha256: Sha256, bytes: z.number().int().min(0) });

/** Where a teacher probe reads: one layer, or "all" = every candidate layer side by side (probes --stack). */
export const ProbeLayer = z.union([z.number().int().min(0), z.literal("all")]);
export type ProbeLayer = z.infer<typeof ProbeLayer>;

export const Provenance = z.object({
  mode: z.enum(["probe-distilled", "label-supervised", "fixture"]),
  teacher: z.union([z.literal("none"), z.array(z.object({ model: z.string(), layer: ProbeLayer }))]),
  data: z.array(z.object({ name: z.string(), sha256: Sha256, rows: z.number().int().min(0) })),
  trainer: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])),
  licence: z.string().optional(),
  created_at: z.iso.datetime(),
});

export const Metrics = z
  .object({
    split: z.string(),
    headline: z.record(z.string(), z.number().nullable()),
    per_model: z.record(z.string(), z.record(z.string(), z.number().nullable())),
  })
  .passthrough();

export const Manifest = z
  .object({
    format_version: z.literal(1),
    bundle_id: z.string().regex(/^[a-z0-9][a-z0-9._-]{0,63}$/),
    kind: z.enum(["release", "fixture"]).meta({ description: "Fixtures are for tests only and never the default." }),
    description: z.string(),
    pool: z.array(PoolModel).min(1),
    featurizer: FeaturizerSpec,
    onnx: z.object({
      file: z.string().min(1),
      sha256: Sha256,
      opset: z.number().int().min(17),
      weight_dtype: z.enum(["float32", "float16"]),
      inputs: z.object({ ids: z.string(), mask: z.string(), dense: z.string() }),
      output: z.string(),
    }),
    outputs: z.array(z.object({ index: z.number().int().min(0), model: z.string() })).min(1),
    calibration: z.record(z.string(), Calibration),
    calibration_stats: z
      .record(z.string(), CalibrationStats)
      .optional()
      .meta({ description: "Per model: cal-split counts and validation signal (bundles built before issue 17 have none)." }),
    output_length: OutputLength.optional(),
    default_policy: Policy,
    provenance: Provenance,
    metrics: Metrics,
    files: z.array(FileEntry),
  })
  .superRefine((m, ctx) => {
    const ids = m.pool.map((p) => p.id);
    if (new Set(ids).size !== ids.length) ctx.addIssue({ code: "custom", path: ["pool"], message: "duplicate model id" });
    for (const [i, o] of m.outputs.entries()) {
      if (!ids.includes(o.model)) ctx.addIssue({ code: "custom", path: ["outputs", i, "model"], message: `not in pool: ${o.model}` });
    }
    for (const id of ids) {
      if (!m.outputs.some((o) => o.model === id)) ctx.addIssue({ code: "custom", path: ["outputs"], message: `no output for ${id}` });
      if (!m.calibration[id]) ctx.addIssue({ code: "custom", path: ["calibration", id], message: "missing calibration" });
    }
    // With stats (every bundle built since issue 17): maps are monotone and a model without signal is served a constant.
    if (m.calibration_stats) {
      for (const id of ids) {
        const st = m.calibration_stats[id];
        const c = m.calibration[id];
        if (!st) ctx.addIssue({ code: "custom", path: ["calibration_stats", id], message: "missing calibration stats" });
        if (c?.kind === "platt" && c.a < 0) ctx.addIssue({ code: "custom", path: ["calibration", id, "a"], message: "negative Platt slope inverts the score" });
        if (st?.signal === "none" && c && !isConstant(c)) ctx.addIssue({ code: "custom", path: ["calibration", id], message: 'signal "none" must be served a constant map' });
      }
    }
    if (!m.files.some((f) => f.path === m.onnx.file && f.sha256 === m.onnx.sha256)) {
      ctx.addIssue({ code: "custom", path: ["files"], message: "onnx file must be listed with the same sha256" });
    }
  });
export type Manifest = z.infer<typeof Manifest>;

/** One line of golden.jsonl: the pipeline's expected ids and probabilities. */
export const GoldenRow = z.object({
  prompt: z.string(),
  ids: z.array(z.number().int().min(0)),
  truncated: z.boolean(),
  input_tokens: z.number().int().min(0),
  p: z.record(z.string(), z.number().min(0).max(1)),
});
export type GoldenRow = z.infer<typeof GoldenRow>;
