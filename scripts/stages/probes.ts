/**
 * Stage 2, probes: linear probes on teacher activations, one per pool model.
 * runProbes() (single thread) and runProbesParallel() (layer selection on
 * worker threads, identical result) fit over in-memory matrices;
 * loadProbesInput() builds those from dataset.jsonl + an activation store.
 * The CLI shell (scripts/commands/probes.ts) writes the result as probes.json.
 *
 * Protocol, per model (rows where the model's outcome is missing are masked):
 *   train → fit logistic (majority label) and ridge (success rate) per layer × λ
 *   val   → choose layer and λ (validation log-loss / MSE)
 *   cal   → fit Platt on the chosen probe's logits (never the selection split)
 *   test  → metrics with bootstrap 95% CIs, probe and baselines alike
 * If no calibration split is given, a fixed fraction of train is carved out
 * by a seeded permutation (mulberry32(seed)) and used only for calibration.
 * Must not call process.exit, and must not let cal/test rows influence fitting
 * or selection.
 */
import { calibrate, logit, type Calibration } from "../../src/core/calibration.js";
import { permutation, mulberry32 } from "../../src/core/random.js";
import { fitPlatt } from "../lib/calibration-fit.js";
import { matrixFromRows, scoreRows, type DenseMatrix } from "../lib/linear/dense.js";
import { fitMajorityBaseline, fitScalarBaseline, predictScalar, logLength } from "../lib/linear/baselines.js";
import { presentRows, selectProbes, stackedCandidate, type LayerId, type SelectionModel, type SelectionOptions, type SelectionResult, type SelectionRow } from "../lib/linear/select.js";
import { selectProbesParallel, sharedFloat32 } from "../lib/linear/parallel.js";
import type { StandardizerJSON } from "../lib/linear/standardizer.js";
import { probabilityMetrics, regressionMetrics, type MetricSet, type RegressionSet } from "../lib/stats/report.js";
import { subsetCsr } from "../lib/linear/sparse.js";
import { TfidfVectorizer, fitTfidfBaseline } from "../lib/tfidf.js";
import { formatMessages } from "../../src/core/messages.js";
import { OutcomeRow, majorityLabel, successRate } from "../formats/outcomes.js";
import { streamActivations } from "../lib/activations/store.js";
import { readJsonl } from "../lib/jsonl.js";

export interface ProbesOptions {
  seed: number;
  /** λ in mean-loss + (λ/2)·‖w‖² on standardised features (sklearn's C = 1/(λ·n_train)). */
  logisticLambdas: number[];
  ridgeLambdas: number[];
  /** Share of train carved out for calibration when no cal split is given. */
  calFraction: number;
  bootstrapReps: number;
  rtol: number;
  maxIter: number;
  patience: number;
  tfidf: boolean;
  /**
   * Also offer "all": every candidate layer's end-of-input state side by side
   * as one more candidate, chosen on val like any single layer. Small models
   * spread what they know over layers (docs/testbed.md), so one layer can
   * carry too little.
   */
  stackLayers: boolean;
}

export const DEFAULT_PROBES_OPTIONS: ProbesOptions = {
  seed: 20240917,
  // Descending; the path stops once validation loss turns up, so a wide top is cheap.
  logisticLambdas: [10, 3, 1, 0.3, 0.1, 0.03, 0.01, 0.003, 0.001],
  ridgeLambdas: [1000, 300, 100, 30, 10, 3, 1, 0.3, 0.1, 0.01],
  calFraction: 0.2,
  bootstrapReps: 1000,
  rtol: 1e-3,
  maxIter: 300,
  patience: 1,
  tfidf: true,
  stackLayers: false,
};

export interface ProbesInput {
  /**
   * Candidate layers; every matrix has one row per dataset row, same order. A caller
   * may pass a ready-made "all" (layers side by side, as stackedCandidate builds it) instead of
   * asking for stackLayers.
   */
  layers: Array<{ layer: LayerId; features: DenseMatrix | Iterable<ArrayLike<number>> }>;
  splits: { train: ArrayLike<number>; val: ArrayLike<number>; test: ArrayLike<number>; cal?: ArrayLike<number> };
  models: SelectionModel[];
  /** Prompt texts (enables the length and TF-IDF baselines). */
  texts?: string[];
  humanDifficulty?: Array<number | null | undefined>;
  /** Task/source per row (enables within-group AUROC). */
  groups?: string[];
  /** Row ids, copied to the result so logits can be joined back by id. */
  ids?: string[];
  options?: Partial<ProbesOptions>;
  onProgress?: (msg: string) => void;
  now?: () => number;
}

