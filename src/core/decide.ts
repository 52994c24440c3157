/**
 * Route decision: from a validated request, the bundle's runtime view and the
 * student's raw logits to the response body. Pure: the worker passes in
 * logits and effective prices; the pipeline's evaluator uses the same code.
 */
import type { Candidate, Decision, RouteRequest } from "./api-schemas.js";
import type { Calibration } from "./calibration.js";
import { modelP } from "./scoring.js";
import { costPerSuccess, expectedCostUsd, type Price } from "./cost.js";
import { promptFamily, tokensFor, type ModelLength, type PromptFamily } from "./output-length.js";
import { choose, type Policy, type Scored } from "./policy.js";
import { err, ok, type Result } from "./result.js";

export interface RuntimeModel {
  id: string;
  provider: string;
  price: Price;
  price_source: "bundle" | "override";
  default_output_tokens: number;
  /** Per-family figures and/or a per-prompt fit from the bundle's output_length; absent: default_output_tokens for every prompt. */
  output_length?: ModelLength;
  /** Column of this model in the student's logits. */
  output_index: number;
  calibration: Calibration;
}

/** Resolves allow-list, exclude and a fixed policy's model against the pool. */
export function selectCandidates(pool: RuntimeModel[], req: RouteRequest, policy: Policy): Result<RuntimeModel[]> {
  const valid = pool.map((m) => m.id);
  for (const field of ["models", "exclude"] as const) {
    const unknown = (req[field] ?? []).filter((id) => !valid.includes(id));
    if (unknown.length > 0) return err({ reason: "unknown_model", field, unknown, valid });
  }
  // Per-model output lengths are keyed by model id: an id outside the pool is a typo, not a no-op.
  const perModel = typeof req.expected_output_tokens === "object" ? Object.keys(req.expected_output_tokens) : [];
  const unknownOut = perModel.filter((id) => !valid.includes(id));
  if (unknownOut.length > 0) return err({ reason: "unknown_model", field: "expected_output_tokens", unknown: unknownOut, valid });
  if (policy.type === "fixed" && !valid.includes(policy.model)) {
    return err({ reason: "unknown_model", field: "policy.model", unknown: [policy.model], valid });
  }
  let cands = pool;
  if (req.models) cands = cands.filter((m) => req.models!.includes(m.id));
  if (req.exclude) cands = cands.filter((m) => !req.exclude!.includes(m.id));
  if (cands.length === 0) return err({ reason: "no_candidates", detail: "models and exclude leave no pool model" });
  if (policy.type === "fixed" && !cands.some((m) => m.id === policy.model)) {
    return err({ reason: "no_candidates", detail: `fixed model ${policy.model} is excluded by models/exclude` });
  }
  return ok(cands);
}

function outputTokensFor(m: RuntimeModel, override: RouteRequest["expected_output_tokens"], family: PromptFamily | undefined, inputTokens: number): number {
  const own = tokensFor(m.output_length, family, inputTokens, m.default_output_tokens);
  if (override === undefined) return own;
  if (typeof override === "number") return override;
  return override[m.id] ?? own;
}

function policyName(p: Policy): string {
  switch (p.type) {
    case "utility":
      return p.value_usd !== undefined ? `utility(value_usd=${p.value_usd})` : `utility(lambda=${p.lambda})`;
    case "threshold":
      return `threshold(min_p=${p.min_p})`;
    case "budget":
      return `budget(max_cost_usd=${p.max_cost_usd})`;
    case "fixed":
      return `fixed(${p.model})`;
  }
}

export interface DecideInput {
  candidates: RuntimeModel[];
  logits: ArrayLike<number>;
  inputTokens: number;
  request: RouteRequest;
  /** The prompt as featurized (prompt, or the formatted messages): the family rule reads it. */
  text: string;
  policy: Policy;
}

export function decide(input: DecideInput): { decision: Decision; candidates: Candidate[] } {
  const { candidates, logits, inputTokens, request, text, policy } = input;
  // The prompt's family is needed only when a candidate has per-family lengths (a regex pass over the text).
  const family = candidates.some((m) => m.output_length?.by_family) ? promptFamily(text) : undefined;
  const scored = candidates.map((m) => {
    const p = modelP(logits, m.output_index, m.calibration);
    const out = outputTokensFor(m, request.expected_output_tokens, family, inputTokens);
    const cost = expectedCostUsd(inputTokens, out, m.price);
    return { m, p, out, cost };
  });
  const pick = choose(
    scored.map((s): Scored => ({ model: s.m.id, p: s.p, cost: s.cost })),
    policy,
    request.abstain_below,
  );
  const rows: Candidate[] = scored.map((s) => ({
    model: s.m.id,
    p_success: s.p,
    input_tokens: inputTokens,
    expected_output_tokens: s.out,
    expected_cost_usd: s.cost,
    cost_per_success_usd: costPerSuccess(s.cost, s.p),
    utility: pick.utility({ model: s.m.id, p: s.p, cost: s.cost }),
    price_source: s.m.price_source,
  }));
  // Sorted by P(success) descending, then cost ascending, then id: stable for clients and replays.
  rows.sort((a, b) => b.p_success - a.p_success || a.expected_cost_usd - b.expected_cost_usd || (a.model < b.model ? -1 : 1));
  const name = policyName(policy);
  const decision: Decision =
    pick.kind === "abstain"
      ? { type: "abstain", model: null, provider: null, policy: name, reason: pick.reason }
      : {
          type: "route",
          model: pick.model,
          provider: candidates.find((m) => m.id === pick.model)!.provider,
          policy: name,
          reason: pick.reason,
        };
  return { decision, candidates: rows };
}
