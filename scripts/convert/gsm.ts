/**
 * OpenAI grade-school-math (MIT) → outcomes rows. Reads
 * grade_school_math/data/example_model_solutions.jsonl: the 1,319 GSM8K test
 * questions × 4 GPT-3 variants, each {is_correct, solution}; output tokens
 * are measured from the solution text. No pool: these fine-tuned GPT-3
 * models have no public price. Must not read ground truth as a label source.
 */
import { join } from "node:path";
import type { ModelOutcome, OutcomeRow } from "../formats/outcomes.js";
import { accuracyStats, type ConvertResult, converterCommand, countOutputTokens, Fields, makeRow, readJsonLines, splitStats } from "./common.js";
import { mergeRows } from "./merge.js";

/** Raw field → model id in the outcomes. */
export const GSM_MODELS: Record<string, string> = {
  "6b_finetuning": "gpt3-6b-finetuning",
  "6b_verification": "gpt3-6b-verification",
  "175b_finetuning": "gpt3-175b-finetuning",
  "175b_verification": "gpt3-175b-verification",
};

export async function convertGsm(rawDir: string): Promise<ConvertResult> {
  const file = join(rawDir, "grade_school_math/data/example_model_solutions.jsonl");
  const rows: OutcomeRow[] = (await readJsonLines(file)).map((rec, i) => {
    const f = new Fields(file, i, rec);
    const outcomes: Record<string, ModelOutcome> = {};
    for (const [field, model] of Object.entries(GSM_MODELS)) {
      const sub = f.object(field);
      const solution = sub["solution"];
      const correct = sub["is_correct"];
      if (typeof solution !== "string") return f.error(`${field}.solution`, `expected a string, got ${JSON.stringify(solution)}`);
      if (typeof correct !== "boolean") return f.error(`${field}.is_correct`, `expected a boolean, got ${JSON.stringify(correct)}`);
      outcomes[model] = { n: 1, k: correct ? 1 : 0, output_tokens: countOutputTokens(solution) };
    }
    return makeRow({ prompt: f.str("question"), task: "gsm8k", source: "grade-school-math", outcomes });
  });
  const merged = mergeRows(rows, "error");
  return {
    rows: merged.rows,
    stats: { rows: merged.rows.length, ...merged.stats, ...splitStats(merged.rows), ...accuracyStats(merged.rows) },
  };
}

export default converterCommand(
  "convert-gsm",
  "Convert OpenAI grade-school-math example solutions (4 GPT-3 variants × GSM8K test) into outcomes JSONL",
  convertGsm,
);
