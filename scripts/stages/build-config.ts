/**
 * Build configuration (`pipeline build --config <file>`): which data, which
 * pool, teacher or label-only, featurizer and trainer settings, where the
 * bundle goes. One zod schema, the input of the build composition
 * (scripts/stages/build.ts); documented in docs/pipeline.md.
 */
import { z } from "zod";
import { FeaturizerSpec } from "../../src/core/featurizer.js";
import { ProbeLayer } from "../../src/core/manifest.js";
import { TrainConfig } from "../distill/trainer.js";

/** Default `ips_clip`: with ε = 0.2 over 9 models an explored row's 1/propensity is 45; 10 keeps it ≤ 8× a greedy row's. */
export const DEFAULT_IPS_CLIP = 10;

export const BuildConfig = z
  .object({
    bundle_id: z.string().regex(/^[a-z0-9][a-z0-9._-]{0,63}$/),
    description: z.string().min(1),
    data: z.string().min(1).meta({ description: "Outcomes JSONL (repo-relative path)." }),
    pool: z.string().min(1).meta({ description: "Pool config JSON." }),
    licence: z.string().optional(),
    teacher: z
      .object({
        logits: z.string().min(1).meta({ description: "JSONL of {id, teacher: {model: logit}} from the probes stage." }),
        layers: z.array(z.object({ model: z.string(), layer: ProbeLayer })),
        alpha: z.number().min(0).max(1).default(0.7),
      })
      .nullable()
      .default(null),
    probes: z
      .object({
        activations: z.string().min(1).meta({ description: "Activation store (docs/formats.md), one folder per pool model." }),
        layers: z.array(z.number().int().min(0)).min(1),
        stack_layers: z.boolean().default(false).meta({ description: "Also offer all layers side by side as one candidate (probes --stack)." }),
        bootstrap_reps: z.number().int().min(10).default(1000),
      })
      .nullable()
      .default(null)
      .meta({ description: "Run ingest → probes → teacher logits inside build; writes teacher.logits and sets teacher.layers." }),
    featurizer: FeaturizerSpec,
    train: TrainConfig.partial().default({}),
    dtype: z.enum(["float32", "float16"]).default("float16"),
    calibration: z.enum(["platt", "isotonic"]).default("platt"),
    signal_alpha: z
      .number()
      .gt(0)
      .max(1)
      .optional()
      .meta({ description: "A model keeps its score only if the lower end of the (1 − alpha) bootstrap CI of its val AUROC exceeds 0.5 (default in scripts/stages/calibrate.ts; 1 = bootstrap median)." }),
    logged: z
      .array(
        z.strictObject({
          file: z.string().min(1).meta({ description: "pipeline pull output: outcomes rows with a `logged` block and only the chosen model's outcome" }),
          weight: z.number().positive().finite().default(1).meta({ description: "mean weight of this file's rows after normalisation (base rows weigh 1)" }),
        }),
      )
      .optional()
      .meta({ description: "Logged outcome files mixed into the training split (docs/loop.md, Retrain on logged outcomes)." }),
    // Optional without schema defaults: a config without them stringifies (cache key, provenance) exactly as before.
    ips_clip: z.number().min(1).finite().optional().meta({ description: `Largest inverse propensity a logged row is weighted by (default ${DEFAULT_IPS_CLIP}).` }),
    logged_weighting: z.enum(["ips", "none"]).optional().meta({ description: "ips: min(1/propensity, ips_clip), normalised per file; none: every logged row weighs the file's weight (for comparison only)." }),
    select: z
      .object({
        policy: z.enum(["threshold", "utility"]).default("threshold"),
        folds: z.number().int().min(2).max(10).default(5),
        tolerance: z.number().min(-0.05).max(0.05).default(0.005),
        budget: z
          .number()
          .gt(0)
          .max(1)
          .optional()
          .meta({
            description:
              "Cost cap as a fraction of the best single model's out-of-fold cost: the most accurate point costing at most this much, provided it also passes the no-harm rule (else the no-harm rule alone). Absent: the no-harm rule alone (the cheapest point that passes).",
          }),
      })
      .strict()
      .optional()
      .meta({
        description:
          "Choose the default policy's parameter on K-fold cross-fitted out-of-fold rows over train+val (scripts/stages/crossfit.ts) instead of on val alone, with the no-harm rule at this accuracy tolerance (negative: a margin above the best single model). Absent: threshold chosen on val (v2).",
      }),
    out: z.string().default("artifacts"),
    seed: z.number().int().min(0).default(1),
    golden_extra: z.number().int().min(0).max(200).default(20),
  })
  .strict()
  .refine((c) => c.probes === null || c.teacher !== null, { message: "a probes block needs a teacher block (its logits path is written)", path: ["probes"] });
export type BuildConfig = z.infer<typeof BuildConfig>;
