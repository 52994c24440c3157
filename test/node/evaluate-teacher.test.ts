/**
 * Teacher figures of `evaluate` (scripts/evaluate/teacher.ts) on the fixture
 * bundle (random weights, 3 models) and a synthetic keyword-driven outcome set
 * with a synthetic, informative teacher: fidelity equals a direct
 * Pearson/Spearman of student vs teacher logits on the test rows, teacher
 * AUROC a direct AUROC of its calibrated p, the teacher-probe router's
 * parameters are the ones selectOnValidation picks on the validation rows,
 * the manifest metrics gain exactly the teacher keys (and are unchanged
 * without a teacher), teacher-logits rows carry the Platt-calibrated p, and
 * the command writes the "Teacher fidelity" section and the teacher curve.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { calibrate, sigmoid, type Calibration } from "../../src/core/calibration.js";
import { Manifest } from "../../src/core/manifest.js";
import { mulberry32 } from "../../src/core/random.js";
import type { OutcomeRow } from "../../scripts/formats/outcomes.js";
import { evaluateBundle, type EvalResult } from "../../scripts/evaluate/evaluate-bundle.js";
import { scoreRows } from "../../scripts/evaluate/score.js";
import { teacherMapFromRows, type TeacherMap } from "../../scripts/evaluate/teacher.js";
import { runEvaluate } from "../../scripts/stages/evaluate.js";
import { teacherRows } from "../../scripts/stages/teacher-logits.js";
import type { ProbesResult } from "../../scripts/stages/probes.js";
import { selectOnValidation } from "../../scripts/lib/routing/select.js";
import { auroc, pearson, spearman } from "../../scripts/lib/stats/metrics.js";

const BUNDLES = "test/fixtures/bundles";
const DIR = join(BUNDLES, "fixture-tiny");
const manifest = Manifest.parse(JSON.parse(readFileSync(join(DIR, "manifest.json"), "utf8")));
const onnx = new Uint8Array(readFileSync(join(DIR, "student.onnx")));
const MODELS = manifest.pool.map((m) => m.id);

const LEVELS = ["easy", "tricky", "brutal", "hopeless"] as const;
const WINS: Record<(typeof LEVELS)[number], number[]> = { easy: [1, 1, 1], tricky: [0, 1, 1], brutal: [0, 0, 1], hopeless: [0, 0, 0] };
const FILLER = ["apples", "trains", "matrix", "poem", "river", "integral", "summary", "python"];
const CAL: Calibration = { kind: "platt", a: 0.8, b: -0.1 };

function synth(): { rows: OutcomeRow[]; teacher: { id: string; teacher: Record<string, number>; p: Record<string, number> }[] } {
  const rng = mulberry32(7);
  const rows: OutcomeRow[] = [];
  const teacher: { id: string; teacher: Record<string, number>; p: Record<string, number> }[] = [];
  const splits = [...Array(80).fill("train"), ...Array(50).fill("val"), ...Array(60).fill("test")] as OutcomeRow["split"][];
  splits.forEach((split, i) => {
    const level = LEVELS[Math.floor(rng() * 4)];
    const words = Array.from({ length: 3 + Math.floor(rng() * 5) }, () => FILLER[Math.floor(rng() * FILLER.length)]);
    words.splice(Math.floor(rng() * words.length), 0, level);
    const w = WINS[level];
    const outcomes = Object.fromEntries(MODELS.map((m, j) => [m, { n: 1, k: w[j] }]));
    // One test row without the medium model's outcome (unlabelled for it): still counts for fidelity.
    if (i === 140) delete outcomes[MODELS[1]];
    rows.push({ id: `r${i}`, split, task: i % 2 ? "alpha" : "beta", prompt: `${words.join(" ")} ${i}?`, outcomes });
    const logits = Object.fromEntries(MODELS.map((m, j) => [m, (w[j] ? 1.5 : -1.5) + 2 * (rng() - 0.5)]));
    teacher.push({ id: `r${i}`, teacher: logits, p: Object.fromEntries(MODELS.map((m) => [m, calibrate(logits[m], CAL)])) });
  });
  return { rows, teacher };
}

const { rows: ROWS, teacher: TEACHER } = synth();
const T: TeacherMap = teacherMapFromRows(TEACHER);
const opts = { manifest, onnx, rows: ROWS, trainRows: ROWS, split: "test" as const, seed: 3, reps: 100 };

describe("evaluateBundle with a teacher", () => {
  let plain: EvalResult;
  let r: EvalResult;
  beforeAll(async () => {
    plain = await evaluateBundle(opts);
    r = await evaluateBundle({ ...opts, teacher: T });
  });

  it("reports fidelity as Pearson / Spearman of student vs teacher logits on the test rows", () => {
    const t = r.teacher!;
    expect(t.coverage).toEqual({ evaluated: 60, with_logits: 60, with_p: 60 });
    MODELS.forEach((m, j) => {
      const s = r.scored.logits.map((row) => row[j]);
      const tl = r.scored.ids.map((id) => T.get(id)!.logits[m]);
      expect(t.per_model[m].fidelity.n).toBe(60);
      expect(t.per_model[m].fidelity.pearson).toBeCloseTo(pearson(s, tl)!, 12);
      expect(t.per_model[m].fidelity.spearman).toBeCloseTo(spearman(s, tl)!, 12);
      expect(r.manifestMetrics.per_model[m].fidelity_pearson).toBe(t.per_model[m].fidelity.pearson);
      expect(r.manifestMetrics.per_model[m].fidelity_spearman).toBe(t.per_model[m].fidelity.spearman);
    });
  });

  it("reports the teacher's AUROC (calibrated p) next to the student's on the same rows", () => {
    MODELS.forEach((m, j) => {
      const e = r.teacher!.per_model[m];
      const lab = r.scored.success.flatMap((s, i) => (Number.isNaN(s[j]) ? [] : [i]));
      expect(e.n).toBe(lab.length);
      expect(e.score).toBe("p");
      const y = lab.map((i) => r.scored.success[i][j]);
      expect(e.teacher.auroc.estimate).toBeCloseTo(auroc(lab.map((i) => T.get(r.scored.ids[i])!.p![m]), y)!, 12);
      expect(e.teacher.auroc.estimate!).toBeGreaterThan(0.85); // informative synthetic teacher
      expect(e.student_auroc.estimate).toBeCloseTo(r.per_model[m].student.auroc.estimate!, 12); // full coverage: same rows
      expect(r.manifestMetrics.per_model[m].teacher_auroc).toBe(e.teacher.auroc.estimate);
    });
    expect(r.teacher!.per_model[MODELS[1]].n).toBe(59);
  });

  it("adds a teacher-probe router with parameters chosen on validation", async () => {
    const tr = r.teacher!.routing;
    expect(tr.available).toBe(true);
    expect(tr.sim!.rows).toBe(r.routing.sims.student.rows);
    expect(tr.sim!.singles).toEqual(r.routing.sims.student.singles);
    const val = await scoreRows(manifest, onnx, ROWS.filter((x) => x.split === "val"));
    const valData = { models: MODELS, p: val.ids.map((id) => MODELS.map((m) => T.get(id)!.p![m])), success: val.success, cost: val.cost };
    const testData = { models: MODELS, p: r.scored.ids.map((id) => MODELS.map((m) => T.get(id)!.p![m])), success: r.scored.success, cost: r.scored.cost };
    for (const k of ["utility", "threshold", "budget"] as const) {
      const want = selectOnValidation(valData, testData, k);
      expect(tr.selections![k].param).toBe(want.param);
      expect(tr.selections![k].test.point).toEqual(want.test.point);
      expect(tr.selections![k].val.rows).toBe(50);
    }
    const kind = r.routing.headline_kind;
    expect(r.manifestMetrics.headline.teacher_router_param).toBe(tr.selections![kind].param);
    expect(r.manifestMetrics.headline.teacher_router_acc).toBe(tr.selections![kind].test.point.accuracy);
  });

  it("leaves every other figure, and the no-teacher metrics, unchanged", () => {
    expect(plain.teacher).toBeUndefined();
    const strip = (mm: EvalResult["manifestMetrics"]) => ({
      ...mm,
      headline: Object.fromEntries(Object.entries(mm.headline).filter(([k]) => !k.startsWith("teacher_"))),
      per_model: Object.fromEntries(
        Object.entries(mm.per_model).map(([m, v]) => [m, Object.fromEntries(Object.entries(v).filter(([k]) => !["teacher_auroc", "fidelity_pearson", "fidelity_spearman"].includes(k)))]),
      ),
    });
    expect(JSON.stringify(strip(r.manifestMetrics))).toBe(JSON.stringify(plain.manifestMetrics));
    expect(Object.keys(plain.manifestMetrics.per_model[MODELS[0]])).not.toContain("teacher_auroc");
    expect(JSON.stringify(r.routing)).toBe(JSON.stringify(plain.routing));
    Manifest.shape.metrics.parse(r.manifestMetrics);
  });

  it("skips the teacher router (with a reason) when calibrated p is missing, ranking by logits", async () => {
    const noP = teacherMapFromRows(TEACHER.map(({ id, teacher }) => ({ id, teacher })));
    const a = await evaluateBundle({ ...opts, reps: 20, teacher: noP });
    expect(a.teacher!.routing.available).toBe(false);
    expect(a.teacher!.routing.reason).toMatch(/no calibrated teacher p/);
    expect(a.teacher!.per_model[MODELS[0]].score).toBe("logit");
    expect(a.manifestMetrics.headline.teacher_router_acc).toBeNull();
    // Platt with a > 0 is monotone: same AUROC from logits as from p.
    expect(a.teacher!.per_model[MODELS[0]].teacher.auroc.estimate).toBeCloseTo(r.teacher!.per_model[MODELS[0]].teacher.auroc.estimate!, 12);
    const partial = new Map(T);
    partial.delete("r150");
    const b = await evaluateBundle({ ...opts, reps: 20, teacher: partial });
    expect(b.teacher!.coverage.with_logits).toBe(59);
    expect(b.teacher!.per_model[MODELS[0]].fidelity.n).toBe(59);
    expect(b.teacher!.routing.available).toBe(false);
  });
});

describe("teacher-logits rows carry the probe-calibrated p", () => {
  it("applies each model's own Platt calibration to its logit", () => {
    const fake = (m: string, logits: number[], cal: Calibration) =>
      ({ ids: ["a", "b"], models: { [m]: { logits, probe: { calibration: cal } } } }) as unknown as ProbesResult;
    const rows = teacherRows({ x: fake("x", [0.5, NaN], { kind: "platt", a: 2, b: 1 }), y: fake("y", [-1, 3], { kind: "platt", a: 0.5, b: 0 }) });
    expect(rows).toEqual([
      { id: "a", teacher: { x: 0.5, y: -1 }, p: { x: sigmoid(2), y: sigmoid(-0.5) } },
      { id: "b", teacher: { y: 3 }, p: { y: sigmoid(1.5) } },
    ]);
  });
});

describe("evaluate --teacher", () => {
  let tmp: string;
  beforeAll(() => {
    tmp = mkdtempSync(join(tmpdir(), "preflight-eval-teacher-"));
  });
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it("writes the Teacher fidelity section and the teacher-probe curve", async () => {
    const data = join(tmp, "outcomes.jsonl");
    const teacher = join(tmp, "teacher.jsonl");
    writeFileSync(data, ROWS.map((x) => JSON.stringify(x)).join("\n") + "\n");
    writeFileSync(teacher, TEACHER.map((x) => JSON.stringify(x)).join("\n") + "\n");
    const out = join(tmp, "eval");
    const res = await runEvaluate({ data, bundle: "fixture-tiny", artifacts: BUNDLES, out, seed: 3, reps: 50, teacher });
    const md = readFileSync(join(out, "report.md"), "utf8");
    expect(md).toContain("## Teacher fidelity");
    expect(md).toContain("teacher probe");
    expect(readFileSync(join(out, "pareto.svg"), "utf8")).toContain("teacher probe");
    expect(existsSync(join(out, "auroc-teacher.svg"))).toBe(true);
    const metrics = JSON.parse(readFileSync(join(out, "metrics.json"), "utf8"));
    expect(metrics.teacher.source.file).toBe(teacher);
    expect(metrics.teacher.per_model[MODELS[0]].fidelity.pearson).toBe(res.result.teacher!.per_model[MODELS[0]].fidelity.pearson);
    expect(metrics.manifestMetrics.per_model[MODELS[0]]).toHaveProperty("teacher_auroc");
  });
});
