/**
 * Simulator smoke test (issue 19 item 6) on a tiny world: the split keeps
 * evaluation prompts out of every training and gate set, one round runs end
 * to end (serve → pull-format log → IPS build → gate → true values), the log
 * is valid pull output with true propensities, and the counts add up.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { OutcomeRow } from "../../scripts/formats/outcomes.js";
import { readJsonl } from "../../scripts/lib/jsonl.js";
import { DEFAULT_LOOP, runLoop } from "../../scripts/simulate/loop.js";
import { buildWorld, DEFAULT_MIX, mixOf, splitWorld } from "../../scripts/simulate/world.js";
import { SIM_FEATURIZER } from "../../scripts/simulate/bundles.js";

const dir = mkdtempSync(join(tmpdir(), "sim-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function row(i: number, task: string): OutcomeRow {
  return { id: `p${i}`, prompt: `${task} question number ${i}: ${"word ".repeat(i % 7)}`, task, outcomes: { a: { n: 1, k: i % 2 }, b: { n: 1, k: (i >> 1) % 2 } } };
}

describe("world split", () => {
  it("keeps evaluation prompts disjoint from base and traffic, and the traffic heavy in the heavy tasks", () => {
    const rows = Array.from({ length: 400 }, (_, i) => row(i, i % 4 === 0 ? "gsm8k" : "mmlu"));
    const pool = { name: "t", models: ["a", "b"].map((id) => ({ id, provider: "p", input_per_mtok: 1, output_per_mtok: 1, default_output_tokens: 10, output_tokens_source: "estimate" as const, price_source: "test" })) };
    const world = buildWorld(rows, pool, SIM_FEATURIZER);
    const s = splitWorld(world, 1, DEFAULT_MIX);
    const evalTexts = new Set(s.evaluation.map((w) => w.text));
    for (const part of [s.base, s.trafficTrain, s.trafficGate]) expect(part.some((w) => evalTexts.has(w.text))).toBe(false);
    const gate = new Set(s.trafficGate.map((w) => w.text));
    expect(s.trafficTrain.some((w) => gate.has(w.text))).toBe(false);
    expect(mixOf(s.base).heavy).toBe(0);
    expect(mixOf([...s.trafficTrain, ...s.trafficGate]).heavy_share).toBeCloseTo(0.7, 1);
  });
});

describe("one simulated round on a tiny LLMRouter world", () => {
  it(
    "serves, logs in pull format, builds, gates and measures",
    async () => {
      const res = await runLoop({ ...DEFAULT_LOOP, seeds: [1], rounds: 1, requests: 800, canaryRequests: 200, worldLimit: 700, dir });
      const r = res.seeds[0].rounds[0];
      expect(r.sent.decisions).toBe(800);
      // Utility policies never abstain, so every decision with feedback becomes a pulled row.
      expect(r.stored.pulled).toBe(r.sent.feedback);
      expect(r.stored.no_feedback).toBe(800 - r.sent.feedback);
      expect(r.stored.train_rows + r.stored.gate_rows_total).toBe(r.stored.pulled + (r.canary ? r.canary.control.n + r.canary.candidate.n : 0));
      expect(r.gate.candidate.n).toBe(r.gate.inverted.n);
      for (const v of Object.values(r.true)) expect(Math.abs(v.utility)).toBeLessThanOrEqual(1);
      // The log is valid pull output: one outcome, the chosen model's, and an ε-greedy propensity.
      const eps = DEFAULT_LOOP.epsilon;
      const K = 9;
      let n = 0;
      for await (const { value } of readJsonl(join(dir, "seed-1", "log-r1.jsonl"), OutcomeRow)) {
        expect(Object.keys(value.outcomes)).toEqual([value.logged!.chosen]);
        const p = value.logged!.propensity;
        expect([1 - eps + eps / K, eps / K].some((q) => Math.abs(q - p) < 1e-12)).toBe(true);
        n++;
      }
      expect(n).toBe(r.stored.pulled);
      expect(res.summary.coverage.n).toBe(1);
    },
    180_000,
  );
});
