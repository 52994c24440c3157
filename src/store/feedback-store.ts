/**
 * Feedback persistence on D1. Idempotent: a repeat of (decision_id, model)
 * updates the row; the same transaction copies the chosen model's feedback
 * onto its decision row for the report (report-store.ts reads it). Reads
 * the owner and candidates of decisions for the feedback route's checks.
 * Must not validate request bodies or decide who may write (routes do) or
 * compute statistics (core/report does).
 */
import type { FeedbackItem } from "../core/decision-record.js";

const UPSERT = `INSERT INTO feedback (decision_id, model, reward, success, score, output_tokens, cost_usd, latency_ms, updated_at)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
  ON CONFLICT (decision_id, model) DO UPDATE SET reward = excluded.reward, success = excluded.success, score = excluded.score,
  output_tokens = excluded.output_tokens, cost_usd = excluded.cost_usd, latency_ms = excluded.latency_ms, updated_at = excluded.updated_at`;

const COPY_TO_DECISION = `UPDATE decisions SET fb_reward = f.reward, fb_cost = f.cost_usd FROM feedback AS f
  WHERE f.decision_id = decisions.decision_id AND f.model = decisions.chosen AND decisions.decision_id IN`;

/** D1 binds at most 100 parameters per statement: distinct ids in groups of ≤ 100, each with its "(?, …)" list. */
function idGroups(ids: string[]): { ids: string[]; list: string }[] {
  const unique = [...new Set(ids)];
  const out: { ids: string[]; list: string }[] = [];
  for (let i = 0; i < unique.length; i += 100) {
    const chunk = unique.slice(i, i + 100);
    out.push({ ids: chunk, list: `(${chunk.map(() => "?").join(",")})` });
  }
  return out;
}

/** What feedback on a decision is checked against: who made it and which models it chose among. */
export interface LoggedDecision {
  key_id: string;
  models: string[];
}

/** The logged decisions among `ids` (absent ids are simply missing from the map). */
export async function loggedDecisions(db: D1Database, ids: string[]): Promise<Map<string, LoggedDecision>> {
  const found = new Map<string, LoggedDecision>();
  for (const g of idGroups(ids)) {
    const res = await db
      .prepare(`SELECT decision_id, key_id, candidates FROM decisions WHERE decision_id IN ${g.list}`)
      .bind(...g.ids)
      .all<{ decision_id: string; key_id: string; candidates: string }>();
    for (const r of res.results) {
      found.set(r.decision_id, { key_id: r.key_id, models: (JSON.parse(r.candidates) as { model: string }[]).map((c) => c.model) });
    }
  }
  return found;
}

export async function upsertFeedback(db: D1Database, items: FeedbackItem[], now: number): Promise<void> {
  const stmt = db.prepare(UPSERT);
  const bound = items.map((f) =>
    stmt.bind(
      f.decision_id,
      f.model,
      f.success !== undefined ? (f.success ? 1 : 0) : f.score!,
      f.success === undefined ? null : f.success ? 1 : 0,
      f.score ?? null,
      f.output_tokens ?? null,
      f.cost_usd ?? null,
      f.latency_ms ?? null,
      now,
    ),
  );
  // The report's columns (migrations/0003_report_columns.sql): the decision row carries
  // the reward and cost of the feedback on its chosen model, so reports aggregate one
  // index instead of joining feedback row by row. Set-based, ≤ 100 bound ids per statement.
  for (const g of idGroups(items.map((f) => f.decision_id))) bound.push(db.prepare(`${COPY_TO_DECISION} ${g.list}`).bind(...g.ids));
  // One batch is one transaction in D1: a batch of feedback lands whole or not at all.
  await db.batch(bound);
}
