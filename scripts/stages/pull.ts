/**
 * `pipeline pull` (issue 19): the worker's decision log, as exported by
 * GET /v1/export (src/core/export-row.ts), turned into outcome rows that
 * `build` trains on: one OutcomeRow per decision whose chosen model got
 * feedback, with only that model's outcome and the LoggedInfo (propensity,
 * bundle, policy, arm) that makes inverse-propensity weighting possible.
 * Prompt text comes from the log when the key stored it, else from the
 * user's own texts joined by prompt HMAC (the worker's function, recomputed
 * with PROMPT_HMAC_KEY); rows that still have no text go to a side file.
 * Must not train, weight or filter rows beyond that (build does).
 */
import { readFileSync } from "node:fs";
import { z } from "zod";
import { ExportLine, type ExportDecision, type ExportEnd } from "../../src/core/export-row.js";
import { ChatMessage, formatMessages } from "../../src/core/messages.js";
import { hmacSha256Hex } from "../../src/core/sha256.js";
import { type LoggedInfo, type ModelOutcome, type OutcomeRow } from "../formats/outcomes.js";
import { JsonlWriter, readJsonl } from "../lib/jsonl.js";

/** A reward at or above this counts as a success when feedback gave a score, not success (k of n = 1). */
export const SUCCESS_AT = 0.5;

/**
 * The chosen model's outcome as one trial: k = success when feedback gave
 * success, else k = 1 iff reward (the score) ≥ SUCCESS_AT. Null when the
 * decision abstained or its chosen model has no feedback (nothing observed).
 */
export function chosenOutcome(d: ExportDecision): ModelOutcome | null {
  const fb = d.chosen === null ? undefined : d.feedback.find((f) => f.model === d.chosen);
  if (!fb) return null;
  const k = fb.success !== null ? (fb.success ? 1 : 0) : fb.reward >= SUCCESS_AT ? 1 : 0;
  return { n: 1, k, ...(fb.output_tokens !== null ? { output_tokens: fb.output_tokens } : {}), ...(fb.cost_usd !== null ? { cost_usd: fb.cost_usd } : {}) };
}

export function loggedInfo(d: ExportDecision): LoggedInfo {
  return {
    decision_id: d.decision_id,
    ts: d.ts,
    chosen: d.chosen!,
    propensity: d.propensity,
    explored: d.explored,
    bundle_id: d.bundle_id,
    ...(d.bundle_sha256 ? { bundle_sha256: d.bundle_sha256 } : {}),
    policy: d.policy,
    experiment: d.experiment,
    variant: d.variant,
    prompt_hmac: d.prompt_hmac,
    input_tokens: d.input_tokens,
  };
}

/** A text the user kept: the prompt, or the messages the worker formatted and hashed. */
export const UserText = z.union([z.object({ prompt: z.string() }).passthrough(), z.object({ messages: z.array(ChatMessage).min(1) }).passthrough()]);
export type UserText = { prompt: string } | { messages: ChatMessage[] };

/** The user's texts by the HMAC the worker logged for them (same function, same key, same formatting). */
export async function textsByHmac(file: string, hmacKey: string): Promise<Map<string, UserText>> {
  const out = new Map<string, UserText>();
  for await (const { value } of readJsonl(file, UserText)) {
    const t: UserText = "prompt" in value && typeof value.prompt === "string" ? { prompt: value.prompt } : { messages: (value as { messages: ChatMessage[] }).messages };
    out.set(await hmacSha256Hex(hmacKey, "prompt" in t ? t.prompt : formatMessages(t.messages)), t);
  }
  return out;
}

export type FetchLike = (url: string, init: { headers: Record<string, string> }) => Promise<Response>;

function parseLines(text: string, where: string): ExportLine[] {
  return text
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l, i) => {
      const p = ExportLine.safeParse(JSON.parse(l));
      if (!p.success) throw new Error(`${where}: line ${i + 1} is not an export line: ${p.error.issues[0]?.message}`);
      return p.data;
    });
}

