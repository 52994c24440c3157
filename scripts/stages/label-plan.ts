/**
 * Pipeline stage `label-plan`: which N prompts to run a new model on before
 * `add-model`. A new head learns, per task, how the new model differs from the
 * pool (the task prior's column) plus how it leans on the existing heads; a
 * uniform draw of 100 prompts gives the big tasks most of them and the small
 * ones two or three. The plan balances the draw over tasks instead: rounds
 * that take one not-yet-taken prompt from every task (tasks in a fresh random
 * order each round, prompts in a random order within a task), so every prefix
 * of the order is as balanced as the tasks' sizes allow and N = 50 is a prefix
 * of N = 100. What it buys is coverage: every task of the bundle gets outcomes
 * (add-model warns when one has fewer than 3). For AUROC it matters little
 * with add-model's default head (rate+heads, which borrows the pool's task
 * difficulty): on test, 76.8 vs 75.0% of the full-data lift at N = 25 and
 * 86.4 vs 88.8% at N = 100; it mattered with the older task+heads head at small
 * N (58 → 76% at N = 25). docs/student.md, "Choosing the prompts to label" and
 * "The rate block". Rows without a task form one group of their own, so a
 * pool without tasks gets a plain seeded shuffle.
 *
 * Pure: rows and a seed in, rows out; no I/O, no clock. Never plans a row
 * marked "test" (add-model ignores those; they stay for evaluation).
 */
import { mulberry32, permutation, type Rng } from "../../src/core/random.js";
import type { OutcomeRow } from "../formats/outcomes.js";

/** Group key of a row without a task. */
export const NO_TASK = "(no task)";

/**
 * An order of 0..tasks.length-1 that interleaves the groups: round r takes the
 * r-th prompt (in a seeded shuffle) of every group that still has one, groups
 * in a fresh seeded order each round.
 */
export function taskBalancedOrder(tasks: ReadonlyArray<string | undefined>, rng: Rng): number[] {
  const groups = new Map<string, number[]>();
  const shuffled = permutation(tasks.length, rng);
  for (const i of shuffled) {
    const key = tasks[i] ?? NO_TASK;
    const g = groups.get(key);
    if (g) g.push(i);
    else groups.set(key, [i]);
  }
  // Map order follows the shuffle, not the data; sort the keys so only the seed decides the rounds.
  const keys = [...groups.keys()].sort();
  const out: number[] = [];
  for (let round = 0; out.length < tasks.length; round++) {
    for (const k of permutation(keys.length, rng)) {
      const g = groups.get(keys[k])!;
      if (round < g.length) out.push(g[round]);
    }
  }
  return out;
}

export interface LabelPlanInput {
  rows: OutcomeRow[];
  /** How many prompts to plan (capped at the eligible rows; the result says when it was). */
  n: number;
  seed: number;
}

export interface LabelPlan {
  /** The planned rows, in plan order (any prefix is itself balanced). */
  rows: OutcomeRow[];
  /** Rows that could be planned (every row not marked "test"). */
  eligible: number;
  /** Planned rows per task (NO_TASK for rows without one), and each task's eligible rows. */
  byTask: Record<string, { planned: number; eligible: number }>;
}

export function labelPlan(input: LabelPlanInput): LabelPlan {
  if (!Number.isInteger(input.n) || input.n < 1) throw new Error(`label-plan: n must be a positive integer, got ${input.n}`);
  const pool = input.rows.filter((r) => r.split !== "test");
  const order = taskBalancedOrder(pool.map((r) => r.task), mulberry32(input.seed * 7919 + 17));
  const rows = order.slice(0, input.n).map((i) => pool[i]);
  const byTask: LabelPlan["byTask"] = {};
  for (const r of pool) (byTask[r.task ?? NO_TASK] ??= { planned: 0, eligible: 0 }).eligible++;
  for (const r of rows) byTask[r.task ?? NO_TASK].planned++;
  return { rows, eligible: pool.length, byTask };
}
