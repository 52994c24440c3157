// Routing simulation, Pareto geometry and validation selection on tiny
// hand-computed examples (every expected number is worked out in comments).
import { describe, expect, it } from "vitest";
import {
  completeRows,
  defaultGrid,
  oracle,
  randomRouting,
  routeWithPolicy,
  simulate,
  singleModels,
  sweep,
  type RoutingData,
} from "../../scripts/lib/routing/simulate.js";
import { accuracyAtCost, accuracyCostAuc, headlines, paretoFrontier, summariseSweeps } from "../../scripts/lib/routing/pareto.js";
import { evaluateAtParam, NO_HARM_TOLERANCE, selectNoHarmWithinBudget, selectOnValidation, selectParam } from "../../scripts/lib/routing/select.js";
import { mulberry32 } from "../../src/core/random.js";

// Models A (cost 1), B (cost 2), C (cost 4) on every row.
//            p: A    B    C      success: A B C
// row 0:       .9  .95  .97              1 1 1
// row 1:       .3  .8   .9               0 1 1
// row 2:       .2  .4   .85              0 0 1
// row 3:       .1  .2   .3               0 0 0
const COST = [1, 2, 4];
const val: RoutingData = {
  models: ["A", "B", "C"],
  p: [
    [0.9, 0.95, 0.97],
    [0.3, 0.8, 0.9],
    [0.2, 0.4, 0.85],
    [0.1, 0.2, 0.3],
  ],
  success: [
    [1, 1, 1],
    [0, 1, 1],
    [0, 0, 1],
    [0, 0, 0],
  ],
  cost: [COST, COST, COST, COST],
};

describe("baselines", () => {
  it("single models: A 1/4 at $1, B 2/4 at $2, C 3/4 at $4", () => {
    const s = singleModels(val);
    expect(s.map((q) => [q.label, q.accuracy, q.cost])).toEqual([
      ["A", 0.25, 1],
      ["B", 0.5, 2],
      ["C", 0.75, 4],
    ]);
  });

  it("random routing: accuracy mean(3/3, 2/3, 1/3, 0) = 0.5, cost 7/3", () => {
    const r = randomRouting(val);
    expect(r.accuracy).toBeCloseTo(0.5, 12);
    expect(r.cost).toBeCloseTo(7 / 3, 12);
  });

  it("oracle: A, B, C, then cheapest A as a failure → 3/4 at (1+2+4+1)/4 = 2", () => {
    const o = oracle(val);
    expect(o.accuracy).toBe(0.75);
    expect(o.cost).toBe(2);
    expect(o.share).toEqual({ A: 0.5, B: 0.25, C: 0.25 });
  });
});

describe("routers through choose()", () => {
  it("threshold 0.7: A ✓, B ✓, C ✓, none reaches → highest p C ✗ → 3/4 at 11/4", () => {
    const r = routeWithPolicy(val, { type: "threshold", min_p: 0.7 }, "t");
    expect(r.accuracy).toBe(0.75);
    expect(r.cost).toBe(2.75);
    expect(r.share).toEqual({ A: 0.25, B: 0.25, C: 0.5 });
  });

  it("threshold sweep 0 / 0.25 / 0.95", () => {
    const pts = sweep(val, "threshold", [0, 0.25, 0.95]);
    // 0: A everywhere. 0.25: A ✓, A ✗ (.3), B ✗ (.4), C ✗ (.3) → 1/4 at (1+1+2+4)/4.
    // 0.95: B ✓ (.95), then nobody reaches → C ✓, C ✓, C ✗ → 3/4 at (2+4+4+4)/4.
    expect(pts.map((q) => [q.param, q.accuracy, q.cost])).toEqual([
      [0, 0.25, 1],
      [0.25, 0.25, 2],
      [0.95, 0.75, 3.5],
    ]);
  });

  it("utility λ=0 is max-p (C everywhere); λ=0.12 picks A, B, C, A → 3/4 at 2", () => {
    const [l0, l12] = sweep(val, "utility", [0, 0.12]);
    expect([l0.accuracy, l0.cost]).toEqual([0.75, 4]);
    // row 3 utilities: A .1−.12, B .2−.24, C .3−.48 → A.
    expect(l12.accuracy).toBe(0.75);
    expect(l12.cost).toBe(2);
  });

  it("budget $2: highest p within budget is B on every row → 2/4 at 2; $0.5: none fits → cheapest A", () => {
    const [b2, b05] = sweep(val, "budget", [2, 0.5]);
    expect([b2.accuracy, b2.cost]).toEqual([0.5, 2]);
    expect([b05.accuracy, b05.cost]).toEqual([0.25, 1]);
  });

  it("abstaining counts as a failure at zero cost", () => {
    // abstainBelow 0.5: row 3 (max p .3) abstains; others as threshold 0.7.
    const r = routeWithPolicy(val, { type: "threshold", min_p: 0.7 }, "t", 0.5);
    expect(r.accuracy).toBe(0.75);
    expect(r.cost).toBe((1 + 2 + 4) / 4);
    expect(r.abstained).toBe(0.25);
  });
});

