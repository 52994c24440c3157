/**
 * Reads the decision log for the export (GET /v1/export): decisions in rowid
 * order after a keyset cursor, each joined with every feedback row on it.
 * Bounded: one call reads at most `n` decisions and their feedback (two
 * queries), never the whole log; the route streams pages of such chunks.
 * Must not decide who may read what (the route passes the key filter),
 * encode cursors or format lines.
 */
import type { ExportDecision, ExportFeedback } from "../core/export-row.js";

/** Which decisions an export reads: ts ≥ since, rowid > afterRowid, and only keyId's (null: every key's). */
export interface ExportFilter {
  since: number;
  afterRowid: number;
  keyId: string | null;
}

/** A decision line with the rowid it was read at (the cursor after it). */
export interface ExportedDecision extends ExportDecision {
  seq: number;
}

interface DecisionRow {
  seq: number;
  decision_id: string;
  ts: number;
  key_id: string;
  experiment: string | null;
  variant: string | null;
  bundle_id: string;
  bundle_sha256: string | null;
  policy: string;
  candidates: string;
  chosen: string | null;
  propensity: number;
  explored: number;
  prompt_hmac: string;
  input_tokens: number;
  prompt_text: string | null;
}

interface FeedbackRow extends Omit<ExportFeedback, "success"> {
  decision_id: string;
  success: number | null;
}

// rowid is the table's own b-tree key, so `rowid > ?` ORDER BY rowid LIMIT n reads n rows past the cursor
// (plus those the since filter skips), never an OFFSET scan from the start. With a key, the
// decisions_key index (migration 0006: key_id, then rowid implicitly) gives the same walk over that
// key's rows only, so one tenant's export does not read every other tenant's decisions.
function where(f: ExportFilter, upTo: number | null, alias = ""): { sql: string; args: unknown[] } {
  const sql = [`${alias}rowid > ?`, `${alias}ts >= ?`];
  const args: unknown[] = [f.afterRowid, f.since];
  if (upTo !== null) {
    sql.push(`${alias}rowid <= ?`);
    args.push(upTo);
  }
  if (f.keyId !== null) {
    sql.push(`${alias}key_id = ?`);
    args.push(f.keyId);
  }
  return { sql: sql.join(" AND "), args };
}

/**
 * The statement pageEnd runs (exported so a test can read its query plan: a
 * per-key export must walk the key's index, migration 0006, not the table).
 */
export function pageEndQuery(f: ExportFilter, limit: number): { sql: string; args: unknown[] } {
  const w = where(f, null);
  return { sql: `SELECT rowid AS seq FROM decisions WHERE ${w.sql} ORDER BY rowid LIMIT 2 OFFSET ?`, args: [...w.args, limit - 1] };
}

/**
 * Where a page of `limit` decisions ends: the rowid of its last decision when
 * the page is full (null when fewer than `limit` match now), and whether any
 * matching decision follows it. Read before streaming so the next cursor can
 * go in a response header.
 */
export async function pageEnd(db: D1Database, f: ExportFilter, limit: number): Promise<{ last: number | null; more: boolean }> {
  const q = pageEndQuery(f, limit);
  const res = await db
    .prepare(q.sql)
    .bind(...q.args)
    .all<{ seq: number }>();
  return { last: res.results[0]?.seq ?? null, more: res.results.length > 1 };
}

/** Up to `n` decisions matching `f` (and rowid ≤ upTo when given), in rowid order, each with all its feedback. */
export async function exportChunk(db: D1Database, f: ExportFilter, n: number, upTo: number | null): Promise<ExportedDecision[]> {
  const w = where(f, upTo);
  const decisions = await db
    .prepare(
      `SELECT rowid AS seq, decision_id, ts, key_id, experiment, variant, bundle_id, bundle_sha256, policy, candidates, chosen, propensity, explored,
       prompt_hmac, input_tokens, prompt_text FROM decisions WHERE ${w.sql} ORDER BY rowid LIMIT ?`,
    )
    .bind(...w.args, n)
    .all<DecisionRow>();
  const rows = decisions.results;
  if (rows.length === 0) return [];
  // The chunk's feedback in one query: the same filter over the chunk's rowid range selects exactly its decisions.
  const fw = where({ ...f, afterRowid: rows[0].seq - 1 }, rows[rows.length - 1].seq, "d.");
  const fb = await db
    .prepare(
      `SELECT f.decision_id, f.model, f.reward, f.success, f.score, f.output_tokens, f.cost_usd, f.latency_ms, f.updated_at
       FROM feedback AS f JOIN decisions AS d ON d.decision_id = f.decision_id WHERE ${fw.sql} ORDER BY d.rowid, f.model`,
    )
    .bind(...fw.args)
    .all<FeedbackRow>();
  const byDecision = new Map<string, ExportFeedback[]>();
  for (const r of fb.results) {
    const list = byDecision.get(r.decision_id) ?? [];
    list.push({
      model: r.model,
      reward: r.reward,
      success: r.success === null ? null : r.success === 1,
      score: r.score,
      output_tokens: r.output_tokens,
      cost_usd: r.cost_usd,
      latency_ms: r.latency_ms,
      updated_at: r.updated_at,
    });
    byDecision.set(r.decision_id, list);
  }
  return rows.map((r) => ({
    type: "decision",
    seq: r.seq,
    decision_id: r.decision_id,
    ts: r.ts,
    key_id: r.key_id,
    experiment: r.experiment,
    variant: r.variant,
    bundle_id: r.bundle_id,
    bundle_sha256: r.bundle_sha256,
    policy: JSON.parse(r.policy),
    candidates: JSON.parse(r.candidates),
    chosen: r.chosen,
    propensity: r.propensity,
    explored: r.explored === 1,
    prompt_hmac: r.prompt_hmac,
    input_tokens: r.input_tokens,
    prompt_text: r.prompt_text,
    feedback: byDecision.get(r.decision_id) ?? [],
  }));
}
