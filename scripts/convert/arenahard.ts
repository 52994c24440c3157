/**
 * Arena-Hard (lmarena/arena-hard-auto, Apache-2.0, data/arena-bench-v1) →
 * outcomes rows + a priced pool. Reads question.jsonl (300 single-turn
 * prompts), model_answer/*.jsonl (full answers: output tokens are measured
 * from the first turn's text) and model_judgment/*.jsonl (a GPT-4 judge's
 * 1–10 score of each answer against a GPT-4 reference). Success is
 * score ≥ threshold (default 8, justified in docs/data.md); a judgment
 * without a score is masked, never counted as failure. Models with answers but
 * no judgments carry no label and are left out. Must not read the reference
 * answers as a label source, and must not pick the threshold from outcomes.
 */
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { defineCommand } from "citty";
import type { ModelOutcome, OutcomeRow, PoolConfig } from "../formats/outcomes.js";
import {
  accuracyStats,
  ConvertError,
  type ConvertResult,
  CONVERT_ARGS,
  countOutputTokens,
  emitResult,
  Fields,
  makeRow,
  readJsonLines,
  splitStats,
} from "./common.js";
import { mergeRows } from "./merge.js";

export const ARENA_HARD_DEFAULT_THRESHOLD = 8;
const SUBDIR = "data/arena-bench-v1";

const NVIDIA = "llmrouter data/example_data/llm_candidates/default_llm.json (NVIDIA catalogue)";
const LIST = "public list price at the time of the answers (USD per 1M tokens); not in the arena-hard data";

/**
 * Prices, USD per 1M tokens. Arena-hard ships none. Closed models: the
 * vendor's public list price for that model (or its tier when the exact model
 * is retired). Open models: the NVIDIA-hosted entry of the same size class in
 * the LLMRouter price list we already use (documented per model in
 * docs/data.md). A model missing here is left out of the pool, not guessed.
 */
export const ARENA_HARD_PRICES: Record<string, { provider: string; input: number; output: number; source: string }> = {
  "gpt-4-0314": { provider: "openai", input: 30, output: 60, source: `OpenAI gpt-4 (8k) ${LIST}` },
  "gpt-4-1106-preview": { provider: "openai", input: 10, output: 30, source: `OpenAI gpt-4-1106-preview ${LIST}` },
  "gpt-3.5-turbo-1106": { provider: "openai", input: 1, output: 2, source: `OpenAI gpt-3.5-turbo-1106 ${LIST}` },
  "gpt-3.5-turbo": { provider: "openai", input: 1.5, output: 2, source: `OpenAI gpt-3.5-turbo-0613 (the alias's target then) ${LIST}` },
  "claude-1": { provider: "anthropic", input: 8, output: 24, source: `Anthropic Claude 2.x tier (claude-1 retired; same tier) ${LIST}` },
  "claude-2.1": { provider: "anthropic", input: 8, output: 24, source: `Anthropic claude-2.1 ${LIST}` },
  "claude-instant-1": { provider: "anthropic", input: 0.8, output: 2.4, source: `Anthropic claude-instant-1.2 ${LIST}` },
  "palm-2-chat-bison-001": {
    provider: "google",
    input: 2,
    output: 2,
    source: "Google Vertex chat-bison, $0.0005 per 1K characters at ≈4 characters per token (approximate); not in the arena-hard data",
  },
  "mistralai/Mixtral-8x7B-Instruct-v0.1": { provider: "nvidia", input: 0.6, output: 0.6, source: `${NVIDIA}, mixtral-8x7b-instruct-v0.1` },
  "mistralai/Mistral-7B-Instruct-v0.1": { provider: "nvidia", input: 0.2, output: 0.2, source: `${NVIDIA}, mistral-7b-instruct-v0.3 (7B class)` },
  "Starling-LM-7B-alpha": { provider: "nvidia", input: 0.2, output: 0.2, source: `${NVIDIA}, 7B class (mistral-7b-instruct-v0.3)` },
  "openchat_3.5": { provider: "nvidia", input: 0.2, output: 0.2, source: `${NVIDIA}, 7B class (mistral-7b-instruct-v0.3)` },
  "llama-13b": { provider: "nvidia", input: 0.3, output: 0.3, source: `${NVIDIA}, 12B class (mistral-nemo-12b-instruct)` },
  "vicuna-33b-v1.3": { provider: "nvidia", input: 0.9, output: 0.9, source: `${NVIDIA}, 49–70B class (no 30B entry; the next larger class)` },
  "Llama-2-70b-chat": { provider: "nvidia", input: 0.9, output: 0.9, source: `${NVIDIA}, 70B class (llama3-70b-instruct)` },
};

async function jsonlFiles(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir)).filter((n) => n.endsWith(".jsonl")).sort().map((n) => join(dir, n));
  } catch (e) {
    throw new ConvertError(dir, -1, "(dir)", `cannot list: ${(e as Error).message}`);
  }
}

