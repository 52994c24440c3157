/**
 * The committed testbed fixture (testbed/, written by scripts/testbed/fixture.ts
 * from the world scripts/testbed/run-all.sh builds) end to end: activations
 * extracted from the committed ONNX LMs by the pipeline's extractor → ingest →
 * probes on each model's own activations (the candidate chosen on the world's
 * val: one layer or all side by side) → teacher logits → probe-distilled build →
 * the bundle served by a freshly built worker in real workerd. The student
 * router's test metrics are computed from the *worker's* route decisions (the
 * policy is chosen on val in Node, never on test) and checked against the
 * targets of docs/testbed.md. Assertions are on metrics only, never on time;
 * where a target is missed in reality the assertion states what is true and
 * docs/testbed.md records the miss.
 */
import { mkdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import type { Miniflare } from "miniflare";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runIngest } from "../../scripts/stages/ingest.js";
import { loadProbesInput, runProbes, type ProbesResult } from "../../scripts/stages/probes.js";
import { teacherRows } from "../../scripts/stages/teacher-logits.js";
import { runBuild } from "../../scripts/stages/build.js";
import { OutcomeRow, PoolConfig, majorityLabel } from "../../scripts/formats/outcomes.js";
import { readJsonl, writeJsonl } from "../../scripts/lib/jsonl.js";
import { policyFor } from "../../scripts/lib/routing/simulate.js";
import type { Policy } from "../../src/core/policy.js";
import { pearson } from "../../scripts/lib/stats/metrics.js";
import { baselineScores, costMatrix, LAMBDAS, labelsOf, metricsOn, onlyCandidate, routeEval, sharedTfidf, splitsOf, studentScores, type Splits } from "../../scripts/testbed/evaluate.js";
import { extractTestbed } from "../../scripts/testbed/activations.js";
import { layersOf } from "../../scripts/testbed/fixture.js";
import type { ProbeLayer } from "../../src/core/manifest.js";
import { STUDENT_FEATURIZER, studentConfig } from "../../scripts/testbed/student-config.js";
import { call, replayGolden, serveBundles } from "./harness.js";

const FIX = process.env.TESTBED_FIXTURE ?? "testbed";
const WORK = ".cache/testbed-e2e";
const layers: { model: string; layer: ProbeLayer }[] = JSON.parse(readFileSync(join(FIX, "layers.json"), "utf8"));
const models = layers.map((l) => l.model);
let mf: Miniflare | undefined;
afterAll(async () => mf?.dispose());

