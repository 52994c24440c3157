/**
 * Routing policies: pick one model from scored candidates. Pure and
 * deterministic; ties break on lower cost, then model id, so replays agree.
 * The threshold policy first breaks a cost tie on the higher p: pools often
 * hold equally priced members (the testbed's three specialists), and there the
 * id order would pick a member that is less likely to succeed.
 * Policy schemas live here because the pipeline's evaluator sweeps the same code.
 */
import { z } from "zod";

// Strict objects: an unknown key (a typo such as "min_prob") is a 422 naming it, never silently dropped.
export const UtilityPolicy = z
  .strictObject({
    type: z.literal("utility"),
    lambda: z.number().min(0).finite().optional().meta({
      description: "Success probability given up per USD: utility = p − λ·cost_usd.",
    }),
    value_usd: z.number().positive().finite().optional().meta({
      description: "Value of one success in USD: utility = p·value_usd − cost_usd.",
    }),
  })
  .refine((p) => (p.lambda === undefined) !== (p.value_usd === undefined), {
    message: "give exactly one of lambda or value_usd",
    path: ["lambda"],
  });
export const ThresholdPolicy = z.strictObject({
  type: z.literal("threshold"),
  min_p: z.number().min(0).max(1),
});
export const BudgetPolicy = z.strictObject({
  type: z.literal("budget"),
  max_cost_usd: z.number().min(0).finite(),
});
export const FixedPolicy = z.strictObject({ type: z.literal("fixed"), model: z.string().min(1) });
// Discriminated on type, so errors name the failing field (policy.min_p) instead of "invalid input".
export const Policy = z.discriminatedUnion("type", [UtilityPolicy, ThresholdPolicy, BudgetPolicy, FixedPolicy]);
export type Policy = z.infer<typeof Policy>;

export interface Scored {
  model: string;
  p: number;
  cost: number;
}

export type Choice =
  | { kind: "route"; model: string; reason: string; utility: (c: Scored) => number | null }
  | { kind: "abstain"; reason: string; utility: (c: Scored) => number | null };

function utilityOf(policy: Policy): (c: Scored) => number | null {
  if (policy.type !== "utility") return () => null;
  if (policy.value_usd !== undefined) {
    const v = policy.value_usd;
    return (c) => c.p * v - c.cost;
  }
  const lambda = policy.lambda ?? 0;
  return (c) => c.p - lambda * c.cost;
}

/** Tie order after equal scores: higher `then` (if given), then cheaper, then lower id. */
function winsTie(a: Scored, b: Scored, then?: (c: Scored) => number): boolean {
  const t = then ? then(a) - then(b) : 0;
  if (t !== 0) return t > 0;
  return a.cost < b.cost || (a.cost === b.cost && a.model < b.model);
}

/**
 * The best candidate among those `keep` accepts (all if absent) in a strict total order:
 * higher score, then `winsTie`; null if none is kept. A linear scan that scores each
 * candidate once, because OPE calls `pick` over large policy grids.
 */
function best(cands: Scored[], score: (c: Scored) => number, then?: (c: Scored) => number, keep?: (c: Scored) => boolean): Scored | null {
  let top: Scored | null = null;
  let topScore = 0;
  for (const c of cands) {
    if (keep !== undefined && !keep(c)) continue;
    const s = score(c);
    if (top === null || s > topScore || (s === topScore && winsTie(c, top, then))) {
      top = c;
      topScore = s;
    }
  }
  return top;
}

/**
 * The model a non-fixed policy routes to, and whether the policy's condition held (a model
 * reaches min_p / fits the budget; always true for utility). The single implementation of
 * the routing rules: `choose()` adds abstention and the reason, and OPE's target-policy
 * replay calls it through `picker`. `cands` must be non-empty.
 */
export function pick(cands: Scored[], policy: Exclude<Policy, { type: "fixed" }>): { model: Scored; met: boolean } {
  const model = picker(policy)(cands);
  // The fallbacks below are taken exactly when no candidate meets the condition, so it can be read off the pick.
  const met = policy.type === "utility" || (policy.type === "threshold" ? model.p >= policy.min_p : model.cost <= policy.max_cost_usd);
  return { model, met };
}

const byP = (c: Scored) => c.p;
const cheaper = (c: Scored) => -c.cost;

/**
 * The candidate `pick` routes to, as a function of the candidates with the policy's scoring
 * made once, for callers that apply one policy to many candidate lists (OPE replays each
 * grid policy over every logged row).
 */
export function picker(policy: Exclude<Policy, { type: "fixed" }>): (cands: Scored[]) => Scored {
  switch (policy.type) {
    case "utility": {
      const u = utilityOf(policy) as (c: Scored) => number;
      return (cands) => best(cands, u)!;
    }
    case "threshold": {
      const reaches = (c: Scored) => c.p >= policy.min_p;
      return (cands) => best(cands, cheaper, byP, reaches) ?? best(cands, byP)!;
    }
    case "budget": {
      const fits = (c: Scored) => c.cost <= policy.max_cost_usd;
      return (cands) => best(cands, byP, undefined, fits) ?? best(cands, cheaper)!;
    }
  }
}

/** The decision's `reason` for what `pick` did. */
function reasonFor(policy: Exclude<Policy, { type: "fixed" }>, met: boolean): string {
  switch (policy.type) {
    case "utility":
      return "maximum utility";
    case "threshold":
      return met ? `cheapest with p ≥ ${policy.min_p}` : `none reaches p ≥ ${policy.min_p}; highest p`;
    case "budget":
      return met ? `highest p within $${policy.max_cost_usd}` : "no model within budget; cheapest";
  }
}

/** Chooses a model. `cands` must be non-empty; the caller guarantees it. */
export function choose(cands: Scored[], policy: Policy, abstainBelow?: number): Choice {
  const utility = utilityOf(policy);
  if (policy.type === "fixed") {
    return { kind: "route", model: policy.model, reason: "fixed policy", utility };
  }
  const maxP = Math.max(...cands.map((c) => c.p));
  if (abstainBelow !== undefined && maxP < abstainBelow) {
    return { kind: "abstain", reason: `no model reaches p ≥ ${abstainBelow} (best ${maxP.toFixed(4)})`, utility };
  }
  const { model, met } = pick(cands, policy);
  return { kind: "route", model: model.model, reason: reasonFor(policy, met), utility };
}
