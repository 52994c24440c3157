/**
 * Tests for `evaluate` (scripts/evaluate, scripts/stages/evaluate.ts) on the
 * fixture bundle (random weights, 3 models) and a synthetic outcomes set whose
 * labels are driven by keywords: "easy" → every model succeeds, "tricky" →
 * only medium and large, "brutal" → only large, "hopeless" → none. Checks the
 * result shape, hand-computed costs and counts, that TF-IDF learns the
 * keywords, golden-file agreement of the student's p, determinism, and that
 * the command writes report.md / metrics.json / SVGs.
 */
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GoldenRow, Manifest } from "../../src/core/manifest.js";
import { mulberry32 } from "../../src/core/random.js";
import type { OutcomeRow } from "../../scripts/formats/outcomes.js";
import { evaluateBundle, type EvalResult } from "../../scripts/evaluate/evaluate-bundle.js";
import { rowCost } from "../../scripts/evaluate/score.js";
import { runEvaluate } from "../../scripts/stages/evaluate.js";
import { BuildConfig } from "../../scripts/stages/build-config.js";
import { runBuild } from "../../scripts/stages/build.js";
import { crossfitRouting, foldOf } from "../../scripts/stages/crossfit.js";
import { writeJsonl } from "../../scripts/lib/jsonl.js";

const BUNDLES = "test/fixtures/bundles";
const DIR = join(BUNDLES, "fixture-tiny");
const manifest = Manifest.parse(JSON.parse(readFileSync(join(DIR, "manifest.json"), "utf8")));
const onnx = new Uint8Array(readFileSync(join(DIR, "student.onnx")));
const golden = readFileSync(join(DIR, "golden.jsonl"), "utf8").trim().split("\n").map((l) => GoldenRow.parse(JSON.parse(l)));

const LEVELS = ["easy", "tricky", "brutal", "hopeless"] as const;
// Which of small/medium/large succeed at each level.
const WINS: Record<(typeof LEVELS)[number], [number, number, number]> = { easy: [1, 1, 1], tricky: [0, 1, 1], brutal: [0, 0, 1], hopeless: [0, 0, 0] };
const FILLER = ["apples", "trains", "matrix", "poem", "river", "integral", "summary", "python", "history", "chess"];

function synth(): OutcomeRow[] {
  const rng = mulberry32(11);
  const rows: OutcomeRow[] = [];
  const splits = [...Array(120).fill("train"), ...Array(60).fill("val"), ...Array(80).fill("test")] as OutcomeRow["split"][];
  splits.forEach((split, i) => {
    const level = LEVELS[Math.floor(rng() * 4)];
    const words = Array.from({ length: 3 + Math.floor(rng() * 6) }, () => FILLER[Math.floor(rng() * FILLER.length)]);
    words.splice(Math.floor(rng() * words.length), 0, level);
    const text = `${words.join(" ")} ${i}?`;
    const w = WINS[level];
    const outcomes = { "fixture-small": { n: 1, k: w[0] }, "fixture-medium": { n: 3, k: w[1] * 2 + (1 - w[1]) }, "fixture-large": { n: 1, k: w[2] } };
    const base = { id: `r${i}`, split, task: i % 2 === 0 ? "alpha" : "beta", outcomes };
    rows.push(i % 7 === 3 ? { ...base, messages: [{ role: "user", content: text }] } : { ...base, prompt: text });
  });
  // Hand-checked cost row: 7 pre-tokens ("what","is","123","4","+","5","?").
  rows.push({
    id: "hand",
    prompt: "What is 1234 + 5?",
    split: "test",
    task: "alpha",
    outcomes: {
      "fixture-small": { n: 1, k: 1, output_tokens: 50 },
      "fixture-medium": { n: 2, k: 1 },
      "fixture-large": { n: 1, k: 1, cost_usd: 0.5 },
    },
  });
  // A golden prompt (to compare p with the golden file) missing one model.
  rows.push({ id: "golden", prompt: golden[0].prompt, split: "test", task: "beta", outcomes: { "fixture-small": { n: 1, k: 0 }, "fixture-large": { n: 1, k: 1 } } });
  return rows;
}

