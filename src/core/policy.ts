/**
 * Routing policies: pick one model from scored candidates. Pure and
 * deterministic; ties break on lower cost, then model id, so replays agree.
 * Policy schemas live here because the pipeline's evaluator sweeps the same code.
 */
import { z } from "zod";

export const UtilityPolicy = z
  .object({
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
export const ThresholdPolicy = z.object({
  type: z.literal("threshold"),
  min_p: z.number().min(0).max(1),
});
export const BudgetPolicy = z.object({
  type: z.literal("budget"),
  max_cost_usd: z.number().min(0).finite(),
});
export const FixedPolicy = z.object({ type: z.literal("fixed"), model: z.string().min(1) });
export const Policy = z.union([UtilityPolicy, ThresholdPolicy, BudgetPolicy, FixedPolicy]);
export type Policy = z.infer<typeof Policy>;

export interface Scored {
  model: string;
  p: number;
  cost: number;
}

export type Choice =
  | { kind: "route"; model: string; reason: string; utility: (c: Scored) => number | null }
  | { kind: "abstain"; reason: string; utility: (c: Scored) => number | null };

export function utilityOf(policy: Policy): (c: Scored) => number | null {
  if (policy.type !== "utility") return () => null;
  if (policy.value_usd !== undefined) {
    const v = policy.value_usd;
    return (c) => c.p * v - c.cost;
  }
  const lambda = policy.lambda ?? 0;
  return (c) => c.p - lambda * c.cost;
}

/** Strict total order used for every tie: higher score, then cheaper, then id. */
function better(score: (c: Scored) => number) {
  return (a: Scored, b: Scored): number => score(b) - score(a) || a.cost - b.cost || (a.model < b.model ? -1 : a.model > b.model ? 1 : 0);
}

function best(cands: Scored[], score: (c: Scored) => number): Scored {
  return [...cands].sort(better(score))[0];
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
  switch (policy.type) {
    case "utility": {
      const pick = best(cands, (c) => utility(c) as number);
      return { kind: "route", model: pick.model, reason: "maximum utility", utility };
    }
    case "threshold": {
      const ok = cands.filter((c) => c.p >= policy.min_p);
      if (ok.length > 0) {
        const pick = best(ok, (c) => -c.cost);
        return { kind: "route", model: pick.model, reason: `cheapest with p ≥ ${policy.min_p}`, utility };
      }
      const pick = best(cands, (c) => c.p);
      return { kind: "route", model: pick.model, reason: `none reaches p ≥ ${policy.min_p}; highest p`, utility };
    }
    case "budget": {
      const ok = cands.filter((c) => c.cost <= policy.max_cost_usd);
      if (ok.length > 0) {
        const pick = best(ok, (c) => c.p);
        return { kind: "route", model: pick.model, reason: `highest p within $${policy.max_cost_usd}`, utility };
      }
      const pick = best(cands, (c) => -c.cost);
      return { kind: "route", model: pick.model, reason: "no model within budget; cheapest", utility };
    }
  }
}
