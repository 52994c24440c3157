/**
 * Tests for scripts/convert/*: each source's converter on a tiny hand-made
 * raw-format fixture (test/fixtures/convert/<source>/), located errors on
 * malformed input, the merge (de-duplication) rule, id/split determinism,
 * and the committed data/derived/llmrouter.jsonl. Must not read
 * ../shared/data (the raw data is not part of the repo).
 */
import { cp, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { OutcomeRow, PoolConfig, type OutcomeRow as Row } from "../../scripts/formats/outcomes.js";
import { convertGsm } from "../../scripts/convert/gsm.js";
import { convertLLMRouter } from "../../scripts/convert/llmrouter.js";
import { convertMath } from "../../scripts/convert/math.js";
import { convertMathArena } from "../../scripts/convert/matharena.js";
import { mergeRows } from "../../scripts/convert/merge.js";
import { normalisePrompt, promptId, splitForId } from "../../scripts/convert/normalise.js";
import { convertRouteLLM } from "../../scripts/convert/routellm.js";
import { parseCsv } from "../../scripts/convert/csv.js";

const FIX = join(import.meta.dirname, "../fixtures/convert");
const tmps: string[] = [];
afterAll(async () => {
  for (const d of tmps) await rm(d, { recursive: true, force: true });
});

/** Copies a fixture source to a temp dir and overwrites one file in it. */
async function mutated(source: string, rel: string, text: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), `convert-${source}-`));
  tmps.push(dir);
  await cp(join(FIX, source), dir, { recursive: true });
  await writeFile(join(dir, rel), text);
  return dir;
}

const byPrompt = (rows: Row[], p: string) => rows.find((r) => r.prompt === p);

describe("normalise, id and split", () => {
  it("normalises NFKC and whitespace", () => {
    expect(normalisePrompt("  a\u00a0b\n\n c\tｄ ")).toBe("a b c d");
  });
  it("ids are 16 hex of sha256 of the normalised prompt and ignore whitespace/NFKC differences", () => {
    const id = promptId("What is 2 + 3?");
    expect(id).toMatch(/^[0-9a-f]{16}$/);
    expect(promptId(" What  is 2 +\n3? ")).toBe(id);
    expect(promptId("What is 2 + 4?")).not.toBe(id);
  });
  it("split is a pure function of the id with roughly 70/10/10/10 shares", () => {
    const counts: Record<string, number> = {};
    for (let i = 0; i < 5000; i++) {
      const id = promptId(`prompt number ${i}`);
      expect(splitForId(id)).toBe(splitForId(id));
      counts[splitForId(id)] = (counts[splitForId(id)] ?? 0) + 1;
    }
    expect(counts.train / 5000).toBeGreaterThan(0.67);
    expect(counts.train / 5000).toBeLessThan(0.73);
    for (const s of ["val", "cal", "test"]) {
      expect(counts[s] / 5000).toBeGreaterThan(0.08);
      expect(counts[s] / 5000).toBeLessThan(0.12);
    }
    // Bucket edges: first 8 hex mod 100.
    expect(splitForId("00000045" + "0".repeat(8))).toBe("train"); // 69
    expect(splitForId("00000046" + "0".repeat(8))).toBe("val"); // 70
    expect(splitForId("00000050" + "0".repeat(8))).toBe("cal"); // 80
    expect(splitForId("0000005a" + "0".repeat(8))).toBe("test"); // 90
  });
});

describe("csv", () => {
  it("handles quotes, doubled quotes, embedded newlines and CRLF", () => {
    const rows = parseCsv('a,b\r\n"x, ""y""","1\n2"\r\nplain,3\r\n', "t.csv");
    expect(rows).toEqual([
      { a: 'x, "y"', b: "1\n2" },
      { a: "plain", b: "3" },
    ]);
  });
  it("names the file and record on a column-count mismatch", () => {
    expect(() => parseCsv("a,b\n1,2\n3\n", "bad.csv")).toThrow(/bad\.csv record 1: .*expected 2 columns, got 1/);
  });
});