const ROWS = synth();
const opts = { manifest, onnx, rows: ROWS, trainRows: ROWS, split: "test" as const, seed: 5, reps: 200 };

describe("evaluateBundle", () => {
  let a: EvalResult;
  let b: EvalResult;
  beforeAll(async () => {
    a = await evaluateBundle(opts);
    b = await evaluateBundle(opts);
  });

  it("has the documented shape and counts", () => {
    expect(a.models).toEqual(["fixture-small", "fixture-medium", "fixture-large"]);
    expect(a.counts).toEqual({ rows_in_file: 262, evaluated: 82, routed: 81, dropped_incomplete: 1, val_rows: 60, val_source: "data:val" });
    expect(a.baselines.fit_rows).toBe(120);
    expect(a.baselines.c_source).toBe("train-data:val");
    expect(a.per_model["fixture-medium"].n).toBe(81); // the golden row lacks medium
    expect(a.per_model["fixture-small"].n).toBe(82);
    const mm = Manifest.shape.metrics.parse(a.manifestMetrics);
    expect(mm.split).toBe("test");
    for (const m of a.models) {
      expect(Object.keys(mm.per_model[m]).sort()).toEqual(
        // Models whose fixture outcomes carry output_tokens also get the cost-estimate error (issue 17 item 5).
        ["auroc", "auroc_hi", "auroc_lo", "base_rate", "brier", "ece", "length_auroc", "logloss", "n", "tfidf_auroc", ...(a.costError?.[m] ? ["cost_mdape", "output_tokens_mdape", "cost_error_n"] : [])].sort(),
      );
    }
    expect(Object.keys(a.costError ?? {}).length).toBeGreaterThan(0);
    expect(mm.headline.cost_mdape_mean).toBeGreaterThanOrEqual(0);
    for (const k of ["cost_pct_at_best_single_acc", "acc_within_best_single_cost", "router_acc", "router_cost", "best_single_acc", "best_single_cost", "auc"]) {
      expect(mm.headline).toHaveProperty(k);
    }
    expect(a.routing.headline_kind).toBe("threshold"); // fixture default policy
    expect(a.routing.selections).not.toBeNull();
    expect(a.routing.per_task.map((t) => t.task)).toEqual(["alpha", "beta"]);
    expect(a.routing.per_task.reduce((s, t) => s + t.n, 0)).toBe(81);
  });

  it("computes the cost of a row by hand", () => {
    const i = a.scored.ids.indexOf("hand");
    expect(a.scored.inputTokens[i]).toBe(7);
    expect(a.scored.cost[i][0]).toBeCloseTo((7 * 0.1 + 50 * 0.2) / 1e6, 15); // measured output tokens
    expect(a.scored.cost[i][1]).toBeCloseTo((7 * 1 + 300 * 2) / 1e6, 15); // pool default 300 output tokens
    expect(a.scored.cost[i][2]).toBe(0.5); // the row's own cost_usd
    expect(a.scored.success[i]).toEqual([1, 0, 1]); // medium 1/2 is a tie → failure
    const hand = ROWS.find((r) => r.id === "hand")!;
    expect(rowCost(hand, manifest.pool[1], 7)).toBeCloseTo(607e-6, 15);
  });

  it("scores like the golden file and masks missing models", () => {
    const i = a.scored.ids.indexOf("golden");
    expect(a.scored.inputTokens[i]).toBe(golden[0].input_tokens);
    a.models.forEach((m, j) => expect(a.scored.p[i][j]).toBeCloseTo(golden[0].p[m], 5));
    expect(a.scored.success[i][1]).toBeNaN();
  });

  it("matches hand-derived routing baselines", () => {
    const test = ROWS.filter((r) => r.split === "test" && r.id !== "golden");
    const succ = (m: string) => test.filter((r) => r.outcomes[m].k / r.outcomes[m].n > 0.5).length / test.length;
    const sim = a.routing.sims.student;
    expect(sim.singles.map((q) => q.accuracy)).toEqual([succ("fixture-small"), succ("fixture-medium"), succ("fixture-large")]);
    expect(sim.oracle.accuracy).toBeCloseTo(succ("fixture-large"), 12); // large succeeds whenever anyone does
    expect(a.manifestMetrics.best_single_model).toBe("fixture-large");
    expect(a.manifestMetrics.headline.best_single_acc).toBe(succ("fixture-large"));
  });

  it("lets TF-IDF learn the keywords, fitted on train rows only", () => {
    for (const m of a.models) expect(a.per_model[m].tfidf.auroc.estimate!).toBeGreaterThan(0.9);
    // Random-weight student: it cannot meet the AUROC target.
    expect(a.targets.auroc.met).toBe(false);
    const t = a.per_model["fixture-small"].tfidf.auroc;
    expect(t.lo!).toBeLessThanOrEqual(t.estimate!);
    expect(t.hi!).toBeGreaterThanOrEqual(t.estimate!);
  });

  it("is deterministic", () => {
    expect(JSON.stringify(b.manifestMetrics)).toBe(JSON.stringify(a.manifestMetrics));
    expect(JSON.stringify(b.per_model)).toBe(JSON.stringify(a.per_model));
    expect(JSON.stringify(b.routing)).toBe(JSON.stringify(a.routing));
  });

  it("falls back for validation rows: training data's val, then none", async () => {
    const testOnly = ROWS.filter((r) => r.split === "test");
    const fromTrain = await evaluateBundle({ ...opts, rows: testOnly, reps: 50 });
    expect(fromTrain.counts.val_source).toBe("train-data:val");
    expect(fromTrain.counts.val_rows).toBe(60);
    const trainOnly = ROWS.filter((r) => r.split === "train");
    const none = await evaluateBundle({ ...opts, rows: testOnly, trainRows: trainOnly, reps: 50 });
    expect(none.counts.val_source).toBe("none");
    expect(none.routing.selections).toBeNull();
    expect(none.manifestMetrics.headline.router_acc).toBeNull();
    expect(none.targets.cost.met).toBe(false);
    // TF-IDF's C is then chosen on every 5th training row, held out of the fit.
    expect(none.baselines.c_source).toBe("holdout-every-5th");
    expect(none.baselines.fit_rows).toBe(96);
    expect(none.baselines.c_rows).toBe(24);
  });

  it("refuses an evaluation split with no rows", async () => {
    const unsplit = ROWS.map(({ split: _s, ...r }) => r as OutcomeRow);
    await expect(evaluateBundle({ ...opts, rows: unsplit })).rejects.toThrow(/no rows with split "test"/);
  });
});

