/**
 * Turns a route outcome into DecisionRecords and commits them before the
 * route answers (see src/store/decision-log.ts): a decision_id is only handed out once
 * its record is in D1. Prompt text is stored only when the API key opted in;
 * otherwise a keyed HMAC of it. Must not format errors (returns a Reason) or
 * write anything after the response.
 */
import type { Context } from "hono";
import type { DecisionRecord } from "../core/decision-record.js";
import { err, ok, type Result } from "../core/result.js";
import type { AppDeps, Env } from "./context.js";
import { hmacHex } from "../store/decision-log.js";
import type { RouteOutcome } from "./route-use-case.js";

/**
 * Logs every decision of `out` in one transaction. ok(true): committed;
 * ok(false): no decision log is configured (no D1 binding), nothing stored;
 * an error: nothing stored and no decision_id may be returned.
 */
export async function logDecisions(c: Context<Env>, deps: AppDeps, out: RouteOutcome): Promise<Result<boolean>> {
  if (!deps.logger) return ok(false);
  const cfg = c.get("rt").config!;
  // A record without its HMAC cannot be built; refusing beats handing out an id that is never stored.
  if (!cfg.promptHmacKey) return err({ reason: "log_unavailable", detail: "PROMPT_HMAC_KEY is not set, so decisions cannot be logged" });
  const principal = c.get("principal");
  const key = cfg.keys.find((k) => k.id === principal.keyId);
  const storeText = key?.store_prompts === true;
  const ts = deps.wallClock();
  const records = await Promise.all(
    out.results.map(async (r, i): Promise<DecisionRecord> => {
      const log = out.logs[i];
      return {
        decision_id: r.decision_id,
        ts,
        key_id: principal.keyId,
        experiment: r.experiment?.name ?? null,
        variant: r.experiment?.variant ?? null,
        bundle_id: r.artifact.id,
        bundle_sha256: r.artifact.sha256,
        policy: log.policy,
        candidates: r.candidates.map((x) => ({ model: x.model, p: x.p_success, cost: x.expected_cost_usd, utility: x.utility })),
        chosen: r.decision.type === "route" ? r.decision.model : null,
        propensity: log.propensity,
        explored: log.explored,
        prompt_hmac: await hmacHex(cfg.promptHmacKey!, log.text),
        input_tokens: r.candidates[0]?.input_tokens ?? 0,
        prompt_text: storeText ? log.text : null,
      };
    }),
  );
  const written = await deps.logger.write(records);
  return written.ok ? ok(true) : written;
}