describe("convertLLMRouter", () => {
  it("joins tasks, encodes scores and prices the pool", async () => {
    const { rows, pool, stats } = await convertLLMRouter(join(FIX, "llmrouter"));
    expect(rows).toHaveLength(3);
    for (const r of rows) expect(() => OutcomeRow.parse(r)).not.toThrow();
    const q = byPrompt(rows, "What is 2 + 3?")!;
    expect(q).toMatchObject({ task: "gsm8k", source: "llmrouter", id: promptId("What is 2 + 3?"), split: splitForId(q.id) });
    expect(q.outcomes).toEqual({ "model-a": { n: 1, k: 1 }, "model-b": { n: 1, k: 0 } });
    // commongen coverage 0.75 of 4 concepts → 3 of 4.
    expect(byPrompt(rows, "dog, frisbee, catch, throw")!.outcomes["model-a"]).toEqual({ n: 4, k: 3 });
    // A text listed under two tasks: first listing wins, and it is counted.
    expect(byPrompt(rows, "Which is a mammal?\nA. trout\nB. whale")!.task).toBe("mmlu");
    expect(stats.ambiguous_task_queries).toBe(1);
    expect(PoolConfig.parse(pool)).toBeTruthy();
    expect(pool!.models.map((m) => m.id)).toEqual(["model-a", "model-b"]);
    expect(pool!.models[0]).toMatchObject({ provider: "nvidia", input_per_mtok: 0.2, output_per_mtok: 0.3, output_tokens_source: "estimate" });
    // Estimates: math 250, generation 40, multiple-choice 60 → mean 117.
    expect(pool!.models[0].default_output_tokens).toBe(117);
    expect(pool!.models[0].price_source).toMatch(/default_llm\.json/);
  });

  it("names file, record and field on malformed input", async () => {
    const rel = "data/dcrouter_preprocessed/train.json";
    const badScore = await mutated("llmrouter", rel, JSON.stringify([{ question: "What is 2 + 3?", scores: { "model-a": "yes" } }]));
    await expect(convertLLMRouter(badScore)).rejects.toThrow(/train\.json record 0: field "scores\.model-a": expected a score in \[0, 1\]/);
    const noQuestion = await mutated("llmrouter", rel, JSON.stringify([{ scores: { "model-a": 1 } }]));
    await expect(convertLLMRouter(noQuestion)).rejects.toThrow(/record 0: field "question": expected a string, got nothing \(missing\)/);
    const unjoined = await mutated("llmrouter", rel, JSON.stringify([{ question: "never asked", scores: { "model-a": 1 } }]));
    await expect(convertLLMRouter(unjoined)).rejects.toThrow(/record 0: field "question": no exactly matching "query"/);
    const fractional = await mutated("llmrouter", rel, JSON.stringify([{ question: "What is 2 + 3?", scores: { "model-a": 0.5 } }]));
    await expect(convertLLMRouter(fractional)).rejects.toThrow(/field "scores\.model-a": fractional score 0\.5 for task "gsm8k"/);
    const badJson = await mutated("llmrouter", rel, "[{");
    await expect(convertLLMRouter(badJson)).rejects.toThrow(/train\.json: field "\(json\)": malformed JSON/);
  });
});

