/**
 * Tests for scripts/convert/arenahard.ts on a tiny inline fixture written to a
 * temp dir in the raw arena-hard-auto layout: threshold labels, masked
 * unscored judgments, measured output tokens of turn 0 only, unjudged models
 * left out, the priced pool, and located errors. Must not read ../shared/data.
 */
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { convertArenaHard } from "../../scripts/convert/arenahard.js";
import { countOutputTokens } from "../../scripts/convert/common.js";
import { OutcomeRow, PoolConfig } from "../../scripts/formats/outcomes.js";

const tmps: string[] = [];
afterAll(async () => {
  for (const d of tmps) await rm(d, { recursive: true, force: true });
});

const jsonl = (rows: unknown[]) => rows.map((r) => JSON.stringify(r)).join("\n") + "\n";
const Q = [
  { question_id: "q1", category: "arena-bench-v1", turns: ["Write a Python function that reverses a list."] },
  { question_id: "q2", category: "arena-bench-v1", turns: ["What is 17 * 23?"] },
];
const answer = (model: string, qid: string, turns: string[]) => ({ question_id: qid, answer_id: `${model}-${qid}`, model_id: model, choices: [{ index: 0, turns }] });
const judgment = (model: string, qid: string, score: number | null) => ({ question_id: qid, model, judgment: "…", score });

/** Writes the fixture; `patch` overrides single files (path relative to data/arena-bench-v1). */
async function fixture(patch: Record<string, string> = {}): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "convert-arenahard-"));
  tmps.push(dir);
  const base = join(dir, "data/arena-bench-v1");
  const files: Record<string, string> = {
    "question.jsonl": jsonl(Q),
    "model_answer/gpt-4-0314.jsonl": jsonl([answer("gpt-4-0314", "q1", ["def rev(xs):\n    return xs[::-1]"]), answer("gpt-4-0314", "q2", ["17 * 23 = 391"])]),
    // Extra turns (an older question set) must be ignored: only turn 0 is judged.
    "model_answer/open.jsonl": jsonl([answer("my/open-7b", "q1", ["reversed(xs)", "second turn text that is long"]), answer("my/open-7b", "q2", ["391"])]),
    "model_answer/unjudged.jsonl": jsonl([answer("unjudged", "q1", ["x"]), answer("unjudged", "q2", ["y"])]),
    "model_judgment/gpt-4-0314.jsonl": jsonl([judgment("gpt-4-0314", "q1", 8), judgment("gpt-4-0314", "q2", 10)]),
    "model_judgment/open.jsonl": jsonl([judgment("my/open-7b", "q1", 7), judgment("my/open-7b", "q2", null)]),
    ...patch,
  };
  for (const [rel, text] of Object.entries(files)) {
    await mkdir(join(base, rel, ".."), { recursive: true });
    await writeFile(join(base, rel), text);
  }
  return dir;
}

describe("convertArenaHard", () => {
  it("labels score ≥ 8 as success, masks unscored judgments and measures turn-0 tokens", async () => {
    const { rows, pool, stats } = await convertArenaHard(await fixture());
    for (const r of rows) OutcomeRow.parse(r);
    const q1 = rows.find((r) => r.prompt === Q[0].turns[0])!;
    const q2 = rows.find((r) => r.prompt === Q[1].turns[0])!;
    expect(q1).toMatchObject({ task: "arena-hard", source: "arena-hard" });
    expect(q1.outcomes["gpt-4-0314"]).toEqual({ n: 1, k: 1, output_tokens: countOutputTokens("def rev(xs):\n    return xs[::-1]") });
    expect(q1.outcomes["my/open-7b"]).toEqual({ n: 1, k: 0, output_tokens: countOutputTokens("reversed(xs)") });
    expect(Object.keys(q2.outcomes)).toEqual(["gpt-4-0314"]);
    expect(rows.every((r) => r.outcomes["unjudged"] === undefined)).toBe(true);
    expect(stats).toMatchObject({ rows: 2, threshold: 8, unscored_judgments: 1, judged_models: 2, unjudged_answer_models: 1 });
    // Only models with a known price enter the pool; default_output_tokens is their measured mean.
    PoolConfig.parse(pool);
    expect(pool!.models.map((m) => [m.id, m.input_per_mtok, m.output_per_mtok, m.output_tokens_source])).toEqual([["gpt-4-0314", 30, 60, "measured"]]);
    const mean = (countOutputTokens("def rev(xs):\n    return xs[::-1]") + countOutputTokens("17 * 23 = 391")) / 2;
    expect(pool!.models[0].default_output_tokens).toBe(Math.round(mean));
  });

  it("the threshold is a parameter: 7 turns the score-7 answer into a success", async () => {
    const { rows } = await convertArenaHard(await fixture(), 7);
    expect(rows.find((r) => r.prompt === Q[0].turns[0])!.outcomes["my/open-7b"].k).toBe(1);
  });

  it("names file, record and field when a judged answer is missing", async () => {
    const dir = await fixture({ "model_judgment/open.jsonl": jsonl([judgment("my/open-7b", "q1", 7), judgment("nobody", "q2", 3)]) });
    await expect(convertArenaHard(dir)).rejects.toThrow(/model_judgment\/open\.jsonl record 1: field "model": no answer by "nobody"/);
  });

  it("rejects an out-of-range score and a multi-turn question", async () => {
    const bad = await fixture({ "model_judgment/open.jsonl": jsonl([judgment("my/open-7b", "q1", 11)]) });
    await expect(convertArenaHard(bad)).rejects.toThrow(/record 0: field "score": expected a number in \[1, 10\]/);
    const multi = await fixture({ "question.jsonl": jsonl([{ ...Q[0], turns: ["a", "b"] }, Q[1]]) });
    await expect(convertArenaHard(multi)).rejects.toThrow(/question\.jsonl record 0: field "turns"/);
  });
});
