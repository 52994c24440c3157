/**
 * End to end on the small committed fixture (test/fixtures/e2e): ingest →
 * per-model probes on each model's own activations → teacher logits →
 * distill with unlabelled rows (probe-distilled) → calibrate → evaluate →
 * bundle → promote checks → the bundle served by a freshly built worker in
 * real workerd, replaying its golden file.
 */
import { mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import type { Miniflare } from "miniflare";
import { afterAll, describe, expect, it } from "vitest";
import type { Manifest } from "../../src/core/manifest.js";
import { BuildConfig } from "../../scripts/stages/build-config.js";
import { runBuild } from "../../scripts/stages/build.js";
import { runIngest } from "../../scripts/stages/ingest.js";
import { loadProbesInput, runProbes, type ProbesResult } from "../../scripts/stages/probes.js";
import { verifyBundle } from "../../scripts/stages/promote.js";
import { teacherRows } from "../../scripts/stages/teacher-logits.js";
import { writeJsonl } from "../../scripts/lib/jsonl.js";
import { call, replayGolden, serveBundles } from "./harness.js";

const FIX = "test/fixtures/e2e";
const WORK = ".cache/e2e";
const MODELS = ["tiny-lm", "big-lm"];
// Student settings shared by both builds: small enough to train in seconds.
const STUDENT = {
  featurizer: { kind: "hashed-ngram-v1", buckets: 2048, word_ngrams: [1, 2], char_ngrams: [2, 3], max_features: 128, lowercase: true, seed: 5 },
  train: { dim: 16, hidden: 16, maxEpochs: 30, patience: 5, lr: 0.01 },
};
let mf: Miniflare | undefined;
afterAll(async () => mf?.dispose());

describe("pipeline end to end", () => {
  let manifest: Manifest;
  let bundleDir: string;

  it("builds a probe-distilled bundle from outcomes and activations", async () => {
    rmSync(WORK, { recursive: true, force: true });
    mkdirSync(WORK, { recursive: true });
    const ingest = await runIngest({ outcomes: `${FIX}/outcomes.jsonl`, pool: `${FIX}/pool.json`, cacheDir: WORK, force: true });
    const dataset = join(ingest.dir, "dataset.jsonl");
    const probes: Record<string, ProbesResult> = {};
    for (const m of MODELS) {
      const input = await loadProbesInput({ dataset, activations: `${FIX}/activations`, teacher: m, layers: [0, 1] });
      probes[m] = runProbes({ ...input, options: { bootstrapReps: 100, tfidf: false } });
      // Layer 1 carries the signal, layer 0 is noise: selection on validation must find it.
      expect(probes[m].models[m].probe.layer).toBe(1);
      expect(probes[m].models[m].test.probe.auroc.estimate).toBeGreaterThan(0.7);
    }
    const teacher = teacherRows(probes);
    expect(teacher.length).toBe(1000); // labelled and unlabelled rows alike
    await writeJsonl(`${WORK}/teacher.jsonl`, teacher);

    const cfg = BuildConfig.parse({
      bundle_id: "e2e-v1",
      description: "end-to-end test bundle (synthetic fixture)",
      data: `${FIX}/outcomes.jsonl`,
      pool: `${FIX}/pool.json`,
      teacher: { logits: `${WORK}/teacher.jsonl`, layers: MODELS.map((m) => ({ model: m, layer: probes[m].models[m].probe.layer })), alpha: 0.8 },
      ...STUDENT,
      dtype: "float32",
      out: `${WORK}/artifacts`,
      golden_extra: 10,
    });
    const out = await runBuild(cfg, { createdAt: "2026-11-29T00:00:00.000Z", progress: "none" });
    manifest = out.manifest;
    bundleDir = out.dir;
    expect(manifest.provenance.mode).toBe("probe-distilled");
    expect(manifest.provenance.teacher).toEqual([{ model: "tiny-lm", layer: 1 }, { model: "big-lm", layer: 1 }]);
    expect(Number(manifest.provenance.trainer.unlabelled_used)).toBe(400);
    for (const m of MODELS) expect(manifest.metrics.per_model[m].auroc).toBeGreaterThan(0.6);
    // Teacher figures from the build's evaluation: fidelity, the teacher probe's AUROC, the teacher-probe router (calibrated p).
    expect(teacher.every((t) => t.p && MODELS.every((m) => t.p![m] > 0 && t.p![m] < 1))).toBe(true);
    for (const m of MODELS) {
      const pm = manifest.metrics.per_model[m];
      console.log(`[e2e] ${m}: student AUROC ${pm.auroc}, teacher AUROC ${pm.teacher_auroc}, fidelity pearson ${pm.fidelity_pearson} spearman ${pm.fidelity_spearman}`);
      expect(pm.teacher_auroc).toBeGreaterThan(0.7);
      expect(pm.fidelity_pearson).toBeGreaterThan(0.3);
      expect(pm.fidelity_spearman).toBeGreaterThan(0.3);
    }
    expect(manifest.metrics.headline.teacher_router_param).not.toBeNull();
    expect(manifest.metrics.headline.teacher_router_acc).not.toBeNull();
    await verifyBundle(bundleDir); // sha256s, schema and golden replay through onnxruntime-node
  }, 300_000);

  it("runs the same stages from one build config with a probes block", async () => {
    const cfg = BuildConfig.parse({
      bundle_id: "e2e-v2",
      description: "end-to-end test bundle built by one config (synthetic fixture)",
      data: `${FIX}/outcomes.jsonl`,
      pool: `${FIX}/pool.json`,
      probes: { activations: `${FIX}/activations`, layers: [0, 1], bootstrap_reps: 50 },
      teacher: { logits: `${WORK}/teacher-v2.jsonl`, layers: [], alpha: 0.8 },
      ...STUDENT,
      dtype: "float16",
      out: `${WORK}/artifacts`,
      golden_extra: 5,
    });
    const out = await runBuild(cfg, { createdAt: "2026-11-29T00:00:00.000Z", progress: "none" });
    expect(out.manifest.provenance.mode).toBe("probe-distilled");
    expect(out.manifest.provenance.teacher).toEqual([{ model: "tiny-lm", layer: 1 }, { model: "big-lm", layer: 1 }]);
    expect(Number(out.manifest.provenance.trainer.unlabelled_used)).toBe(400);
    expect(out.manifest.onnx.weight_dtype).toBe("float16");
    for (const m of MODELS) expect(out.manifest.metrics.per_model[m].fidelity_pearson).toBeGreaterThan(0.3);
    await verifyBundle(out.dir);
  }, 300_000);

  it("is served by the worker in workerd and replays its golden file", async () => {
    mf = await serveBundles(WORK, [bundleDir], "test/worker/pipeline-e2e.test.ts");
    expect(await replayGolden(mf, bundleDir)).toBeGreaterThan(0);
    // /v1/models says, per model, whether the student's score had validated signal and what calibrated it.
    const models = await call(mf, "GET", "/v1/models");
    for (const m of MODELS) {
      const st = manifest.calibration_stats![m];
      expect(models.body.models.find((x: { id: string }) => x.id === m)).toMatchObject({ signal: st.signal, calibration: { method: st.method, n: st.n, positives: st.positives } });
    }
  }, 180_000);
});