export interface ModelProbes {
  counts: { train: number; cal: number; val: number; test: number };
  probe: { layer: LayerId; lambda: number; w: number[]; b: number; val_logloss: number; calibration: Calibration; selection: SelectionRow[] };
  ridge: { layer: LayerId; lambda: number; w: number[]; b: number; val_mse: number; selection: SelectionRow[] };
  /** Raw probe logit for every row of the input (all splits, masked rows too): the distillation teacher. */
  logits: number[];
  /** Ridge prediction of the success rate for every row. */
  ridge_pred: number[];
  test: {
    probe: MetricSet;
    ridge: RegressionSet;
    baselines: Record<string, MetricSet & { note?: string }>;
  };
}

export interface ProbesResult {
  format: "preflight-probes/1";
  rows: number;
  ids?: string[];
  options: ProbesOptions;
  /** Row indices used in each role; "train" excludes any rows carved out for cal. */
  splits: { train: number[]; cal: number[]; val: number[]; test: number[]; cal_source: "given" | "carved-from-train" };
  /** Standardiser (fitted on the train rows) of every layer some model chose. */
  standardizers: Record<string, StandardizerJSON>;
  models: Record<string, ModelProbes>;
}

function toMatrix(f: DenseMatrix | Iterable<ArrayLike<number>>): DenseMatrix {
  if ("data" in f && f.data instanceof Float32Array) return f;
  const rows = [...(f as Iterable<ArrayLike<number>>)];
  return matrixFromRows(rows, rows[0]?.length ?? 0);
}

/** Deterministic split of train into (fit, cal); both sorted for cache-friendly access. */
export function carveCalibration(train: ArrayLike<number>, fraction: number, seed: number): { fit: number[]; cal: number[] } {
  const perm = permutation(train.length, mulberry32(seed ^ 0x0ca1b8a7));
  const nCal = Math.round(train.length * fraction);
  const cal = Array.from(perm.subarray(0, nCal), (i) => train[i]).sort((a, b) => a - b);
  const fit = Array.from(perm.subarray(nCal), (i) => train[i]).sort((a, b) => a - b);
  return { fit, cal };
}

/** Validated layers and the row roles; shared by the sync and worker-thread entry points. */
function prepare(input: ProbesInput) {
  const opts: ProbesOptions = { ...DEFAULT_PROBES_OPTIONS, ...input.options };
  const log = input.onProgress ?? (() => {});
  const layers: Array<{ layer: LayerId; matrix: DenseMatrix }> = input.layers.map((l) => ({ layer: l.layer, matrix: toMatrix(l.features) }));
  if (layers.length === 0) throw new Error("probes: no layers");
  const nRows = layers[0].matrix.rows;
  for (const l of layers) if (l.matrix.rows !== nRows) throw new Error(`probes: layer ${l.layer} has ${l.matrix.rows} rows, expected ${nRows}`);
  // Shared buffer: parallel selection hands it to worker threads without a copy.
  if (opts.stackLayers && layers.length > 1) layers.push(stackedCandidate(layers, sharedFloat32));
  const given = input.splits.cal !== undefined;
  const { fit, cal } = given
    ? { fit: Array.from(input.splits.train), cal: Array.from(input.splits.cal!) }
    : carveCalibration(input.splits.train, opts.calFraction, opts.seed);
  const selOpts: SelectionOptions = {
    logisticLambdas: opts.logisticLambdas,
    ridgeLambdas: opts.ridgeLambdas,
    rtol: opts.rtol,
    maxIter: opts.maxIter,
    patience: opts.patience,
    now: input.now,
    onProgress: ({ layer, model, seconds }) => log(`layer ${layer} · ${model}: ${seconds.toFixed(1)} s`),
  };
  return { opts, log, layers, nRows, given, fit, cal, val: Array.from(input.splits.val), test: Array.from(input.splits.test), selOpts };
}

/** Single-threaded run. */
export function runProbes(input: ProbesInput): ProbesResult {
  const p = prepare(input);
  return finish(input, p, selectProbes(p.layers, p.fit, p.val, input.models, p.selOpts));
}

/**
 * Same result as runProbes, with layer selection spread over `threads` worker
 * threads (the expensive part); calibration, baselines and metrics stay here.
 */
export async function runProbesParallel(input: ProbesInput, threads: number): Promise<ProbesResult> {
  const p = prepare(input);
  return finish(input, p, await selectProbesParallel(p.layers, p.fit, p.val, input.models, p.selOpts, threads));
}

