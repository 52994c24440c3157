/**
 * Testbed step 4: end-of-input activations of every pool member, for every
 * layer (hidden_0 = embeddings … hidden_L), over every prompt (labelled and
 * unlabelled), written by the pipeline's own form (b) extractor
 * (scripts/lib/activations/onnx-teacher.ts) into <world>/activations/<model>/.
 * F32 here; the npm test re-extracts the fixture's rows with the same
 * extractTestbed() from the committed ONNX models.
 *
 * Usage: npx tsx scripts/testbed/activations.ts [--world .cache/testbed] [--models a,b]
 */
import { join } from "node:path";
import { runOnnxTeacher } from "../lib/activations/onnx-teacher.js";
import { arg, loadMembers } from "./gen-data.js";
import { readProblems } from "./rollouts.js";

export interface TestbedExtraction {
  /** Folder with <model>.onnx and <model>.vocab.json. */
  modelsDir: string;
  model: string;
  prompts: { id: string; text: string }[];
  outDir: string;
  dtype?: "F16" | "F32";
  layers?: number[];
  onProgress?: (done: number, total: number) => void;
}

/** One testbed model's end-of-input activations; the settings the world was built with. */
export function extractTestbed(x: TestbedExtraction) {
  // Shortest first: batches then hold prompts of similar length (less padding). Order does not
  // matter to readers, which join by id through index.jsonl.
  const prompts = [...x.prompts].sort((a, b) => a.text.length - b.text.length || (a.id < b.id ? -1 : 1));
  return runOnnxTeacher({
    config: {
      model: x.model,
      onnx: join(x.modelsDir, `${x.model}.onnx`),
      tokenizer: join(x.modelsDir, `${x.model}.vocab.json`),
      padSide: "right",
      batchSize: 256,
      maxTokens: 48,
      dtype: x.dtype ?? "F32",
      ...(x.layers ? { layers: x.layers } : {}),
    },
    prompts,
    outDir: x.outDir,
    onProgress: x.onProgress,
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const world = arg("world", ".cache/testbed");
  const only = arg("models", loadMembers().models.map((m) => m.id).join(",")).split(",");
  const prompts = readProblems(world).map((p) => ({ id: p.id, text: p.prompt }));
  for (const m of only) {
    const t0 = performance.now();
    const res = await extractTestbed({
      modelsDir: join(world, "models"), model: m, prompts, outDir: join(world, "activations"),
      onProgress: (d, t) => { if (d % 25600 < 256) console.error(`${m}: ${d}/${t}`); },
    });
    console.error(`${m}: ${res.rows} rows, d=${res.d}, layers ${res.layers.join(",")}, ${((performance.now() - t0) / 1000).toFixed(0)} s`);
  }
}
