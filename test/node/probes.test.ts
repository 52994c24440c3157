// runProbes end to end on small synthetic data with a planted answer:
// layer 7 carries the signal, layer 3 is noise; two models, one with masked rows.
import { describe, expect, it } from "vitest";
import { carveCalibration, runProbes, runProbesParallel, type ProbesInput } from "../../scripts/stages/probes.js";
import { fitPlatt } from "../../scripts/lib/calibration-fit.js";
import { Standardizer } from "../../scripts/lib/linear/standardizer.js";
import { hstack } from "../../scripts/lib/linear/dense.js";
import { gaussian, mulberry32 } from "../../src/core/random.js";
import { sigmoid } from "../../src/core/calibration.js";

function synth(n = 600, d = 12, seed = 1): ProbesInput {
  const rng = mulberry32(seed);
  const noise = new Float32Array(n * d).map(() => gaussian(rng));
  const signal = new Float32Array(n * d).map(() => gaussian(rng) + 3);
  const lat = Array.from({ length: n }, (_, i) => 1.5 * (signal[i * d] - 3) - (signal[i * d + 1] - 3) + 0.5 * gaussian(rng));
  const rateA = lat.map((l) => sigmoid(2 * l));
  const rateB = lat.map((l) => sigmoid(-2 * l + 0.3));
  const k = (p: number) => Math.round(p * 4) / 4; // 4 samples per prompt
  const idx = Array.from({ length: n }, (_, i) => i);
  return {
    layers: [
      { layer: 3, features: { data: noise, rows: n, cols: d } },
      // an iterator of rows also works
      { layer: 7, features: idx.map((i) => signal.subarray(i * d, (i + 1) * d)) },
    ],
    splits: { train: idx.filter((i) => i % 10 < 6), val: idx.filter((i) => i % 10 === 6 || i % 10 === 7), test: idx.filter((i) => i % 10 >= 8) },
    models: [
      { id: "a", rate: rateA.map(k), majority: rateA.map((p) => (k(p) > 0.5 ? 1 : 0)), mask: idx.map(() => 1) },
      { id: "b", rate: rateB.map(k), majority: rateB.map((p) => (k(p) > 0.5 ? 1 : 0)), mask: idx.map((i) => (i % 3 === 0 ? 0 : 1)) },
    ],
    texts: idx.map((i) => (lat[i] > 0 ? "short" : "a much longer prompt ".repeat(1 + (i % 3)))),
    humanDifficulty: idx.map((i) => (i % 2 === 0 ? -lat[i] + gaussian(rng) : null)),
    options: { bootstrapReps: 200, seed: 5 },
  };
}