function finish(input: ProbesInput, p: ReturnType<typeof prepare>, sel: SelectionResult): ProbesResult {
  const { opts, log, layers, nRows, given, fit, cal, val, test } = p;
  // Shared text features: vocabulary from train texts only, transformed once for all rows.
  const texts = input.texts;
  const clock = input.now ?? (() => 0);
  const tText = clock();
  const vec = texts && opts.tfidf ? TfidfVectorizer.fit(fit.map((r) => texts[r])) : undefined;
  const tfidfAll = vec && texts ? vec.transform(texts) : undefined;
  if (vec) log(`tfidf: ${vec.size} terms, ${tfidfAll!.indices.length} non-zeros: ${((clock() - tText) / 1000).toFixed(1)} s`);

  const allRows = Array.from({ length: nRows }, (_, i) => i);
  const models: Record<string, ModelProbes> = {};
  const standardizers: Record<string, StandardizerJSON> = {};
  for (const [mi, m] of input.models.entries()) {
    const tModel = clock();
    const lg = sel.logistic.get(m.id)!;
    const rg = sel.ridge.get(m.id)!;
    const layerOf = (l: LayerId) => layers.find((x) => x.layer === l)!.matrix;
    for (const l of [lg.layer, rg.layer]) standardizers[String(l)] = sel.standardizers.get(l)!.toJSON();
    const logits = scoreRows(layerOf(lg.layer), allRows, sel.standardizers.get(lg.layer)!, lg.w, lg.b);
    const ridgePred = scoreRows(layerOf(rg.layer), allRows, sel.standardizers.get(rg.layer)!, rg.w, rg.b);
    const rows = { fit: presentRows(fit, m.mask), cal: presentRows(cal, m.mask), val: presentRows(val, m.mask), test: presentRows(test, m.mask) };
    const y = (rs: number[]) => rs.map((r) => m.majority[r]);
    const rate = (rs: number[]) => rs.map((r) => m.rate[r]);
    // Platt on the calibration rows only; with none, the identity map is the honest fallback.
    const platt = (scores: ArrayLike<number>, rs: number[]): Calibration =>
      rs.length > 0 ? fitPlatt(rs.map((r) => scores[r]), y(rs)) : { kind: "platt", a: 1, b: 0 };
    const probeCal = platt(logits, rows.cal);
    const report = { seed: opts.seed, reps: opts.bootstrapReps };
    const groupsOf = (rs: number[]) => (input.groups ? { groups: rs.map((r) => input.groups![r]) } : {});
    const evalProbs = (p: ArrayLike<number>, rs: number[]) => probabilityMetrics(rs.map((r) => p[r]), y(rs), rate(rs), { ...report, ...groupsOf(rs) });
    /** Every learned baseline gets the same Platt step on the same cal rows as the probe. */
    const calibrated = (p: ArrayLike<number>, rs: number[]): Float64Array => {
      const z = Float64Array.from(p, (v) => logit(v));
      const c = platt(z, rs);
      return z.map((v) => calibrate(v, c));
    };

    const baselines: ModelProbes["test"]["baselines"] = {};
    const base = fitMajorityBaseline(y(rows.fit)).p;
    baselines.majority = evalProbs(new Float64Array(nRows).fill(base), rows.test);
    if (texts) {
      const lenModel = fitScalarBaseline(rows.fit.map((r) => logLength(texts[r])), y(rows.fit));
      const pLen = Float64Array.from(texts, (t) => predictScalar(lenModel, logLength(t)));
      baselines.length = evalProbs(calibrated(pLen, rows.cal), rows.test);
    }
    if (vec && tfidfAll && texts) {
      const tf = fitTfidfBaseline([], y(rows.fit), [], y(rows.val), {
        vectorizer: vec,
        trainMatrix: subsetCsr(tfidfAll, rows.fit),
        valMatrix: subsetCsr(tfidfAll, rows.val),
      });
      baselines.tfidf = { ...evalProbs(calibrated(tf.predictMatrix(tfidfAll), rows.cal), rows.test), note: `C=${tf.C}, vocab=${tf.vocabSize}` };
    }
    const hd = input.humanDifficulty;
    if (hd) {
      const has = (rs: number[]) => rs.filter((r) => typeof hd[r] === "number" && Number.isFinite(hd[r]));
      const hFit = has(rows.fit);
      const hTest = has(rows.test);
      if (hFit.length > 0 && hTest.length > 0) {
        const hm = fitScalarBaseline(hFit.map((r) => hd[r] as number), y(hFit));
        const pH = Float64Array.from(hd, (v) => (typeof v === "number" ? predictScalar(hm, v) : 0.5));
        baselines.human_difficulty = { ...evalProbs(calibrated(pH, has(rows.cal)), hTest), note: `rows with human_difficulty only (${hTest.length}/${rows.test.length} test rows)` };
      }
    }

    models[m.id] = {
      counts: { train: rows.fit.length, cal: rows.cal.length, val: rows.val.length, test: rows.test.length },
      probe: { layer: lg.layer, lambda: lg.lambda, w: Array.from(lg.w), b: lg.b, val_logloss: lg.val_loss, calibration: probeCal, selection: lg.tried },
      ridge: { layer: rg.layer, lambda: rg.lambda, w: Array.from(rg.w), b: rg.b, val_mse: rg.val_loss, selection: rg.tried },
      logits: Array.from(logits),
      ridge_pred: Array.from(ridgePred),
      test: {
        probe: evalProbs(Float64Array.from(logits, (z) => calibrate(z, probeCal)), rows.test),
        ridge: regressionMetrics(rows.test.map((r) => ridgePred[r]), y(rows.test), rate(rows.test), report),
        baselines,
      },
    };
    log(`model ${mi + 1}/${input.models.length} ${m.id}: layer ${lg.layer}, λ=${lg.lambda}, test AUROC ${models[m.id].test.probe.auroc.estimate?.toFixed(3)}; baselines + metrics ${((clock() - tModel) / 1000).toFixed(1)} s`);
  }
  return {
    format: "preflight-probes/1",
    rows: nRows,
    ...(input.ids ? { ids: input.ids } : {}),
    options: opts,
    splits: { train: fit, cal, val, test, cal_source: given ? "given" : "carved-from-train" },
    standardizers,
    models,
  };
}

