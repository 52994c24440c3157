/**
 * After the build, promote (a separate, deliberate step): makes a bundle the
 * worker's embedded default. verifyBundle re-checks a bundle (manifest
 * schema, every file's sha256, golden.jsonl replayed through
 * onnxruntime-node within 1e-5); runPromote then regenerates
 * src/worker/embedded-bundles.ts with that bundle first and every other
 * release bundle in artifacts/ after it (selectable by header or experiment),
 * pinning the sha256 of each manifest it verified: the worker refuses a
 * manifest edited after promotion. Fixture bundles are refused. The CLI
 * shell is scripts/commands/promote.ts. Must not build or modify a bundle.
 */
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { calibratedP } from "../../src/core/scoring.js";
import { GoldenRow, Manifest } from "../../src/core/manifest.js";
import { nodeScorer } from "../bundle/score-node.js";
import { writeRegistry } from "../bundle/registry.js";

export const REGISTRY_FILE = "src/worker/embedded-bundles.ts";

/** The manifest of the bundle in `dir`, after checking its schema and every listed file's sha256 (also `publish`'s check). */
export function checkBundleFiles(dir: string): Manifest {
  const manifest = Manifest.parse(JSON.parse(readFileSync(join(dir, "manifest.json"), "utf8")));
  for (const f of manifest.files) {
    const got = createHash("sha256").update(readFileSync(join(dir, f.path))).digest("hex");
    if (got !== f.sha256) throw new Error(`${dir}/${f.path}: sha256 ${got} does not match manifest ${f.sha256}`);
  }
  return manifest;
}

export async function verifyBundle(dir: string): Promise<Manifest> {
  const manifest = checkBundleFiles(dir);
  const onnx = readFileSync(join(dir, manifest.onnx.file));
  const scorer = await nodeScorer(onnx, manifest.featurizer, { ...manifest.onnx.inputs, output: manifest.onnx.output });
  const lines = readFileSync(join(dir, "golden.jsonl"), "utf8").trim().split("\n");
  for (const [i, line] of lines.entries()) {
    const g = GoldenRow.parse(JSON.parse(line));
    const [s] = await scorer.score([g.prompt]);
    if (JSON.stringify(Array.from(s.features.ids)) !== JSON.stringify(g.ids)) throw new Error(`golden.jsonl:${i + 1}: token ids differ`);
    const ps = calibratedP(s.logits, manifest);
    for (const o of manifest.outputs) {
      const p = ps[o.model];
      if (Math.abs(p - g.p[o.model]) > 1e-5) throw new Error(`golden.jsonl:${i + 1}: p(${o.model}) ${p} vs ${g.p[o.model]}`);
    }
  }
  return manifest;
}

export async function runPromote(bundleId: string, artifacts = "artifacts"): Promise<{ id: string; sha256: string }[]> {
  const dir = join(artifacts, bundleId);
  if (!existsSync(join(dir, "manifest.json"))) throw new Error(`no bundle at ${dir}`);
  const manifest = await verifyBundle(dir);
  if (manifest.kind !== "release") throw new Error(`${bundleId} is a ${manifest.kind} bundle; only release bundles can be the default`);
  const others = readdirSync(artifacts, { withFileTypes: true })
    .filter((d) => d.isDirectory() && d.name !== bundleId && existsSync(join(artifacts, d.name, "manifest.json")))
    .map((d) => d.name)
    .sort();
  for (const o of others) await verifyBundle(join(artifacts, o));
  const order = [bundleId, ...others];
  const pins = writeRegistry(REGISTRY_FILE, order.map((id) => join(artifacts, id)), "scripts/commands/promote.ts");
  return order.map((id, i) => ({ id, sha256: pins[i].sha256 }));
}