describe("missing outcomes", () => {
  const withGap: RoutingData = {
    ...val,
    p: [...val.p, [0.5, NaN, 0.5]],
    success: [...val.success, [1, NaN, 0]],
    cost: [...val.cost, COST],
  };

  it("drops rows with any missing outcome and reports the count", () => {
    const c = completeRows(withGap);
    expect(c.dropped).toBe(1);
    expect(c.kept).toEqual([0, 1, 2, 3]);
    const sim = simulate(withGap, { grids: { utility: [0.12], threshold: [0.7], budget: [2] } });
    expect(sim.rows).toBe(4);
    expect(sim.dropped).toBe(1);
    expect(sim.oracle.cost).toBe(2);
    expect(sim.routers.threshold[0].cost).toBe(2.75);
  });

  it("rejects non-binary outcomes and non-finite costs", () => {
    expect(() => completeRows({ ...val, success: [[1, 1, 0.5], ...val.success.slice(1)] })).toThrow();
    expect(() => completeRows({ ...val, cost: [[1, NaN, 4], COST, COST, COST] })).toThrow();
  });

  it("default grids are ascending and start at the cheap end", () => {
    const u = defaultGrid(val, "utility");
    expect(u[0]).toBe(0);
    expect(u.every((x, i) => i === 0 || x > u[i - 1])).toBe(true);
    expect(defaultGrid(val, "budget")).toEqual([1, 2, 4]);
    expect(defaultGrid(val, "threshold")).toHaveLength(101);
  });
});

describe("Pareto geometry", () => {
  const pts = [
    { cost: 1, accuracy: 0.2 },
    { cost: 2, accuracy: 0.5 },
    { cost: 2, accuracy: 0.4 },
    { cost: 3, accuracy: 0.5 },
    { cost: 4, accuracy: 0.9 },
    { cost: 5, accuracy: 0.9 },
    { cost: 0.5, accuracy: 0.1 },
  ];

  it("frontier keeps (0.5,.1) (1,.2) (2,.5) (4,.9)", () => {
    expect(paretoFrontier(pts).map((q) => [q.cost, q.accuracy])).toEqual([
      [0.5, 0.1],
      [1, 0.2],
      [2, 0.5],
      [4, 0.9],
    ]);
  });

  it("step curve: accuracy at cost 3 is 0.5, below the cheapest point 0", () => {
    expect(accuracyAtCost(pts, 3)).toBe(0.5);
    expect(accuracyAtCost(pts, 0.4)).toBe(0);
  });

  it("AUC of the staircase (1,.2) (2,.5) (4,.9)", () => {
    const stairs = [
      { cost: 1, accuracy: 0.2 },
      { cost: 2, accuracy: 0.5 },
      { cost: 4, accuracy: 0.9 },
    ];
    // maxCost 4: 0·1 + .2·1 + .5·2 = 1.2 → 1.2/4 = 0.3
    expect(accuracyCostAuc(stairs, 4)).toBeCloseTo(0.3, 12);
    // maxCost 5 adds .9·1 → 2.1/5 = 0.42
    expect(accuracyCostAuc(stairs, 5)).toBeCloseTo(0.42, 12);
    // maxCost 3 clips the $4 point: (.2 + .5)/3
    expect(accuracyCostAuc(stairs, 3)).toBeCloseTo(0.7 / 3, 12);
    // a free perfect router scores 1
    expect(accuracyCostAuc([{ cost: 0, accuracy: 1 }], 4)).toBe(1);
  });

  it("headlines against the best single model C (3/4 at $4)", () => {
    const router = sweep(val, "threshold", [0, 0.25, 0.7, 0.95]);
    const h = headlines(router, singleModels(val));
    expect(h.bestSingle).toEqual({ label: "C", accuracy: 0.75, cost: 4 });
    // cheapest point reaching .75 is threshold .7 at 2.75 → 68.75 %
    expect(h.costAtBestSingleAccuracy).toBe(2.75);
    expect(h.costAtBestSingleAccuracyPct).toBeCloseTo(68.75, 12);
    expect(h.accuracyWithinBestSingleCost).toBe(0.75);
  });

  it("summariseSweeps: threshold sweep frontier, headlines and AUC over [0, $4]", () => {
    const sim = simulate(val, { grids: { utility: [0], threshold: [0, 0.25, 0.7, 0.95], budget: [2] } });
    const t = summariseSweeps(sim).threshold;
    // points ($1 .25) ($2 .25) ($2.75 .75) ($3.5 .75) → frontier ($1 .25) ($2.75 .75)
    expect(t.frontier.map((q) => q.param)).toEqual([0, 0.7]);
    expect(t.headlines.costAtBestSingleAccuracy).toBe(2.75);
    // (.25·1.75 + .75·1.25) / 4 = 1.375 / 4
    expect(t.auc).toBeCloseTo(1.375 / 4, 12);
  });

  it("headlines are null when the router never gets there", () => {
    const h = headlines([{ cost: 5, accuracy: 0.5 }], singleModels(val));
    expect(h.costAtBestSingleAccuracy).toBeNull();
    expect(h.costAtBestSingleAccuracyPct).toBeNull();
    expect(h.accuracyWithinBestSingleCost).toBeNull();
  });
});

