/**
 * The default bundle artifacts/llmrouter-v5: its manifest validates, says
 * what it is (label-supervised, teacher "none"), carries the pool figures of
 * data/pools/llmrouter.json, and its metrics are reproduced exactly by the
 * evaluate stage from the committed data (the build's code path:
 * evaluateBundle on the test split, baselines from the train/val rows,
 * headline kind from the manifest's default policy). Reads files only.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { Manifest } from "../../src/core/manifest.js";
import { PoolConfig } from "../../scripts/formats/outcomes.js";
import { loadBundle, readOutcomes } from "../../scripts/stages/evaluate.js";
import { evaluateBundle } from "../../scripts/evaluate/evaluate-bundle.js";
import { BuildConfig } from "../../scripts/stages/build-config.js";

const DIR = "artifacts/llmrouter-v5";
const raw = JSON.parse(readFileSync(`${DIR}/manifest.json`, "utf8"));
const pool = PoolConfig.parse(JSON.parse(readFileSync("data/pools/llmrouter.json", "utf8")));

describe("default bundle llmrouter-v5", () => {
  it("validates and records a label-supervised student with no teacher", () => {
    const m = Manifest.parse(raw);
    expect(m.kind).toBe("release");
    expect(m.provenance.mode).toBe("label-supervised");
    expect(m.provenance.teacher).toBe("none");
    expect(m.metrics.split).toBe("test");
    // The manifest's recorded build config is the committed config (so `build` re-creates it).
    const cfg = BuildConfig.parse(JSON.parse(readFileSync("configs/llmrouter-v5.json", "utf8")));
    expect(JSON.parse(String(m.provenance.trainer.config))).toMatchObject({ bundle_id: cfg.bundle_id, featurizer: cfg.featurizer, teacher: null });
    expect(m.featurizer).toEqual(cfg.featurizer);
  });

  it("serves the pool's prices and output-token estimates (/v1/models figures)", () => {
    const m = Manifest.parse(raw);
    expect(m.pool.map((p) => p.id)).toEqual(pool.models.map((p) => p.id));
    expect(m.outputs.map((o) => o.model)).toEqual(pool.models.map((p) => p.id));
    for (const [i, p] of pool.models.entries()) {
      const b = m.pool[i];
      expect(b.input_per_mtok).toBe(p.input_per_mtok);
      expect(b.output_per_mtok).toBe(p.output_per_mtok);
      expect(b.default_output_tokens).toBe(p.default_output_tokens);
      expect(b.output_tokens_source).toBe("estimate");
      expect(b.price_source).toBe(p.price_source);
      expect(b.provider).toBe(p.provider);
    }
    // LLMRouter has no output-token counts, so there is no measured output length to override the estimates.
    expect(m.output_length).toBeUndefined();
  });

  it(
    "reproduces metrics.headline and metrics.per_model exactly from the committed data",
    async () => {
      const { manifest, onnx } = await loadBundle("artifacts", "llmrouter-v5");
      const data = manifest.provenance.data[0];
      expect(data.name).toBe("data/derived/llmrouter.jsonl");
      const rows = await readOutcomes(data.name);
      const res = await evaluateBundle({
        manifest,
        onnx,
        rows,
        trainRows: rows.filter((r) => r.split === "train" || r.split === "val"),
        split: "test",
        seed: raw.metrics.seed,
        data: { name: data.name, sha256: data.sha256 },
      });
      const got = JSON.parse(JSON.stringify(res.manifestMetrics));
      expect(got.headline).toEqual(raw.metrics.headline);
      expect(got.per_model).toEqual(raw.metrics.per_model);
      expect(got).toEqual(raw.metrics);
      expect(manifest.default_policy).toEqual({ type: "utility", lambda: raw.metrics.headline.router_param });
    },
    600_000,
  );
});
