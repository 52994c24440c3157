/**
 * Testbed step 5: the whole evaluation, written to docs/testbed.md with SVG
 * plots under docs/testbed/ (and docs/testbed/results.json). One command:
 *   npx tsx scripts/testbed/report.ts [--world .cache/testbed] [--reps 1000]
 * Reads <world>/outcomes.jsonl, pool.json, activations/, models/*.train.json.
 * Writes <world>/teacher.jsonl, <world>/layers.json (each model's chosen probe
 * layer, for fixture.ts) and the student bundle under <world>/artifacts/.
 * Protocol: probes and baselines fit on train, λ/layer/C chosen on val, Platt
 * and the student's calibration on cal, everything reported on test.
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { calibrate } from "../../src/core/calibration.js";
import { runBuild } from "../stages/build.js";
import { loadProbesInput, runProbes, type ProbesResult } from "../stages/probes.js";
import { teacherRows } from "../stages/teacher-logits.js";
import { OutcomeRow, PoolConfig } from "../formats/outcomes.js";
import { readJsonFile, readJsonl, writeJsonl } from "../lib/jsonl.js";
import { barChart, paretoPlot, type BarValue } from "../lib/plots/svg.js";
import { fmtCI, fmtNum, mdTable } from "../lib/report/markdown.js";
import { pearson, spearman } from "../lib/stats/metrics.js";
import type { MetricSet } from "../lib/stats/report.js";
import { arg, HOLDOUT_PCT } from "./gen-data.js";
import { layersOf } from "./fixture.js";
import { K, TEMPERATURE } from "./rollouts.js";
import { groupRuleSection } from "./group-rule.js";
import { STUDENT_FEATURIZER, STUDENT_TRAIN, studentConfig } from "./student-config.js";
import {
  baselineScores, costMatrix, LAMBDAS, activationBlock, humanBlock, labelsOf, liftKept, logisticOnBlocks, metricsOn, routeEval, sharedTfidf, splitsOf, studentScores, withinGroupDiff, type RouterResult,
} from "./evaluate.js";

const iv = (m: MetricSet | undefined, k: "auroc" | "auroc_within_group"): BarValue | null => (m && m[k] ? { estimate: m[k]!.estimate, lo: m[k]!.lo, hi: m[k]!.hi } : null);

if (import.meta.url === `file://${process.argv[1]}`) {
  const t0 = performance.now();
  const world = arg("world", ".cache/testbed");
  const reps = Number(arg("reps", "1000"));
  const docs = arg("docs", "docs");
  const outcomesPath = join(world, "outcomes.jsonl");
  const poolPath = join(world, "pool.json");
  const rows: OutcomeRow[] = [];
  for await (const { value } of readJsonl(outcomesPath, OutcomeRow)) rows.push(value);
  const pool = await readJsonFile(poolPath, PoolConfig);
  const models = pool.models.map((m) => m.id);
  const s = splitsOf(rows);
  const groups = rows.map((r) => r.task ?? "");
  const train = Object.fromEntries(models.map((m) => [m, JSON.parse(readFileSync(join(world, "models", `${m}.train.json`), "utf8"))]));
  const log = (m: string) => console.error(`[report ${((performance.now() - t0) / 1000).toFixed(0)} s] ${m}`);

  // 1. Probes: on each model's activations, one probe per pool model (the cross-model matrix).
  const probes: Record<string, ProbesResult> = {};
  const layerFeatures: Record<string, { layer: number; data: Float32Array; cols: number }[]> = {};
  for (const mi of models) {
    const layers = layersOf(join(world, "models"), mi);
    const input = await loadProbesInput({ dataset: outcomesPath, activations: join(world, "activations"), teacher: mi, layers });
    probes[mi] = runProbes({ ...input, splits: { train: s.train, val: s.val, cal: s.cal, test: s.test }, options: { bootstrapReps: reps, tfidf: false, logisticLambdas: LAMBDAS, stackLayers: true } });
    const own = probes[mi].models[mi].probe.layer;
    layerFeatures[mi] = input.layers.map((x) => ({ layer: x.layer as number, ...(x.features as { data: Float32Array; cols: number }) }));
    log(`probes on ${mi}: own layer ${own}`);
  }
  const layersChosen = models.map((m) => ({ model: m, layer: probes[m].models[m].probe.layer }));
  writeFileSync(join(world, "layers.json"), JSON.stringify(layersChosen, null, 1));

  // 2. Student through the pipeline's build command, with teacher logits from each model's own probe.
  const teacherPath = join(world, "teacher.jsonl");
  await writeJsonl(teacherPath, teacherRows(Object.fromEntries(models.map((m) => [m, probes[m]]))));
  const built = await runBuild(studentConfig(world, outcomesPath, poolPath, teacherPath, layersChosen, join(world, "artifacts")), { createdAt: "2026-11-29T00:00:00.000Z", progress: "none" });
  const student = await studentScores(built.dir, rows);
  log(`student built: ${built.dir}`);

  // 3. Per-model predictors on test.
  const shared = sharedTfidf(rows, s);
  type Pred = "length" | "tfidf" | "human" | "probe" | "probe-1layer" | "probe+human" | "student";
  const PREDS: Pred[] = ["length", "tfidf", "human", "probe", "probe-1layer", "probe+human", "student"];
  const scores: Record<string, Record<Pred, ArrayLike<number>>> = {};
  const metrics: Record<string, Record<Pred, MetricSet>> = {};
  const notes: Record<string, Record<string, string>> = {};
  const human = humanBlock(rows);
  const unl = rows.flatMap((r, i) => (r.split === "unlabelled" ? [i] : []));
  const labels = Object.fromEntries(models.map((m) => [m, labelsOf(rows, m)]));
  const fidelity: Record<string, { pearson_test: number | null; pearson_unlabelled: number | null }> = {};
  const spear: Record<string, { human: number | null; success: number | null }> = {};
  for (const [j, m] of models.entries()) {
    const lab = labels[m];
    const b = baselineScores(rows, s, lab, shared);
    const pr = probes[m].models[m];
    const probeP = Float64Array.from(pr.logits, (z) => calibrate(z, pr.probe.calibration));
    const chosen = layerFeatures[m].filter((x) => pr.probe.layer === "all" || x.layer === pr.probe.layer).map(activationBlock);
    const ph = logisticOnBlocks(rows, s, lab, [...chosen, human]).p;
    // For comparison: the best single layer by the probes stage's own val log-loss.
    const one = pr.probe.selection.filter((r) => typeof r.layer === "number").sort((a, b) => a.val_loss - b.val_loss)[0].layer as number;
    const pa = logisticOnBlocks(rows, s, lab, [activationBlock(layerFeatures[m].find((x) => x.layer === one)!)]);
    const st = student.p.map((r) => r[j]);
    scores[m] = { length: b.length, tfidf: b.tfidf, human: b.human, probe: probeP, "probe-1layer": pa.p, "probe+human": ph, student: st };
    metrics[m] = Object.fromEntries(PREDS.map((k) => [k, metricsOn(scores[m][k], lab, s.test, groups, reps)])) as Record<Pred, MetricSet>;
    const width = chosen.reduce((a, x) => a + x.cols, 0);
    notes[m] = { ...b.notes, probe: `${pr.probe.layer === "all" ? `all ${chosen.length} layers` : `layer ${pr.probe.layer}`}, ${width} dims, λ=${pr.probe.lambda}`, "probe-1layer": `layer ${one}, ${pa.d} dims, λ=${pa.lambda}` };
    fidelity[m] = {
      pearson_test: pearson(s.test.map((i) => student.logits[i][j]), s.test.map((i) => pr.logits[i])),
      pearson_unlabelled: pearson(unl.map((i) => student.logits[i][j]), unl.map((i) => pr.logits[i])),
    };
    spear[m] = {
      human: spearman(s.test.map((i) => pr.logits[i]), s.test.map((i) => rows[i].human_difficulty ?? 0)),
      success: spearman(s.test.map((i) => pr.logits[i]), s.test.map((i) => lab.rate[i])),
    };
    log(`metrics ${m}`);
  }

  // 4. Cross-model matrix: probe on i's activations predicting j's success (test, within-group AUROC).
  const cross = models.map((mi) => models.map((mj) => probes[mi].models[mj].test.probe.auroc_within_group ?? null));
  const crossAll = models.map((mi) => models.map((mj) => probes[mi].models[mj].test.probe.auroc));
  const diagDominant = models.map((mj, j) => models.every((_, i) => i === j || (cross[j][j]?.estimate ?? -1) >= (cross[i][j]?.estimate ?? -1)));

  // 5. Routing: choose on val, report on test.
  const cost = costMatrix(rows, pool, STUDENT_FEATURIZER);
  const pOf = (k: Pred) => models.map((m) => scores[m][k]);
  const routers: RouterResult[] = [
    routeEval("probe router", rows, s, models, pOf("probe"), cost),
    routeEval("student router", rows, s, models, pOf("student"), cost),
    routeEval("length router", rows, s, models, pOf("length"), cost),
    routeEval("TF-IDF router", rows, s, models, pOf("tfidf"), cost),
    routeEval("human-feature router", rows, s, models, pOf("human"), cost),
  ];
  const sim0 = routers[0].testSim;
  log("routing done");

  // ---- plots
  const dir = join(docs, "testbed");
  mkdirSync(dir, { recursive: true });
  const label: Record<Pred, string> = { length: "length", tfidf: "char n-gram TF-IDF", human: "human features", probe: "probe", "probe-1layer": "probe, best single layer", "probe+human": "probe + human", student: "student" };
  writeFileSync(join(dir, "auroc-within.svg"), barChart({ title: "Within-group AUROC on test (operator × largest operand size), 95% CI", groups: models, series: PREDS.map((k) => ({ label: label[k], values: models.map((m) => iv(metrics[m][k], "auroc_within_group")) })), yLabel: "AUROC", yDomain: [0.4, 1], refLine: { value: 0.5, label: "chance" } }));
  writeFileSync(join(dir, "auroc-overall.svg"), barChart({ title: "Overall AUROC on test, 95% CI", groups: models, series: PREDS.map((k) => ({ label: label[k], values: models.map((m) => iv(metrics[m][k], "auroc")) })), yLabel: "AUROC", yDomain: [0.4, 1], refLine: { value: 0.5, label: "chance" } }));
  writeFileSync(join(dir, "cross-model.svg"), barChart({ title: "Probe on model i's activations → model j's success (within-group AUROC, test)", groups: models.map((m) => `target ${m}`), series: models.map((mi, i) => ({ label: `activations of ${mi}`, values: models.map((_, j) => cross[i][j] ? { estimate: cross[i][j]!.estimate, lo: cross[i][j]!.lo, hi: cross[i][j]!.hi } : null) })), yLabel: "AUROC", yDomain: [0.4, 1], refLine: { value: 0.5, label: "chance" } }));
  const chosenPts = routers.map((r) => ({ label: `${r.label} (val-chosen)`, cost: r.chosen.test.point.cost, accuracy: r.chosen.test.point.accuracy }));
  writeFileSync(join(dir, "pareto.svg"), paretoPlot({
    title: "Accuracy vs mean cost per query (test); curves: threshold sweep",
    points: [...sim0.singles.map((q) => ({ label: q.label, cost: q.cost, accuracy: q.accuracy, kind: "single" as const })), { label: "random", cost: sim0.random.cost, accuracy: sim0.random.accuracy, kind: "random" as const }, { label: "oracle", cost: sim0.oracle.cost, accuracy: sim0.oracle.accuracy, kind: "oracle" as const }, ...chosenPts.slice(0, 2)],
    curves: routers.map((r) => ({ label: r.label, points: r.testSim.routers.threshold.map((q) => ({ cost: q.cost, accuracy: q.accuracy })) })),
    logX: true, xLabel: "mean USD per query (log)", yLabel: "accuracy (majority-of-5 success)",
  }));

  // ---- markdown
  const lift = (m: string) => {
    const wg = (k: Pred) => metrics[m][k].auroc_within_group?.estimate ?? NaN;
    return liftKept(wg("probe"), wg("student"), wg("tfidf"));
  };
  const headRouter = (r: RouterResult) => r.chosen.test;
  const out: string[] = [];
  const w = (x = "") => out.push(x);
  const rolls = Object.fromEntries(models.map((m) => [m, readFileSync(join(world, "rollouts", `${m}.jsonl`), "utf8").trim().split("\n").map((l) => JSON.parse(l) as { greedy_ok: number; k: number })]));
  const nLab = rows.filter((r) => r.split !== "unlabelled").length;
  const nUnl = rows.length - nLab;
  w("<!-- Generated by `npx tsx scripts/testbed/report.ts` (part of scripts/testbed/run-all.sh); do not edit by hand. -->");
  w("# Testbed: small LMs trained here, real rollouts, graded labels, activations");
  w();
  w(`Everything on this page is measured in a world built from seeds by \`scripts/testbed/run-all.sh\`: ${models.length} decoder-only char transformers trained on CPU (torch, \`scripts/testbed/train.py\`), real sampled rollouts graded by exact match (\`rollouts.ts\`, onnxruntime-node), end-of-input activations of every layer from the pipeline's own ONNX-teacher extractor (\`activations.ts\`), probes from the pipeline's \`probes\` stage, and a student from the pipeline's \`build\` command. Statistics: test split, paired seeded bootstrap (${reps} resamples) 95% CIs.`);
  w();
  w("## World");
  w();
  w(`* Prompts: **${nLab} labelled** (train ${s.train.length} / val ${s.val.length} / cal ${s.cal.length} / test ${s.test.length}, split rule of \`ingest\`) + **${nUnl} unlabelled** (distillation only), all distinct prompts. Labelled prompts are drawn only from *held-out* prompts — those whose hash falls in the first ${HOLDOUT_PCT}% (\`isHeldOut\` in \`gen-data.ts\`), which never appear in any training file — or from 1-digit problems, too few to hold out, which every model may have memorised. Unlabelled prompts are never held-out ones.`);
  w(`* Rollouts: k = ${K} samples at temperature ${TEMPERATURE} plus one greedy decode per prompt and model; a sample succeeds iff its text before \`;\` equals the answer; label = majority of the ${K} (ties impossible with 5). Generation stops at \`;\` or len(answer)+1 tokens (longer cannot match).`);
  w("* Price rule: input and output USD per Mtok = parameter count / 1e6 (so cost ∝ size). Expected cost per query in routing is the worker's own rule: (featurizer input tokens + the model's `default_output_tokens`, its mean generated tokens over all rollouts, rounded) × price.");
  w("* Groups for within-group AUROC: operator × largest operand size (e.g. `add:3`), weighted by group size; groups with one class are skipped (metrics.ts `withinGroupAuroc`).");
  w();
  w(mdTable(["model", "params", "d × layers", "mixture (op weights)", "steps × batch", "train wall s", "greedy acc", `majority-of-${K} acc`, "price $/Mtok"], models.map((m) => {
    const t = train[m];
    const r = rolls[m];
    return [m, t.params, `${t.spec.d} × ${t.spec.layers}`, Object.entries(t.spec.mixture).map(([k, v]) => `${k} ${v}`).join(", "), `${t.steps} × ${t.batch}`, Math.round(t.wall_s), fmtNum(r.reduce((a, x) => a + x.greedy_ok, 0) / r.length), fmtNum(r.reduce((a, x) => a + (x.k > K / 2 ? 1 : 0), 0) / r.length), fmtNum(pool.models.find((p) => p.id === m)!.input_per_mtok, 4)];
  })));
  w();
  const opsAcc = (m: string) => {
    const by = new Map<string, [number, number]>();
    rows.forEach((r) => { const o = r.outcomes[m]; if (!o) return; const g = r.task ?? ""; const v = by.get(g) ?? [0, 0]; v[0] += o.k / o.n > 0.5 ? 1 : 0; v[1]++; by.set(g, v); });
    return by;
  };
  const allGroups = [...new Set(groups.filter((g, i) => rows[i].split !== "unlabelled"))].sort();
  w("Majority-of-5 success rate by group (all labelled rows):");
  w();
  w(mdTable(["group", ...models], allGroups.map((g) => [g, ...models.map((m) => { const v = opsAcc(m).get(g); return v ? fmtNum(v[0] / v[1], 2) : ""; })])));
  w();
  // Targets summary (computed; misses are stated, not hidden).
  const nDiag = diagDominant.filter(Boolean).length;
  const studentR = routers[1].chosen.test;
  const probeR = routers[0].chosen.test;
  const meets = (t: RouterResult["chosen"]["test"]) => t.accuracyDelta >= -0.005 && (t.costPctOfBestSingle ?? Infinity) <= 50;
  const wgOf = (m: string, k: Pred) => metrics[m][k].auroc_within_group?.estimate ?? 0;
  const wgBeats = models.filter((m) => wgOf(m, "probe") > Math.max(wgOf(m, "length"), wgOf(m, "tfidf")));
  const wgBeatsOne = models.filter((m) => wgOf(m, "probe-1layer") > Math.max(wgOf(m, "length"), wgOf(m, "tfidf")));
  const humanAsGood = models.filter((m) => wgOf(m, "human") >= wgOf(m, "probe"));
  w("## Targets at a glance");
  w();
  w(mdTable(["target", "measured", "met?"], [
    ["probe beats length and TF-IDF (within-group AUROC, every model)", `${wgBeats.length}/${models.length} models (${wgBeats.join(", ") || "none"})`, wgBeats.length === models.length ? "yes" : "**no**"],
    ["(reported, not a target) the best single layer's probe beats length and TF-IDF", `${wgBeatsOne.length}/${models.length} models (${wgBeatsOne.join(", ") || "none"})`, "—"],
    ["(reported, not a target) human-feature baseline as good as the probe", `${humanAsGood.length}/${models.length} models${humanAsGood.length ? ` (${humanAsGood.join(", ")})` : ""}`, "—"],
    ["cross-model diagonal dominance for ≥ half the pool", `${nDiag}/${models.length}`, nDiag * 2 >= models.length ? "yes" : "**no**"],
    ["student vs teacher logit correlation (test, Pearson)", models.map((m) => `${m} ${fmtNum(fidelity[m].pearson_test, 2)}`).join(", "), "—"],
    ["student keeps ≥ 80% of the probe's within-group lift over TF-IDF", models.map((m) => `${m} ${Number.isNaN(lift(m)) ? "n/a" : fmtNum(lift(m), 2)}`).join(", "), models.every((m) => lift(m) >= 0.8) ? "yes" : "**no**"],
    ["probe router: within 0.5 points of best single at ≤ 50% of its cost", `Δ ${fmtNum(100 * probeR.accuracyDelta, 2)} points at ${fmtNum(probeR.costPctOfBestSingle, 1)}%`, meets(probeR) ? "yes" : "**no**"],
    ["student router: same target", `Δ ${fmtNum(100 * studentR.accuracyDelta, 2)} points at ${fmtNum(studentR.costPctOfBestSingle, 1)}%`, meets(studentR) ? "yes" : "**no**"],
  ]));
  w();
  w("## 1. Probe vs baselines, per model (test)");
  w();
  w("![within-group AUROC](testbed/auroc-within.svg)");
  w();
  w("![overall AUROC](testbed/auroc-overall.svg)");
  w();
  w(mdTable(["model", "predictor", "AUROC [95% CI]", "within-group AUROC [95% CI]", "note"], models.flatMap((m) => PREDS.map((k) => [m, label[k], fmtCI(metrics[m][k].auroc), fmtCI(metrics[m][k].auroc_within_group), notes[m][k] ?? (k === "student" ? "build command, probe-distilled" : "")]))));
  w();
  w("Paired differences in within-group AUROC on test (same bootstrap resamples for both predictors, 95% CI): an interval that excludes 0 is a gap larger than sampling noise.");
  w();
  const diff = (m: string, a: Pred, b: Pred) => fmtCI(withinGroupDiff(scores[m][a], scores[m][b], labels[m], s.test, groups, reps));
  w(mdTable(["model", "probe − TF-IDF", "probe − length", "probe − human features", "student − TF-IDF"], models.map((m) => [m, diff(m, "probe", "tfidf"), diff(m, "probe", "length"), diff(m, "probe", "human"), diff(m, "student", "tfidf")])));
  w();
  w("## 2. Cross-model: whose activations predict whose success");
  w();
  w("Within-group AUROC on test of a probe fitted on model *i*'s activations (rows) to model *j*'s labels (columns), each probe with its own candidate (one layer, or every layer side by side) and λ chosen on val.");
  w();
  w(mdTable(["activations ↓ / target →", ...models], models.map((mi, i) => [mi, ...models.map((_, j) => `${fmtCI(cross[i][j])}${i === j ? " ◆" : ""}`)])));
  w();
  w(`Diagonal dominance (own activations ≥ every other model's, by point estimate, for the target): ${models.map((m, j) => `${m} ${diagDominant[j] ? "yes" : "no"}`).join(", ")} — **${diagDominant.filter(Boolean).length}/${models.length}** (target: ≥ half).`);
  w();
  // How firm each column's verdict is: own activations against the strongest other model's, same bootstrap resamples.
  const rival = models.map((_, j) => models.map((_, i) => i).filter((i) => i !== j).sort((a, b) => (cross[b][j]?.estimate ?? -1) - (cross[a][j]?.estimate ?? -1))[0]);
  w(`Own − strongest other activations, per target (paired 95% CI; an interval that excludes 0 is a verdict beyond sampling noise): ${models.map((mj, j) => `${mj} vs ${models[rival[j]]} ${fmtCI(withinGroupDiff(probes[mj].models[mj].logits, probes[models[rival[j]]].models[mj].logits, labels[mj], s.test, groups, reps))}`).join("; ")}.`);
  w();
  w("Overall AUROC, same layout:");
  w();
  w(mdTable(["activations ↓ / target →", ...models], models.map((mi, i) => [mi, ...models.map((_, j) => fmtCI(crossAll[i][j]))])));
  w();
  w("![cross-model](testbed/cross-model.svg)");
  w();
  w("Spearman (test) of each model's own probe logit with the scalar human difficulty (answer digits + carries + longest carry chain) and with its own success rate k/n, models ordered from weakest to strongest (test majority-of-5 accuracy). A gap between the two columns that widens with strength means the probe tracks what *this* model finds hard rather than what a human would.");
  w();
  const testAccOf = Object.fromEntries(models.map((m) => { const y = labels[m].y; return [m, s.test.reduce((a, i) => a + y[i], 0) / s.test.length]; }));
  const testAcc = (m: string) => testAccOf[m];
  const byStrength = [...models].sort((a, b) => testAcc(a) - testAcc(b));
  w(mdTable(["model", "test accuracy", "ρ(probe, human difficulty)", "ρ(probe, own success rate)", "|ρ success| − |ρ human|"], byStrength.map((m) => [m, fmtNum(testAcc(m)), fmtNum(spear[m].human), fmtNum(spear[m].success), fmtNum(Math.abs(spear[m].success ?? 0) - Math.abs(spear[m].human ?? 0))])));
  w();
  w("## 3. Student fidelity");
  w();
  w(`Student: the pipeline's \`build\` (hashed char/word n-gram bag → MLP, char n-grams in ${STUDENT_FEATURIZER.char_scope} scope, at most ${STUDENT_FEATURIZER.max_features} ids, dim ${STUDENT_TRAIN.dim}, hidden ${STUDENT_TRAIN.hidden}, α = 0.8 teacher MSE) distilled from each model's own probe logit on train + unlabelled rows, calibrated on cal. Lift kept = (student − TF-IDF) / (probe − TF-IDF), within-group AUROC on test; target ≥ 0.8.`);
  w();
  w(mdTable(["model", "Pearson student vs teacher logit (test)", "(unlabelled)", "within-group AUROC probe", "student", "TF-IDF", "lift kept"], models.map((m) => [m, fmtNum(fidelity[m].pearson_test), fmtNum(fidelity[m].pearson_unlabelled), fmtNum(metrics[m].probe.auroc_within_group?.estimate), fmtNum(metrics[m].student.auroc_within_group?.estimate), fmtNum(metrics[m].tfidf.auroc_within_group?.estimate), Number.isNaN(lift(m)) ? "n/a (probe ≤ TF-IDF)" : fmtNum(lift(m))])));
  w();
  w("## 4. Routing (parameters chosen on val, reported on test)");
  w();
  w("![pareto](testbed/pareto.svg)");
  w();
  const bs = routers[0].chosen.test.bestSingle;
  w(`Best single model on test: **${bs.label}**, accuracy ${fmtNum(bs.accuracy)}, mean cost $${bs.cost.toExponential(3)}. Random: ${fmtNum(sim0.random.accuracy)} at $${sim0.random.cost.toExponential(3)}; oracle: ${fmtNum(sim0.oracle.accuracy)} at $${sim0.oracle.cost.toExponential(3)}. Target: within 0.5 points of the best single's accuracy at ≤ 50% of its cost.`);
  w();
  const cheapest = Math.min(...sim0.singles.map((q) => q.cost));
  if (bs.cost <= cheapest * 1.0001) w(`Note: the best single model on test is also the cheapest in the pool, so no router can cost ≤ 50% of it (the cheapest model alone already costs ${fmtNum(100 * cheapest / bs.cost, 1)}%); the cost half of the target is unreachable in this world, and the comparison that remains is accuracy at equal or lower cost.`);
  else w(`Cheapest model's cost is ${fmtNum(100 * cheapest / bs.cost, 1)}% of the best single's, the floor for any router.`);
  w();
  w(mdTable(["router", "policy (val-chosen)", "rule", "test accuracy", "Δ vs best single (points)", "test cost % of best single", "meets target"], routers.map((r) => {
    const t = headRouter(r);
    const ok = t.accuracyDelta >= -0.005 && (t.costPctOfBestSingle ?? Infinity) <= 50;
    return [r.label, `${r.chosen.kind} ${fmtNum(r.chosen.param, 4)}`, r.chosen.rule, fmtNum(t.point.accuracy), fmtNum(100 * t.accuracyDelta, 2), fmtNum(t.costPctOfBestSingle, 1), ok ? "yes" : "**no**"];
  })));
  w();
  out.push(...groupRuleSection({ models, test: s.test, groups, labels, scores: Object.fromEntries(models.map((m) => [m, { probe: scores[m].probe, tfidf: scores[m].tfidf, length: scores[m].length, student: scores[m].student }])), cross: models.map((mi) => models.map((mj) => probes[mi].models[mj].logits)) }));
  const results = {
    models, counts: { labelled: nLab, unlabelled: nUnl, train: s.train.length, val: s.val.length, cal: s.cal.length, test: s.test.length },
    layers: layersChosen,
    metrics: Object.fromEntries(models.map((m) => [m, Object.fromEntries(PREDS.map((k) => [k, { auroc: metrics[m][k].auroc, auroc_within_group: metrics[m][k].auroc_within_group }]))])),
    cross: cross.map((r) => r.map((c) => c?.estimate ?? null)), diagDominant, spearman: spear, fidelity,
    liftKept: Object.fromEntries(models.map((m) => [m, lift(m)])),
    routing: Object.fromEntries(routers.map((r) => [r.label, { kind: r.chosen.kind, param: r.chosen.param, rule: r.chosen.rule, accuracy: r.chosen.test.point.accuracy, cost: r.chosen.test.point.cost, accuracyDelta: r.chosen.test.accuracyDelta, costPct: r.chosen.test.costPctOfBestSingle }])),
    bestSingle: bs, random: sim0.random, oracle: sim0.oracle,
  };
  writeFileSync(join(dir, "results.json"), JSON.stringify(results, null, 1) + "\n");
  const summaryFile = join(world, "summary.md");
  let extra = "";
  try { extra = readFileSync(join("scripts", "testbed", "report-notes.md"), "utf8"); } catch { /* optional hand-written notes */ }
  if (extra) { w(extra.trim()); w(); }
  w(`Report generated in ${((performance.now() - t0) / 1000).toFixed(0)} s.`);
  writeFileSync(join(docs, "testbed.md"), out.join("\n") + "\n");
  writeFileSync(summaryFile, JSON.stringify(results.routing, null, 1));
  log(`wrote ${docs}/testbed.md`);
}