describe("convertRouteLLM", () => {
  it("reads GSM8K with measured output tokens and pools MMLU duplicates", async () => {
    const gsm = await convertRouteLLM(join(FIX, "routellm"), "gsm8k");
    expect(gsm.rows).toHaveLength(2);
    const tom = byPrompt(gsm.rows, "Tom has 3 apples, buys 2. How many?")!;
    expect(tom.task).toBe("gsm8k");
    expect(tom.outcomes["gpt-4-1106-preview"].k).toBe(1);
    expect(tom.outcomes["mistralai/Mixtral-8x7B-Instruct-v0.1"].k).toBe(0);
    // 'He has 3 + 2 = 5 apples, "five" in words.' → He|has|3|+|2|=|5|apples|,|"|five|"|in|words|. = 15 pieces
    expect(tom.outcomes["gpt-4-1106-preview"].output_tokens).toBe(15);
    const mmlu = await convertRouteLLM(join(FIX, "routellm"), "mmlu");
    expect(mmlu.rows).toHaveLength(2);
    const codons = mmlu.rows.find((r) => r.prompt!.startsWith("Codons"))!;
    expect(codons.task).toBe("mmlu/anatomy"); // first file in sorted order wins
    expect(codons.outcomes["mistralai/Mixtral-8x7B-Instruct-v0.1"]).toEqual({ n: 2, k: 1 });
    expect(codons.outcomes["gpt-4-1106-preview"]).toEqual({ n: 2, k: 2 });
    expect(mmlu.stats["merge.duplicate_rows"]).toBe(1);
    const pool = PoolConfig.parse(gsm.pool);
    expect(pool.models.map((m) => [m.id, m.input_per_mtok, m.output_per_mtok, m.output_tokens_source])).toEqual([
      ["gpt-4-1106-preview", 10, 30, "measured"],
      ["mistralai/Mixtral-8x7B-Instruct-v0.1", 0.6, 0.6, "measured"],
    ]);
  });

  it("rejects a non-boolean correctness cell with file, record and field", async () => {
    const dir = await mutated(
      "routellm",
      "evals/gsm8k/gsm8k_responses.csv",
      "prompt,mistralai/Mixtral-8x7B-Instruct-v0.1,gpt-4-1106-preview,mistralai/Mixtral-8x7B-Instruct-v0.1_response,gpt-4-1106-preview_response\nq?,True,maybe,a,b\n",
    );
    await expect(convertRouteLLM(dir, "gsm8k")).rejects.toThrow(/gsm8k_responses\.csv record 0: field "gpt-4-1106-preview": expected a boolean/);
  });
});

describe("convertGsm, convertMath, convertMathArena", () => {
  it("grade-school-math: four GPT-3 variants with measured tokens", async () => {
    const { rows } = await convertGsm(join(FIX, "grade-school-math"));
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ task: "gsm8k", source: "grade-school-math" });
    // "3 - 2 = 1\nA: 1" → 3|-|2|=|1|A|:|1 = 8 pieces
    expect(rows[0].outcomes["gpt3-6b-finetuning"]).toEqual({ n: 1, k: 0, output_tokens: 8 });
    expect(Object.keys(rows[0].outcomes)).toHaveLength(4);
  });

  it("grade-school-math: a missing is_correct names the nested field", async () => {
    const dir = await mutated(
      "grade-school-math",
      "grade_school_math/data/example_model_solutions.jsonl",
      JSON.stringify({ question: "q", "6b_finetuning": { solution: "x" } }) + "\n",
    );
    await expect(convertGsm(dir)).rejects.toThrow(/example_model_solutions\.jsonl record 0: field "6b_finetuning\.is_correct"/);
  });

  it("MATH: level → human_difficulty, no outcomes, subject task", async () => {
    const { rows } = await convertMath(join(FIX, "math"));
    expect(rows.map((r) => [r.task, r.human_difficulty, r.outcomes])).toEqual([
      ["math/prealgebra", 1, {}],
      ["math/counting_probability", 3, {}],
    ]);
    const bad = await mutated("math", "data/math/test.jsonl", JSON.stringify({ problem: "p", level: "Level ?", type: "Algebra" }) + "\n");
    await expect(convertMath(bad)).rejects.toThrow(/test\.jsonl record 0: field "level": expected "Level 1".."Level 5", got "Level \?"/);
  });

  it("MathArena: n = 4 samples, cost per attempt, priced models only in the pool", async () => {
    const { rows, pool } = await convertMathArena(join(FIX, "matharena"));
    expect(rows).toHaveLength(2);
    expect(rows[0].prompt).toBe("Find $x$ if $x+1=2$.");
    // gpt-4o: run cost 0.4 over 2 problems × 4 samples = 0.05 per attempt; "N/A" cost is omitted.
    expect(rows[0].outcomes).toEqual({ "gpt-4o": { n: 4, k: 4, cost_usd: 0.05 }, "o1 (medium)": { n: 4, k: 3 } });
    expect(rows[1].outcomes["o1 (medium)"]).toEqual({ n: 4, k: 2 });
    expect(pool!.models.map((m) => [m.id, m.input_per_mtok, m.output_per_mtok])).toEqual([["gpt-4o", 2.5, 10]]);
  });
});

