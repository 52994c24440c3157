/**
 * MATH test set (via ZubinGou/math-evaluation-harness, MIT) → prompt rows with
 * human difficulty. Reads data/math/test.jsonl {problem, level "Level N",
 * type}. There are no model outcomes in this source, so rows carry an empty
 * outcomes map and human_difficulty = N (1–5); merged with other sources
 * by id they lend the difficulty. Must not invent outcomes.
 */
import { join } from "node:path";
import type { OutcomeRow } from "../formats/outcomes.js";
import { type ConvertResult, converterCommand, Fields, makeRow, readJsonLines, splitStats } from "./common.js";
import { mergeRows } from "./merge.js";

/** "Intermediate Algebra" → "intermediate_algebra"; "Counting & Probability" → "counting_probability". */
export function subjectSlug(type: string): string {
  return type
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "_")
    .replace(/^_+|_+$/g, "");
}

export async function convertMath(rawDir: string): Promise<ConvertResult> {
  const file = join(rawDir, "data/math/test.jsonl");
  const levels: Record<string, number> = {};
  const rows: OutcomeRow[] = (await readJsonLines(file)).map((rec, i) => {
    const f = new Fields(file, i, rec);
    const levelText = f.str("level");
    const m = /^Level ([1-5])$/.exec(levelText.trim()) ?? f.error("level", `expected "Level 1".."Level 5", got "${levelText}"`);
    const level = Number(m[1]);
    levels[`level.${level}`] = (levels[`level.${level}`] ?? 0) + 1;
    return makeRow({
      prompt: f.str("problem"),
      task: `math/${subjectSlug(f.str("type"))}`,
      source: "math",
      human_difficulty: level,
      outcomes: {},
    });
  });
  const merged = mergeRows(rows, "error");
  return { rows: merged.rows, stats: { rows: merged.rows.length, ...merged.stats, ...levels, ...splitStats(merged.rows) } };
}

export default converterCommand(
  "convert-math",
  "Convert the MATH test set (5,000 problems, level 1–5) into outcome-less rows with human_difficulty",
  convertMath,
);