describe("runProbes", () => {
  const input = synth();
  const res = runProbes(input);

  it("carves a disjoint calibration part out of train and records it", () => {
    expect(res.splits.cal_source).toBe("carved-from-train");
    expect(res.splits.cal.length).toBe(Math.round(360 * 0.2));
    expect(res.splits.train.length + res.splits.cal.length).toBe(360);
    const fit = new Set(res.splits.train);
    expect(res.splits.cal.some((r) => fit.has(r))).toBe(false);
    expect(carveCalibration(input.splits.train, 0.2, 5)).toEqual({ fit: res.splits.train, cal: res.splits.cal });
  });

  it("selects the informative layer and beats the majority baseline", () => {
    for (const id of ["a", "b"]) {
      const m = res.models[id];
      expect(m.probe.layer).toBe(7);
      expect(m.ridge.layer).toBe(7);
      const auc = m.test.probe.auroc;
      expect(auc.estimate!).toBeGreaterThan(0.85);
      expect(auc.lo!).toBeLessThanOrEqual(auc.estimate!);
      expect(auc.hi!).toBeGreaterThanOrEqual(auc.estimate!);
      expect(m.test.baselines.majority.auroc.estimate).toBe(0.5);
      expect(m.test.probe.brier.estimate!).toBeLessThan(m.test.baselines.majority.brier.estimate!);
      expect(m.test.ridge.spearman.estimate!).toBeGreaterThan(0.6);
      expect(m.test.baselines.length).toBeDefined();
      expect(m.test.baselines.tfidf).toBeDefined();
      expect(m.test.baselines.human_difficulty!.n).toBeLessThan(m.test.probe.n);
    }
    expect(res.models.a.probe.w[0]).toBeGreaterThan(0); // planted sign
    expect(res.models.b.probe.w[0]).toBeLessThan(0);
  });

  it("excludes masked rows per model", () => {
    const present = (rows: number[]) => rows.filter((r) => r % 3 !== 0).length;
    expect(res.models.a.counts.test).toBe(res.splits.test.length);
    expect(res.models.b.counts).toEqual({
      train: present(res.splits.train),
      cal: present(res.splits.cal),
      val: present(res.splits.val),
      test: present(res.splits.test),
    });
    expect(res.models.b.test.probe.n).toBe(present(res.splits.test));
  });

  it("fits Platt on the calibration rows, not the selection rows", () => {
    const m = res.models.b;
    const cal = res.splits.cal.filter((r) => r % 3 !== 0);
    const expected = fitPlatt(cal.map((r) => m.logits[r]), cal.map((r) => input.models[1].majority[r]));
    expect(m.probe.calibration).toEqual(expected);
  });

  it("returns weights that reproduce the logits on every row", () => {
    const m = res.models.a;
    const std = Standardizer.fromJSON(res.standardizers[String(m.probe.layer)]);
    const rows = input.layers[1].features as Float32Array[];
    expect(m.logits).toHaveLength(600);
    for (const r of [0, 123, 599]) {
      const z = std.transform(rows[r]).reduce((s, v, j) => s + v * m.probe.w[j], m.probe.b);
      expect(m.logits[r]).toBeCloseTo(z, 6);
    }
  });

  it("is JSON-serialisable and deterministic", () => {
    expect(JSON.parse(JSON.stringify(res))).toEqual(res);
    expect(runProbes(synth())).toEqual(res);
  });

  it("gives the identical result with layer selection on two worker threads", async () => {
    expect(await runProbesParallel(synth(), 2)).toEqual(res);
  });

  it("uses a given calibration split as is", () => {
    const s = synth();
    const train = Array.from(s.splits.train);
    const r2 = runProbes({ ...s, texts: undefined, splits: { ...s.splits, train: train.slice(60), cal: train.slice(0, 60) } });
    expect(r2.splits.cal_source).toBe("given");
    expect(r2.splits.cal).toEqual(train.slice(0, 60));
    expect(r2.models.a.test.baselines.tfidf).toBeUndefined();
  });
});

// Signal split over two layers: each carries half of it, so only the two side by side carry all.
function splitSignal(n = 600, d = 6, seed = 3): ProbesInput {
  const rng = mulberry32(seed);
  const a = new Float32Array(n * d).map(() => gaussian(rng));
  const b = new Float32Array(n * d).map(() => gaussian(rng));
  const lat = Array.from({ length: n }, (_, i) => 2 * a[i * d] + 2 * b[i * d] + 0.3 * gaussian(rng));
  const idx = Array.from({ length: n }, (_, i) => i);
  return {
    layers: [{ layer: 0, features: { data: a, rows: n, cols: d } }, { layer: 1, features: { data: b, rows: n, cols: d } }],
    splits: { train: idx.filter((i) => i % 10 < 6), val: idx.filter((i) => i % 10 === 6 || i % 10 === 7), test: idx.filter((i) => i % 10 >= 8) },
    models: [{ id: "a", rate: lat.map((l) => (l > 0 ? 1 : 0)), majority: lat.map((l) => (l > 0 ? 1 : 0)), mask: idx.map(() => 1) }],
    options: { bootstrapReps: 50, seed: 5, tfidf: false },
  };
}

describe("stacked candidate (stackLayers)", () => {
  const input = splitSignal();
  const stacked = runProbes({ ...input, options: { ...input.options, stackLayers: true } });
  const single = runProbes(input);

  it("hstack puts each row's layers side by side", () => {
    const m = hstack([{ data: Float32Array.of(1, 2, 3, 4), rows: 2, cols: 2 }, { data: Float32Array.of(5, 6), rows: 2, cols: 1 }]);
    expect(m).toEqual({ data: Float32Array.of(1, 2, 5, 3, 4, 6), rows: 2, cols: 3 });
    expect(() => hstack([{ data: new Float32Array(2), rows: 2, cols: 1 }, { data: new Float32Array(3), rows: 3, cols: 1 }])).toThrow(/row counts differ/);
  });

  it("is chosen on val when the signal is spread over layers, and beats the best single layer on test", () => {
    const m = stacked.models.a;
    expect(m.probe.layer).toBe("all");
    expect(m.probe.selection.some((r) => r.layer === 0) && m.probe.selection.some((r) => r.layer === 1)).toBe(true);
    expect(typeof single.models.a.probe.layer).toBe("number");
    expect(m.probe.val_logloss).toBeLessThan(single.models.a.probe.val_logloss);
    expect(m.test.probe.auroc.estimate!).toBeGreaterThan(single.models.a.test.probe.auroc.estimate! + 0.05);
  });

  it("returns a standardiser and weights over the stacked columns that reproduce the logits", () => {
    const m = stacked.models.a;
    const std = Standardizer.fromJSON(stacked.standardizers.all);
    const X = hstack(input.layers.map((l) => l.features as { data: Float32Array; rows: number; cols: number }));
    expect(m.probe.w).toHaveLength(X.cols);
    for (const r of [0, 77, 599]) {
      const z = std.transform(X.data.subarray(r * X.cols, (r + 1) * X.cols)).reduce((s, v, j) => s + v * m.probe.w[j], m.probe.b);
      expect(m.logits[r]).toBeCloseTo(z, 6);
    }
  });

  it("gives the identical result on two worker threads", async () => {
    const s = splitSignal();
    expect(await runProbesParallel({ ...s, options: { ...s.options, stackLayers: true } }, 2)).toEqual(stacked);
  });
});

