/**
 * A/B experiment configuration and deterministic variant assignment.
 * Pure: the unit id and the config are passed in; the hash is stable across
 * runtimes so a unit keeps its variant everywhere.
 */
import { z } from "zod";
import { bucketPoint } from "./hash.js";
import { Policy } from "./policy.js";

export const Variant = z
  .object({
    name: z.string().min(1),
    weight: z.number().positive().finite(),
    bundle: z.string().min(1).optional(),
    policy: Policy.optional(),
    model: z.string().min(1).optional().meta({ description: "Fixed control model (shorthand for a fixed policy)." }),
    epsilon: z.number().min(0).max(1).optional().meta({
      description: "ε-greedy exploration: with probability ε route uniformly at random; logs true propensities for off-policy estimates.",
    }),
  })
  .refine((v) => v.bundle !== undefined || v.policy !== undefined || v.model !== undefined, {
    message: "a variant needs a bundle, a policy or a model",
  });
export type Variant = z.infer<typeof Variant>;

export const Experiment = z.object({
  name: z.string().min(1),
  variants: z.array(Variant).min(1),
});
export type Experiment = z.infer<typeof Experiment>;
export const Experiments = z.array(Experiment);

/**
 * Picks a variant by hashing experiment name and unit id into [0,1). The name
 * salts the hash, so a unit's arms in two experiments are independent.
 * Assignment hash history (docs/api.md, "Experiments API changelog"):
 * FNV-1a until 2026-12-04, MurmurHash3 (bucketPoint) since.
 */
export function assignVariant(exp: Experiment, unitId: string): Variant {
  const total = exp.variants.reduce((s, v) => s + v.weight, 0);
  const u = bucketPoint(`${exp.name}\u0000${unitId}`) * total;
  let acc = 0;
  for (const v of exp.variants) {
    acc += v.weight;
    if (u < acc) return v;
  }
  return exp.variants[exp.variants.length - 1];
}
