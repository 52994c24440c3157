/**
 * Selection on validation, report on test: picks the router parameter (λ,
 * threshold or budget) on the validation split and returns the test figures
 * at that one parameter. Owns the selection rule; must not look at test data
 * when choosing (the test sweep is for drawing curves only) and does no I/O.
 *
 * Rule, applied to the validation sweep against the best single model on
 * validation (highest accuracy, ties to the cheaper):
 *   1. "no-harm": among points whose accuracy is at most `tolerance` (default
 *      0.005, half a point) below its accuracy AND whose cost is ≤ its cost,
 *      the cheapest (ties: higher accuracy, then earlier in the grid);
 *   2. else "within-best-single-cost": among points costing ≤ its cost, the
 *      highest accuracy (ties: lower cost, then earlier in the grid);
 *   3. else "max-accuracy": the highest accuracy overall (same ties).
 * With a cost budget (a fraction f of the best single model's cost), rule 0
 * comes first: "max-accuracy-within-budget", among points costing ≤ f × its
 * cost, the highest accuracy (ties: lower cost, then earlier in the grid).
 * Rule 1 is the default policy's rule (issue 17): never costlier than the
 * best single model, never more than half a point less accurate on
 * validation, otherwise as cheap as possible. tolerance 0 asks for the best
 * single's accuracy itself (the rule before issue 17, now also capped at its cost);
 * a negative tolerance asks for a margin above it. evaluateAtParam reports a
 * parameter chosen elsewhere (the build's cross-fitted rows, see
 * scripts/stages/crossfit.ts) in the same shape.
 */
import { bestSingle } from "./pareto.js";
import {
  completeRows,
  defaultGrid,
  policyFor,
  routeWithPolicy,
  singleModels,
  sweep,
  type OperatingPoint,
  type RoutingData,
  type SweepKind,
} from "./simulate.js";

const EPS = 1e-12;

export type SelectionRule = "max-accuracy-within-budget" | "no-harm-within-budget" | "no-harm" | "within-best-single-cost" | "max-accuracy" | "chosen-at-build";

/** Default accuracy tolerance of the no-harm rule: half a percentage point. */
export const NO_HARM_TOLERANCE = 0.005;

export interface Selected {
  param: number;
  rule: SelectionRule;
  point: OperatingPoint;
}

function argBest(points: OperatingPoint[], cmp: (a: OperatingPoint, b: OperatingPoint) => number): OperatingPoint {
  let best = points[0];
  for (const q of points.slice(1)) if (cmp(q, best) < 0) best = q;
  return best;
}

/** Rule 1's test: at most `tolerance` less accurate than the best single model `b`, at no more than its cost. */
function passesNoHarm(q: OperatingPoint, b: OperatingPoint, tolerance: number): boolean {
  return q.accuracy >= b.accuracy - tolerance - EPS && q.cost <= b.cost + EPS;
}

/** Applies the rules above to already-swept validation points (each with `param`); `budget` is f. */
export function selectParam(valPoints: OperatingPoint[], valSingles: OperatingPoint[], budget?: number, tolerance = NO_HARM_TOLERANCE): Selected {
  const pts = valPoints.filter((q) => q.param !== undefined && Number.isFinite(q.accuracy) && Number.isFinite(q.cost));
  if (pts.length === 0) throw new Error("selectParam: no finite swept points");
  const b = bestSingle(valSingles);
  const byAcc = (a: OperatingPoint, c: OperatingPoint) => c.accuracy - a.accuracy || a.cost - c.cost;
  const affordable = budget === undefined ? [] : pts.filter((q) => q.cost <= budget * b.cost + EPS);
  if (affordable.length > 0) {
    const point = argBest(affordable, byAcc);
    return { param: point.param as number, rule: "max-accuracy-within-budget", point };
  }
  const noHarm = pts.filter((q) => passesNoHarm(q, b, tolerance));
  if (noHarm.length > 0) {
    const point = argBest(noHarm, (a, c) => a.cost - c.cost || c.accuracy - a.accuracy);
    return { param: point.param as number, rule: "no-harm", point };
  }
  const within = pts.filter((q) => q.cost <= b.cost + EPS);
  if (within.length > 0) {
    const point = argBest(within, byAcc);
    return { param: point.param as number, rule: "within-best-single-cost", point };
  }
  const point = argBest(pts, byAcc);
  return { param: point.param as number, rule: "max-accuracy", point };
}