describe("probes command loader", () => {
  it("joins dataset.jsonl to the activation store by id and masks missing outcomes", async () => {
    const { mkdtemp, rm, writeFile, readFile } = await import("node:fs/promises");
    const { tmpdir } = await import("node:os");
    const { join } = await import("node:path");
    const { ActivationWriter } = await import("../../scripts/lib/activations/store.js");
    const { execFileSync } = await import("node:child_process");
    const { loadProbesInput } = await import("../../scripts/stages/probes.js");
    const dir = await mkdtemp(join(tmpdir(), "probes-"));
    try {
      const n = 120;
      const d = 3;
      const rng = mulberry32(4);
      const splitOf = (i: number) => (i % 10 < 6 ? "train" : i % 10 < 8 ? "val" : "test");
      const feats = Array.from({ length: n }, () => [gaussian(rng), gaussian(rng), gaussian(rng)]);
      const rows = feats.map((f, i) => ({
        id: `p${i}`,
        prompt: `prompt ${i}`,
        split: splitOf(i),
        outcomes: {
          a: { n: 2, k: f[0] > 0 ? 2 : 0 },
          ...(i % 4 === 0 ? {} : { b: { n: 2, k: f[1] > 0 ? 2 : 1 } }),
        },
      }));
      await writeFile(join(dir, "dataset.jsonl"), rows.map((r) => JSON.stringify(r)).join("\n") + "\n");
      // Store rows in reverse order and leave out p5, which must then vanish from every split.
      const order = Array.from({ length: n }, (_, i) => n - 1 - i).filter((i) => i !== 5);
      const w = await ActivationWriter.create({ dir: join(dir, "acts"), model: "t/m", layers: [1, 2], totalRows: order.length, dtype: "F32" });
      await w.append(
        order.map((i) => `p${i}`),
        { 1: Float32Array.from(order.flatMap((i) => feats[i])), 2: Float32Array.from(order.flatMap((i) => feats[i].map((v) => -v))) },
      );
      await w.close();

      const input = await loadProbesInput({ dataset: join(dir, "dataset.jsonl"), activations: join(dir, "acts"), teacher: "t/m", layers: [1, 2] });
      const m1 = input.layers[0].features as { data: Float32Array };
      expect(Array.from(m1.data.subarray(7 * d, 8 * d))).toEqual(Array.from(Float32Array.from(feats[7])));
      expect(Array.from(input.splits.train)).not.toContain(5);
      expect(input.models.map((m) => m.id)).toEqual(["a", "b"]);
      expect(input.models[1].mask[8]).toBe(0);
      expect(input.models[1].rate[9]).toBe(feats[9][1] > 0 ? 1 : 0.5);
      expect(input.texts![3]).toBe("prompt 3");

      const out = join(dir, "probes.json");
      // The command as a user runs it: through the CLI entry point, the only importer of scripts/commands.
      const flags = ["--dataset", join(dir, "dataset.jsonl"), "--activations", join(dir, "acts"), "--teacher", "t/m", "--layers", "1,2", "--out", out, "--reps", "50", "--stack"];
      execFileSync("node_modules/.bin/tsx", ["scripts/cli.ts", "probes", ...flags], { stdio: "pipe" });
      const res = JSON.parse(await readFile(out, "utf8"));
      expect(res.models.a.probe.selection.some((r: { layer: unknown }) => r.layer === "all")).toBe(true);
      expect(res.ids).toHaveLength(n);
      expect(res.models.a.test.probe.auroc.estimate).toBeGreaterThan(0.9);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
