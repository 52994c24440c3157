/**
 * De-duplication of converted rows by id (same normalised prompt), within or
 * across sources. Owns the merge rule only; must not read files.
 *   - outcomes are unioned per model;
 *   - the same model on both rows: mode "error" keeps one copy when the two
 *     outcomes are identical (the same record seen twice) and throws when they
 *     differ; mode "pool" treats them as independent samples and sums n and k
 *     (output_tokens: n-weighted mean; cost_usd: n-weighted mean);
 *   - first row wins for prompt, task and source; human_difficulty and
 *     human_features are filled from later rows when the first lacks them.
 * Counts of everything it did come back in stats.
 */
import type { ModelOutcome, OutcomeRow } from "../formats/outcomes.js";
import type { ConvertStats } from "./common.js";

export type MergeMode = "error" | "pool";

export class MergeConflictError extends Error {
  override readonly name = "MergeConflictError";
  constructor(
    readonly id: string,
    readonly model: string,
    readonly a: ModelOutcome,
    readonly b: ModelOutcome,
  ) {
    super(`conflicting duplicate outcomes for row ${id}, model "${model}": ${JSON.stringify(a)} vs ${JSON.stringify(b)}`);
  }
}

function sameOutcome(a: ModelOutcome, b: ModelOutcome): boolean {
  return a.n === b.n && a.k === b.k && a.output_tokens === b.output_tokens && a.cost_usd === b.cost_usd;
}

function weighted(a: number | undefined, na: number, b: number | undefined, nb: number): number | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return (a * na + b * nb) / (na + nb);
}

function pool(a: ModelOutcome, b: ModelOutcome): ModelOutcome {
  const out: ModelOutcome = { n: a.n + b.n, k: a.k + b.k };
  const tokens = weighted(a.output_tokens, a.n, b.output_tokens, b.n);
  const cost = weighted(a.cost_usd, a.n, b.cost_usd, b.n);
  if (tokens !== undefined) out.output_tokens = tokens;
  if (cost !== undefined) out.cost_usd = cost;
  return out;
}

export interface MergeResult {
  rows: OutcomeRow[];
  stats: ConvertStats;
}

/** Merges rows sharing an id; keeps first-seen order. Does not mutate its input. */
export function mergeRows(rows: OutcomeRow[], mode: MergeMode = "error"): MergeResult {
  const byId = new Map<string, OutcomeRow>();
  const stats: ConvertStats = {
    "merge.input_rows": rows.length,
    "merge.duplicate_rows": 0,
    "merge.identical_outcomes": 0,
    "merge.pooled_outcomes": 0,
    "merge.unioned_outcomes": 0,
    "merge.task_mismatches": 0,
  };
  for (const row of rows) {
    const seen = byId.get(row.id);
    if (!seen) {
      byId.set(row.id, { ...row, outcomes: { ...row.outcomes } });
      continue;
    }
    stats["merge.duplicate_rows"]++;
    if (seen.task !== row.task) stats["merge.task_mismatches"]++;
    if (seen.human_difficulty === undefined && row.human_difficulty !== undefined) seen.human_difficulty = row.human_difficulty;
    if (seen.human_features === undefined && row.human_features !== undefined) seen.human_features = row.human_features;
    for (const [model, o] of Object.entries(row.outcomes)) {
      const prev = seen.outcomes[model];
      if (!prev) {
        seen.outcomes[model] = o;
        stats["merge.unioned_outcomes"]++;
      } else if (mode === "pool") {
        seen.outcomes[model] = pool(prev, o);
        stats["merge.pooled_outcomes"]++;
      } else if (sameOutcome(prev, o)) {
        stats["merge.identical_outcomes"]++;
      } else {
        throw new MergeConflictError(row.id, model, prev, o);
      }
    }
  }
  const merged = [...byId.values()];
  stats["merge.output_rows"] = merged.length;
  return { rows: merged, stats };
}
