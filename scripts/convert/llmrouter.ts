/**
 * LLMRouter (ulab-uiuc/LLMRouter, MIT) → outcomes rows + the 9-model pool.
 * Reads data/dcrouter_preprocessed/train.json (question, per-model scores),
 * joins each question by exact text to data/example_data/query_data/
 * default_query_train.jsonl (task_name) and prices the pool from
 * data/example_data/llm_candidates/default_llm.json. Must not guess a task:
 * an unjoined question is an error. Scores: 0/1 → n=1; commongen coverage is
 * a fraction of the comma-separated concepts → n = concepts, k = covered.
 */
import { join } from "node:path";
import type { ModelOutcome, OutcomeRow, PoolConfig } from "../formats/outcomes.js";
import {
  accuracyStats,
  ConvertError,
  type ConvertResult,
  converterCommand,
  estimatedOutputTokens,
  Fields,
  makeRow,
  readJson,
  readJsonLines,
  splitStats,
} from "./common.js";
import { mergeRows } from "./merge.js";

export const LLMROUTER_FILES = {
  scores: "data/dcrouter_preprocessed/train.json",
  queries: "data/example_data/query_data/default_query_train.jsonl",
  prices: "data/example_data/llm_candidates/default_llm.json",
} as const;

const EPS = 1e-6;

function toOutcome(f: Fields, model: string, score: unknown, task: string, question: string): ModelOutcome {
  const field = `scores.${model}`;
  if (typeof score !== "number" || !Number.isFinite(score) || score < 0 || score > 1) {
    return f.error(field, `expected a score in [0, 1], got ${JSON.stringify(score)}`);
  }
  if (score === 0 || score === 1) return { n: 1, k: score };
  if (task === "commongen") {
    const n = question.split(",").filter((c) => c.trim() !== "").length;
    const k = score * n;
    if (n > 0 && Math.abs(k - Math.round(k)) < EPS) return { n, k: Math.round(k) };
    return f.error(field, `commongen coverage ${score} is not a multiple of 1/${n} concepts`);
  }
  return f.error(field, `fractional score ${score} for task "${task}" (only commongen coverage may be fractional)`);
}

export async function convertLLMRouter(rawDir: string): Promise<ConvertResult> {
  const scoresFile = join(rawDir, LLMROUTER_FILES.scores);
  const queriesFile = join(rawDir, LLMROUTER_FILES.queries);
  const pricesFile = join(rawDir, LLMROUTER_FILES.prices);

  // Join table: first occurrence of each exact query text wins; a text listed
  // under two different tasks is counted as ambiguous.
  const taskOf = new Map<string, string>();
  let ambiguous = 0;
  for (const [i, rec] of (await readJsonLines(queriesFile)).entries()) {
    const f = new Fields(queriesFile, i, rec);
    const query = f.str("query");
    const task = f.str("task_name");
    const prev = taskOf.get(query);
    if (prev === undefined) taskOf.set(query, task);
    else if (prev !== task) ambiguous++;
  }

  const raw = await readJson(scoresFile);
  if (!Array.isArray(raw)) throw new ConvertError(scoresFile, -1, "(root)", "expected a JSON array of records");
  const rows: OutcomeRow[] = [];
  let models: string[] | undefined;
  for (const [i, rec] of raw.entries()) {
    const f = new Fields(scoresFile, i, rec);
    const question = f.str("question");
    const scores = f.object("scores");
    const task = taskOf.get(question) ?? f.error("question", `no exactly matching "query" in ${LLMROUTER_FILES.queries}`);
    const names = Object.keys(scores).sort();
    if (names.length === 0) f.error("scores", "expected at least one model score");
    models ??= names;
    const outcomes: Record<string, ModelOutcome> = {};
    for (const m of names) outcomes[m] = toOutcome(f, m, scores[m], task, question);
    rows.push(makeRow({ prompt: question, task, source: "llmrouter", outcomes }));
  }
  const merged = mergeRows(rows, "error");
  const pool = await llmrouterPool(pricesFile, models ?? [], merged.rows);
  return {
    rows: merged.rows,
    pool,
    stats: {
      rows: merged.rows.length,
      raw_records: raw.length,
      ambiguous_task_queries: ambiguous,
      ...merged.stats,
      ...splitStats(merged.rows),
      ...accuracyStats(merged.rows),
    },
  };
}

async function llmrouterPool(pricesFile: string, models: string[], rows: OutcomeRow[]): Promise<PoolConfig> {
  const prices = await readJson(pricesFile);
  const table = new Fields(pricesFile, -1, prices).obj();
  const defaultTokens = estimatedOutputTokens(rows.map((r) => r.task));
  return {
    name: "llmrouter",
    source: `LLMRouter (ulab-uiuc/LLMRouter, MIT): ${LLMROUTER_FILES.scores}; default_output_tokens = row-weighted mean of per-task-family estimates (docs/data.md)`,
    models: models.map((id) => {
      const f = new Fields(pricesFile, -1, table[id]);
      if (table[id] === undefined) f.error(id, "model from the scores file is missing from the price table");
      return {
        id,
        provider: f.str("service").toLowerCase(),
        input_per_mtok: f.num("input_price", 0),
        output_per_mtok: f.num("output_price", 0),
        default_output_tokens: defaultTokens,
        output_tokens_source: "estimate" as const,
        price_source: `llmrouter ${LLMROUTER_FILES.prices} (${id}: input_price/output_price, USD per 1M tokens, ${f.str("service")} hosted)`,
      };
    }),
  };
}

export default converterCommand(
  "convert-llmrouter",
  "Convert LLMRouter dcrouter scores (9 open models × 5,608 questions) into outcomes JSONL",
  convertLLMRouter,
);
