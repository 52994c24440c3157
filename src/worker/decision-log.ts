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
const INSERT = `INSERT OR IGNORE INTO decisions (decision_id, ts, key_id, experiment, variant, bundle_id, policy, candidates, chosen,
  propensity, explored, prompt_hmac, input_tokens, prompt_text) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`;

/** A record, or a deferred builder for one: building (HMAC, JSON) then runs after the response. */
export type PendingRecord = DecisionRecord | (() => Promise<DecisionRecord>);

export class DecisionLogger {
  private queue: PendingRecord[] = [];
  private pending: Promise<void> | null = null;
  /** Records that could not be written after a retry (exposed for /healthz and tests). */
  failed = 0;

  constructor(private readonly db: D1Database) {}

  enqueue(record: PendingRecord, waitUntil: (p: Promise<unknown>) => void): void {
    this.queue.push(record);
    if (!this.pending) {
      this.pending = this.drain().finally(() => {
        this.pending = null;
      });
    }
    waitUntil(this.pending);
  }

  /** Resolves once everything queued before the call is in D1. */
  async flush(): Promise<void> {
    while (this.pending || this.queue.length > 0) {
      if (!this.pending) this.pending = this.drain().finally(() => (this.pending = null));
      await this.pending;
    }
  }

  private async drain(): Promise<void> {
    // Yield to the event loop: the response is sent first, and records from
    // concurrently arriving requests share a batch.
    await new Promise((r) => setTimeout(r, 0));
    while (this.queue.length > 0) {
      const pending = this.queue.splice(0, BATCH);
      const batch = await Promise.all(pending.map((r) => (typeof r === "function" ? r() : r)));
      const stmt = this.db.prepare(INSERT);
      const bound = batch.map((r) =>
        stmt.bind(
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
        ),
      );
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
    }
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