/** model id → question id → output tokens of the first turn of the first choice. */
async function readAnswers(dir: string): Promise<Map<string, Map<string, number>>> {
  const out = new Map<string, Map<string, number>>();
  for (const file of await jsonlFiles(dir)) {
    for (const [i, rec] of (await readJsonLines(file)).entries()) {
      const f = new Fields(file, i, rec);
      const choices = f.obj()["choices"];
      const turns = Array.isArray(choices) ? (choices[0] as { turns?: unknown } | undefined)?.turns : undefined;
      // The questions are single-turn; a few answer files carry extra turns from an older question set: only turn 0 was judged.
      const text = Array.isArray(turns) ? turns[0] : undefined;
      if (typeof text !== "string") throw f.error("choices[0].turns[0]", `expected the answer text, got ${JSON.stringify(text)?.slice(0, 40)}`);
      const model = f.str("model_id");
      const byQ = out.get(model) ?? new Map<string, number>();
      byQ.set(f.str("question_id"), countOutputTokens(text));
      out.set(model, byQ);
    }
  }
  return out;
}

export async function convertArenaHard(rawDir: string, threshold = ARENA_HARD_DEFAULT_THRESHOLD): Promise<ConvertResult> {
  const base = join(rawDir, SUBDIR);
  const qFile = join(base, "question.jsonl");
  const prompts = new Map<string, string>();
  for (const [i, rec] of (await readJsonLines(qFile)).entries()) {
    const f = new Fields(qFile, i, rec);
    const turns = f.obj()["turns"];
    if (!Array.isArray(turns) || turns.length !== 1 || typeof turns[0] !== "string") throw f.error("turns", "expected exactly one string turn");
    prompts.set(f.str("question_id"), turns[0] as string);
  }
  const answers = await readAnswers(join(base, "model_answer"));
  const outcomes = new Map<string, Record<string, ModelOutcome>>();
  const stats: Record<string, number> = { threshold, unscored_judgments: 0 };
  const judged = new Set<string>();
  for (const file of await jsonlFiles(join(base, "model_judgment"))) {
    for (const [i, rec] of (await readJsonLines(file)).entries()) {
      const f = new Fields(file, i, rec);
      const qid = f.str("question_id");
      const model = f.str("model");
      if (!prompts.has(qid)) throw f.error("question_id", `not in question.jsonl: ${qid}`);
      const tokens = answers.get(model)?.get(qid);
      if (tokens === undefined) throw f.error("model", `no answer by "${model}" to question ${qid} in model_answer/`);
      judged.add(model);
      // A judge reply without a parsable rating has score null: masked, not a failure.
      if (f.obj()["score"] === null) {
        stats.unscored_judgments++;
        continue;
      }
      const score = f.num("score", 1, 10);
      const row = outcomes.get(qid) ?? {};
      if (row[model]) throw f.error("model", `second judgment of "${model}" on question ${qid}`);
      row[model] = { n: 1, k: score >= threshold ? 1 : 0, output_tokens: tokens };
      outcomes.set(qid, row);
    }
  }
  stats.judged_models = judged.size;
  stats.unjudged_answer_models = [...answers.keys()].filter((m) => !judged.has(m)).length;
  const rows: OutcomeRow[] = [...prompts].map(([qid, prompt]) =>
    makeRow({ prompt, task: "arena-hard", source: "arena-hard", outcomes: outcomes.get(qid) ?? {} }),
  );
  const merged = mergeRows(rows, "error");
  const pool = arenaHardPool(merged.rows, [...judged].sort());
  return {
    rows: merged.rows,
    pool,
    stats: { rows: merged.rows.length, pool_models: pool.models.length, ...stats, ...merged.stats, ...splitStats(merged.rows), ...accuracyStats(merged.rows) },
  };
}

/** Judged models with a known price; default_output_tokens = mean measured tokens. */
export function arenaHardPool(rows: OutcomeRow[], models: string[]): PoolConfig {
  return {
    name: "arena-hard",
    source:
      "Arena-Hard (lmarena/arena-hard-auto, Apache-2.0) arena-bench-v1; default_output_tokens = mean pre-tokenizer pieces of each model's answers; prices: see price_source",
    models: models.flatMap((id) => {
      const p = ARENA_HARD_PRICES[id];
      if (!p) return [];
      const toks = rows.flatMap((r) => (r.outcomes[id]?.output_tokens !== undefined ? [r.outcomes[id].output_tokens!] : []));
      return [
        {
          id,
          provider: p.provider,
          input_per_mtok: p.input,
          output_per_mtok: p.output,
          default_output_tokens: Math.round(toks.reduce((a, b) => a + b, 0) / Math.max(1, toks.length)),
          output_tokens_source: toks.length > 0 ? ("measured" as const) : ("estimate" as const),
          price_source: p.source,
        },
      ];
    }),
  };
}

export default defineCommand({
  meta: { name: "convert-arenahard", description: "Convert Arena-Hard (arena-bench-v1) judged answers of 15 models into outcomes JSONL" },
  args: {
    ...CONVERT_ARGS,
    threshold: { type: "string", default: String(ARENA_HARD_DEFAULT_THRESHOLD), description: "success = judge score ≥ this (1–10)" },
  },
  async run({ args }) {
    const t = Number(args.threshold);
    if (!Number.isFinite(t) || t < 1 || t > 10) throw new Error(`--threshold must be a number in [1, 10], got "${args.threshold}"`);
    await emitResult(await convertArenaHard(args.in, t), args.out, args.pool);
  },
});
