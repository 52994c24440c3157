/**
 * Testbed evaluation, shared by report.ts (full world → docs/testbed.md) and
 * test/worker/testbed-e2e.test.ts (committed fixture → assertions): baselines,
 * probe + human features, student scoring, routing on val → test. Uses the
 * pipeline's own pieces (probes, tfidf, linear solvers, metrics, routing).
 * Must not: write files or pick anything on test rows.
 */
import { expectedCostUsd } from "../../src/core/cost.js";
import { calibratedP } from "../../src/core/scoring.js";
import { featurize, type FeaturizerSpec } from "../../src/core/featurizer.js";
import type { Manifest, ProbeLayer } from "../../src/core/manifest.js";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { nodeScorer } from "../bundle/score-node.js";
import { DEFAULT_PROBES_OPTIONS, type ProbesInput } from "../stages/probes.js";
import type { DenseMatrix } from "../lib/linear/dense.js";
import { stackedCandidate } from "../lib/linear/select.js";
import { majorityLabel, successRate, type OutcomeRow, type PoolConfig } from "../formats/outcomes.js";
import { fitScalarBaseline, logLength, predictScalar } from "../lib/linear/baselines.js";
import { SmallDenseOperator } from "../lib/linear/operator.js";
import { fitPath } from "../lib/linear/path.js";
import { sigmoid as probability } from "../lib/linear/logistic.js";
import { subsetCsr } from "../lib/linear/sparse.js";
import { probabilityMetrics, type MetricSet } from "../lib/stats/report.js";
import { bootstrapCI, take, type Interval } from "../lib/stats/bootstrap.js";
import { withinGroupAuroc, type GroupRule } from "../lib/stats/metrics.js";
import { selectOnValidation, type ValidationSelection } from "../lib/routing/select.js";
import { simulate, type RoutingData, type Simulation, type SweepKind } from "../lib/routing/simulate.js";
import { TfidfVectorizer, fitTfidfBaseline } from "../lib/tfidf.js";

export const HUMAN_KEYS = ["len_a", "len_b", "max_len", "carries", "carry_chain", "answer_len"] as const;
export const OPS = ["add", "sub", "mul", "eq", "word"] as const;
/**
 * λ grid for the testbed's probes and human-feature baseline: the pipeline's default grid
 * stops at 0.001, where the testbed's validation loss was still falling (chosen on val in the
 * first world: tb-mul's probe moved from λ 0.001 to 1e-4), so it continues down to 1e-5 for both.
 */
export const LAMBDAS = [...DEFAULT_PROBES_OPTIONS.logisticLambdas, 3e-4, 1e-4, 3e-5, 1e-5];

export interface Splits { train: number[]; val: number[]; cal: number[]; test: number[] }

export function splitsOf(rows: OutcomeRow[]): Splits {
  const s: Splits = { train: [], val: [], cal: [], test: [] };
  rows.forEach((r, i) => { if (r.split && r.split in s) s[r.split as keyof Splits].push(i); });
  return s;
}

/** Human-difficulty design: operator one-hots, the features, and operator × feature interactions. */
export function humanRow(r: OutcomeRow): number[] {
  const f = r.human_features ?? {};
  const base = HUMAN_KEYS.map((k) => f[k] ?? 0);
  const op = OPS.map((o) => (r.source === o ? 1 : 0));
  return [...op, ...base, ...op.flatMap((o) => base.map((b) => o * b))];
}

export interface DenseLogistic { lambda: number; predict: (rows: number[]) => Float64Array }

/** Standardised dense logistic regression, λ chosen on val log-loss (pipeline's fitPath). */
export function fitDenseLogistic(X: (i: number) => ArrayLike<number>, d: number, y: ArrayLike<number>, train: number[], val: number[]): DenseLogistic {
  const mean = new Float64Array(d);
  const sd = new Float64Array(d);
  for (const i of train) { const x = X(i); for (let j = 0; j < d; j++) mean[j] += x[j] / train.length; }
  for (const i of train) { const x = X(i); for (let j = 0; j < d; j++) sd[j] += (x[j] - mean[j]) ** 2 / train.length; }
  for (let j = 0; j < d; j++) sd[j] = sd[j] > 1e-12 ? Math.sqrt(sd[j]) : 1;
  const op = (rows: number[]) => {
    const data = new Float64Array(rows.length * d);
    rows.forEach((i, k) => { const x = X(i); for (let j = 0; j < d; j++) data[k * d + j] = (x[j] - mean[j]) / sd[j]; });
    return new SmallDenseOperator(data, rows.length, d);
  };
  const path = fitPath("logistic", op(train), train.map((i) => y[i]), op(val), val.map((i) => y[i]), LAMBDAS, { rtol: 1e-4, maxIter: 300, patience: 2 });
  const { w, b, lambda } = path.best;
  return {
    lambda,
    predict(rows) {
      const o = op(rows);
      const z = new Float64Array(rows.length);
      o.forward(w, z);
      return z.map((v) => probability(v + b));
    },
  };
}