describe("mergeRows", () => {
  const row = (prompt: string, outcomes: Row["outcomes"], extra: Partial<Row> = {}): Row => ({
    id: promptId(prompt),
    prompt,
    split: splitForId(promptId(prompt)),
    outcomes,
    ...extra,
  });

  it("unions models across sources for the same normalised prompt", async () => {
    const a = (await convertRouteLLM(join(FIX, "routellm"), "gsm8k")).rows;
    const b = (await convertGsm(join(FIX, "grade-school-math"))).rows;
    const { rows, stats } = mergeRows([...a, ...b]);
    expect(rows).toHaveLength(2);
    const tom = rows.find((r) => r.id === promptId("Tom has 3 apples, buys 2. How many?"))!;
    expect(Object.keys(tom.outcomes).sort()).toHaveLength(6);
    expect(tom.source).toBe("routellm");
    expect(stats["merge.unioned_outcomes"]).toBe(4);
  });

  it("keeps one copy of identical duplicates and counts them", () => {
    const { rows, stats } = mergeRows([row("p", { m: { n: 1, k: 1 } }), row(" p ", { m: { n: 1, k: 1 } })]);
    expect(rows).toHaveLength(1);
    expect(rows[0].outcomes.m).toEqual({ n: 1, k: 1 });
    expect(stats["merge.identical_outcomes"]).toBe(1);
    expect(stats["merge.duplicate_rows"]).toBe(1);
  });

  it("errors on conflicting duplicates for the same model in error mode", () => {
    expect(() => mergeRows([row("p", { m: { n: 1, k: 1 } }), row("p", { m: { n: 1, k: 0 } })])).toThrow(
      /conflicting duplicate outcomes for row [0-9a-f]{16}, model "m"/,
    );
  });

  it("pools duplicates as independent samples in pool mode, weighting tokens by n", () => {
    const { rows } = mergeRows(
      [row("p", { m: { n: 1, k: 1, output_tokens: 10 } }), row("p", { m: { n: 3, k: 0, output_tokens: 30 } })],
      "pool",
    );
    expect(rows[0].outcomes.m).toEqual({ n: 4, k: 1, output_tokens: 25 });
  });

  it("fills human_difficulty from a later row and does not mutate inputs", () => {
    const a = row("p", { m: { n: 1, k: 1 } });
    const b = row("p", {}, { human_difficulty: 4 });
    const { rows } = mergeRows([a, b]);
    expect(rows[0].human_difficulty).toBe(4);
    expect(a.human_difficulty).toBeUndefined();
  });
});

describe("committed derived data", () => {
  it("data/derived/llmrouter.jsonl parses as OutcomeRow with 5,608 unique rows and 9 models each", async () => {
    const text = await readFile(join(import.meta.dirname, "../../data/derived/llmrouter.jsonl"), "utf8");
    const lines = text.split("\n").filter((l) => l !== "");
    expect(lines).toHaveLength(5608);
    const ids = new Set<string>();
    for (const l of lines) {
      const r = OutcomeRow.parse(JSON.parse(l));
      ids.add(r.id);
      expect(r.id).toBe(promptId(r.prompt!));
      expect(r.split).toBe(splitForId(r.id));
      expect(Object.keys(r.outcomes)).toHaveLength(9);
      expect(r.source).toBe("llmrouter");
    }
    expect(ids.size).toBe(5608);
  });

  it("data/pools/*.json parse as PoolConfig", async () => {
    for (const name of ["llmrouter", "routellm", "matharena-aime-2025-i"]) {
      const text = await readFile(join(import.meta.dirname, `../../data/pools/${name}.json`), "utf8");
      expect(PoolConfig.parse(JSON.parse(text)).models.length).toBeGreaterThan(0);
    }
  });
});
