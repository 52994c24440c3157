/**
 * How far expected cost is from realised cost: median absolute percentage
 * error (MdAPE) per model over rows whose outcomes carry measured
 * output_tokens (or cost_usd). Expected cost is what the worker would quote
 * (featurizer input tokens, the bundle's output_length lookup for the
 * prompt's family, pool prices); realised cost uses the same input tokens and
 * the measured output tokens (or the measured cost_usd). Owns the error
 * metric only; must not fit or choose estimators (scripts/stages/output-length.ts).
 */
import { expectedCostUsd, type Price } from "../../src/core/cost.js";
import { featurize, type FeaturizerSpec } from "../../src/core/featurizer.js";
import type { Manifest, PoolModel } from "../../src/core/manifest.js";
import { expectedOutputTokens, promptFamily, type OutputLengthTable, type PromptFamily } from "../../src/core/output-length.js";
import type { OutcomeRow } from "../formats/outcomes.js";
import { rowText } from "./score.js";

/** One (row, model) pair with a measured length. */
export interface LengthObs {
  model: string;
  family: PromptFamily;
  inputTokens: number;
  outputTokens: number | undefined;
  /** Measured cost of the answer when the source gives one (MathArena). */
  costUsd: number | undefined;
  price: Price;
  split: string | undefined;
}

/** Observations for every pool model on every row that carries output_tokens or cost_usd for it. */
export function lengthObservations(rows: OutcomeRow[], pool: PoolModel[], featurizer: FeaturizerSpec): LengthObs[] {
  const out: LengthObs[] = [];
  for (const r of rows) {
    const measured = pool.filter((m) => r.outcomes[m.id]?.output_tokens !== undefined || r.outcomes[m.id]?.cost_usd !== undefined);
    if (measured.length === 0) continue;
    const text = rowText(r);
    const inputTokens = featurize(text, featurizer).inputTokens;
    const family = promptFamily(text);
    for (const m of measured) {
      const o = r.outcomes[m.id];
      out.push({ model: m.id, family, inputTokens, outputTokens: o.output_tokens, costUsd: o.cost_usd, price: m, split: r.split });
    }
  }
  return out;
}

/** Median of |predicted − actual| / actual × 100 over pairs with actual > 0; null when none. */
export function mdape(predicted: number[], actual: number[]): number | null {
  const ape: number[] = [];
  for (let i = 0; i < actual.length; i++) if (actual[i] > 0) ape.push((Math.abs(predicted[i] - actual[i]) / actual[i]) * 100);
  if (ape.length === 0) return null;
  ape.sort((a, b) => a - b);
  const mid = ape.length >> 1;
  return ape.length % 2 ? ape[mid] : (ape[mid - 1] + ape[mid]) / 2;
}

export interface CostError {
  /** Pairs evaluated (rows with a measured length or cost for this model). */
  n: number;
  cost_mdape: number | null;
  output_tokens_mdape: number | null;
}

/** Realised cost of one observation: the measured cost, else the measured tokens at pool prices. */
export function realisedCost(o: LengthObs): number | undefined {
  if (o.costUsd !== undefined) return o.costUsd;
  return o.outputTokens === undefined ? undefined : expectedCostUsd(o.inputTokens, o.outputTokens, o.price);
}

/** Per model MdAPE of expected vs realised cost (and tokens) under `predict` (expected output tokens). */
export function costErrorByModel(obs: LengthObs[], predict: (o: LengthObs) => number): Record<string, CostError> {
  const by = new Map<string, { pc: number[]; ac: number[]; pt: number[]; at: number[] }>();
  for (const o of obs) {
    const real = realisedCost(o);
    if (real === undefined) continue;
    const a = by.get(o.model) ?? { pc: [], ac: [], pt: [], at: [] };
    const tokens = predict(o);
    a.pc.push(expectedCostUsd(o.inputTokens, tokens, o.price));
    a.ac.push(real);
    if (o.outputTokens !== undefined) {
      a.pt.push(tokens);
      a.at.push(o.outputTokens);
    }
    by.set(o.model, a);
  }
  const out: Record<string, CostError> = {};
  for (const [m, a] of [...by].sort(([x], [y]) => x.localeCompare(y))) {
    out[m] = { n: a.ac.length, cost_mdape: mdape(a.pc, a.ac), output_tokens_mdape: mdape(a.pt, a.at) };
  }
  return out;
}

/** Mean over models of a per-model figure, ignoring nulls; null when none. */
export function meanOver(errs: Record<string, CostError>, key: "cost_mdape" | "output_tokens_mdape"): number | null {
  const xs = Object.values(errs).flatMap((e) => (e[key] === null ? [] : [e[key]!]));
  return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null;
}

/** The bundle's own estimate for an observation: what the worker quotes for that prompt. */
export function bundlePredictor(manifest: Pick<Manifest, "pool" | "output_length">): (o: LengthObs) => number {
  const table: OutputLengthTable | undefined = manifest.output_length;
  const fallback = new Map(manifest.pool.map((m) => [m.id, m.default_output_tokens]));
  return (o) => expectedOutputTokens(table, o.model, o.family, o.inputTokens, fallback.get(o.model) ?? 0);
}

/** Test-split cost error of a bundle on rows, for the manifest's metrics (empty when no row has measured lengths). */
export function bundleCostError(manifest: Pick<Manifest, "pool" | "output_length" | "featurizer">, rows: OutcomeRow[]): Record<string, CostError> {
  return costErrorByModel(lengthObservations(rows, manifest.pool, manifest.featurizer), bundlePredictor(manifest));
}
