/**
 * The decision-log export format (GET /v1/export, issue 19): NDJSON, one
 * `decision` line per logged decision with every feedback row on it (any
 * model), then one `end` line with the cursor to continue from. Shared by
 * the worker (which writes it) and `pipeline pull` (which reads it), so the
 * two cannot drift. Pure: schemas and the cursor codec only.
 */
import { z } from "zod";
import { DecisionRecord } from "./decision-record.js";

/** Most decisions one export response carries (`limit`); pages are keyset-paged, so any log size streams through. */
export const EXPORT_MAX_LIMIT = 5000;

export const ExportFeedback = z.object({
  model: z.string(),
  reward: z.number().meta({ description: "success as 0/1, or the score in [0,1]" }),
  success: z.boolean().nullable(),
  score: z.number().nullable(),
  output_tokens: z.number().int().nullable(),
  cost_usd: z.number().nullable(),
  latency_ms: z.number().nullable(),
  updated_at: z.number().int().meta({ description: "ms since the epoch, last write of this feedback row" }),
});
export type ExportFeedback = z.infer<typeof ExportFeedback>;

// The logged record as written (decision-record.ts), plus the line type and every feedback row on it.
export const ExportDecision = DecisionRecord.extend({
  type: z.literal("decision"),
  prompt_text: z.string().nullable().meta({ description: "only for keys with store_prompts; otherwise join your own texts by prompt_hmac (docs/loop.md)" }),
  feedback: z.array(ExportFeedback).meta({ description: "every feedback row on this decision, any model, ordered by model" }),
}).meta({ id: "ExportDecision" });
export type ExportDecision = z.infer<typeof ExportDecision>;

export const ExportEnd = z
  .object({
    type: z.literal("end"),
    rows: z.number().int().meta({ description: "decision lines in this response" }),
    next_cursor: z.string().nullable().meta({ description: "pass as `cursor` for the next page; null when this page reached the end of the log" }),
    resume_cursor: z.string().nullable().meta({ description: "cursor after the last decision returned (null if none): poll it later to get only newer decisions" }),
  })
  .meta({ id: "ExportEnd" });
export type ExportEnd = z.infer<typeof ExportEnd>;

export const ExportLine = z.discriminatedUnion("type", [ExportDecision, ExportEnd]);
export type ExportLine = z.infer<typeof ExportLine>;

/** Query of GET /v1/export (strings in, numbers out). */
export const ExportQuery = z
  .object({
    since: z.coerce.number().int().min(0).default(0).meta({ description: "only decisions with ts ≥ since (ms since the epoch)" }),
    cursor: z.string().max(64).optional().meta({ description: "opaque, from a previous page's next_cursor / resume_cursor" }),
    limit: z.coerce.number().int().min(1).max(EXPORT_MAX_LIMIT).default(1000).meta({ description: `decisions per page, at most ${EXPORT_MAX_LIMIT}` }),
  })
  .strict();
export type ExportQuery = z.infer<typeof ExportQuery>;

// The cursor is the log's rowid after which to continue (keyset paging: stable under concurrent inserts,
// no OFFSET scans). Opaque to clients so the encoding can change; versioned so an old cursor fails clearly.
export function encodeCursor(rowid: number): string {
  return `c1.${rowid.toString(36)}`;
}

/** The rowid a cursor names, or null when it is not one this worker wrote. */
export function decodeCursor(cursor: string): number | null {
  const m = /^c1\.([0-9a-z]{1,12})$/.exec(cursor);
  if (!m) return null;
  const n = parseInt(m[1], 36);
  return Number.isSafeInteger(n) && n >= 0 ? n : null;
}
