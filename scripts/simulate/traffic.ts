/**
 * Simulated serving: requests are assigned to experiment arms by core's
 * assignVariant, routed by the arm's bundle through the worker's core path
 * (scripts/lib/ope/replay.ts), explored by core's epsilonGreedy with its true
 * propensity, answered by the world (success and cost of the called model),
 * and reported back as feedback for a share of decisions. The decisions are
 * written as the worker's export lines and turned into training rows by
 * `pipeline pull`'s own pullRows, so the log has exactly the pull format.
 * Must not train or gate.
 */
import { assignVariant, type Experiment } from "../../src/core/experiment.js";
import type { ExportDecision } from "../../src/core/export-row.js";
import { epsilonGreedy } from "../../src/core/explore.js";
import type { Policy } from "../../src/core/policy.js";
import type { Rng } from "../../src/core/random.js";
import { OutcomeRow } from "../formats/outcomes.js";
import { readJsonl } from "../lib/jsonl.js";
import type { BundleFiles, Replayer, Routed } from "../lib/ope/replay.js";
import { pullRows, type PullSummary } from "../stages/pull.js";
import type { WorldPrompt } from "./world.js";

/** A bundle the simulator serves or evaluates, with its routes cached per prompt text (the policy is fixed per run). */
export interface SimBundle {
  id: string;
  files: BundleFiles;
  replayer: Replayer;
  routes: Map<string, Routed>;
}

/** Routes (cached) of `prompts` under `policy`. */
export async function routesOf(b: SimBundle, prompts: WorldPrompt[], policy: Policy): Promise<Routed[]> {
  const missing = [...new Set(prompts.map((p) => p.text).filter((t) => !b.routes.has(t)))];
  if (missing.length > 0) {
    const r = await b.replayer.route(missing, policy);
    missing.forEach((t, i) => b.routes.set(t, r[i]));
  }
  return prompts.map((p) => b.routes.get(p.text)!);
}

/** True mean success, cost and utility of a bundle's greedy routing on `prompts` (every counterfactual known). */
export async function trueValue(b: SimBundle, prompts: WorldPrompt[], policy: Policy, lambda: number): Promise<{ success: number; cost: number; utility: number }> {
  const routes = await routesOf(b, prompts, policy);
  let s = 0;
  let c = 0;
  routes.forEach((r, i) => {
    if (r.greedy === null) return;
    s += prompts[i].success[r.greedy];
    c += prompts[i].cost[r.greedy];
  });
  const n = Math.max(prompts.length, 1);
  return { success: s / n, cost: c / n, utility: (s - lambda * c) / n };
}

export interface ServeArm {
  name: string;
  weight: number;
  bundle: SimBundle;
  epsilon: number;
}

export interface ServeResult {
  rows: OutcomeRow[];
  pull: PullSummary;
  /** Per arm: decisions, and mean success / utility over the decisions that got feedback (what the experiment report sees). */
  arms: Record<string, { decisions: number; feedback: number; success: number[]; utility: number[] }>;
  feedbackSent: number;
}

export async function serve(opts: {
  requests: WorldPrompt[];
  experiment: string;
  arms: ServeArm[];
  policy: Policy;
  lambda: number;
  rng: Rng;
  feedbackRate: number;
  idPrefix: string;
  ts0: number;
  out: string;
}): Promise<ServeResult> {
  const exp: Experiment = { name: opts.experiment, variants: opts.arms.map((a) => ({ name: a.name, weight: a.weight, bundle: a.bundle.id, epsilon: a.epsilon })) };
  const byName = new Map(opts.arms.map((a) => [a.name, a]));
  for (const a of opts.arms) await routesOf(a.bundle, opts.requests, opts.policy);
  const arms: ServeResult["arms"] = Object.fromEntries(opts.arms.map((a) => [a.name, { decisions: 0, feedback: 0, success: [], utility: [] }]));
  let feedbackSent = 0;
  const decisions: ExportDecision[] = opts.requests.map((w, i) => {
    const id = `${opts.idPrefix}-${i}`;
    const arm = byName.get(assignVariant(exp, id).name)!;
    const route = arm.bundle.routes.get(w.text)!;
    const models = route.cands.map((c) => c.model);
    const x = route.greedy === null ? null : epsilonGreedy(route.greedy, models, arm.epsilon, opts.rng(), opts.rng());
    const chosen = x?.model ?? null;
    const stats = arms[arm.name];
    stats.decisions++;
    const feedback: ExportDecision["feedback"] = [];
    if (chosen !== null && opts.rng() < opts.feedbackRate) {
      const ok = opts.rng() < w.success[chosen]; // success rates are 0/1 in LLMRouter; a rate in between is a coin flip
      feedback.push({ model: chosen, reward: ok ? 1 : 0, success: ok, score: null, output_tokens: null, cost_usd: w.cost[chosen], latency_ms: null, updated_at: opts.ts0 + i });
      feedbackSent++;
      stats.feedback++;
      stats.success.push(ok ? 1 : 0);
      stats.utility.push((ok ? 1 : 0) - opts.lambda * w.cost[chosen]);
    }
    return {
      type: "decision",
      decision_id: id,
      ts: opts.ts0 + i,
      key_id: "sim",
      experiment: opts.experiment,
      variant: arm.name,
      bundle_id: arm.bundle.id,
      policy: opts.policy,
      candidates: route.cands,
      chosen,
      propensity: x?.propensity ?? 1,
      explored: x?.explored ?? false,
      prompt_hmac: w.id,
      input_tokens: route.inputTokens,
      prompt_text: w.text,
      feedback,
    };
  });
  async function* iterate() {
    yield* decisions;
  }
  const pull = await pullRows(iterate(), opts.out);
  const rows: OutcomeRow[] = [];
  for await (const { value } of readJsonl(opts.out, OutcomeRow)) rows.push(value);
  return { rows, pull, arms, feedbackSent };
}
