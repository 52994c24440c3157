/**
 * Evaluation inputs per (row, model): the student's calibrated P(success)
 * scored through onnxruntime-node (scripts/bundle/score-node.ts, exactly as
 * the worker scores), the cost used for routing, and the majority label.
 * Owns the cost rule and the row → text rule for evaluation; must not fit
 * baselines, compute metrics or write files.
 *
 * Cost rule, per row i and pool model m:
 *   the row's measured outcomes[m].cost_usd if present, else
 *   expectedCostUsd(inputTokens_i, outputTokens, pool prices of m) where
 *   inputTokens_i is the featurizer's count for the prompt and outputTokens
 *   is outcomes[m].output_tokens if measured, else m.default_output_tokens.
 * Success: majorityLabel(outcomes[m]) (k/n > 0.5); NaN when m is missing.
 */
import { calibratedP } from "../../src/core/scoring.js";
import { expectedCostUsd } from "../../src/core/cost.js";
import type { Manifest, PoolModel } from "../../src/core/manifest.js";
import { formatMessages } from "../../src/core/messages.js";
import { nodeScorer } from "../bundle/score-node.js";
import { majorityLabel, successRate, type OutcomeRow } from "../formats/outcomes.js";

/** The text the featurizer reads for a row: its prompt, or its formatted messages. */
export function rowText(row: OutcomeRow): string {
  return row.prompt ?? formatMessages(row.messages ?? []);
}

/** USD cost of row → model under the rule in the header. */
export function rowCost(row: OutcomeRow, model: PoolModel, inputTokens: number): number {
  const o = row.outcomes[model.id];
  if (o?.cost_usd !== undefined) return o.cost_usd;
  const out = o?.output_tokens ?? model.default_output_tokens;
  return expectedCostUsd(inputTokens, out, model);
}

/** 1/0 majority label, NaN when the model has no outcome on the row. */
export function rowSuccess(row: OutcomeRow, model: string): number {
  const o = row.outcomes[model];
  return o === undefined ? NaN : majorityLabel(o);
}

/** Success rate k/n, NaN when missing. */
export function rowRate(row: OutcomeRow, model: string): number {
  const o = row.outcomes[model];
  return o === undefined ? NaN : successRate(o);
}

/** Everything per (row, model) that metrics and routing need; columns follow `models` (pool order). */
export interface ScoredSet {
  models: string[];
  ids: string[];
  texts: string[];
  tasks: (string | undefined)[];
  inputTokens: number[];
  /** Raw student logits, [row][model]. */
  logits: number[][];
  /** Calibrated P(success), [row][model]. */
  p: number[][];
  /** 1 / 0 / NaN (missing), [row][model]. */
  success: number[][];
  rate: number[][];
  cost: number[][];
}

export const SCORE_BATCH = 64;

/**
 * Scores `rows` with the bundle's student in batches of SCORE_BATCH and
 * assembles the ScoredSet. Column order is the manifest's pool order.
 */
export async function scoreRows(manifest: Manifest, onnx: Uint8Array, rows: OutcomeRow[]): Promise<ScoredSet> {
  const models = manifest.pool.map((m) => m.id);
  const column = new Map(manifest.outputs.map((o) => [o.model, o.index]));
  const scorer = await nodeScorer(onnx, manifest.featurizer, { ...manifest.onnx.inputs, output: manifest.onnx.output });
  const texts = rows.map(rowText);
  const out: ScoredSet = { models, ids: [], texts, tasks: [], inputTokens: [], logits: [], p: [], success: [], rate: [], cost: [] };
  for (let start = 0; start < rows.length; start += SCORE_BATCH) {
    const scored = await scorer.score(texts.slice(start, start + SCORE_BATCH));
    scored.forEach(({ features, logits }, b) => {
      const row = rows[start + b];
      const raw = manifest.pool.map((m) => {
        const k = column.get(m.id);
        if (k === undefined || k >= logits.length) throw new Error(`evaluate: no student output for ${m.id}`);
        return logits[k];
      });
      out.ids.push(row.id);
      out.tasks.push(row.task);
      out.inputTokens.push(features.inputTokens);
      out.logits.push(raw);
      const p = calibratedP(logits, manifest);
      out.p.push(manifest.pool.map((m) => p[m.id]));
      out.success.push(models.map((m) => rowSuccess(row, m)));
      out.rate.push(models.map((m) => rowRate(row, m)));
      out.cost.push(manifest.pool.map((m) => rowCost(row, m, features.inputTokens)));
    });
  }
  return out;
}
