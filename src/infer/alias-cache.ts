/**
 * The isolate's copy of the alias table (alias → manifest digest), read
 * through a port (D1 in the worker, src/store/alias-store.ts) and kept for
 * ALIAS_TTL_MS. That TTL is the bound for an alias change to reach new
 * requests: the copy is stamped with the time its read *started*, so a change
 * committed at time F is seen by every resolution that starts at F + TTL or
 * later. Must not fetch bundles or know about HTTP.
 *
 * A failed read keeps the last table (the default never depends on D1 being
 * up) and is retried by the next request; the error is reported on /healthz.
 * Only plain data is cached, never a pending promise (see session-pool.ts).
 */
import type { AliasRecord } from "../core/bundle-ref.js";

export type ReadAliases = () => Promise<AliasRecord[]>;

export class AliasCache {
  private table = new Map<string, AliasRecord>();
  private readAt = -Infinity;
  /** Why the last read failed, if it did. */
  error: string | undefined;

  constructor(
    private readonly read: ReadAliases | undefined,
    private readonly ttlMs: number,
    private readonly now: () => number,
  ) {}

  /** False without a D1 binding: no alias can be set, names are bundle ids only. */
  get enabled(): boolean {
    return this.read !== undefined;
  }

  /** The table as last read, without reading (for /healthz's report). */
  cached(): Map<string, AliasRecord> {
    return this.table;
  }

  /** The table, read again when the copy is TTL old. */
  async current(): Promise<Map<string, AliasRecord>> {
    if (!this.read || this.now() - this.readAt < this.ttlMs) return this.table;
    const started = this.now();
    try {
      const rows = await this.read();
      this.table = new Map(rows.map((r) => [r.alias, r]));
      this.readAt = started;
      this.error = undefined;
    } catch (e) {
      this.error = (e as Error).message;
      console.error(`[preflight] reading bundle aliases failed, keeping the last table: ${this.error}`);
    }
    return this.table;
  }

  /** Forget the copy (after this isolate changed an alias itself). */
  invalidate(): void {
    this.readAt = -Infinity;
  }
}
