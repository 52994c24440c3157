/**
 * `pull` (scripts/stages/pull.ts) on synthetic export lines: the k rule for
 * the chosen model's outcome, one OutcomeRow per decision with feedback on
 * its chosen model (valid against the outcomes schema, with LoggedInfo),
 * texts joined by the standard HMAC-SHA256 (checked against node:crypto),
 * rows without text in the side file, and paging through the export with
 * its cursor, refusing a page cut short.
 */
import { createHmac } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { encodeCursor, type ExportDecision, type ExportFeedback } from "../../src/core/export-row.js";
import { formatMessages } from "../../src/core/messages.js";
import { OutcomeRow } from "../../scripts/formats/outcomes.js";
import { chosenOutcome, exportFile, exportPages, pullRows, textsByHmac } from "../../scripts/stages/pull.js";

const KEY = "hmac-key-for-tests-0123456789abcdef";
const hmac = (text: string) => createHmac("sha256", KEY).update(text, "utf8").digest("hex");
const root = mkdtempSync(join(tmpdir(), "pull-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function fb(model: string, over: Partial<ExportFeedback> = {}): ExportFeedback {
  return { model, reward: 1, success: true, score: null, output_tokens: 40, cost_usd: 0.001, latency_ms: null, updated_at: 10, ...over };
}
function decision(id: string, over: Partial<ExportDecision> = {}): ExportDecision {
  return {
    type: "decision",
    decision_id: id,
    ts: 1000,
    key_id: "app",
    experiment: "canary",
    variant: "candidate",
    bundle_id: "b1",
    policy: { type: "threshold", min_p: 0.6 },
    candidates: [
      { model: "small", p: 0.7, cost: 0.0001, utility: null },
      { model: "large", p: 0.9, cost: 0.001, utility: null },
    ],
    chosen: "small",
    propensity: 0.75,
    explored: false,
    prompt_hmac: hmac(`prompt ${id}`),
    input_tokens: 3,
    prompt_text: null,
    feedback: [fb("small")],
    ...over,
  };
}
async function* iter<T>(xs: T[]) {
  yield* xs;
}
const lines = (file: string) => (existsSync(file) ? readFileSync(file, "utf8").trim().split("\n").filter(Boolean).map((l) => JSON.parse(l)) : []);

describe("chosen model's outcome", () => {
  it("k is the success flag when given, else reward ≥ 0.5; only the chosen model counts", () => {
    expect(chosenOutcome(decision("a"))).toEqual({ n: 1, k: 1, output_tokens: 40, cost_usd: 0.001 });
    expect(chosenOutcome(decision("a", { feedback: [fb("small", { success: false, reward: 0 })] }))?.k).toBe(0);
    expect(chosenOutcome(decision("a", { feedback: [fb("small", { success: null, score: 0.5, reward: 0.5 })] }))?.k).toBe(1);
    expect(chosenOutcome(decision("a", { feedback: [fb("small", { success: null, score: 0.49, reward: 0.49, cost_usd: null, output_tokens: null })] }))).toEqual({ n: 1, k: 0 });
    expect(chosenOutcome(decision("a", { feedback: [fb("large")] }))).toBeNull();
    expect(chosenOutcome(decision("a", { chosen: null }))).toBeNull();
  });
});

describe("pull rows", () => {
  it("writes one valid OutcomeRow per decision with chosen-model feedback; texts from the log, from --texts by HMAC, or to the side file", async () => {
    const textsFile = join(root, "texts.jsonl");
    const msgs = [{ role: "user", content: "prompt d3 as chat" }];
    writeFileSync(textsFile, [JSON.stringify({ prompt: "prompt d2" }), JSON.stringify({ messages: msgs, id: "mine" }), JSON.stringify({ prompt: "never logged" })].join("\n") + "\n");
    const texts = await textsByHmac(textsFile, KEY);
    expect(texts.get(hmac("prompt d2"))).toEqual({ prompt: "prompt d2" });
    const out = join(root, "rows.jsonl");
    const s = await pullRows(
      iter([
        decision("d1", { prompt_text: "stored text", explored: true, propensity: 0.1, feedback: [fb("small"), fb("large", { success: false, reward: 0 })] }),
        decision("d2"),
        decision("d3", { prompt_hmac: hmac(formatMessages(msgs as never)) }),
        decision("d4"),
        decision("d5", { chosen: null, propensity: 1 }),
        decision("d6", { feedback: [] }),
      ]),
      out,
      texts,
    );
    expect(s).toMatchObject({ decisions: 6, abstained: 1, no_feedback: 1, written: 3, joined_by_hmac: 2, no_text: 1 });
    const rows = lines(out).map((r) => OutcomeRow.parse(r));
    expect(rows.map((r) => r.id)).toEqual(["d1", "d2", "d3"]);
    expect(rows[0]).toMatchObject({ prompt: "stored text", outcomes: { small: { n: 1, k: 1 } } });
    expect(Object.keys(rows[0].outcomes)).toEqual(["small"]);
    expect(rows[0].logged).toMatchObject({ decision_id: "d1", chosen: "small", propensity: 0.1, explored: true, bundle_id: "b1", experiment: "canary", variant: "candidate", policy: { type: "threshold", min_p: 0.6 } });
    expect(rows[1].prompt).toBe("prompt d2");
    expect(rows[2].messages).toEqual(msgs);
    const missing = lines(s.missingFile);
    expect(missing.map((r) => r.id)).toEqual(["d4"]);
    expect(missing[0].logged.prompt_hmac).toBe(hmac("prompt d4"));
  });
});

describe("paging through the export", () => {
  const page = (ds: ExportDecision[], next: string | null) => [...ds.map((d) => JSON.stringify(d)), JSON.stringify({ type: "end", rows: ds.length, next_cursor: next, resume_cursor: null })].join("\n") + "\n";
  it("follows next_cursor until it is null, sending the key and since", async () => {
    const urls: string[] = [];
    const got: string[] = [];
    const fetchImpl = async (url: string, init: { headers: Record<string, string> }) => {
      urls.push(url);
      expect(init.headers.authorization).toBe("Bearer k");
      const c = new URL(url).searchParams.get("cursor");
      return new Response(c === null ? page([decision("a"), decision("b")], encodeCursor(2)) : page([decision("c")], null));
    };
    for await (const d of exportPages("http://w/", "k", 500, fetchImpl, 2)) got.push(d.decision_id);
    expect(got).toEqual(["a", "b", "c"]);
    expect(urls).toEqual(["http://w/v1/export?since=500&limit=2", `http://w/v1/export?since=500&limit=2&cursor=${encodeCursor(2)}`]);
  });
  it("starts from a previous pull's resume cursor and hands each page's end line on", async () => {
    const urls: string[] = [];
    const ends: (string | null)[] = [];
    const fetchImpl = async (url: string) => {
      urls.push(url);
      return new Response(page([decision("z")], null).replace('"resume_cursor":null', `"resume_cursor":"${encodeCursor(9)}"`));
    };
    const got: string[] = [];
    for await (const d of exportPages("http://w", "k", 0, fetchImpl, 10, { cursor: encodeCursor(7), onEnd: (e) => ends.push(e.resume_cursor) })) got.push(d.decision_id);
    expect(got).toEqual(["z"]);
    expect(urls).toEqual([`http://w/v1/export?since=0&limit=10&cursor=${encodeCursor(7)}`]);
    expect(ends).toEqual([encodeCursor(9)]);
  });
  it("refuses a page without its end line, and surfaces the worker's problem detail", async () => {
    const cut = async () => new Response(JSON.stringify(decision("a")) + "\n");
    await expect(exportPages("http://w", "k", 0, cut).next()).rejects.toThrow(/no end line/);
    const denied = async () => new Response(JSON.stringify({ detail: "API key app lacks scope export" }), { status: 403 });
    await expect(exportPages("http://w", "k", 0, denied).next()).rejects.toThrow(/403 API key app lacks scope export/);
  });
  it("reads saved export responses from a file", async () => {
    const f = join(root, "saved.ndjson");
    writeFileSync(f, page([decision("x"), decision("y")], null));
    const got: string[] = [];
    for await (const d of exportFile(f)) got.push(d.decision_id);
    expect(got).toEqual(["x", "y"]);
  });
});
