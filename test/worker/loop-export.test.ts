/**
 * GET /v1/export in real workerd against a real local D1: NDJSON of the
 * caller's decisions joined with every feedback row, never another key's
 * (admin excepted), keyset paging that returns each decision exactly once
 * (cursor in header, Link and end line), since and resume cursors, errors;
 * then `pipeline pull` against the worker: outcome rows with LoggedInfo,
 * texts joined back by HMAC for a key that does not store prompts.
 */
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Miniflare } from "miniflare";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ExportLine, type ExportDecision, type ExportEnd } from "../../src/core/export-row.js";
import { OutcomeRow } from "../../scripts/formats/outcomes.js";
import { exportPages, pullRows, textsByHmac, type FetchLike } from "../../scripts/stages/pull.js";
import { call, startWorker } from "./harness.js";

const sha = (s: string) => createHash("sha256").update(s).digest("hex");
const HMAC_KEY = "test-hmac-key-0123456789-abcdef-0123456789";
const KEYS = [
  { id: "a", sha256: sha("k-a"), scopes: ["route", "feedback", "export"] },
  { id: "b", sha256: sha("k-b"), scopes: ["route", "feedback", "export"], store_prompts: true },
  { id: "root", sha256: sha("k-root"), scopes: ["export", "admin"] },
  { id: "plain", sha256: sha("k-plain"), scopes: ["route", "feedback"] },
];
const auth = (k: string) => ({ authorization: `Bearer ${k}` });
const root = mkdtempSync(join(tmpdir(), "loop-export-"));

let mf: Miniflare;
const ids: Record<string, string[]> = { a: [], b: [] };
const chosen = new Map<string, string>();
const models = new Map<string, string[]>();
beforeAll(async () => {
  mf = await startWorker({ AUTH: "required", API_KEYS: JSON.stringify(KEYS), PROMPT_HMAC_KEY: HMAC_KEY }, { d1: true });
  // Interleaved, so each key's decisions are not one contiguous rowid range.
  for (let i = 0; i < 5; i++) {
    for (const k of i < 3 ? ["a", "b"] : ["a"]) {
      const r = await call(mf, "POST", "/v1/route", { body: { prompt: `${k} prompt ${i}` }, headers: auth(`k-${k}`) });
      expect(r.status).toBe(200);
      ids[k].push(r.body.decision_id);
      chosen.set(r.body.decision_id, r.body.decision.model);
      models.set(r.body.decision_id, r.body.candidates.map((c: { model: string }) => c.model));
    }
  }
  const other = (id: string) => models.get(id)!.find((m) => m !== chosen.get(id))!;
  const [a0, a1, a2] = ids.a;
  const fb = await call(mf, "POST", "/v1/feedback", {
    body: {
      items: [
        { decision_id: a0, model: chosen.get(a0), success: true, output_tokens: 12, cost_usd: 0.002 },
        { decision_id: a1, model: chosen.get(a1), score: 0.3 },
        { decision_id: a1, model: other(a1), success: true },
        { decision_id: a2, model: other(a2), success: false },
      ],
    },
    headers: auth("k-a"),
  });
  expect(fb.status).toBe(200);
  const fbB = await call(mf, "POST", "/v1/feedback", { body: { decision_id: ids.b[0], model: chosen.get(ids.b[0]), success: true }, headers: auth("k-b") });
  expect(fbB.status).toBe(200);
});
afterAll(async () => {
  await mf?.dispose();
  rmSync(root, { recursive: true, force: true });
});

async function exportAs(key: string, query = "") {
  const r = await call(mf, "GET", `/v1/export${query}`, { headers: auth(key) });
  const lines = r.status === 200 ? r.text.trim().split("\n").map((l) => ExportLine.parse(JSON.parse(l))) : [];
  const decisions = lines.filter((l): l is ExportDecision => l.type === "decision");
  return { r, decisions, end: lines[lines.length - 1] as ExportEnd | undefined };
}