export interface Labels { y: number[]; rate: number[]; has: boolean[] }
export function labelsOf(rows: OutcomeRow[], model: string): Labels {
  return {
    y: rows.map((r) => (r.outcomes[model] ? majorityLabel(r.outcomes[model]) : 0)),
    rate: rows.map((r) => (r.outcomes[model] ? successRate(r.outcomes[model]) : 0)),
    has: rows.map((r) => r.outcomes[model] !== undefined),
  };
}

/** P(success) on every row from the text/feature baselines, fitted on train, λ/C on val. */
export function baselineScores(rows: OutcomeRow[], s: Splits, lab: Labels, shared: { vec: TfidfVectorizer; tfidfAll: ReturnType<TfidfVectorizer["transform"]> }) {
  const all = rows.map((_, i) => i);
  const texts = rows.map((r) => r.prompt ?? "");
  const lm = fitScalarBaseline(s.train.map((i) => logLength(texts[i])), s.train.map((i) => lab.y[i]));
  const length = Float64Array.from(texts, (t) => predictScalar(lm, logLength(t)));
  const tf = fitTfidfBaseline([], s.train.map((i) => lab.y[i]), [], s.val.map((i) => lab.y[i]), {
    vectorizer: shared.vec,
    trainMatrix: subsetCsr(shared.tfidfAll, s.train),
    valMatrix: subsetCsr(shared.tfidfAll, s.val),
  });
  const tfidf = tf.predictMatrix(shared.tfidfAll);
  const H = rows.map(humanRow);
  const hm = fitDenseLogistic((i) => H[i], H[0].length, lab.y, s.train, s.val);
  const human = hm.predict(all);
  return { length, tfidf, human, notes: { tfidf: `C=${tf.C}, vocab=${tf.vocabSize}`, human: `λ=${hm.lambda}, ${H[0].length} features` } };
}

export function sharedTfidf(rows: OutcomeRow[], s: Splits) {
  const texts = rows.map((r) => r.prompt ?? "");
  const vec = TfidfVectorizer.fit(s.train.map((i) => texts[i]));
  return { vec, tfidfAll: vec.transform(texts) };
}

/** Columns of a dense design, side by side with other blocks: `row(i)` gives row i's values. */
export interface Block { cols: number; row: (i: number) => ArrayLike<number> }

/** One layer's activations (row-major, `cols` per row) as a block. */
export const activationBlock = (a: { data: Float32Array; cols: number }): Block => ({ cols: a.cols, row: (i) => a.data.subarray(i * a.cols, (i + 1) * a.cols) });

/** The human-difficulty design (humanRow) as a block. */
export function humanBlock(rows: OutcomeRow[]): Block {
  const H = rows.map(humanRow);
  return { cols: H[0].length, row: (i) => H[i] };
}

/**
 * Logistic regression on blocks side by side (standardised, λ on val), P on every row. Serves
 * probe + human features ([the probe's layers, human design]) and the best-single-layer probe
 * the report shows next to the pipeline's chosen candidate.
 */
export function logisticOnBlocks(rows: OutcomeRow[], s: Splits, lab: Labels, blocks: Block[]): { p: Float64Array; lambda: number; d: number } {
  const d = blocks.reduce((a, b) => a + b.cols, 0);
  const X = (i: number) => {
    const x = new Float64Array(d);
    let o = 0;
    for (const b of blocks) { x.set(b.row(i), o); o += b.cols; }
    return x;
  };
  const fit = fitDenseLogistic(X, d, lab.y, s.train, s.val);
  return { p: fit.predict(rows.map((_, i) => i)), lambda: fit.lambda, d };
}

export function metricsOn(p: ArrayLike<number>, lab: Labels, rowsIdx: number[], groups: string[], reps: number, seed = 7): MetricSet {
  const r = rowsIdx.filter((i) => lab.has[i]);
  return probabilityMetrics(r.map((i) => p[i]), r.map((i) => lab.y[i]), r.map((i) => lab.rate[i]), { seed, reps, groups: r.map((i) => groups[i]) });
}

/** Within-group AUROC (point estimate) of `p` on the rows of `rowsIdx` that have the model's outcome. */
export function withinGroupOn(p: ArrayLike<number>, lab: Labels, rowsIdx: number[], groups: string[], rule?: GroupRule): number | null {
  const r = rowsIdx.filter((i) => lab.has[i]);
  return withinGroupAuroc(r.map((i) => p[i]), r.map((i) => lab.y[i]), r.map((i) => groups[i]), rule);
}

/** Share of the probe's lift over TF-IDF that the student keeps; NaN when the probe has no lift to keep. */
export function liftKept(probe: number, student: number, tfidf: number): number {
  return probe > tfidf ? (student - tfidf) / (probe - tfidf) : NaN;
}

/**
 * Paired bootstrap 95% CI of a − b in within-group AUROC on `rowsIdx` (rows with the model's
 * outcome): both predictors see the same resampled rows, so the interval says whether the gap
 * between them is larger than sampling noise, which two separate intervals cannot.
 */
