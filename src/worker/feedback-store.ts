/**
 * Feedback persistence and the report query, on D1. Idempotent: a repeat of
 * (decision_id, model) updates the row. Reads the owner and candidates of
 * decisions for the feedback route's checks. Must not validate request
 * bodies or decide who may write (routes do) or compute statistics
 * (core/report does).
 */
import { DecisionRecord, type FeedbackItem, type JoinedDecision } from "../core/decision-record.js";

const UPSERT = `INSERT INTO feedback (decision_id, model, reward, success, score, output_tokens, cost_usd, latency_ms, updated_at)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
  ON CONFLICT (decision_id, model) DO UPDATE SET reward = excluded.reward, success = excluded.success, score = excluded.score,
  output_tokens = excluded.output_tokens, cost_usd = excluded.cost_usd, latency_ms = excluded.latency_ms, updated_at = excluded.updated_at`;

/** What feedback on a decision is checked against: who made it and which models it chose among. */
export interface LoggedDecision {
  key_id: string;
  models: string[];
}

/** The logged decisions among `ids` (absent ids are simply missing from the map). */
export async function loggedDecisions(db: D1Database, ids: string[]): Promise<Map<string, LoggedDecision>> {
  const unique = [...new Set(ids)];
  const found = new Map<string, LoggedDecision>();
  // D1 binds at most 100 parameters per statement.
  for (let i = 0; i < unique.length; i += 100) {
    const chunk = unique.slice(i, i + 100);
    const res = await db
      .prepare(`SELECT decision_id, key_id, candidates FROM decisions WHERE decision_id IN (${chunk.map(() => "?").join(",")})`)
      .bind(...chunk)
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
  // One batch is one transaction in D1: a batch of feedback lands whole or not at all.
  await db.batch(bound);
}

interface Row {
  decision_id: string;
  ts: number;
  key_id: string;
  experiment: string | null;
  variant: string | null;
  bundle_id: string;
  policy: string;
  candidates: string;
  chosen: string | null;
  propensity: number;
  explored: number;
  prompt_hmac: string;
  input_tokens: number;
  prompt_text: string | null;
  reward: number | null;
  cost_usd: number | null;
}

export async function joinedDecisions(db: D1Database, experiment: string): Promise<JoinedDecision[]> {
  const res = await db
    .prepare(
      `SELECT d.*, f.reward AS reward, f.cost_usd AS cost_usd FROM decisions d
       LEFT JOIN feedback f ON f.decision_id = d.decision_id AND f.model = d.chosen
       WHERE d.experiment = ? ORDER BY d.ts, d.decision_id`,
    )
    .bind(experiment)
    .all<Row>();
  return res.results.map((r) => {
    const rec = DecisionRecord.parse({
      ...r,
      policy: JSON.parse(r.policy),
      candidates: JSON.parse(r.candidates),
      explored: r.explored === 1,
    });
    const expected = rec.candidates.find((c) => c.model === rec.chosen)?.cost ?? null;
    return { ...rec, reward: r.reward, realised_cost: r.cost_usd ?? (rec.chosen === null ? 0 : expected) };
  });
}
