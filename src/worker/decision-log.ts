/**
 * Decision log writer: queues DecisionRecords and writes them to D1 in
 * batches from ctx.waitUntil, so the route response never waits on storage.
 * One flush is in flight at a time; every request that enqueues hands the
 * same pending flush to waitUntil, which keeps the isolate alive until the
 * queue is drained. A failed batch is retried once, then reported loudly.
 * Must not build records (routes do) or read them back (feedback-store does).
 */
import type { DecisionRecord } from "../core/decision-record.js";

const BATCH = 100;
/** How long a drain waits to gather records from concurrent requests into one transaction. */
const GATHER_MS = 25;
const COLUMNS = 14;
/** D1 binds at most 100 parameters per statement: 7 rows of 14 columns per INSERT. */
const ROWS_PER_STATEMENT = Math.floor(100 / COLUMNS);
const insertFor = (rows: number) =>
  `INSERT OR IGNORE INTO decisions (decision_id, ts, key_id, experiment, variant, bundle_id, policy, candidates, chosen,
  propensity, explored, prompt_hmac, input_tokens, prompt_text) VALUES ${Array.from({ length: rows }, () => `(${Array(COLUMNS).fill("?").join(", ")})`).join(", ")}`;

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
  ];
}

/** A record, or a deferred builder for one: building (HMAC, JSON) then runs after the response. */
export type PendingRecord = DecisionRecord | (() => Promise<DecisionRecord>);

export class DecisionLogger {
  private queue: PendingRecord[] = [];
  private pending: Promise<void> | null = null;
  private enqueued = 0;
  private settled = 0;
  /** Records that could not be written after a retry (exposed for /healthz and tests). */
  failed = 0;

  constructor(private readonly db: D1Database) {}

  enqueue(record: PendingRecord, waitUntil: (p: Promise<unknown>) => void): void {
    this.queue.push(record);
    this.enqueued++;
    if (!this.pending) {
      this.pending = this.drain().finally(() => {
        this.pending = null;
      });
    }
    waitUntil(this.pending);
  }

  /**
   * Resolves once everything queued before the call is written (or given up
   * on), or after `timeoutMs`. It waits for a count, not for an empty queue,
   * so steady traffic cannot hold it. It polls on its own timer instead of
   * awaiting the drain's promise: that promise belongs to the request that
   * started the drain, and workerd refuses to let another request wait on it.
   */
  async flush(timeoutMs = 5000): Promise<void> {
    const target = this.enqueued;
    const started = Date.now();
    while (this.settled < target) {
      // Records waiting in the queue (not yet taken by a drain) are written from this request.
      if (this.queue.length > 0) await this.writeSome();
      else await new Promise((r) => setTimeout(r, 5));
      if (Date.now() - started > timeoutMs) {
        console.error(`[preflight] decision log: flush gave up after ${timeoutMs} ms with ${target - this.settled} records in flight`);
        return;
      }
    }
  }

  private async drain(): Promise<void> {
    // Wait briefly: the response is sent first, and records from concurrently
    // arriving requests share one transaction (local D1 commits on the
    // serving thread, so one commit per decision would tax every route).
    if (this.queue.length < BATCH) await new Promise((r) => setTimeout(r, GATHER_MS));
    while (this.queue.length > 0) await this.writeSome();
  }

  /** Takes up to one batch off the queue and writes it in one D1 transaction. */
  private async writeSome(): Promise<void> {
    const pending = this.queue.splice(0, BATCH);
    let batch: DecisionRecord[];
    try {
      batch = await Promise.all(pending.map((r) => (typeof r === "function" ? r() : r)));
    } catch (e) {
      this.failed += pending.length;
      this.settled += pending.length;
      console.error(`[preflight] decision log: ${pending.length} records could not be built: ${(e as Error).message}`);
      return;
    }
    // Multi-row INSERTs: fewer statements per transaction (local D1 pays per statement).
    const bound: D1PreparedStatement[] = [];
    for (let i = 0; i < batch.length; i += ROWS_PER_STATEMENT) {
      const chunk = batch.slice(i, i + ROWS_PER_STATEMENT);
      bound.push(this.db.prepare(insertFor(chunk.length)).bind(...chunk.flatMap(values)));
    }
    try {
      await this.db.batch(bound);
    } catch (first) {
      try {
        await this.db.batch(bound);
      } catch (e) {
        this.failed += batch.length;
        console.error(`[preflight] decision log: ${batch.length} records lost after retry: ${(e as Error).message}; first error: ${(first as Error).message}`);
      }
    }
    this.settled += pending.length;
  }
}

const hmacKeys = new Map<string, Promise<CryptoKey>>();

export async function hmacHex(key: string, text: string): Promise<string> {
  let k = hmacKeys.get(key);
  if (!k) {
    k = crypto.subtle.importKey("raw", new TextEncoder().encode(key), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
    hmacKeys.set(key, k);
  }
  const sig = await crypto.subtle.sign("HMAC", await k, new TextEncoder().encode(text));
  return [...new Uint8Array(sig)].map((b) => b.toString(16).padStart(2, "0")).join("");
}