export function withinGroupDiff(a: ArrayLike<number>, b: ArrayLike<number>, lab: Labels, rowsIdx: number[], groups: string[], reps: number, seed = 7): Interval {
  const r = rowsIdx.filter((i) => lab.has[i]);
  const y = r.map((i) => lab.y[i]);
  const g = r.map((i) => groups[i]);
  const A = r.map((i) => a[i]);
  const B = r.map((i) => b[i]);
  return bootstrapCI(r.length, (idx) => {
    const yy = take(y, idx);
    const gg = Array.from(idx, (k) => g[k]);
    const x = withinGroupAuroc(take(A, idx), yy, gg);
    const z = withinGroupAuroc(take(B, idx), yy, gg);
    return x === null || z === null ? null : x - z;
  }, { reps, seed });
}

/** Student logits (raw) and calibrated P for every row, scored with onnxruntime-node like the golden replay. */
export async function studentScores(bundleDir: string, rows: OutcomeRow[]): Promise<{ models: string[]; logits: number[][]; p: number[][] }> {
  const manifest: Manifest = JSON.parse(readFileSync(join(bundleDir, "manifest.json"), "utf8"));
  const onnx = readFileSync(join(bundleDir, manifest.onnx.file));
  const scorer = await nodeScorer(onnx, manifest.featurizer, { ...manifest.onnx.inputs, output: manifest.onnx.output });
  const models = manifest.outputs.map((o) => o.model);
  const logits: number[][] = [];
  const p: number[][] = [];
  for (let s = 0; s < rows.length; s += 256) {
    const out = await scorer.score(rows.slice(s, s + 256).map((r) => r.prompt ?? ""));
    for (const o of out) {
      logits.push(manifest.outputs.map((x) => o.logits[x.index]));
      const ps = calibratedP(o.logits, manifest);
      p.push(models.map((m) => ps[m]));
    }
  }
  return { models, logits, p };
}

/**
 * Expected cost per row and model by the worker's own rule (src/core/decide.ts `decide`):
 * featurizer input tokens and the pool's default output tokens, priced by expectedCostUsd.
 * The same numbers drive the simulated router and the worker, so a policy chosen on val
 * makes the same decisions in both.
 */
export function costMatrix(rows: OutcomeRow[], pool: PoolConfig, featurizer: FeaturizerSpec): number[][] {
  return rows.map((r) => {
    const inTok = featurize(r.prompt ?? "", featurizer).inputTokens;
    return pool.models.map((m) => expectedCostUsd(inTok, m.default_output_tokens, m));
  });
}

export function routingData(rows: OutcomeRow[], idx: number[], models: string[], p: ArrayLike<number>[] /* per model, all rows */, cost: number[][]): RoutingData {
  return {
    models,
    p: idx.map((i) => models.map((_, j) => p[j][i])),
    success: idx.map((i) => models.map((m) => (rows[i].outcomes[m] ? majorityLabel(rows[i].outcomes[m]) : NaN))),
    cost: idx.map((i) => cost[i]),
  };
}

/**
 * The probes input restricted to one candidate, as chosen on the world's val split:
 * one layer, or "all" (every loaded layer side by side, in load order).
 */
export function onlyCandidate(input: ProbesInput, layer: ProbeLayer): ProbesInput {
  const mats = input.layers.map((l) => ({ layer: l.layer, matrix: l.features as DenseMatrix }));
  return {
    ...input,
    layers: layer === "all" ? [{ layer, features: stackedCandidate(mats).matrix }] : mats.filter((x) => x.layer === layer).map((x) => ({ layer, features: x.matrix })),
  };
}

export interface RouterResult { label: string; selections: Record<SweepKind, ValidationSelection>; chosen: ValidationSelection; testSim: Simulation }

/** The routing target's cost cap (≤ 50 % of the best single model's cost), used as the val selection budget. */
export const ROUTING_BUDGET = 0.5;

/**
 * Threshold and utility sweeps chosen on val with the target's cost budget (select.ts rule 0:
 * the most accurate val point costing ≤ ROUTING_BUDGET × the val-best single's cost); the
 * headline kind is also chosen on val (within budget first, then higher val accuracy, then
 * lower val cost).
 */
export function routeEval(label: string, rows: OutcomeRow[], s: Splits, models: string[], p: ArrayLike<number>[], cost: number[][]): RouterResult {
  const val = routingData(rows, s.val, models, p, cost);
  const test = routingData(rows, s.test, models, p, cost);
  const kinds: SweepKind[] = ["threshold", "utility"];
  const selections = {} as Record<SweepKind, ValidationSelection>;
  for (const k of kinds) selections[k] = selectOnValidation(val, test, k, { budget: ROUTING_BUDGET });
  const inBudget = (v: ValidationSelection) => (v.rule === "max-accuracy-within-budget" ? 1 : 0);
  const chosen = kinds.map((k) => selections[k]).sort((a, b) => inBudget(b) - inBudget(a) || b.val.point.accuracy - a.val.point.accuracy || a.val.point.cost - b.val.point.cost)[0];
  return { label, selections, chosen, testSim: simulate(test, { grids: { threshold: chosen.grid, utility: selections.utility.grid } }) };
}
