/**
 * The simulator's world (docs/loop-simulation.md): every LLMRouter prompt
 * with every pool model's known outcome, so any routing decision's success
 * and cost can be looked up, counterfactuals included. Splits the prompts,
 * per seed, into the default bundle's base training data, the SaaS traffic
 * (a different task mix) cut by prompt into a part logged rows may train on
 * and a part only the gate sees, and fresh held-out traffic for true values.
 * Texts are deduplicated first, so no evaluation prompt is ever trained on.
 * Must not route or train (loop.ts and traffic.ts do).
 */
import { expectedCostUsd } from "../../src/core/cost.js";
import { featurize, type FeaturizerSpec } from "../../src/core/featurizer.js";
import { unitInterval } from "../../src/core/hash.js";
import { mulberry32, permutation, type Rng } from "../../src/core/random.js";
import type { OutcomeRow, PoolConfig } from "../formats/outcomes.js";

export interface WorldPrompt {
  id: string;
  text: string;
  task: string;
  /** True success rate (k/n) of every pool model. */
  success: Record<string, number>;
  /** True cost (USD) of calling each model: input tokens as featurized, the pool's output tokens and prices. */
  cost: Record<string, number>;
  /** The labelled row itself (base and oracle data are written from it). */
  row: OutcomeRow;
}

export interface MixSpec {
  /** Tasks the SaaS traffic is heavy in; the base data has none of them. */
  heavyTasks: string[];
  /** Share of traffic (and of the evaluation traffic) drawn from heavyTasks. */
  heavyShare: number;
  /** Share of the heavy tasks' prompts kept for evaluation (the rest is traffic). */
  evalShare: number;
  /** Share of traffic prompts that only the gate sees (never trained on). */
  gateShare: number;
}

export const DEFAULT_MIX: MixSpec = {
  heavyTasks: ["mbpp", "human_eval", "gsm8k", "math", "agentverse-mgsm"],
  heavyShare: 0.7,
  evalShare: 0.4,
  gateShare: 0.5,
};

export interface WorldSplit {
  base: WorldPrompt[];
  /** Traffic prompts whose logged rows may be trained on. */
  trafficTrain: WorldPrompt[];
  /** Traffic prompts whose logged rows only the gate uses. */
  trafficGate: WorldPrompt[];
  /** Fresh traffic (same mix) for true values; disjoint from everything above. */
  evaluation: WorldPrompt[];
}

/** World prompts from labelled rows: duplicates by text dropped, rows missing a pool model dropped. */
export function buildWorld(rows: OutcomeRow[], pool: PoolConfig, spec: FeaturizerSpec): WorldPrompt[] {
  const seen = new Set<string>();
  const out: WorldPrompt[] = [];
  for (const r of rows) {
    const text = r.prompt;
    if (text === undefined || seen.has(text)) continue;
    if (!pool.models.every((m) => r.outcomes[m.id] !== undefined)) continue;
    seen.add(text);
    const inputTokens = featurize(text, spec).inputTokens;
    const success: Record<string, number> = {};
    const cost: Record<string, number> = {};
    for (const m of pool.models) {
      const o = r.outcomes[m.id];
      success[m.id] = o.k / o.n;
      cost[m.id] = expectedCostUsd(inputTokens, m.default_output_tokens, { input_per_mtok: m.input_per_mtok, output_per_mtok: m.output_per_mtok });
    }
    const { split: _drop, ...clean } = r;
    out.push({ id: r.id, text, task: r.task ?? "unknown", success, cost, row: clean });
  }
  return out;
}

function shuffled<T>(xs: T[], rng: Rng): T[] {
  const p = permutation(xs.length, rng);
  return Array.from(p, (i) => xs[i]);
}

/**
 * Per seed: heavy-task prompts → evaluation (evalShare) and traffic; other
 * prompts → just enough for traffic and evaluation at heavyShare, the rest is
 * the base data (so the base has no heavy-task prompt at all). Traffic is cut
 * into train and gate folds by a hash of the text.
 */
export function splitWorld(world: WorldPrompt[], seed: number, mix: MixSpec = DEFAULT_MIX): WorldSplit {
  const rng = mulberry32(seed);
  const heavySet = new Set(mix.heavyTasks);
  const heavy = shuffled(world.filter((w) => heavySet.has(w.task)), rng);
  const other = shuffled(world.filter((w) => !heavySet.has(w.task)), rng);
  const nEvalHeavy = Math.round(heavy.length * mix.evalShare);
  const otherFor = (nHeavy: number) => Math.round((nHeavy * (1 - mix.heavyShare)) / mix.heavyShare);
  const evalOther = otherFor(nEvalHeavy);
  const trafficOther = otherFor(heavy.length - nEvalHeavy);
  if (evalOther + trafficOther >= other.length) throw new Error("world: not enough other-task prompts for this mix");
  const evaluation = [...heavy.slice(0, nEvalHeavy), ...other.slice(0, evalOther)];
  const traffic = [...heavy.slice(nEvalHeavy), ...other.slice(evalOther, evalOther + trafficOther)];
  const base = other.slice(evalOther + trafficOther);
  const isGate = (w: WorldPrompt) => unitInterval(`sim-fold|${seed}|${w.text}`) < mix.gateShare;
  return { base, trafficTrain: traffic.filter((w) => !isGate(w)), trafficGate: traffic.filter(isGate), evaluation };
}

/** `n` requests drawn uniformly with replacement from the traffic prompts (a SaaS sees prompts recur). */
export function drawTraffic(prompts: WorldPrompt[], n: number, rng: Rng): WorldPrompt[] {
  return Array.from({ length: n }, () => prompts[Math.min(prompts.length - 1, Math.floor(rng() * prompts.length))]);
}

/** Task counts of a set of prompts, heavy tasks first: for stating the mix in the report. */
export function mixOf(prompts: WorldPrompt[], mix: MixSpec = DEFAULT_MIX): { heavy: number; other: number; heavy_share: number } {
  const heavySet = new Set(mix.heavyTasks);
  const heavy = prompts.filter((w) => heavySet.has(w.task)).length;
  return { heavy, other: prompts.length - heavy, heavy_share: prompts.length > 0 ? heavy / prompts.length : 0 };
}
