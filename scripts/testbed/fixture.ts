/**
 * Testbed step 6: the committed fixture (testbed/ at the repo root) that
 * test/worker/testbed-e2e.test.ts runs through the pipeline. A subset of the
 * world, within the 30 MB budget (checked here and by
 * test/node/testbed.test.ts): every labelled row, the first --unlabelled
 * (default 4000) unlabelled rows, the first --train train rows (default: all),
 * the pool, the ONNX models + vocabs + training records, and each model's
 * chosen probe candidate (layers.json, chosen on val by report.ts: one layer,
 * or "all" = every layer side by side).
 *
 * No bulk activations: with "all" they would be 1420 float16 values per row
 * and model, far over budget, and the test re-extracts them from the
 * committed ONNX models with the pipeline's own extractor (≈ 15 s). What is
 * committed is a golden sample (activations-sample/: float16, every layer, the
 * first 32 test rows) that pins the extractor's output.
 * Usage: npx tsx scripts/testbed/fixture.ts [--world .cache/testbed] [--out testbed] [--train N] [--unlabelled 4000]
 */
import { copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ActivationWriter, streamActivations } from "../lib/activations/store.js";
import { arg } from "./gen-data.js";

/** The cap on what the testbed commits (models + activations + outcomes). */
export const FIXTURE_BUDGET_BYTES = 30e6;
/** Rows of the committed golden activation sample (the first test rows of outcomes.jsonl). */
export const SAMPLE_ROWS = 32;

export function dirBytes(dir: string): number {
  return readdirSync(dir, { withFileTypes: true }).reduce((n, e) => n + (e.isDirectory() ? dirBytes(join(dir, e.name)) : statSync(join(dir, e.name)).size), 0);
}

/** Every layer index a model's ONNX export gives (hidden_0 = embeddings … hidden_L), from its training record. */
export const layersOf = (modelsDir: string, model: string): number[] => {
  const L = JSON.parse(readFileSync(join(modelsDir, `${model}.train.json`), "utf8")).spec.layers as number;
  return Array.from({ length: L + 1 }, (_, l) => l);
};

if (import.meta.url === `file://${process.argv[1]}`) {
  const world = arg("world", ".cache/testbed");
  const out = arg("out", "testbed");
  const cap: Record<string, number> = { train: Number(arg("train", "Infinity")), unlabelled: Number(arg("unlabelled", "4000")) };
  const lines = readFileSync(join(world, "outcomes.jsonl"), "utf8").trim().split("\n");
  const taken: Record<string, number> = { train: 0, unlabelled: 0 };
  const kept: string[] = [];
  const sample = new Set<string>();
  for (const l of lines) {
    const { id, split } = JSON.parse(l) as { id: string; split: string };
    if (cap[split] !== undefined && taken[split]++ >= cap[split]) continue;
    kept.push(l);
    if (split === "test" && sample.size < SAMPLE_ROWS) sample.add(id);
  }
  rmSync(out, { recursive: true, force: true });
  mkdirSync(join(out, "models"), { recursive: true });
  writeFileSync(join(out, "outcomes.jsonl"), kept.join("\n") + "\n");
  copyFileSync(join(world, "pool.json"), join(out, "pool.json"));
  copyFileSync(join(world, "layers.json"), join(out, "layers.json"));
  const models: string[] = JSON.parse(readFileSync(join(world, "layers.json"), "utf8")).map((x: { model: string }) => x.model);
  for (const model of models) {
    for (const ext of [".onnx", ".vocab.json", ".train.json"]) copyFileSync(join(world, "models", model + ext), join(out, "models", model + ext));
    const layers = layersOf(join(world, "models"), model);
    const w = await ActivationWriter.create({ dir: join(out, "activations-sample"), model, layers, totalRows: sample.size, dtype: "F16", metadata: { source: "onnx-teacher", note: "testbed fixture: golden sample, every layer" } });
    for await (const b of streamActivations({ dir: join(world, "activations"), model, layers, batchRows: 4096 })) {
      const keep = b.ids.flatMap((id, k) => (sample.has(id) ? [k] : []));
      if (keep.length === 0) continue;
      const data = Object.fromEntries(layers.map((l) => {
        const x = new Float32Array(keep.length * b.d);
        keep.forEach((k, r) => x.set(b.layers[l].subarray(k * b.d, (k + 1) * b.d), r * b.d));
        return [l, x];
      }));
      await w.append(keep.map((k) => b.ids[k]), data);
    }
    const res = await w.close();
    console.error(`${model}: golden sample ${res.rows} rows × ${res.d} × ${layers.length} layers (F16)`);
  }
  const bytes = dirBytes(out);
  console.error(`fixture: ${kept.length} rows, ${(bytes / 1e6).toFixed(1)} MB → ${out}/`);
  if (bytes > FIXTURE_BUDGET_BYTES) throw new Error(`fixture is ${(bytes / 1e6).toFixed(1)} MB, over the ${FIXTURE_BUDGET_BYTES / 1e6} MB budget: lower --train / --unlabelled`);
}
