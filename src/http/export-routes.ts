/**
 * GET /v1/export (scope `export`): the decision log joined with feedback as
 * NDJSON (src/core/export-row.ts), keyset-paged on rowid and streamed in
 * chunks, so neither the worker nor D1 holds more than one chunk. A key
 * exports only its own decisions unless it also holds `admin`. The next
 * cursor goes in `x-preflight-next-cursor` and a Link header (read before the
 * body streams) and in the final `end` line; a body without its end line was
 * cut short. Must not read SQL itself (export-store does) or transform rows
 * for training (`pipeline pull` does).
 */
import type { Context, Hono } from "hono";
import { decodeCursor, encodeCursor, ExportQuery, type ExportEnd } from "../core/export-row.js";
import type { Reason } from "../core/result.js";
import { exportChunk, pageEnd, type ExportFilter } from "../store/export-store.js";
import type { Scope } from "./auth.js";
import type { AppDeps, Env } from "./context.js";
import { readQuery } from "./request-body.js";

type Guard = (c: Context<Env>, scope: Scope) => Promise<Response | null>;
type Fail = (c: Context<Env>, r: Reason) => Response;

/** Decisions read from D1 per query while streaming: bounds the worker's memory whatever `limit` is. */
const CHUNK = 250;

export function registerExportRoutes(app: Hono<Env>, deps: AppDeps, guard: Guard, fail: Fail): void {
  app.get("/v1/export", async (c) => {
    const denied = await guard(c, "export");
    if (denied) return denied;
    const db = deps.db;
    if (!db) return fail(c, { reason: "log_unavailable", detail: "no D1 binding (DB) is configured, so there is no decision log to export" });
    const q = readQuery(c.req.query(), ExportQuery);
    if (!q.ok) return fail(c, q.error);
    const after = q.value.cursor === undefined ? 0 : decodeCursor(q.value.cursor);
    if (after === null) return fail(c, { reason: "validation", issues: [{ path: "query.cursor", message: "not a cursor this API returned" }] });
    const who = c.get("principal");
    const filter: ExportFilter = { since: q.value.since, afterRowid: after, keyId: who.scopes.includes("admin") ? null : who.keyId };
    const { limit } = q.value;
    const end = await pageEnd(db, filter, limit);
    const next = end.more && end.last !== null ? encodeCursor(end.last) : null;
    const headers: Record<string, string> = { "content-type": "application/x-ndjson; charset=utf-8", "cache-control": "no-store" };
    if (next !== null) {
      headers["x-preflight-next-cursor"] = next;
      headers.link = `</v1/export?${new URLSearchParams({ since: String(q.value.since), limit: String(limit), cursor: next })}>; rel="next"`;
    }
    const enc = new TextEncoder();
    let sent = 0;
    let lastSeq: number | null = null;
    // Pull-driven: the next chunk is read only when the client has taken the previous one.
    const body = new ReadableStream<Uint8Array>({
      async pull(ctl) {
        const want = Math.min(CHUNK, limit - sent);
        const rows = want > 0 ? await exportChunk(db, { ...filter, afterRowid: lastSeq ?? after }, want, end.last) : [];
        if (rows.length > 0) {
          sent += rows.length;
          lastSeq = rows[rows.length - 1].seq;
          ctl.enqueue(enc.encode(rows.map(({ seq: _seq, ...r }) => JSON.stringify(r) + "\n").join("")));
          return;
        }
        const tail: ExportEnd = { type: "end", rows: sent, next_cursor: next, resume_cursor: lastSeq !== null ? encodeCursor(lastSeq) : (q.value.cursor ?? null) };
        ctl.enqueue(enc.encode(JSON.stringify(tail) + "\n"));
        ctl.close();
      },
    });
    return c.body(body, 200, headers);
  });
}
