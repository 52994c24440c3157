/**
 * Resolves which bundle and policy a request runs under, from the experiment
 * headers (x-preflight-experiment / -unit / -variant) and the direct
 * x-preflight-bundle header. Variant settings win over the request's policy,
 * because a control arm must stay a control arm. Pure apart from reading headers.
 */
import { assignVariant, type Experiment } from "../core/experiment.js";
import type { Policy } from "../core/policy.js";
import { err, ok, type Result } from "../core/result.js";

export interface Selection {
  experiment: { name: string; variant: string } | null;
  bundleId: string | undefined;
  policy: Policy | undefined;
  /** ε-greedy exploration rate of the variant (0 = none). */
  epsilon: number;
}

export function selectVariant(
  experiments: Experiment[],
  headers: Headers,
  requestId: string,
  bundleIds: string[],
): Result<Selection> {
  const direct = headers.get("x-preflight-bundle") ?? undefined;
  if (direct !== undefined && !bundleIds.includes(direct)) {
    return err({ reason: "unknown_bundle", bundle: direct, valid: bundleIds });
  }
  const name = headers.get("x-preflight-experiment");
  if (name === null) return ok({ experiment: null, bundleId: direct, policy: undefined, epsilon: 0 });
  const exp = experiments.find((e) => e.name === name);
  if (!exp) return err({ reason: "unknown_experiment", experiment: name, valid: experiments.map((e) => e.name) });
  const forced = headers.get("x-preflight-variant");
  let variant;
  if (forced !== null) {
    variant = exp.variants.find((v) => v.name === forced);
    if (!variant) {
      return err({ reason: "unknown_variant", experiment: name, variant: forced, valid: exp.variants.map((v) => v.name) });
    }
  } else {
    variant = assignVariant(exp, headers.get("x-preflight-unit") ?? requestId);
  }
  if (variant.bundle !== undefined && !bundleIds.includes(variant.bundle)) {
    return err({ reason: "unknown_bundle", bundle: variant.bundle, valid: bundleIds });
  }
  const policy: Policy | undefined = variant.model !== undefined ? { type: "fixed", model: variant.model } : variant.policy;
  return ok({ experiment: { name, variant: variant.name }, bundleId: variant.bundle ?? direct, policy, epsilon: variant.epsilon ?? 0 });
}
