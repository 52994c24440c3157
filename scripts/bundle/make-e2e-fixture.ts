/**
 * Writes the small end-to-end pipeline fixture (test/fixtures/e2e): outcomes
 * for a 2-model pool, a pool config, and SYNTHETIC teacher activations in the
 * safetensors store layout. It exercises the plumbing (ingest → probes →
 * teacher logits → distill with unlabelled rows → bundle → worker), not the
 * science: real activations come from the testbed. Deterministic from a seed.
 *
 * World: addition prompts. Each model fails more as its own hidden difficulty
 * grows (tiny-lm: carries; big-lm: digits). Layer 1 of each model's
 * activations encodes that model's hidden difficulty plus noise; layer 0 is noise.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { gaussian, mulberry32 } from "../../src/core/random.js";
import { ActivationWriter } from "../lib/activations/store.js";

const D = 16;
const MODELS = ["tiny-lm", "big-lm"] as const;

function carries(a: number, b: number): number {
  let c = 0;
  let carry = 0;
  while (a > 0 || b > 0) {
    carry = (a % 10) + (b % 10) + carry >= 10 ? 1 : 0;
    c += carry;
    a = Math.floor(a / 10);
    b = Math.floor(b / 10);
  }
  return c;
}

export async function makeE2eFixture(dir: string, labelled = 600, unlabelled = 400, seed = 11) {
  const rng = mulberry32(seed);
  mkdirSync(dir, { recursive: true });
  const rows: { id: string; prompt: string; split: string; outcomes: Record<string, { n: number; k: number }>; hidden: Record<string, number> }[] = [];
  const total = labelled + unlabelled;
  for (let i = 0; i < total; i++) {
    const digits = 1 + Math.floor(rng() * 5);
    const a = Math.floor(rng() * 10 ** digits);
    const b = Math.floor(rng() * 10 ** digits);
    const hidden = { "tiny-lm": carries(a, b) / 2 - 0.5, "big-lm": digits / 2 - 1.5 };
    const split = i >= labelled ? "unlabelled" : ["train", "train", "train", "train", "train", "train", "val", "cal", "test", "test"][i % 10];
    const outcomes: Record<string, { n: number; k: number }> = {};
    if (split !== "unlabelled") {
      for (const m of MODELS) {
        const p = 1 / (1 + Math.exp(2 * hidden[m]));
        let k = 0;
        for (let s = 0; s < 5; s++) if (rng() < p) k++;
        outcomes[m] = { n: 5, k };
      }
    }
    rows.push({ id: `e2e-${i}`, prompt: `What is ${a} + ${b}?`, split, outcomes, hidden });
  }
  const outcomes = rows.map(({ hidden: _h, ...r }) => JSON.stringify({ ...r, task: "addition" })).join("\n") + "\n";
  writeFileSync(join(dir, "outcomes.jsonl"), outcomes);
  const pool = {
    name: "e2e",
    source: "synthetic e2e fixture (scripts/bundle/make-e2e-fixture.ts)",
    models: MODELS.map((id, i) => ({
      id,
      provider: "testbed",
      input_per_mtok: i === 0 ? 0.1 : 1,
      output_per_mtok: i === 0 ? 0.1 : 1,
      default_output_tokens: 8,
      output_tokens_source: "estimate",
      price_source: "synthetic: proportional to parameter count",
    })),
  };
  writeFileSync(join(dir, "pool.json"), JSON.stringify(pool, null, 2) + "\n");
  for (const [mi, m] of MODELS.entries()) {
    const dirA = join(dir, "activations");
    const w = await ActivationWriter.create({ dir: dirA, model: m, layers: [0, 1], totalRows: total, shardRows: 512, dtype: "F16" });
    const dirn = Float32Array.from({ length: D }, () => gaussian(rng));
    for (let start = 0; start < total; start += 100) {
      const chunk = rows.slice(start, start + 100);
      const l0 = new Float32Array(chunk.length * D);
      const l1 = new Float32Array(chunk.length * D);
      chunk.forEach((r, j) => {
        for (let d = 0; d < D; d++) {
          l0[j * D + d] = gaussian(rng);
          l1[j * D + d] = r.hidden[m] * dirn[d] + 0.5 * gaussian(rng) + 0.1 * mi;
        }
      });
      await w.append(chunk.map((r) => r.id), { 0: l0, 1: l1 });
    }
    await w.close();
  }
  return { rows: rows.length };
}