/**
 * The build's rule with a cost budget (config `select.budget`): the most
 * accurate point costing ≤ budget × the best single model's cost, kept only
 * if it also passes the no-harm rule at `tolerance`; otherwise, or without a
 * budget, the no-harm rule's own choice. Why spend up to a budget rather than
 * take the cheapest passing point: on held-out rows the router's cost share
 * is stable while the best single model's accuracy moves by a point or more,
 * so accuracy headroom is what keeps the no-harm promise off the rows it was
 * chosen on (docs/default-bundle-tuning.md, v4).
 */
export function selectNoHarmWithinBudget(points: OperatingPoint[], singles: OperatingPoint[], tolerance: number, budget?: number): Selected {
  if (budget !== undefined) {
    const capped = selectParam(points, singles, budget, tolerance);
    if (capped.rule === "max-accuracy-within-budget" && passesNoHarm(capped.point, bestSingle(singles), tolerance)) return { ...capped, rule: "no-harm-within-budget" };
  }
  return selectParam(points, singles, undefined, tolerance);
}

export interface SplitSummary {
  rows: number;
  dropped: number;
  point: OperatingPoint;
  bestSingle: OperatingPoint;
}

export interface ValidationSelection {
  kind: SweepKind;
  param: number;
  rule: SelectionRule;
  grid: number[];
  val: SplitSummary;
  test: SplitSummary & {
    /** The model that was best on validation, scored on test (a fixed comparator chosen without test data). */
    valBestSingleOnTest: OperatingPoint;
    /** Router test cost as a % of the test-best single model's cost. */
    costPctOfBestSingle: number | null;
    /** Router test accuracy minus the test-best single model's accuracy. */
    accuracyDelta: number;
  };
}

export interface SelectOptions {
  /** Parameter grid; defaults to `defaultGrid` computed on the validation split. */
  grid?: number[];
  abstainBelow?: number;
  /** Cost budget as a fraction of the val-best single model's cost (rule 0); none by default. */
  budget?: number;
  /** No-harm rule's accuracy tolerance (fraction, default NO_HARM_TOLERANCE). */
  tolerance?: number;
}

/**
 * Sweeps `kind` on validation, picks one parameter with `selectParam`, and
 * evaluates only that parameter on test. Both splits are restricted to rows
 * with complete outcomes (see simulate.ts); the dropped counts are reported.
 */
export function selectOnValidation(
  val: RoutingData,
  test: RoutingData,
  kind: SweepKind,
  opts: SelectOptions = {},
): ValidationSelection {
  if (val.models.join("\u0000") !== test.models.join("\u0000")) throw new Error("selectOnValidation: val and test pools differ");
  const v = completeRows(val);
  const grid = opts.grid ?? defaultGrid(v.data, kind);
  const chosen = selectParam(sweep(v.data, kind, grid, opts.abstainBelow), singleModels(v.data), opts.budget, opts.tolerance);
  return evaluateAtParam(val, test, kind, chosen.param, chosen.rule, grid, opts.abstainBelow);
}

/**
 * The validation and test figures of one parameter that was chosen elsewhere
 * (by selectOnValidation, or at build time on cross-fitted rows:
 * rule "chosen-at-build"), in selectOnValidation's shape.
 */
export function evaluateAtParam(val: RoutingData, test: RoutingData, kind: SweepKind, param: number, rule: SelectionRule, grid: number[] = [param], abstainBelow?: number): ValidationSelection {
  if (val.models.join("\u0000") !== test.models.join("\u0000")) throw new Error("evaluateAtParam: val and test pools differ");
  const v = completeRows(val);
  const t = completeRows(test);
  const policy = policyFor(kind, param);
  const valSingles = singleModels(v.data);
  const valBest = bestSingle(valSingles);
  const valPoint = sweep(v.data, kind, [param], abstainBelow)[0];
  const testPoint = { ...routeWithPolicy(t.data, policy, valPoint.label, abstainBelow), param };
  const testSingles = singleModels(t.data);
  const testBest = bestSingle(testSingles);
  const valBestOnTest = testSingles.find((q) => q.label === valBest.label) as OperatingPoint;
  return {
    kind,
    param,
    rule,
    grid,
    val: { rows: v.data.success.length, dropped: v.dropped, point: valPoint, bestSingle: valBest },
    test: {
      rows: t.data.success.length,
      dropped: t.dropped,
      point: testPoint,
      bestSingle: testBest,
      valBestSingleOnTest: valBestOnTest,
      costPctOfBestSingle: testBest.cost > 0 ? (100 * testPoint.cost) / testBest.cost : null,
      accuracyDelta: testPoint.accuracy - testBest.accuracy,
    },
  };
}
