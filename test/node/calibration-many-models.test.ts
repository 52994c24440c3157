/**
 * Issue 17, "calibration that cannot invert": a small many-model pool made
 * from the public LLMRouter outcomes (500 prompts; per source model the
 * original, a copy with 30 % of labels flipped and a copy with shuffled
 * labels: 27 models, ~54 cal rows each) goes through the real `build`
 * stages. On this pool plain Platt fits negative slopes (the anti-router of
 * the issue); the build must instead serve only monotone maps, flatten
 * models without validated signal to their base rate, say so in a warning
 * table, and no model's calibrated P may have a test AUROC CI below 0.5.
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { afterAll, describe, expect, it, vi } from "vitest";
import { isConstant } from "../../src/core/calibration.js";
import { Manifest } from "../../src/core/manifest.js";
import { BuildConfig } from "../../scripts/stages/build-config.js";
import { manyModelPool } from "../../scripts/convert/many-model-pool.js";
import { runBuild } from "../../scripts/stages/build.js";
import { scoreRows } from "../../scripts/evaluate/score.js";
import { majorityLabel, OutcomeRow, PoolConfig } from "../../scripts/formats/outcomes.js";
import { fitPlatt } from "../../scripts/lib/calibration-fit.js";
import { writeJsonl } from "../../scripts/lib/jsonl.js";
import { bootstrapCI } from "../../scripts/lib/stats/bootstrap.js";
import { aurocCounts, countsOf, TieGroups } from "../../scripts/lib/stats/resample.js";

const WORK = ".cache/calibration-many";
const src = readFileSync("data/derived/llmrouter.jsonl", "utf8")
  .trim()
  .split("\n")
  .map((l) => OutcomeRow.parse(JSON.parse(l)));
const pool = PoolConfig.parse(JSON.parse(readFileSync("data/pools/llmrouter.json", "utf8")));
const many = manyModelPool(src, pool, { prompts: 500, seed: 17, flip: 0.3 });
const models = many.pool.models.map((m) => m.id);
const split = (s: string) => many.rows.filter((r) => r.split === s);

/** Per model: score column and majority labels over rows that have the model. */
function columns(scores: number[][], rows: OutcomeRow[]) {
  return models.map((m, j) => {
    const s: number[] = [];
    const y: number[] = [];
    rows.forEach((r, i) => {
      if (!r.outcomes[m]) return;
      s.push(scores[i][j]);
      y.push(majorityLabel(r.outcomes[m]));
    });
    return { s, y };
  });
}

const errors = vi.spyOn(console, "error");
afterAll(() => errors.mockRestore());

describe("many-model pool from public data", () => {
  it("builds with monotone calibration, flattens models without signal, and no calibrated P ranks test worse than chance", async () => {
    mkdirSync(WORK, { recursive: true });
    await writeJsonl(`${WORK}/outcomes.jsonl`, many.rows);
    writeFileSync(`${WORK}/pool.json`, JSON.stringify(many.pool));
    const logged: string[] = [];
    errors.mockImplementation((...a: unknown[]) => void logged.push(a.map(String).join(" ")));
    const cfg = BuildConfig.parse({
      bundle_id: "many-models",
      description: "issue 17 calibration stress pool (test only)",
      data: `${WORK}/outcomes.jsonl`,
      pool: `${WORK}/pool.json`,
      featurizer: { kind: "hashed-ngram-v1", buckets: 32768, word_ngrams: [1, 2], char_ngrams: [3, 4], max_features: 512, lowercase: true, seed: 2538058380 },
      train: { dim: 16, hidden: 64, batchSize: 128, seed: 1 },
      out: `${WORK}/artifacts`,
      golden_extra: 0,
    });
    const out = await runBuild(cfg, { createdAt: "2026-12-04T00:00:00.000Z", progress: "none" });
    errors.mockReset();
    const m = Manifest.parse(JSON.parse(readFileSync(`${out.dir}/manifest.json`, "utf8")));
    const stats = m.calibration_stats!;
    expect(Object.keys(stats).sort()).toEqual([...models].sort());

    // The failure this guards against: plain Platt on the same cal logits fits negative slopes.
    const onnx = readFileSync(`${out.dir}/student.onnx`);
    const cal = columns((await scoreRows(m, onnx, split("cal"))).logits, split("cal"));
    const plainSlopes = cal.map((c) => fitPlatt(c.s, c.y).a);
    console.log(`[calibration-many] plain Platt slopes < 0: ${plainSlopes.filter((a) => a < 0).length} of ${models.length}`);
    expect(plainSlopes.some((a) => a < 0)).toBe(true);

    models.forEach((id, j) => {
      const st = stats[id];
      const c = m.calibration[id];
      expect(st.n).toBe(cal[j].s.length); // counts are the cal rows with an outcome for this model
      expect(st.positives).toBe(cal[j].y.reduce((a, b) => a + b, 0));
      if (c.kind === "platt") expect(c.a).toBeGreaterThanOrEqual(0);
      if (st.fitted?.kind === "platt") expect(st.fitted.a).toBeGreaterThanOrEqual(0);
      if (st.signal === "none") expect(isConstant(c)).toBe(true);
    });
    const shuffled = models.filter((id) => id.endsWith("~shuffled"));
    const originals = models.filter((id) => !id.includes("~"));
    // Shuffled labels carry no signal: validation must say so for (nearly) all of them, and serve no inverted score to any.
    expect(shuffled.filter((id) => stats[id].signal === "none").length).toBeGreaterThanOrEqual(shuffled.length - 2);
    // ...without flattening everything: some real models keep their score.
    expect(originals.some((id) => stats[id].signal === "ok" && !isConstant(m.calibration[id]))).toBe(true);

    // The warning table names every model served a constant.
    const flagged = models.filter((id) => stats[id].signal === "none" || isConstant(m.calibration[id]));
    expect(logged.some((l) => /WARNING: \d+ of 27 models/.test(l))).toBe(true);
    for (const id of flagged) expect(logged.some((l) => l.split(" | ")[0].trim() === id)).toBe(true);

    // Test split: bootstrap 95% CI of the AUROC of the served calibrated P, per model.
    const testScored = await scoreRows(m, onnx, split("test"));
    const test = columns(testScored.p, split("test"));
    const below: string[] = [];
    models.forEach((id, j) => {
      const { s, y } = test[j];
      const groups = new TieGroups(s);
      const ci = bootstrapCI(s.length, (idx) => aurocCounts(groups, y, countsOf(idx, s.length)), { seed: 7, reps: 1000 });
      if (ci.hi !== null && ci.hi < 0.5) below.push(`${id}: ${ci.estimate} [${ci.lo}, ${ci.hi}]`);
    });
    expect(below).toEqual([]);
  }, 120_000);
});
