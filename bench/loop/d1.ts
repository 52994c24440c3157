/**
 * D1 side of the decision log load check: waits for logged decisions to land,
 * compares what the worker returned with the rows in the logging-on
 * instance's D1, and reads the D1 batch() counters of the diagnostic builds.
 * Sends no load and judges nothing; run.ts turns the numbers into checks.
 * Owned by bench/loop.
 */
import type { Miniflare } from "miniflare";
import { post } from "./http.js";
import { fresh, type Instance } from "./instance.js";
import type { Decision } from "./replies.js";

async function scalar(mf: Miniflare, sql: string): Promise<number> {
  const db = await mf.getD1Database("DB");
  const r = await db.prepare(sql).first<{ n: number }>();
  return r?.n ?? 0;
}

/** Polls COUNT(*) of decisions until it reaches `expected` or stops growing for 5 s. Returns [count, ms after the call]. */
export async function waitForDecisions(mf: Miniflare, expected: number): Promise<[number, number]> {
  const t0 = Date.now();
  let last = -1;
  let since = Date.now();
  for (;;) {
    const n = await scalar(mf, "SELECT COUNT(*) AS n FROM decisions");
    if (n >= expected) return [n, Date.now() - t0];
    if (n !== last) [last, since] = [n, Date.now()];
    if (Date.now() - since > 5000) return [n, Date.now() - t0];
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Key of one feedback row: feedback upserts on (decision_id, model). */
export const feedbackKey = (decisionId: string, model: string) => `${decisionId}\u0000${model}`;

export interface Stored {
  decision_count: number;
  final_wait_ms: number;
  missing_decisions: string[];
  duplicate_ids: number;
  feedback_count: number;
  missing_feedback: number;
}

/**
 * After waiting for `routeOk` decisions: which returned decision ids and which
 * accepted feedback keys (see feedbackKey) are not in D1.
 */
export async function stored(mf: Miniflare, routeOk: number, decisions: Decision[], feedbackKeys: Set<string>): Promise<Stored> {
  const [decision_count, final_wait_ms] = await waitForDecisions(mf, routeOk);
  const db = await mf.getD1Database("DB");
  const ids = new Set((await db.prepare("SELECT decision_id FROM decisions").all<{ decision_id: string }>()).results.map((r) => r.decision_id));
  const fbRows = (await db.prepare("SELECT decision_id, model FROM feedback").all<{ decision_id: string; model: string }>()).results;
  const fbKeys = new Set(fbRows.map((r) => feedbackKey(r.decision_id, r.model)));
  return {
    decision_count,
    final_wait_ms,
    missing_decisions: decisions.filter((d) => !ids.has(d.id)).map((d) => d.id),
    duplicate_ids: decisions.length - new Set(decisions.map((d) => d.id)).size,
    feedback_count: fbRows.length,
    missing_feedback: [...feedbackKeys].filter((k) => !fbKeys.has(k)).length,
  };
}

/**
 * D1 batch() calls and rows per call so far, from the instances running the
 * diagnostic build (entry-null-d1.ts): the stub DB, and logging-on when `counted`.
 */
export async function d1Batches(instances: Instance[], counted: boolean): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  for (const i of instances) {
    if (i.name === "null" || (i.name === "on" && counted)) {
      fresh(i, 1);
      const r = await post(i.agent, i.url, "/__d1stats", "{}");
      out[i.name] = r.status === 200 ? JSON.parse(r.body) : `status ${r.status}`;
    }
  }
  return out;
}
