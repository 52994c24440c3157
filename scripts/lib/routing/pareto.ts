/**
 * Accuracy–cost geometry over operating points: the Pareto frontier, the
 * normalised area under the accuracy–cost curve, and the two headline
 * figures measured against the best single model. Pure; must not run the
 * router (simulate.ts) or choose parameters (select.ts).
 */
import type { Simulation, SweepKind } from "./simulate.js";

export interface CostAcc {
  cost: number;
  accuracy: number;
}

const EPS = 1e-12;

/**
 * Points not dominated by any other (another point with cost ≤ and accuracy ≥,
 * one of them strict). Returned sorted by cost ascending, so accuracy is
 * strictly increasing along it; exact duplicates appear once. Non-finite
 * points are ignored.
 */
export function paretoFrontier<T extends CostAcc>(points: T[]): T[] {
  const s = points
    .filter((q) => Number.isFinite(q.cost) && Number.isFinite(q.accuracy))
    .sort((a, b) => a.cost - b.cost || b.accuracy - a.accuracy);
  const out: T[] = [];
  for (const q of s) {
    if (out.length === 0 || q.accuracy > out[out.length - 1].accuracy) out.push(q);
  }
  return out;
}

/**
 * Best accuracy reachable at mean cost ≤ c (step interpolation: a router can
 * always run a cheaper operating point); 0 below the cheapest point.
 */
export function accuracyAtCost(points: CostAcc[], c: number): number {
  let best = 0;
  for (const q of points) if (q.cost <= c + EPS && q.accuracy > best) best = q.accuracy;
  return best;
}

/**
 * Normalised area under the accuracy–cost step curve:
 *   AUC = (1 / maxCost) · ∫₀^maxCost accuracyAtCost(points, c) dc
 * The cost axis is linear and runs from 0 to `maxCost` (by convention the
 * most expensive single model's mean cost); points beyond it are clipped.
 * Accuracy is 0 before the cheapest point. A router reaching accuracy A at
 * zero cost scores A; the result lies in [0, 1].
 */
export function accuracyCostAuc(points: CostAcc[], maxCost: number): number {
  if (!(maxCost > 0)) throw new Error("accuracyCostAuc: maxCost must be > 0");
  const f = paretoFrontier(points).filter((q) => q.cost <= maxCost);
  let area = 0;
  for (let k = 0; k < f.length; k++) {
    const from = Math.max(0, f[k].cost);
    const to = k + 1 < f.length ? f[k + 1].cost : maxCost;
    area += f[k].accuracy * (to - from);
  }
  return area / maxCost;
}

export interface Headlines {
  /** The best single model: highest accuracy, ties to the cheaper. */
  bestSingle: { label: string; accuracy: number; cost: number };
  /**
   * (a) Smallest router cost reaching ≥ the best single model's accuracy, and
   * that cost as a % of the best single model's cost; null if never reached.
   */
  costAtBestSingleAccuracy: number | null;
  costAtBestSingleAccuracyPct: number | null;
  /** (b) Best router accuracy at cost ≤ the best single model's cost; null if no point is that cheap. */
  accuracyWithinBestSingleCost: number | null;
}

export function bestSingle<T extends CostAcc & { label: string }>(singles: T[]): T {
  const s = singles.filter((q) => Number.isFinite(q.accuracy) && Number.isFinite(q.cost));
  if (s.length === 0) throw new Error("bestSingle: no finite single-model points");
  return [...s].sort((a, b) => b.accuracy - a.accuracy || a.cost - b.cost || (a.label < b.label ? -1 : 1))[0];
}

/** Headline figures of router points against the best single model. */
export function headlines(router: CostAcc[], singles: (CostAcc & { label: string })[]): Headlines {
  const b = bestSingle(singles);
  let costAt: number | null = null;
  let accWithin: number | null = null;
  for (const q of router) {
    if (!Number.isFinite(q.cost) || !Number.isFinite(q.accuracy)) continue;
    if (q.accuracy >= b.accuracy - EPS && (costAt === null || q.cost < costAt)) costAt = q.cost;
    if (q.cost <= b.cost + EPS && (accWithin === null || q.accuracy > accWithin)) accWithin = q.accuracy;
  }
  return {
    bestSingle: { label: b.label, accuracy: b.accuracy, cost: b.cost },
    costAtBestSingleAccuracy: costAt,
    costAtBestSingleAccuracyPct: costAt === null || !(b.cost > 0) ? null : (100 * costAt) / b.cost,
    accuracyWithinBestSingleCost: accWithin,
  };
}

export interface SweepSummary {
  frontier: (CostAcc & { label: string; param?: number })[];
  headlines: Headlines;
  /** `accuracyCostAuc` with maxCost = the most expensive single model's mean cost. */
  auc: number | null;
}

/**
 * Frontier, headlines and AUC for each swept policy of a simulation. These
 * describe the sweep on the split it ran on; choosing a parameter is
 * select.ts's job (on validation), never this.
 */
export function summariseSweeps(sim: Simulation): Record<SweepKind, SweepSummary> {
  const maxCost = Math.max(...sim.singles.map((q) => q.cost).filter(Number.isFinite));
  const out = {} as Record<SweepKind, SweepSummary>;
  for (const kind of Object.keys(sim.routers) as SweepKind[]) {
    const pts = sim.routers[kind];
    out[kind] = {
      frontier: paretoFrontier(pts),
      headlines: headlines(pts, sim.singles),
      auc: maxCost > 0 ? accuracyCostAuc(pts, maxCost) : null,
    };
  }
  return out;
}