describe("select on validation, report on test", () => {
  // Test split: threshold .7 routes row 0 to A (p .75, fails) and row 1 to B
  // (p .72, fails) → 0/2 at (1+2)/2. Threshold .95 would score 2/2 on test,
  // so a selector that peeked at test would choose differently.
  const test: RoutingData = {
    models: ["A", "B", "C"],
    p: [
      [0.75, 0.8, 0.9],
      [0.1, 0.72, 0.95],
    ],
    success: [
      [0, 1, 1],
      [0, 0, 1],
    ],
    cost: [COST, COST],
  };

  it("selectParam: cheapest point within half a point of the best single accuracy, at no more than its cost", () => {
    const s = selectParam(sweep(val, "threshold", [0, 0.25, 0.7, 0.95]), singleModels(val));
    expect(s.param).toBe(0.7);
    expect(s.rule).toBe("no-harm");
  });

  it("selectParam with a budget: the most accurate point costing ≤ f × the best single's cost", () => {
    const pts = sweep(val, "threshold", [0, 0.25, 0.7, 0.95]);
    const b = singleModels(val).reduce((x, y) => (y.accuracy > x.accuracy || (y.accuracy === x.accuracy && y.cost < x.cost) ? y : x));
    let used = 0;
    for (const f of [0.3, 0.5, 1]) {
      const s = selectParam(pts, singleModels(val), f);
      const affordable = pts.filter((q) => q.cost <= f * b.cost + 1e-12);
      if (affordable.length === 0) { expect(s.rule).not.toBe("max-accuracy-within-budget"); continue; }
      used++;
      expect(s.rule).toBe("max-accuracy-within-budget");
      expect(s.point.cost).toBeLessThanOrEqual(f * b.cost + 1e-12);
      expect(s.point.accuracy).toBe(Math.max(...affordable.map((q) => q.accuracy)));
    }
    expect(used).toBeGreaterThan(0);
    // Without a budget the rule is unchanged.
    expect(selectParam(pts, singleModels(val)).rule).toBe("no-harm");
  });

  describe("no-harm rule on a synthetic frontier", () => {
    // Best single B: 80 % at $10 (A is cheaper but worse). Tolerance 0.005 → accuracy floor 0.795.
    const singles = [
      { label: "A", accuracy: 0.6, cost: 1 },
      { label: "B", accuracy: 0.8, cost: 10 },
    ];
    const pt = (param: number, accuracy: number, cost: number) => ({ label: `p${param}`, param, accuracy, cost });
    const frontier = [
      pt(1, 0.7, 2), // too inaccurate
      pt(6, 0.7949, 3), // just below the floor
      pt(2, 0.796, 4), // qualifies
      pt(3, 0.798, 4), // qualifies, same cost, more accurate → chosen
      pt(4, 0.81, 6), // qualifies, dearer
      pt(5, 0.82, 12), // most accurate but above B's cost: never chosen by no-harm
    ];

    it("picks the cheapest point within 0.5 point of the best single, ties to higher accuracy", () => {
      const s = selectParam(frontier, singles);
      expect(s).toMatchObject({ param: 3, rule: "no-harm" });
    });

    it("tolerance 0 asks for the best single's accuracy itself, still at ≤ its cost", () => {
      expect(selectParam(frontier, singles, undefined, 0)).toMatchObject({ param: 4, rule: "no-harm" });
    });

    it("a negative tolerance asks for a margin above the best single (one point: ≥ 0.81)", () => {
      expect(selectParam(frontier, singles, undefined, -0.01)).toMatchObject({ param: 4, rule: "no-harm" });
      // Nothing within its cost reaches +2 points: the most accurate point within its cost.
      expect(selectParam(frontier, singles, undefined, -0.02)).toMatchObject({ param: 4, rule: "within-best-single-cost" });
    });

    it("with a budget: the most accurate point within budget × B's cost, only if it passes no-harm", () => {
      // 60 % of $10: points 1, 6, 2, 3 afford it; the most accurate is 3 (0.798), which passes the 0.795 floor.
      expect(selectNoHarmWithinBudget(frontier, singles, NO_HARM_TOLERANCE, 0.6)).toMatchObject({ param: 4, rule: "no-harm-within-budget" });
      expect(selectNoHarmWithinBudget(frontier, singles, NO_HARM_TOLERANCE, 0.45)).toMatchObject({ param: 3, rule: "no-harm-within-budget" });
      // 30 %: only 1 and 6 afford it, both below the floor → the no-harm rule's own choice (3).
      expect(selectNoHarmWithinBudget(frontier, singles, NO_HARM_TOLERANCE, 0.3)).toMatchObject({ param: 3, rule: "no-harm" });
      // A one-point margin (floor 0.81) is met within 60 % only by 4 at $6.
      expect(selectNoHarmWithinBudget(frontier, singles, -0.01, 0.6)).toMatchObject({ param: 4, rule: "no-harm-within-budget" });
      // Budget 1 never buys point 5 (above B's cost only at f > 1); no budget = selectParam.
      expect(selectNoHarmWithinBudget(frontier, singles, NO_HARM_TOLERANCE, 1)).toMatchObject({ param: 4, rule: "no-harm-within-budget" });
      expect(selectNoHarmWithinBudget(frontier, singles, NO_HARM_TOLERANCE)).toEqual(selectParam(frontier, singles));
    });

    it("a point above the best single's cost is never no-harm; without any qualifying point it falls back", () => {
      const s = selectParam([pt(1, 0.7, 2), pt(5, 0.82, 12)], singles);
      expect(s).toMatchObject({ param: 1, rule: "within-best-single-cost" });
    });

    it("on random frontiers the choice satisfies the rule and nothing cheaper does", () => {
      const rng = mulberry32(17);
      let noHarm = 0;
      for (let trial = 0; trial < 200; trial++) {
        const pts = Array.from({ length: 12 }, (_, k) => pt(k, 0.7 + 0.12 * rng(), 1 + 12 * rng()));
        const s = selectParam(pts, singles);
        const ok = (q: { accuracy: number; cost: number }) => q.accuracy >= 0.8 - NO_HARM_TOLERANCE - 1e-12 && q.cost <= 10 + 1e-12;
        if (!pts.some(ok)) {
          expect(s.rule).not.toBe("no-harm");
          continue;
        }
        noHarm++;
        expect(s.rule).toBe("no-harm");
        expect(ok(s.point)).toBe(true);
        expect(s.point.cost).toBe(Math.min(...pts.filter(ok).map((q) => q.cost)));
      }
      expect(noHarm).toBeGreaterThan(20);
    });
  });

  it("selectParam falls back to best accuracy within the best single's cost", () => {
    // grid 0 / 0.25 never reaches .75; both cost ≤ 4; equal accuracy → cheaper (0 at $1).
    const s = selectParam(sweep(val, "threshold", [0.25, 0]), singleModels(val));
    expect(s.param).toBe(0);
    expect(s.rule).toBe("within-best-single-cost");
  });

  it("chooses 0.7 on validation and reports test at 0.7 only", () => {
    const r = selectOnValidation(val, test, "threshold", { grid: [0, 0.25, 0.7, 0.95] });
    expect(r.param).toBe(0.7);
    expect(r.val.point.accuracy).toBe(0.75);
    expect(r.test.point.accuracy).toBe(0);
    expect(r.test.point.cost).toBe(1.5);
    // test singles: A 0 @1, B .5 @2, C 1 @4 → best C; 1.5/4 = 37.5 %
    expect(r.test.bestSingle.label).toBe("C");
    expect(r.test.costPctOfBestSingle).toBeCloseTo(37.5, 12);
    expect(r.test.accuracyDelta).toBe(-1);
    expect(r.test.valBestSingleOnTest.label).toBe("C");
    expect(r.test.rows).toBe(2);
    expect(r.test.dropped).toBe(0);
  });

  it("evaluateAtParam reports a parameter chosen elsewhere exactly as selectOnValidation reports its own", () => {
    const r = selectOnValidation(val, test, "threshold", { grid: [0, 0.25, 0.7, 0.95] });
    const g = evaluateAtParam(val, test, "threshold", 0.7, "chosen-at-build");
    expect(g).toEqual({ ...r, rule: "chosen-at-build", grid: [0.7] });
    // A parameter the val rule would not choose is reported at that parameter (0.95: test 2/2 at $4).
    expect(evaluateAtParam(val, test, "threshold", 0.95, "chosen-at-build").test.point).toMatchObject({ accuracy: 1, cost: 4, param: 0.95 });
  });

  it("the default grid comes from validation, not test", () => {
    const r = selectOnValidation(val, test, "budget");
    expect(r.grid).toEqual(defaultGrid(val, "budget"));
  });
});