/**
 * Every decision the key may export with ts ≥ since, page by page (each page
 * at most `limit` decisions, held one at a time), from `resume.cursor` when
 * given (a previous pull's resume_cursor: only newer decisions). Each page's
 * end line goes to `resume.onEnd`. A page without its end line was cut
 * short: that is an error, never silently a shorter log.
 */
export async function* exportPages(
  base: string,
  key: string,
  since: number,
  fetchImpl: FetchLike = fetch,
  limit = 5000,
  resume: { cursor?: string; onEnd?: (end: ExportEnd) => void } = {},
): AsyncGenerator<ExportDecision> {
  let cursor: string | null = resume.cursor ?? null;
  for (let page = 1; ; page++) {
    const q = new URLSearchParams({ since: String(since), limit: String(limit), ...(cursor ? { cursor } : {}) });
    const url = `${base.replace(/\/$/, "")}/v1/export?${q}`;
    const res = await fetchImpl(url, { headers: { authorization: `Bearer ${key}` } });
    const text = await res.text();
    if (!res.ok) throw new Error(`GET ${url}: ${res.status} ${(() => { try { return JSON.parse(text).detail; } catch { return text.slice(0, 200); } })()}`);
    const lines = parseLines(text, `page ${page}`);
    const end = lines[lines.length - 1];
    if (end?.type !== "end") throw new Error(`GET ${url}: the response has no end line (cut short); rerun pull`);
    for (const l of lines) if (l.type === "decision") yield l;
    resume.onEnd?.(end);
    if (end.next_cursor === null) return;
    cursor = end.next_cursor;
  }
}

/** Decisions from saved export responses (NDJSON files, e.g. from curl), for offline runs and tests. */
export async function* exportFile(file: string): AsyncGenerator<ExportDecision> {
  for (const l of parseLines(readFileSync(file, "utf8"), file)) if (l.type === "decision") yield l;
}

export interface PullSummary {
  decisions: number;
  abstained: number;
  /** Routed decisions whose chosen model has no feedback (yet): nothing observed, no row. */
  no_feedback: number;
  /** Rows written to `out` (text from the log or joined from --texts). */
  written: number;
  joined_by_hmac: number;
  /** Rows with an outcome but no text, written to `missingFile` instead. */
  no_text: number;
  missingFile: string;
}

/**
 * Writes one OutcomeRow per decision with feedback on its chosen model to
 * `out`; decisions whose text is neither in the log nor in `texts` go to
 * `<out>.no-text.jsonl` (the row minus its text, with prompt_hmac to join later).
 */
export async function pullRows(decisions: AsyncIterable<ExportDecision>, out: string, texts?: Map<string, UserText>): Promise<PullSummary> {
  const missingFile = out.replace(/\.jsonl$/, "") + ".no-text.jsonl";
  const s: PullSummary = { decisions: 0, abstained: 0, no_feedback: 0, written: 0, joined_by_hmac: 0, no_text: 0, missingFile };
  const rows = new JsonlWriter(out);
  const missing = new JsonlWriter(missingFile);
  try {
    for await (const d of decisions) {
      s.decisions++;
      if (d.chosen === null) {
        s.abstained++;
        continue;
      }
      const outcome = chosenOutcome(d);
      if (!outcome) {
        s.no_feedback++;
        continue;
      }
      const base = { id: d.decision_id, source: "logged", outcomes: { [d.chosen]: outcome }, logged: loggedInfo(d) };
      const joined = d.prompt_text === null ? texts?.get(d.prompt_hmac) : undefined;
      if (d.prompt_text !== null) await rows.write({ ...base, prompt: d.prompt_text } satisfies OutcomeRow);
      else if (joined) {
        s.joined_by_hmac++;
        await rows.write({ ...base, ...joined } satisfies OutcomeRow);
      } else {
        s.no_text++;
        await missing.write(base);
        continue;
      }
      s.written++;
    }
  } catch (e) {
    await rows.abort();
    await missing.abort();
    throw e;
  }
  await rows.close();
  await missing.close();
  return s;
}
