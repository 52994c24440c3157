/**
 * The committed testbed fixture (testbed/, written by scripts/testbed/fixture.ts):
 * it stays within the 30 MB budget, and its ONNX LMs reproduce its
 * float16 activations through the pipeline's ONNX-teacher extractor. The run
 * through the pipeline to a bundle served in workerd is
 * test/worker/testbed-e2e.test.ts.
 */
import { mkdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { OutcomeRow } from "../../scripts/formats/outcomes.js";
import { runOnnxTeacher } from "../../scripts/lib/activations/onnx-teacher.js";
import { streamActivations } from "../../scripts/lib/activations/store.js";
import { readJsonl } from "../../scripts/lib/jsonl.js";
import { dirBytes, FIXTURE_BUDGET_BYTES } from "../../scripts/testbed/fixture.js";

const FIX = process.env.TESTBED_FIXTURE ?? "testbed";
const WORK = ".cache/testbed-test";
const layers: { model: string; layer: number }[] = JSON.parse(readFileSync(join(FIX, "layers.json"), "utf8"));

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

  it("committed ONNX LMs reproduce the committed activations via the ONNX-teacher extractor", async () => {
    const some = rows.filter((r) => r.split === "test").slice(0, 24);
    for (const { model, layer } of layers) {
      await runOnnxTeacher({
        config: { model, onnx: join(FIX, "models", `${model}.onnx`), tokenizer: join(FIX, "models", `${model}.vocab.json`), layers: [layer], dtype: "F32", batchSize: 8 },
        prompts: some.map((r) => ({ id: r.id, text: r.prompt! })),
        outDir: join(WORK, "acts"),
      });
      const want = new Map<string, Float32Array>();
      for await (const b of streamActivations({ dir: join(FIX, "activations"), model, layers: [layer], batchRows: 4096 })) {
        b.ids.forEach((id, k) => want.set(id, b.layers[layer].slice(k * b.d, (k + 1) * b.d)));
      }
      for await (const b of streamActivations({ dir: join(WORK, "acts"), model, layers: [layer], batchRows: 64 })) {
        b.ids.forEach((id, k) => {
          const w = want.get(id)!;
          for (let j = 0; j < b.d; j++) expect(Math.abs(b.layers[layer][k * b.d + j] - w[j])).toBeLessThan(2e-3 * Math.max(1, Math.abs(w[j])));
        });
      }
    }
  }, 120_000);
});