describe("testbed fixture → pipeline → bundle → workerd", () => {
  const rows: OutcomeRow[] = [];
  let s: Splits;
  let bundleDir: string;
  let student: Awaited<ReturnType<typeof studentScores>>;
  beforeAll(async () => {
    for await (const { value } of readJsonl(join(FIX, "outcomes.jsonl"), OutcomeRow)) rows.push(value);
    s = splitsOf(rows);
    rmSync(WORK, { recursive: true, force: true });
    mkdirSync(WORK, { recursive: true });
  });

  it("builds a probe-distilled student; probe and student beat length within groups", async () => {
    const ingest = await runIngest({ outcomes: join(FIX, "outcomes.jsonl"), pool: join(FIX, "pool.json"), cacheDir: WORK, force: true });
    const dataset = join(ingest.dir, "dataset.jsonl");
    const probes: Record<string, ProbesResult> = {};
    const prompts = rows.map((r) => ({ id: r.id, text: r.prompt! }));
    for (const { model, layer } of layers) {
      const need = layer === "all" ? layersOf(join(FIX, "models"), model) : [layer];
      await extractTestbed({ modelsDir: join(FIX, "models"), model, prompts, outDir: join(WORK, "acts"), layers: need });
      const input = onlyCandidate(await loadProbesInput({ dataset, activations: join(WORK, "acts"), teacher: model, layers: need }), layer);
      probes[model] = runProbes({
        ...input,
        models: input.models.filter((m) => m.id === model),
        splits: { train: s.train, val: s.val, cal: s.cal, test: s.test },
        options: { bootstrapReps: 200, tfidf: false, logisticLambdas: LAMBDAS },
      });
    }
    await writeJsonl(join(WORK, "teacher.jsonl"), teacherRows(probes));
    const built = await runBuild(studentConfig(WORK, join(FIX, "outcomes.jsonl"), join(FIX, "pool.json"), join(WORK, "teacher.jsonl"), layers, join(WORK, "artifacts")), {
      createdAt: "2026-11-29T00:00:00.000Z",
      progress: "none",
    });
    expect(built.manifest.provenance.mode).toBe("probe-distilled");
    bundleDir = built.dir;
    student = await studentScores(built.dir, rows);
    const groups = rows.map((r) => r.task ?? "");
    const shared = sharedTfidf(rows, s);
    const wg: Record<string, { probe: number; student: number; tfidf: number; length: number; lift: number }> = {};
    for (const [j, m] of models.entries()) {
      const lab = labelsOf(rows, m);
      const b = baselineScores(rows, s, lab, shared);
      const est = (p: ArrayLike<number>) => metricsOn(p, lab, s.test, groups, 50).auroc_within_group!.estimate!;
      const w = { probe: est(probes[m].models[m].logits), student: est(student.p.map((r) => r[j])), tfidf: est(b.tfidf), length: est(b.length) };
      wg[m] = { ...w, lift: (w.student - w.tfidf) / (w.probe - w.tfidf) };
    }
    const fidelity = models.map((m, j) => pearson(s.test.map((i) => student.logits[i][j]), s.test.map((i) => probes[m].models[m].logits[i]))!);
    console.log(JSON.stringify({ wg, fidelity }));
    // Measured on this fixture (docs/testbed.md, "The npm test fixture"): the probe (every layer side by
    // side, as chosen on the world's val) beats length within groups for every member and char n-gram
    // TF-IDF for four of five; tb-mul's trails TF-IDF, the same miss as in the full world. The student
    // tracks its teacher (Pearson > 0.9) and beats length for every member, but keeps less of the
    // probe's lift over TF-IDF than the 80 % target. So the assertions are what holds; the tb-mul
    // TF-IDF comparison and the lift target are reported as misses, not asserted.
    for (const m of models) expect(wg[m].probe).toBeGreaterThan(wg[m].length);
    expect(models.filter((m) => wg[m].probe > wg[m].tfidf).length).toBeGreaterThanOrEqual(4);
    for (const m of models) expect(wg[m].student).toBeGreaterThan(wg[m].length);
    for (const f of fidelity) expect(f).toBeGreaterThan(0.9);
  }, 900_000);

  it("is served by the worker: golden replay, and the worker's probabilities equal the pipeline's on test prompts", async () => {
    mf = await serveBundles(WORK, [bundleDir], "test/worker/testbed-e2e.test.ts");
    expect(await replayGolden(mf, bundleDir)).toBeGreaterThan(0);
    const some = s.test.slice(0, 64);
    const r = await call(mf, "POST", "/v1/route/batch", { body: { requests: some.map((i) => ({ prompt: rows[i].prompt })) } });
    expect(r.status).toBe(200);
    r.body.results.forEach((res: { candidates: { model: string; p_success: number }[] }, k: number) => {
      for (const c of res.candidates) expect(Math.abs(c.p_success - student.p[some[k]][models.indexOf(c.model)])).toBeLessThan(1e-5);
    });
  }, 300_000);

  it("routes every test prompt through the worker: the val-chosen policy against the routing target", async () => {
    const pool = PoolConfig.parse(JSON.parse(readFileSync(join(FIX, "pool.json"), "utf8")));
    const cost = costMatrix(rows, pool, STUDENT_FEATURIZER);
    const evalr = routeEval("student router", rows, s, models, models.map((_, j) => student.p.map((x) => x[j])), cost);
    const best = evalr.chosen.test.bestSingle;
    const routeAll = async (policy: Policy) => {
      let ok = 0;
      let spent = 0;
      for (let k = 0; k < s.test.length; k += 64) {
        const idx = s.test.slice(k, k + 64);
        const r = await call(mf!, "POST", "/v1/route/batch", { body: { requests: idx.map((i) => ({ prompt: rows[i].prompt, policy })) } });
        expect(r.status).toBe(200);
        r.body.results.forEach((res: { decision: { type: string; model: string | null } }, q: number) => {
          expect(res.decision.type).toBe("route");
          const m = res.decision.model!;
          ok += majorityLabel(rows[idx[q]].outcomes[m]);
          spent += cost[idx[q]][models.indexOf(m)];
        });
      }
      return { accuracy: ok / s.test.length, costPct: (100 * spent) / s.test.length / best.cost };
    };
    const chosen = await routeAll(policyFor(evalr.chosen.kind, evalr.chosen.param));
    const maxP = await routeAll({ type: "utility", lambda: 0 });
    console.log(JSON.stringify({ chosen, maxP, best, policy: { kind: evalr.chosen.kind, param: evalr.chosen.param }, simulated: evalr.chosen.test.point }));
    // The worker's decisions are the pipeline's: same test accuracy as the simulated router.
    expect(Math.abs(chosen.accuracy - evalr.chosen.test.point.accuracy)).toBeLessThan(0.002);
    // The routing target, from the worker's own decisions: within 0.5 points of the best single
    // model's accuracy at no more than 50 % of its cost (the policy is the most accurate one on val
    // within that cost budget; evaluate.ts routeEval).
    expect(chosen.accuracy).toBeGreaterThanOrEqual(best.accuracy - 0.005);
    expect(chosen.costPct).toBeLessThanOrEqual(50);
    // Sending each prompt to the member with the highest predicted P(success) (utility, λ = 0)
    // also beats the best single model's accuracy.
    expect(maxP.accuracy).toBeGreaterThan(best.accuracy);
  }, 300_000);
});
