/**
 * Resolves which bundle and policy a request runs under, from the experiment
 * headers (x-preflight-experiment / -unit / -variant) and the direct
 * x-preflight-bundle header. Variant settings win over the request's policy,
 * because a control arm must stay a control arm. Pure apart from reading headers.
 * Bundle names (ids or aliases) are resolved and checked by runtime.ts, which
 * knows the alias table; here they are only passed on with where they came from.
 */
import { assignVariant, type Experiment } from "../core/experiment.js";
import type { Policy } from "../core/policy.js";
import { err, ok, type Result } from "../core/result.js";

export interface Selection {
  experiment: { name: string; variant: string } | null;
  /** A bundle id or alias name; undefined: the default. */
  bundleId: string | undefined;
  /** Who named the bundle: the caller (an unknown name is their 422) or the configured variant (a 503). */
  bundleFrom: "header" | "variant" | undefined;
  policy: Policy | undefined;
  /** ε-greedy exploration rate of the variant (0 = none). */
  epsilon: number;
}

export function selectVariant(
  experiments: Experiment[],
  headers: Headers,
  requestId: string,
): Result<Selection> {
  const direct = headers.get("x-preflight-bundle") ?? undefined;
  const bundleFrom = direct === undefined ? undefined : "header";
  const name = headers.get("x-preflight-experiment");
  if (name === null) return ok({ experiment: null, bundleId: direct, bundleFrom, policy: undefined, epsilon: 0 });
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
  const policy: Policy | undefined = variant.model !== undefined ? { type: "fixed", model: variant.model } : variant.policy;
  return ok({
    experiment: { name, variant: variant.name },
    bundleId: variant.bundle ?? direct,
    bundleFrom: variant.bundle !== undefined ? "variant" : bundleFrom,
    policy,
    epsilon: variant.epsilon ?? 0,
  });
}
