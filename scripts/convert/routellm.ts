/**
 * RouteLLM (lm-sys/RouteLLM, Apache-2.0) → outcomes rows + the 2-model pool.
 * Reads evals/gsm8k/gsm8k_responses.csv (correctness and full responses, so
 * output tokens are measured) and evals/mmlu/responses/mmlu_<subject>.csv
 * (correctness only). MMLU repeats 105 questions across subject files; those
 * are independent evaluations, so they are pooled (n=2), never dropped.
 * Prices are not in the RouteLLM data: see ROUTELLM_PRICES. Must not touch
 * mt_bench (judge scores, not success labels).
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
  readText,
  splitStats,
} from "./common.js";
import { parseCsv } from "./csv.js";
import { mergeRows } from "./merge.js";

export const ROUTELLM_MODELS = ["gpt-4-1106-preview", "mistralai/Mixtral-8x7B-Instruct-v0.1"] as const;

/** Public list prices, USD per 1M tokens (not in the RouteLLM files). */
export const ROUTELLM_PRICES: Record<(typeof ROUTELLM_MODELS)[number], { provider: string; input: number; output: number; source: string }> = {
  "gpt-4-1106-preview": {
    provider: "openai",
    input: 10,
    output: 30,
    source: "public OpenAI list price for gpt-4-1106-preview ($10 in / $30 out per 1M); not in the RouteLLM data",
  },
  "mistralai/Mixtral-8x7B-Instruct-v0.1": {
    provider: "nvidia",
    input: 0.6,
    output: 0.6,
    source:
      "llmrouter data/example_data/llm_candidates/default_llm.json, mixtral-8x7b-instruct-v0.1 (NVIDIA, $0.60/$0.60 per 1M), in line with common hosts; not in the RouteLLM data",
  },
};

export type RouteLLMSubset = "gsm8k" | "mmlu" | "all";

async function gsm8kRows(rawDir: string): Promise<OutcomeRow[]> {
  const file = join(rawDir, "evals/gsm8k/gsm8k_responses.csv");
  return parseCsv(await readText(file), file).map((rec, i) => {
    const f = new Fields(file, i, rec);
    const outcomes: Record<string, ModelOutcome> = {};
    for (const m of ROUTELLM_MODELS) {
      outcomes[m] = { n: 1, k: f.bool(m) ? 1 : 0, output_tokens: countOutputTokens(f.str(`${m}_response`, { nonEmpty: false })) };
    }
    return makeRow({ prompt: f.str("prompt"), task: "gsm8k", source: "routellm", outcomes });
  });
}

async function mmluRows(rawDir: string): Promise<OutcomeRow[]> {
  const dir = join(rawDir, "evals/mmlu/responses");
  let names: string[];
  try {
    names = (await readdir(dir)).filter((n) => /^mmlu_.+\.csv$/.test(n)).sort();
  } catch (e) {
    throw new ConvertError(dir, -1, "(dir)", `cannot list: ${(e as Error).message}`);
  }
  if (names.length === 0) throw new ConvertError(dir, -1, "(dir)", "no mmlu_<subject>.csv files");
  const rows: OutcomeRow[] = [];
  for (const name of names) {
    const file = join(dir, name);
    const subject = name.slice("mmlu_".length, -".csv".length);
    for (const [i, rec] of parseCsv(await readText(file), file).entries()) {
      const f = new Fields(file, i, rec);
      const outcomes: Record<string, ModelOutcome> = {};
      for (const m of ROUTELLM_MODELS) outcomes[m] = { n: 1, k: f.bool(m) ? 1 : 0 };
      rows.push(makeRow({ prompt: f.str("prompt"), task: `mmlu/${subject}`, source: "routellm", outcomes }));
    }
  }
  return rows;
}

/** Mean measured output tokens per model over rows that carry them; undefined if none. */
function meanTokens(rows: OutcomeRow[], model: string): number | undefined {
  let s = 0;
  let c = 0;
  for (const r of rows) {
    const t = r.outcomes[model]?.output_tokens;
    if (t !== undefined) {
      s += t;
      c++;
    }
  }
  return c > 0 ? s / c : undefined;
}

export function routellmPool(gsmRows: OutcomeRow[]): PoolConfig {
  return {
    name: "routellm",
    source:
      "RouteLLM (lm-sys/RouteLLM, Apache-2.0) evals/gsm8k + evals/mmlu; default_output_tokens = mean pre-tokenizer pieces of the GSM8K responses (MMLU has no responses)",
    models: ROUTELLM_MODELS.map((id) => {
      const p = ROUTELLM_PRICES[id];
      const mean = meanTokens(gsmRows, id);
      return {
        id,
        provider: p.provider,
        input_per_mtok: p.input,
        output_per_mtok: p.output,
        default_output_tokens: Math.round(mean ?? 0),
        output_tokens_source: mean === undefined ? ("estimate" as const) : ("measured" as const),
        price_source: p.source,
      };
    }),
  };
}

export async function convertRouteLLM(rawDir: string, subset: RouteLLMSubset = "all"): Promise<ConvertResult> {
  // The pool's measured lengths always come from GSM8K, whichever subset is emitted.
  const gsm = await gsm8kRows(rawDir);
  const raw = [...(subset !== "mmlu" ? gsm : []), ...(subset !== "gsm8k" ? await mmluRows(rawDir) : [])];
  const merged = mergeRows(raw, "pool");
  return {
    rows: merged.rows,
    pool: routellmPool(gsm),
    stats: { rows: merged.rows.length, ...merged.stats, ...splitStats(merged.rows), ...accuracyStats(merged.rows) },
  };
}

export default defineCommand({
  meta: { name: "convert-routellm", description: "Convert RouteLLM GSM8K/MMLU evals (GPT-4-1106 vs Mixtral-8x7B) into outcomes JSONL" },
  args: {
    ...CONVERT_ARGS,
    subset: { type: "enum", options: ["gsm8k", "mmlu", "all"], default: "all", description: "which evals to convert" },
  },
  async run({ args }) {
    await emitResult(await convertRouteLLM(args.in, args.subset as RouteLLMSubset), args.out, args.pool);
  },
});
