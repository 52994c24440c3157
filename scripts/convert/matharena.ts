/**
 * MathArena (eth-sri/matharena, MIT) AIME 2025 I → outcomes rows + pool.
 * Reads data/aime/aime_2025_I/problems/<n>.tex (prompt),
 * site/static/js/table_data.json (per problem: each model's % correct over 4
 * samples → n=4, k=%/25; a "Cost" row: USD for the whole run, 15 problems × 4
 * samples → cost_usd per attempt = run cost / (problems × 4)) and configs_models_prices.csv
 * (prices). Must not invent prices: models absent from the price file are
 * left out of the pool (their outcomes stay).
 */
import { join } from "node:path";
import type { ModelOutcome, OutcomeRow, PoolConfig } from "../formats/outcomes.js";
import { accuracyStats, ConvertError, type ConvertResult, converterCommand, Fields, makeRow, readJson, readText, splitStats } from "./common.js";
import { parseCsv } from "./csv.js";
import { mergeRows } from "./merge.js";

export const SAMPLES_PER_PROBLEM = 4;
const COMPETITION = "data/aime/aime_2025_I";

/** Leaderboard name → human_readable_id in configs_models_prices.csv where they differ. */
const PRICE_NAME: Record<string, string> = {
  "DeepSeek-R1-Distill-Qwen-1.5B": "DeepSeek-R1-Distill-1.5B",
  "DeepSeek-R1-Distill-Qwen-14B": "DeepSeek-R1-Distill-14B",
  "DeepSeek-R1-Distill-Qwen-32B": "DeepSeek-R1-Distill-32B",
  "DeepSeek-R1-Distill-Llama-70B": "DeepSeek-R1-Distill-70B",
  "claude-3.5-sonnet": "Claude-3.5-Sonnet",
};

export async function convertMathArena(rawDir: string): Promise<ConvertResult> {
  const tableFile = join(rawDir, "site/static/js/table_data.json");
  const table = await readJson(tableFile);
  if (!Array.isArray(table)) throw new ConvertError(tableFile, -1, "(root)", "expected a JSON array");
  const runCost = new Map<string, number>();
  const problems: { index: number; f: Fields; q: number }[] = [];
  for (const [i, rec] of table.entries()) {
    const f = new Fields(tableFile, i, rec);
    const q = f.obj()["question"];
    if (q === "Cost") {
      for (const [m, v] of Object.entries(f.obj())) {
        // "$0.00*" (self-hosted) and "N/A" carry no cost; only positive numbers count.
        if (m !== "question" && typeof v === "number" && v > 0) runCost.set(m, v);
      }
    } else if (typeof q === "number" && Number.isInteger(q) && q >= 1) problems.push({ index: i, f, q });
    else if (q !== "Avg") f.error("question", `expected a problem number, "Avg" or "Cost", got ${JSON.stringify(q)}`);
  }
  const runAttempts = problems.length * SAMPLES_PER_PROBLEM;

  const rows: OutcomeRow[] = [];
  for (const { f, q } of problems) {
    const prompt = (await readText(join(rawDir, COMPETITION, "problems", `${q}.tex`))).trim();
    const outcomes: Record<string, ModelOutcome> = {};
    for (const m of Object.keys(f.obj()).filter((k) => k !== "question").sort()) {
      const pct = f.num(m, 0, 100);
      const k = (pct / 100) * SAMPLES_PER_PROBLEM;
      if (Math.abs(k - Math.round(k)) > 1e-6) f.error(m, `${pct}% is not a multiple of 1/${SAMPLES_PER_PROBLEM}`);
      const total = runCost.get(m);
      const cost = total === undefined ? undefined : total / runAttempts;
      outcomes[m] = { n: SAMPLES_PER_PROBLEM, k: Math.round(k), ...(cost !== undefined ? { cost_usd: cost } : {}) };
    }
    rows.push(makeRow({ prompt, task: "aime", source: "matharena", outcomes }));
  }
  const merged = mergeRows(rows, "error");
  const pool = await matharenaPool(rawDir, Object.keys(merged.rows[0]?.outcomes ?? {}));
  return {
    rows: merged.rows,
    pool,
    stats: { rows: merged.rows.length, pool_models: pool.models.length, ...merged.stats, ...splitStats(merged.rows), ...accuracyStats(merged.rows) },
  };
}

async function matharenaPool(rawDir: string, models: string[]): Promise<PoolConfig> {
  const file = join(rawDir, "configs_models_prices.csv");
  const byName = new Map<string, Fields>();
  for (const [i, rec] of parseCsv(await readText(file), file).entries()) {
    const f = new Fields(file, i, rec);
    const name = f.obj()["human_readable_id"];
    if (typeof name === "string" && name !== "" && !byName.has(name)) byName.set(name, f);
  }
  const priced = [];
  for (const id of models) {
    const f = byName.get(PRICE_NAME[id] ?? id);
    if (!f) continue;
    const price = (field: string) => {
      const v = Number(f.str(field));
      if (!Number.isFinite(v) || v < 0) f.error(field, `expected a non-negative number, got "${f.str(field)}"`);
      return v;
    };
    priced.push({
      id,
      provider: f.str("api"),
      input_per_mtok: price("read_cost_usd_per_Mtok"),
      output_per_mtok: price("write_cost_usd_per_Mtok"),
      // Reasoning models on AIME write long traces; no per-answer counts in this source.
      default_output_tokens: 8000,
      output_tokens_source: "estimate" as const,
      price_source: `matharena configs_models_prices.csv (${f.str("config")}, USD per 1M read/write tokens)`,
    });
  }
  return {
    name: "matharena-aime-2025-i",
    source: "MathArena (eth-sri/matharena, MIT) AIME 2025 I; default_output_tokens is a flat estimate for reasoning traces",
    models: priced,
  };
}

export default converterCommand(
  "convert-matharena",
  "Convert MathArena AIME 2025 I per-model scores (4 samples each) into outcomes JSONL",
  convertMathArena,
);
