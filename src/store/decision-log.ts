/**
 * Decision log writer: durable before acknowledged. A route hands all of its
 * records to write(), which commits them in ONE D1 batch (one transaction: a
 * batch route lands whole or not at all) and resolves only after the commit.
 * The route answers 503 instead of a decision_id when write() fails, so every
 * decision_id a client ever sees is in D1. Nothing is queued, deferred to
 * waitUntil or shared across requests: workerd forbids one request from
 * awaiting another's I/O, and work left for after the response is lost when
 * the process dies. Must not build records (routes do) or read them back
 * (feedback-store does).
 */
import type { DecisionRecord } from "../core/decision-record.js";
import { err, ok, type Result } from "../core/result.js";

/** Column order of the INSERT; values() returns a row in this order. */
const COLUMNS = [
  "decision_id",
  "ts",
  "key_id",
  "experiment",
  "variant",
  "bundle_id",
  "policy",
  "candidates",
  "chosen",
  "propensity",
  "explored",
  "prompt_hmac",
  "input_tokens",
  "prompt_text",
  // Report columns (migrations/0003_report_columns.sql): the chosen model's logged p and cost.
  "chosen_p",
  "chosen_cost",
  // migrations/0005_decision_bundle_digest.sql: the exact bundle that chose.
  "bundle_sha256",
] as const;
/** D1 binds at most 100 parameters per statement: 5 rows of 17 columns per INSERT. */
const ROWS_PER_STATEMENT = Math.floor(100 / COLUMNS.length);
// OR IGNORE makes the retry idempotent: if the first attempt committed but its
// answer was lost, the retry must succeed rather than fail on the primary key.
// decision_ids are fresh UUIDs, so it never hides a different decision.
// Built once per row count (1…ROWS_PER_STATEMENT) at module load, not on every route call.
const INSERTS = Array.from(
  { length: ROWS_PER_STATEMENT },
  (_, i) => `INSERT OR IGNORE INTO decisions (${COLUMNS.join(", ")}) VALUES ${Array.from({ length: i + 1 }, () => `(${COLUMNS.map(() => "?").join(", ")})`).join(", ")}`,
);

function values(r: DecisionRecord): unknown[] {
  return [
    r.decision_id,
    r.ts,
    r.key_id,
    r.experiment,
    r.variant,
    r.bundle_id,
    JSON.stringify(r.policy),
    JSON.stringify(r.candidates),
    r.chosen,
    r.propensity,
    r.explored ? 1 : 0,
    r.prompt_hmac,
    r.input_tokens,
    r.prompt_text,
    ...chosenPAndCost(r),
    r.bundle_sha256 ?? null,
  ];
}

/** The chosen model's logged p and expected cost; nulls for an abstain or a model missing from the candidates. */
function chosenPAndCost(r: DecisionRecord): [number | null, number | null] {
  const c = r.chosen === null ? undefined : r.candidates.find((x) => x.model === r.chosen);
  return c ? [c.p, c.cost] : [null, null];
}

export class DecisionLogger {
  constructor(private readonly db: D1Database) {}

  /**
   * Commits `records` in one D1 transaction, retrying once. Resolves ok only
   * after the commit; a failure is a `log_unavailable` Reason (logged here,
   * so the route does not need to).
   */
  async write(records: DecisionRecord[]): Promise<Result<void>> {
    if (records.length === 0) return ok(undefined);
    // Multi-row INSERTs: fewer statements per transaction (D1 pays per statement).
    const bound: D1PreparedStatement[] = [];
    for (let i = 0; i < records.length; i += ROWS_PER_STATEMENT) {
      const chunk = records.slice(i, i + ROWS_PER_STATEMENT);
      bound.push(this.db.prepare(INSERTS[chunk.length - 1]).bind(...chunk.flatMap(values)));
    }
    let first: unknown;
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        await this.db.batch(bound);
        return ok(undefined);
      } catch (e) {
        first ??= e;
        if (attempt === 1) {
          console.error(`[preflight] decision log: ${records.length} records not written after retry: ${(e as Error).message}; first error: ${(first as Error).message}`);
        }
      }
    }
    return err({ reason: "log_unavailable", detail: "the decision log (D1) did not accept the write; no decision was handed out, retry later" });
  }
}

// The prompt HMAC lives in core so the pipeline (`pipeline pull --texts`) recomputes exactly this function.
export { hmacSha256Hex as hmacHex } from "../core/sha256.js";