describe("GET /v1/export", () => {
  it("gives a key its own decisions in log order, each with every feedback row, and an end line", async () => {
    const { r, decisions, end } = await exportAs("k-a");
    expect(r.status).toBe(200);
    expect(r.headers.get("content-type")).toMatch(/^application\/x-ndjson/);
    expect(decisions.map((d) => d.decision_id)).toEqual(ids.a);
    expect(decisions.every((d) => d.key_id === "a" && d.prompt_text === null && /^[0-9a-f]{64}$/.test(d.prompt_hmac))).toBe(true);
    expect(end).toEqual({ type: "end", rows: 5, next_cursor: null, resume_cursor: expect.any(String) });
    const [d0, d1, d2, d3] = decisions;
    expect(d0.feedback).toEqual([expect.objectContaining({ model: chosen.get(d0.decision_id), success: true, reward: 1, output_tokens: 12, cost_usd: 0.002 })]);
    expect(d1.feedback.map((f) => f.model).sort()).toEqual([chosen.get(d1.decision_id), models.get(d1.decision_id)!.find((m) => m !== chosen.get(d1.decision_id))].sort());
    expect(d1.feedback.find((f) => f.model === chosen.get(d1.decision_id))).toMatchObject({ success: null, score: 0.3, reward: 0.3 });
    expect(d2.feedback).toHaveLength(1);
    expect(d3.feedback).toEqual([]);
  });
  it("never leaks another key's decisions; admin exports every key's", async () => {
    const b = await exportAs("k-b");
    expect(b.decisions.map((d) => d.decision_id)).toEqual(ids.b);
    expect(b.decisions[0].prompt_text).toBe("b prompt 0");
    expect(b.decisions.some((d) => ids.a.includes(d.decision_id))).toBe(false);
    const all = await exportAs("k-root");
    expect(new Set(all.decisions.map((d) => d.decision_id))).toEqual(new Set([...ids.a, ...ids.b]));
    // A cursor taken from the admin's view does not widen a's.
    const adminPage = await exportAs("k-root", "?limit=1");
    const after = await exportAs("k-a", `?cursor=${adminPage.end!.next_cursor}`);
    expect(after.decisions.every((d) => d.key_id === "a")).toBe(true);
  });
  it("pages by cursor: every decision exactly once, the next cursor in header, Link and end line", async () => {
    const seen: string[] = [];
    let query = "?limit=2";
    const sizes: number[] = [];
    for (;;) {
      const { r, decisions, end } = await exportAs("k-a", query);
      sizes.push(decisions.length);
      seen.push(...decisions.map((d) => d.decision_id));
      expect(r.headers.get("x-preflight-next-cursor")).toBe(end!.next_cursor);
      if (end!.next_cursor === null) {
        expect(r.headers.get("link")).toBeNull();
        break;
      }
      expect(r.headers.get("link")).toBe(`</v1/export?since=0&limit=2&cursor=${end!.next_cursor}>; rel="next"`);
      query = `?limit=2&cursor=${end!.next_cursor}`;
    }
    expect(sizes).toEqual([2, 2, 1]);
    expect(seen).toEqual(ids.a);
  });
  it("since filters by time, and the resume cursor returns only newer decisions", async () => {
    const first = await exportAs("k-a");
    const late = Math.max(...first.decisions.map((d) => d.ts)) + 1;
    expect((await exportAs("k-a", `?since=${late}`)).decisions).toEqual([]);
    const r = await call(mf, "POST", "/v1/route", { body: { prompt: "a prompt late" }, headers: auth("k-a") });
    ids.a.push(r.body.decision_id);
    const newer = await exportAs("k-a", `?cursor=${first.end!.resume_cursor}`);
    expect(newer.decisions.map((d) => d.decision_id)).toEqual([r.body.decision_id]);
  });
  it("refuses a key without the export scope, a foreign cursor and a limit over 5000", async () => {
    expect((await exportAs("k-plain")).r.status).toBe(403);
    expect((await call(mf, "GET", "/v1/export")).status).toBe(401);
    const bad = await exportAs("k-a", "?cursor=abc");
    expect(bad.r.status).toBe(422);
    expect(bad.r.body.errors[0].path).toBe("query.cursor");
    expect((await exportAs("k-a", "?limit=5001")).r.body.errors[0].path).toBe("query.limit");
    expect((await exportAs("k-a", "?nope=1")).r.status).toBe(422);
  });
});

describe("pipeline pull against the worker", () => {
  const fetchImpl: FetchLike = async (url, init) => (await mf.dispatchFetch(url, init)) as unknown as Response;
  it("writes an outcome row per decision with feedback on its chosen model; texts join back by HMAC", async () => {
    const out = join(root, "rows.jsonl");
    const bare = await pullRows(exportPages("http://localhost", "k-a", 0, fetchImpl, 2), out);
    expect(bare).toMatchObject({ decisions: ids.a.length, written: 0, no_text: 2 });
    const texts = join(root, "texts.jsonl");
    writeFileSync(texts, [0, 1, 2, 3, 4].map((i) => JSON.stringify({ prompt: `a prompt ${i}` })).join("\n") + "\n");
    const s = await pullRows(exportPages("http://localhost", "k-a", 0, fetchImpl, 2), out, await textsByHmac(texts, HMAC_KEY));
    expect(s).toMatchObject({ written: 2, joined_by_hmac: 2, no_text: 0, no_feedback: ids.a.length - 2 });
    const rows = readFileSync(out, "utf8").trim().split("\n").map((l) => OutcomeRow.parse(JSON.parse(l)));
    expect(rows.map((r) => [r.id, r.prompt])).toEqual([
      [ids.a[0], "a prompt 0"],
      [ids.a[1], "a prompt 1"],
    ]);
    expect(rows[0].outcomes).toEqual({ [chosen.get(ids.a[0])!]: { n: 1, k: 1, output_tokens: 12, cost_usd: 0.002 } });
    expect(rows[1].outcomes).toEqual({ [chosen.get(ids.a[1])!]: { n: 1, k: 0 } });
    expect(rows[0].logged).toMatchObject({ decision_id: ids.a[0], chosen: chosen.get(ids.a[0]), propensity: 1, explored: false, bundle_id: "fixture-tiny" });
    // The exact bundle that chose (migration 0005): the digest every route answer names.
    const served = await call(mf, "POST", "/v1/route", { body: { prompt: "which bytes chose" }, headers: auth("k-a") });
    expect(served.body.artifact.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(rows.map((r) => r.logged?.bundle_sha256)).toEqual([served.body.artifact.sha256, served.body.artifact.sha256]);
  });
});
