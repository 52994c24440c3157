/**
 * Feedback persistence and the report query, on D1. Idempotent: a repeat of
 * (decision_id, model) updates the row. Must not validate request bodies
 * (routes do) or compute statistics (core/report does).
 */
import { DecisionRecord, type FeedbackItem, type JoinedDecision } from "../core/decision-record.js";

const UPSERT = `INSERT INTO feedback (decision_id, model, reward, success, score, output_tokens, cost_usd, latency_ms, updated_at)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
  ON CONFLICT (decision_id, model) DO UPDATE SET reward = excluded.reward, success = excluded.success, score = excluded.score,
  output_tokens = excluded.output_tokens, cost_usd = excluded.cost_usd, latency_ms = excluded.latency_ms, updated_at = excluded.updated_at`;

/** Returns the decision ids (of those given) that are not in the log. */
export async function unknownDecisions(db: D1Database, ids: string[]): Promise<string[]> {
  const unique = [...new Set(ids)];
  const known = new Set<string>();
  // D1 caps bound parameters per statement; 90 per query stays well inside it.
  for (let i = 0; i < unique.length; i += 90) {
    const chunk = unique.slice(i, i + 90);
    const res = await db
      .prepare(`SELECT decision_id FROM decisions WHERE decision_id IN (${chunk.map(() => "?").join(",")})`)
      .bind(...chunk)
      .all<{ decision_id: string }>();
    for (const r of res.results) known.add(r.decision_id);
  }
  return unique.filter((id) => !known.has(id));
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