describe("evaluate command", () => {
  let tmp: string;
  beforeAll(() => {
    tmp = mkdtempSync(join(tmpdir(), "preflight-eval-"));
  });
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it("writes report.md, metrics.json and SVGs", async () => {
    const data = join(tmp, "outcomes.jsonl");
    writeFileSync(data, ROWS.map((r) => JSON.stringify(r)).join("\n") + "\n");
    const out = join(tmp, "eval");
    const res = await runEvaluate({ data, bundle: "fixture-tiny", artifacts: BUNDLES, out, seed: 5, reps: 100 });
    expect(res.trainData.source).toBe("evaluation-file"); // the fixture records no provenance data
    const files = readdirSync(out).sort();
    expect(files).toEqual(
      ["auroc-bars.svg", "metrics.json", "pareto.svg", "reliability-fixture-large.svg", "reliability-fixture-medium.svg", "reliability-fixture-small.svg", "report.md"].sort(),
    );
    const md = readFileSync(join(out, "report.md"), "utf8");
    expect(md).toContain(res.result.manifestMetrics.data && (res.result.manifestMetrics.data as { sha256: string }).sha256);
    expect(md).toMatch(/split used: \*\*test\*\*/);
    expect(md).toContain("## Targets");
    expect(md).toMatch(/short on `fixture-/);
    const metrics = JSON.parse(readFileSync(join(out, "metrics.json"), "utf8"));
    expect(metrics.manifestMetrics.split).toBe("test");
    expect(metrics.scored).toBeUndefined();
    expect(readFileSync(join(out, "pareto.svg"), "utf8")).toMatch(/^<svg|<\?xml/);
  });

  it("rejects a bundle whose student does not match the manifest sha256", async () => {
    const art = join(tmp, "art");
    const bdir = join(art, "fixture-tiny");
    (await import("node:fs")).mkdirSync(bdir, { recursive: true });
    writeFileSync(join(bdir, "manifest.json"), readFileSync(join(DIR, "manifest.json")));
    writeFileSync(join(bdir, "student.onnx"), Buffer.from("not a model"));
    await expect(runEvaluate({ data: join(tmp, "outcomes.jsonl"), bundle: "fixture-tiny", artifacts: art })).rejects.toThrow(/sha256/);
  });
});

describe("build with a select block (default policy chosen on cross-fitted rows, issue 17)", () => {
  let tmp: string;
  beforeAll(() => {
    tmp = mkdtempSync(join(tmpdir(), "preflight-select-"));
  });
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it("chooses the utility λ on out-of-fold train+val rows only, ships it, and evaluate reports that λ", async () => {
    // The synthetic keyword rows with a cal split (build needs one); pool: the fixture's three models.
    const rows = ROWS.filter((r) => r.id !== "golden").map((r, i) => (r.split === "train" && i % 4 === 0 ? { ...r, split: "cal" as const } : r));
    const dir = join(tmp, "select");
    mkdirSync(dir, { recursive: true });
    await writeJsonl(join(dir, "rows.jsonl"), rows);
    writeFileSync(join(dir, "pool.json"), JSON.stringify({ name: "fixture", models: manifest.pool }));
    const cfg = BuildConfig.parse({
      bundle_id: "select-test",
      description: "select block test",
      data: join(dir, "rows.jsonl"),
      pool: join(dir, "pool.json"),
      featurizer: { ...manifest.featurizer },
      train: { dim: 4, hidden: 8, maxEpochs: 3, seed: 1 },
      dtype: "float32",
      select: { policy: "utility", folds: 3, tolerance: -0.01 },
      out: join(dir, "artifacts"),
      golden_extra: 0,
    });
    // Folds: stable and in range; every complete train+val row is scored exactly once, no other row.
    expect(rows.map((r) => foldOf(r.id, 3))).toEqual(rows.map((r) => foldOf(r.id, 3)));
    expect(new Set(rows.map((r) => foldOf(r.id, 3)))).toEqual(new Set([0, 1, 2]));
    const oof = crossfitRouting(cfg, rows, manifest.pool, 3);
    const tv = rows.filter((r) => (r.split === "train" || r.split === "val") && manifest.pool.every((m) => r.outcomes[m.id]));
    expect(oof.success.length).toBe(tv.length);

    const out = await runBuild(cfg, { createdAt: "2026-12-04T00:00:00.000Z", progress: "none" });
    const m = Manifest.parse(JSON.parse(readFileSync(join(out.dir, "manifest.json"), "utf8")));
    expect(m.default_policy.type).toBe("utility");
    expect(m.provenance.trainer.policy_selection).toBe("oof-3fold-utility");
    expect(m.provenance.trainer.policy_oof_rows).toBe(tv.length);
    const lambda = (m.default_policy as { lambda: number }).lambda;
    expect(m.metrics.headline.router_param).toBe(lambda);
    // evaluate, from the bundle alone, reproduces the headline at the shipped λ (not a re-choice on val).
    const res = await evaluateBundle({ manifest: m, onnx: new Uint8Array(readFileSync(join(out.dir, "student.onnx"))), rows, trainRows: rows.filter((r) => r.split === "train" || r.split === "val"), split: "test", seed: m.metrics.seed as number, data: m.metrics.data as { name: string; sha256: string } });
    expect(JSON.parse(JSON.stringify(res.manifestMetrics))).toEqual(m.metrics);
    expect(res.routing.selections!.student.utility).toMatchObject({ param: lambda, rule: "chosen-at-build" });
  }, 120_000);
});