/**
 * Stage input loader: dataset.jsonl (outcome rows with a split) joined by id
 * to the activation store. Matrices keep dataset order; rows without
 * activations are dropped from every split (and reported), never zero-filled.
 */
export async function loadProbesInput(a: { dataset: string; activations: string; teacher: string; layers: number[] }): Promise<ProbesInput & { ids: string[] }> {
  const rows: OutcomeRow[] = [];
  for await (const { value } of readJsonl(a.dataset, OutcomeRow)) rows.push(value);
  const at = new Map(rows.map((r, i) => [r.id, i]));
  const mats = new Map<number, Float32Array>();
  const seen = new Uint8Array(rows.length);
  let d = 0;
  for await (const batch of streamActivations({ dir: a.activations, model: a.teacher, layers: a.layers, batchRows: 1024 })) {
    d = batch.d;
    for (const l of a.layers) if (!mats.has(l)) mats.set(l, sharedFloat32(rows.length * d)); // shared: worker threads read it in place
    batch.ids.forEach((id, k) => {
      const i = at.get(id);
      if (i === undefined) return; // activations for prompts outside this dataset are irrelevant here
      seen[i] = 1;
      for (const l of a.layers) mats.get(l)!.set(batch.layers[l].subarray(k * d, (k + 1) * d), i * d);
    });
  }
  const missing = rows.length - seen.reduce((s, v) => s + v, 0);
  if (missing > 0) console.error(`probes: ${missing} dataset rows have no activations and are excluded`);
  const bySplit = (s: string) => rows.flatMap((r, i) => (r.split === s && seen[i] ? [i] : []));
  const ids = [...new Set(rows.flatMap((r) => Object.keys(r.outcomes)))].sort();
  return {
    ids: rows.map((r) => r.id),
    layers: a.layers.map((l) => ({ layer: l, features: { data: mats.get(l) ?? new Float32Array(0), rows: rows.length, cols: d } })),
    splits: { train: bySplit("train"), val: bySplit("val"), test: bySplit("test") },
    models: ids.map((id) => ({
      id,
      majority: rows.map((r) => (r.outcomes[id] ? majorityLabel(r.outcomes[id]) : 0)),
      rate: rows.map((r) => (r.outcomes[id] ? successRate(r.outcomes[id]) : 0)),
      mask: rows.map((r) => (r.outcomes[id] ? 1 : 0)),
    })),
    texts: rows.map((r) => r.prompt ?? formatMessages(r.messages ?? [])),
    humanDifficulty: rows.map((r) => r.human_difficulty),
    groups: rows.some((r) => (r.task ?? r.source) !== undefined) ? rows.map((r) => r.task ?? r.source ?? "") : undefined,
  };
}

