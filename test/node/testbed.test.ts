/**
 * The committed testbed fixture (testbed/, written by scripts/testbed/fixture.ts):
 * it stays within the 30 MB budget, and its ONNX LMs reproduce the
 * committed golden activation sample (every layer, float16) through the
 * pipeline's ONNX-teacher extractor, with the settings the world was built
 * with. The run through the pipeline to a bundle served in workerd is
 * test/worker/testbed-e2e.test.ts.
 */
import { mkdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { OutcomeRow } from "../../scripts/formats/outcomes.js";
import { streamActivations } from "../../scripts/lib/activations/store.js";
import { readJsonl } from "../../scripts/lib/jsonl.js";
import { extractTestbed } from "../../scripts/testbed/activations.js";
import { dirBytes, FIXTURE_BUDGET_BYTES, layersOf, SAMPLE_ROWS } from "../../scripts/testbed/fixture.js";
import { withinGroupDiff } from "../../scripts/testbed/evaluate.js";

const FIX = process.env.TESTBED_FIXTURE ?? "testbed";
const WORK = ".cache/testbed-test";
const models: string[] = JSON.parse(readFileSync(join(FIX, "layers.json"), "utf8")).map((x: { model: string }) => x.model);

async function readAll(dir: string, model: string, layers: number[]) {
  const out = new Map<string, Float32Array[]>();
  for await (const b of streamActivations({ dir, model, layers, batchRows: 4096 })) {
    b.ids.forEach((id, k) => out.set(id, layers.map((l) => b.layers[l].slice(k * b.d, (k + 1) * b.d))));
  }
  return out;
}

describe("committed testbed fixture", () => {
  const rows: OutcomeRow[] = [];
  beforeAll(async () => {
    for await (const { value } of readJsonl(join(FIX, "outcomes.jsonl"), OutcomeRow)) rows.push(value);
    rmSync(WORK, { recursive: true, force: true });
    mkdirSync(WORK, { recursive: true });
  });

  it("the committed fixture stays within the issue's 30 MB budget", () => {
    expect(dirBytes(FIX)).toBeLessThanOrEqual(FIXTURE_BUDGET_BYTES);
  });

  it("committed ONNX LMs reproduce the golden activation sample (every layer) via the ONNX-teacher extractor", async () => {
    const some = rows.filter((r) => r.split === "test").slice(0, SAMPLE_ROWS);
    for (const model of models) {
      const layers = layersOf(join(FIX, "models"), model);
      await extractTestbed({ modelsDir: join(FIX, "models"), model, prompts: some.map((r) => ({ id: r.id, text: r.prompt! })), outDir: join(WORK, "acts") });
      const want = await readAll(join(FIX, "activations-sample"), model, layers);
      const got = await readAll(join(WORK, "acts"), model, layers);
      expect([...got.keys()].sort()).toEqual(some.map((r) => r.id).sort());
      expect(want.size).toBe(SAMPLE_ROWS);
      for (const [id, g] of got) {
        const w = want.get(id)!;
        // float16 golden: agreement to its rounding (relative 2^-10), with an absolute floor near zero.
        g.forEach((x, l) => x.forEach((v, j) => expect(Math.abs(v - w[l][j])).toBeLessThan(2e-3 * Math.max(1, Math.abs(w[l][j])))));
      }
    }
  }, 120_000);
});

describe("withinGroupDiff (paired bootstrap of a within-group AUROC gap)", () => {
  // Two groups; within each, `good` ranks every success above every failure and `noise` ranks
  // them in an order unrelated to the label.
  const n = 400;
  const groups = Array.from({ length: n }, (_, i) => (i < n / 2 ? "g1" : "g2"));
  const y = Array.from({ length: n }, (_, i) => ((i * 7) % 5 < 2 ? 1 : 0));
  const lab = { y, rate: y, has: y.map(() => true) };
  const good = y.map((v, i) => v + 0.001 * ((i * 13) % 17));
  const noise = y.map((_, i) => ((i * 37) % 101) / 101);
  const all = Array.from({ length: n }, (_, i) => i);

  it("is exactly 0 for a predictor against itself", () => {
    expect(withinGroupDiff(good, good, lab, all, groups, 200)).toEqual({ estimate: 0, lo: 0, hi: 0 });
  });

  it("excludes 0 when one predictor separates within groups and the other does not", () => {
    const d = withinGroupDiff(good, noise, lab, all, groups, 200);
    expect(d.estimate!).toBeGreaterThan(0.3);
    expect(d.lo!).toBeGreaterThan(0);
    expect(d.lo!).toBeLessThanOrEqual(d.estimate!);
    expect(d.hi!).toBeGreaterThanOrEqual(d.estimate!);
  });

  it("uses only rows where the model has an outcome", () => {
    const masked = { ...lab, has: all.map((i) => i % 2 === 0) };
    const half = all.filter((i) => i % 2 === 0);
    expect(withinGroupDiff(good, noise, masked, all, groups, 50)).toEqual(withinGroupDiff(good, noise, masked, half, groups, 50));
  });
});
