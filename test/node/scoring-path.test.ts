/**
 * One scoring path: the pipeline (onnxruntime-node behind core's RunModel port)
 * reproduces every committed bundle's golden ids and P(success) through
 * src/core/scoring.ts, the same functions the worker calls with its
 * onnxruntime-web engine (the worker side is test/worker/api.test.ts's golden
 * replay). And nothing else turns student logits into P or packs tensors.
 */
import { readdirSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { GoldenRow, Manifest } from "../../src/core/manifest.js";
import { calibratedP, modelP } from "../../src/core/scoring.js";
import { nodeScorer } from "../../scripts/bundle/score-node.js";

const BUNDLES = ["artifacts", "test/fixtures/bundles"].flatMap((root) =>
  readdirSync(root, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => `${root}/${d.name}`),
);

describe("one scoring path", () => {
  it.each(BUNDLES)("%s: golden ids and P through core scorePrompts + calibratedP", async (dir) => {
    const manifest = Manifest.parse(JSON.parse(readFileSync(`${dir}/manifest.json`, "utf8")));
    const scorer = await nodeScorer(readFileSync(`${dir}/${manifest.onnx.file}`), manifest.featurizer, { ...manifest.onnx.inputs, output: manifest.onnx.output });
    const golden = readFileSync(`${dir}/golden.jsonl`, "utf8").trim().split("\n").map((l) => GoldenRow.parse(JSON.parse(l)));
    expect(golden.length).toBeGreaterThan(0);
    // Score in one batch: padding must not change any prompt's logits.
    const scored = await scorer.score(golden.map((g) => g.prompt));
    for (const [i, g] of golden.entries()) {
      expect(Array.from(scored[i].features.ids)).toEqual(g.ids);
      const p = calibratedP(scored[i].logits, manifest);
      for (const o of manifest.outputs) {
        expect(Math.abs(p[o.model] - g.p[o.model])).toBeLessThan(1e-5);
        expect(p[o.model]).toBe(modelP(scored[i].logits, o.index, manifest.calibration[o.model]));
      }
    }
  });

  it("only src/core/scoring.ts packs tensors, and student logits become P only there", () => {
    const files = (d: string): string[] =>
      readdirSync(d, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(`${d}/${e.name}`) : /\.tsx?$/.test(e.name) ? [`${d}/${e.name}`] : []));
    const all = ["src", "scripts", "bench"].flatMap(files);
    expect(all.filter((f) => /\bpackBatch\(/.test(readFileSync(f, "utf8")))).toEqual(["src/core/batch.ts", "src/core/scoring.ts"]);
    // Everyone else who calls calibrate() fits maps or applies a linear probe's map (teacher path), never a bundle's:
    // a new caller must be added here on purpose, or go through calibratedP/modelP.
    const callers = all.filter((f) => /\bcalibrate\(/.test(readFileSync(f, "utf8"))).sort();
    expect(callers).toEqual([
      "scripts/lib/calibration-fit.ts",
      "scripts/stages/calibrate.ts",
      "scripts/stages/probes.ts",
      "scripts/stages/teacher-logits.ts",
      "scripts/testbed/report.ts",
      "src/core/calibration.ts",
      "src/core/scoring.ts",
    ]);
  });
});
