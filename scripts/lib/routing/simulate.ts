/**
 * Offline routing simulation on a scored test set: single models, random
 * routing, the oracle, and a router driven by src/core/policy.ts `choose()`
 * under swept λ / thresholds / budgets. Owns the evaluation arithmetic only;
 * it must not re-implement the routing decision (that is `choose()`), pick
 * operating points (see select.ts) or do I/O.
 *
 * Missing outcomes: a row (prompt) is evaluated only when every pool model
 * has a known outcome (success[i][m] is 0 or 1). Rows with any NaN outcome
 * are dropped before anything is computed, so every baseline and every
 * router is scored on exactly the same rows; the count is reported as
 * `dropped`. p and cost must be finite on every kept row (throws otherwise;
 * they are not inspected on dropped rows).
 */
import { choose, type Policy, type Scored } from "../../../src/core/policy.js";

/** Test-set arrays, indexed [prompt i][model m]; `models[m]` names column m. */
export interface RoutingData {
  models: string[];
  p: number[][];
  /** 1 = success, 0 = failure, NaN = outcome missing. */
  success: number[][];
  /** Expected (or realised) USD cost of sending prompt i to model m. */
  cost: number[][];
}

export interface OperatingPoint {
  /** e.g. "gpt-4o", "random", "oracle", "utility λ=120". */
  label: string;
  /** Fraction of evaluated rows whose chosen model succeeded (abstain = failure). */
  accuracy: number;
  /** Mean USD per query over evaluated rows (abstain costs 0). */
  cost: number;
  /** Swept parameter (λ, min_p or max_cost_usd) when this is a router point. */
  param?: number;
  /** Fraction of rows routed to each model (router/oracle only). */
  share?: Record<string, number>;
  /** Fraction of rows abstained (router only, when abstainBelow is set). */
  abstained?: number;
}

export type SweepKind = "utility" | "threshold" | "budget";

export interface CompleteRows {
  data: RoutingData;
  /** Indices (into the input) of the rows kept. */
  kept: number[];
  dropped: number;
}

/** Keeps rows where every model's outcome is known; validates shapes and values. */
export function completeRows(data: RoutingData): CompleteRows {
  const M = data.models.length;
  const N = data.success.length;
  if (M === 0) throw new Error("routing: empty model pool");
  if (data.p.length !== N || data.cost.length !== N) throw new Error("routing: p, success and cost need the same number of rows");
  const kept: number[] = [];
  for (let i = 0; i < N; i++) {
    if (data.p[i].length !== M || data.success[i].length !== M || data.cost[i].length !== M) {
      throw new Error(`routing: row ${i} does not have ${M} columns`);
    }
    const s = data.success[i];
    if (s.some((v) => !Number.isNaN(v) && v !== 0 && v !== 1)) throw new Error(`routing: success must be 0, 1 or NaN (row ${i})`);
    if (s.some((v) => Number.isNaN(v))) continue;
    for (let m = 0; m < M; m++) {
      if (!Number.isFinite(data.p[i][m]) || !Number.isFinite(data.cost[i][m])) {
        throw new Error(`routing: non-finite p or cost at row ${i}, model ${data.models[m]}`);
      }
    }
    kept.push(i);
  }
  const pick = <T>(a: T[]): T[] => kept.map((i) => a[i]);
  return {
    data: { models: data.models, p: pick(data.p), success: pick(data.success), cost: pick(data.cost) },
    kept,
    dropped: N - kept.length,
  };
}

function mean(xs: number[]): number {
  return xs.length === 0 ? NaN : xs.reduce((a, b) => a + b, 0) / xs.length;
}

/** Accuracy and mean cost of always sending every row to one model. */
export function singleModels(d: RoutingData): OperatingPoint[] {
  return d.models.map((model, m) => ({
    label: model,
    accuracy: mean(d.success.map((r) => r[m])),
    cost: mean(d.cost.map((r) => r[m])),
  }));
}

/** Uniformly random routing, as an exact expectation (no sampling). */
export function randomRouting(d: RoutingData): OperatingPoint {
  return {
    label: "random",
    accuracy: mean(d.success.map((r) => mean(r))),
    cost: mean(d.cost.map((r) => mean(r))),
  };
}

function argCheapest(costs: number[], models: string[], allowed: (m: number) => boolean): number {
  let best = -1;
  for (let m = 0; m < costs.length; m++) {
    if (!allowed(m)) continue;
    if (best < 0 || costs[m] < costs[best] || (costs[m] === costs[best] && models[m] < models[best])) best = m;
  }
  return best;
}

function shares(counts: number[], models: string[], n: number): Record<string, number> {
  const out: Record<string, number> = {};
  models.forEach((model, m) => (out[model] = n === 0 ? NaN : counts[m] / n));
  return out;
}

/** Cheapest model that succeeds; if none does, the cheapest model (a failure). */
export function oracle(d: RoutingData): OperatingPoint {
  const counts = d.models.map(() => 0);
  let ok = 0;
  let cost = 0;
  d.success.forEach((s, i) => {
    let m = argCheapest(d.cost[i], d.models, (k) => s[k] === 1);
    if (m < 0) m = argCheapest(d.cost[i], d.models, () => true);
    else ok++;
    counts[m]++;
    cost += d.cost[i][m];
  });
  const n = d.success.length;
  return { label: "oracle", accuracy: n ? ok / n : NaN, cost: n ? cost / n : NaN, share: shares(counts, d.models, n) };
}

