/**
 * Testbed step 6: the committed fixture (testbed/ at the repo root) that
 * test/node/testbed.test.ts runs through the pipeline. A subset of the world,
 * sized to the 30 MB budget (checked here and by the test): every
 * val / cal / test row, the first --train (default 3000) train rows, the first
 * --unlabelled (default 1000) unlabelled rows,
 * the pool, the ONNX models + vocabs + training records, each model's chosen
 * probe layer (layers.json, chosen on val by report.ts) and float16
 * activations of that layer only, in the pipeline's form-(a) layout.
 * Usage: npx tsx scripts/testbed/fixture.ts [--world .cache/testbed] [--out testbed] [--train 3000] [--unlabelled 1000]
 */
import { copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ActivationWriter, streamActivations } from "../lib/activations/store.js";
import { arg } from "./gen-data.js";

/** The cap on what the testbed commits (models + activations + outcomes). */
export const FIXTURE_BUDGET_BYTES = 30e6;

export function dirBytes(dir: string): number {
  return readdirSync(dir, { withFileTypes: true }).reduce((n, e) => n + (e.isDirectory() ? dirBytes(join(dir, e.name)) : statSync(join(dir, e.name)).size), 0);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const world = arg("world", ".cache/testbed");
  const out = arg("out", "testbed");
  const cap: Record<string, number> = { train: Number(arg("train", "3000")), unlabelled: Number(arg("unlabelled", "1000")) };
  const layers: { model: string; layer: number }[] = JSON.parse(readFileSync(join(world, "layers.json"), "utf8"));
  const lines = readFileSync(join(world, "outcomes.jsonl"), "utf8").trim().split("\n");
  const taken: Record<string, number> = { train: 0, unlabelled: 0 };
  const kept: string[] = [];
  const ids = new Set<string>();
  for (const l of lines) {
    const { id, split } = JSON.parse(l) as { id: string; split: string };
    if (cap[split] !== undefined && taken[split]++ >= cap[split]) continue;
    kept.push(l);
    ids.add(id);
  }
  rmSync(out, { recursive: true, force: true });
  mkdirSync(join(out, "models"), { recursive: true });
  writeFileSync(join(out, "outcomes.jsonl"), kept.join("\n") + "\n");
  copyFileSync(join(world, "pool.json"), join(out, "pool.json"));
  writeFileSync(join(out, "layers.json"), JSON.stringify(layers, null, 1) + "\n");
  for (const { model, layer } of layers) {
    for (const ext of [".onnx", ".vocab.json", ".train.json"]) copyFileSync(join(world, "models", model + ext), join(out, "models", model + ext));
    const w = await ActivationWriter.create({ dir: join(out, "activations"), model, layers: [layer], totalRows: ids.size, dtype: "F16", metadata: { source: "onnx-teacher", note: "testbed fixture: chosen layer only" } });
    for await (const b of streamActivations({ dir: join(world, "activations"), model, layers: [layer], batchRows: 4096 })) {
      const keep = b.ids.flatMap((id, k) => (ids.has(id) ? [k] : []));
      const data = new Float32Array(keep.length * b.d);
      keep.forEach((k, r) => data.set(b.layers[layer].subarray(k * b.d, (k + 1) * b.d), r * b.d));
      await w.append(keep.map((k) => b.ids[k]), { [layer]: data });
    }
    const res = await w.close();
    console.error(`${model}: layer ${layer}, ${res.rows} rows × ${res.d} (F16)`);
  }
  const bytes = dirBytes(out);
  console.error(`fixture: ${kept.length} rows, ${(bytes / 1e6).toFixed(1)} MB → ${out}/`);
  if (bytes > FIXTURE_BUDGET_BYTES) throw new Error(`fixture is ${(bytes / 1e6).toFixed(1)} MB, over the ${FIXTURE_BUDGET_BYTES / 1e6} MB budget: lower --train / --unlabelled`);
}
