/**
 * Turns route outcomes into (deferred) DecisionRecords for the batched D1
 * logger. Prompt text is stored only when the API key opted in; otherwise a
 * keyed HMAC of it. Must not block the response on D1 (the logger writes
 * from waitUntil).
 */
import type { Context } from "hono";
import type { DecisionRecord } from "../../core/decision-record.js";
import type { AppDeps, Env } from "../app.js";
import { hmacHex } from "../decision-log.js";
import type { RouteOutcome } from "./route.js";

export function logDecisions(c: Context<Env>, deps: AppDeps, out: RouteOutcome): void {
  if (!deps.logger) return;
  const cfg = c.get("rt").config!;
  const principal = c.get("principal");
  const key = cfg.keys.find((k) => k.id === principal.keyId);
  const storeText = key?.store_prompts === true;
  const ts = deps.wallClock();
  for (const [i, r] of out.results.entries()) {
    const log = out.logs[i];
    // Built after the response: the HMAC and JSON work run inside waitUntil.
    const build = async (): Promise<DecisionRecord> => ({
      decision_id: r.decision_id,
      ts,
      key_id: principal.keyId,
      experiment: r.experiment?.name ?? null,
      variant: r.experiment?.variant ?? null,
      bundle_id: r.artifact.id,
      policy: log.policy,
      candidates: r.candidates.map((x) => ({ model: x.model, p: x.p_success, cost: x.expected_cost_usd, utility: x.utility })),
      chosen: r.decision.type === "route" ? r.decision.model : null,
      propensity: log.propensity,
      explored: log.explored,
      prompt_hmac: await hmacHex(cfg.promptHmacKey ?? "", log.text),
      input_tokens: r.candidates[0]?.input_tokens ?? 0,
      prompt_text: storeText ? log.text : null,
    });
    deps.logger.enqueue(build, (p) => c.executionCtx.waitUntil(p));
  }
}