function candidates(d: RoutingData): Scored[][] {
  return d.p.map((row, i) => d.models.map((model, m) => ({ model, p: row[m], cost: d.cost[i][m] })));
}

/** Runs `choose()` on every row. Abstentions count as failures costing 0. */
export function routeWithPolicy(d: RoutingData, policy: Policy, label: string, abstainBelow?: number, cands = candidates(d)): OperatingPoint {
  const index = new Map(d.models.map((m, k) => [m, k]));
  const counts = d.models.map(() => 0);
  let ok = 0;
  let cost = 0;
  let abstained = 0;
  for (let i = 0; i < d.success.length; i++) {
    const c = choose(cands[i], policy, abstainBelow);
    if (c.kind === "abstain") {
      abstained++;
      continue;
    }
    const m = index.get(c.model);
    if (m === undefined) throw new Error(`routing: policy chose unknown model ${c.model}`);
    counts[m]++;
    ok += d.success[i][m];
    cost += d.cost[i][m];
  }
  const n = d.success.length;
  const point: OperatingPoint = { label, accuracy: n ? ok / n : NaN, cost: n ? cost / n : NaN, share: shares(counts, d.models, n) };
  if (abstainBelow !== undefined) point.abstained = n ? abstained / n : NaN;
  return point;
}

export function policyFor(kind: SweepKind, param: number): Policy {
  if (kind === "utility") return { type: "utility", lambda: param };
  if (kind === "threshold") return { type: "threshold", min_p: param };
  return { type: "budget", max_cost_usd: param };
}

function labelFor(kind: SweepKind, param: number): string {
  const v = Number(param.toPrecision(4));
  return kind === "utility" ? `utility λ=${v}` : kind === "threshold" ? `threshold p≥${v}` : `budget ≤$${v}`;
}

/** One router operating point per parameter value, in the order given. */
export function sweep(d: RoutingData, kind: SweepKind, params: number[], abstainBelow?: number): OperatingPoint[] {
  const cands = candidates(d);
  return params.map((param) => ({
    ...routeWithPolicy(d, policyFor(kind, param), labelFor(kind, param), abstainBelow, cands),
    param,
  }));
}

/** Sorted distinct values at `k` evenly spaced quantiles of `xs` (inclusive ends). */
function quantileGrid(xs: number[], k: number): number[] {
  if (xs.length === 0) return [];
  const s = [...xs].sort((a, b) => a - b);
  const out: number[] = [];
  for (let j = 0; j < k; j++) out.push(s[Math.round((j / Math.max(1, k - 1)) * (s.length - 1))]);
  return [...new Set(out)];
}

/**
 * Default parameter grids, derived from the data they are given (pass the
 * validation split when selecting, so the test split never shapes the grid).
 * utility: 0 plus quantiles of the per-row break-even λ = Δp/Δcost between
 * model pairs (where the utility ranking of a pair flips), plus 10× the
 * largest; threshold: 0, 0.01, …, 1; budget: quantiles of all per-row costs.
 */
export function defaultGrid(d: RoutingData, kind: SweepKind, points = 60): number[] {
  if (kind === "threshold") return Array.from({ length: 101 }, (_, j) => j / 100);
  if (kind === "budget") return quantileGrid(d.cost.flat(), points);
  const ratios: number[] = [];
  for (let i = 0; i < d.p.length; i++) {
    const p = d.p[i];
    const c = d.cost[i];
    for (let a = 0; a < p.length; a++) {
      for (let b = a + 1; b < p.length; b++) {
        const dc = c[a] - c[b];
        const r = (p[a] - p[b]) / dc;
        if (dc !== 0 && r > 0 && Number.isFinite(r)) ratios.push(r);
      }
    }
  }
  const grid = quantileGrid(ratios, points);
  if (grid.length > 0) grid.push(grid[grid.length - 1] * 10);
  return [0, ...grid];
}

export interface SimulateOptions {
  /** Parameter grids; defaults from `defaultGrid` on the same data. */
  grids?: Partial<Record<SweepKind, number[]>>;
  abstainBelow?: number;
}

export interface Simulation {
  models: string[];
  /** Rows evaluated (complete outcomes) and rows dropped for missing outcomes. */
  rows: number;
  dropped: number;
  singles: OperatingPoint[];
  random: OperatingPoint;
  oracle: OperatingPoint;
  routers: Record<SweepKind, OperatingPoint[]>;
}

/** Everything needed to draw the accuracy–cost picture for one scorer. */
export function simulate(data: RoutingData, opts: SimulateOptions = {}): Simulation {
  const { data: d, dropped } = completeRows(data);
  const kinds: SweepKind[] = ["utility", "threshold", "budget"];
  const routers = {} as Record<SweepKind, OperatingPoint[]>;
  for (const kind of kinds) routers[kind] = sweep(d, kind, opts.grids?.[kind] ?? defaultGrid(d, kind), opts.abstainBelow);
  return {
    models: d.models,
    rows: d.success.length,
    dropped,
    singles: singleModels(d),
    random: randomRouting(d),
    oracle: oracle(d),
    routers,
  };
}
