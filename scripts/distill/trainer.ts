/**
 * Trains the bag student (src/core/student.ts) in TypeScript: seeded init,
 * dense-feature standardisation (folded into w1/b1 at the end), mini-batch
 * Adam with lazy sparse embedding updates, early stopping on validation loss
 * with patience and best-weight restore. Deterministic for a given seed and
 * input order: the clock is read only for the history and progress output.
 * Owns the training loop; maths lives in network.ts / adam.ts / params.ts.
 */
import { z } from "zod";
import { type StudentShape, type StudentWeights, forward } from "../../src/core/student.js";
import { mulberry32, permutation } from "../../src/core/random.js";
import { Adam } from "./adam.js";
import { type Example, Workspace, clearGrads, lossAndGrad, newGrads } from "./network.js";
import { cloneParams, copyParams, fitStandardizer, foldToWeights, initParams, mergeMembers } from "./params.js";
import { type BlendChoice, type WidePart, chooseBlend, fitWide, wideLogits } from "./wide.js";
import { TASK_BLEND, type TaskPriorFit, fitTaskPrior } from "./task-prior.js";
import { type ProgressOptions, createProgress } from "./progress.js";

export type { Example } from "./network.js";

export const TrainConfig = z.object({
  seed: z.number().int().min(0).max(0xffffffff).default(1),
  dim: z.number().int().min(1).max(1024).default(32),
  hidden: z.number().int().min(1).max(4096).default(64),
  alpha: z.number().min(0).max(1).default(0).meta({ description: "weight of teacher MSE; 1 − alpha weighs label BCE" }),
  lr: z.number().positive().default(3e-3),
  weightDecay: z.number().min(0).default(0),
  batchSize: z.number().int().min(1).default(64),
  maxEpochs: z.number().int().min(1).default(40),
  patience: z.number().int().min(1).default(4),
  minDelta: z.number().min(0).default(1e-4),
  embStd: z.number().positive().default(0.1),
  wide: z.boolean().default(false).meta({ description: "add the wide part (per-model TF-IDF-like linear weights over the ids, scripts/distill/wide.ts), fitted first; the deep part then trains on top of it" }),
  wideCs: z.array(z.number().positive()).min(1).default([0.1, 1, 10, 100]).meta({ description: "wide part: inverse L2 strengths tried per model, chosen on validation log-loss" }),
  // Optional without a default, so configs without it parse (and key the build cache) as before.
  labelTarget: z
    .enum(["rate", "majority"])
    .optional()
    .meta({ description: "what the label loss fits: the success rate k/n (default) or the majority label k/n > 0.5, which is what calibration, evaluation and routing call success" }),
  wideTfidf: z.boolean().optional().meta({ description: "wide part weighted exactly as TF-IDF (1 + ln count per distinct id, norm over distinct ids; src/core/student.ts wideTerm) instead of counts and an occurrence norm" }),
  wideBlend: z
    .array(z.number().min(0).max(1))
    .min(1)
    .optional()
    .meta({ description: "with wide and deep: train the deep part on its own (not on top of the wide part) and ship α·wide + (1 − α)·deep, α from this grid chosen on mean validation AUROC" }),
  taskPrior: z.boolean().optional().meta({ description: "with rows that name their task: add the task prior (a task classifier times each task's smoothed success logits, scripts/distill/task-prior.ts) and weigh the student by b from taskBlend" }),
  taskMinDf: z.number().int().min(1).optional().meta({ description: "taskInput ids only: only ids in at least this many training prompts get a classifier weight; the other rows of the V×T table are exactly 0 (gzip removes them)" }),
  taskInput: z.enum(["hidden", "ids"]).optional().meta({ description: "taskPrior only: the classifier reads the hidden layer h (default; an H×T table) or the ids like the wide part (needs wide; a V×T table)" }),
  taskBlend: z
    .array(z.number().min(0).max(4))
    .min(1)
    .optional()
    .meta({ description: "taskPrior only: the grid of the student's weight b in b·student + prior, chosen on mean validation AUROC (default 0.1, 0.25, 0.5, 0.75, 1)" }),
  ensemble: z.number().int().min(1).max(8).default(1).meta({ description: "deep parts trained with seeds seed, seed+1, …, averaged into one wider deep part (dim and hidden × ensemble); same graph" }),
  deep: z.boolean().default(true).meta({ description: "train the embedding-bag MLP; false (only with wide) ships the wide part alone" }),
});
export type TrainConfig = z.infer<typeof TrainConfig>;
export type TrainConfigInput = z.input<typeof TrainConfig>;

export interface TrainData {
  train: Example[];
  /** Early-stopping split; when empty, the mean training batch loss is used instead. */
  val: Example[];
  buckets: number;
  outputs: number;
}

export interface EpochRecord {
  epoch: number;
  trainLoss: number; // mean mini-batch loss over the epoch
  valLoss: number;
  seconds: number;
  promptsPerSec: number;
}

export interface TrainResult {
  weights: StudentWeights;
  history: EpochRecord[];
  bestEpoch: number;
  bestValLoss: number;
  /** Training-set dense mean/std, already folded into weights.w1/b1. */
  standardizer: { mean: number[]; std: number[] };
  config: TrainConfig;
  seconds: number;
  /** Prompts processed per second over all training steps (validation passes excluded). */
  promptsPerSec: number;
  steps: number;
  /** With ensemble > 1: each member's seed and early-stopping result (the top-level history is member 0's). */
  members?: Array<{ seed: number; bestEpoch: number; bestValLoss: number }>;
  /** wideBlend only: the α chosen and the validation AUROC of each α tried. */
  blend?: BlendChoice;
  /** Wide part's per-model chosen C and validation log-loss (absent when off). */
  wide?: WidePart["chosen"];
  /** taskPrior only: the fit without its tables (tasks, rows, C, val accuracy, the student's weight), or why it was skipped. */
  task?: Omit<TaskPriorFit, "table" | "bias" | "prior"> | { skipped: string };
}

function validate(data: TrainData, F: number, alpha: number): void {
  const { buckets: V, outputs: M } = data;
  let teacherEntries = 0;
  for (const [name, set] of [["train", data.train], ["val", data.val]] as const) {
    for (const [i, ex] of set.entries()) {
      for (const id of ex.ids) {
        if (!(id >= 0 && id < V)) throw new Error(`${name}[${i}]: id ${id} outside [0, ${V})`);
      }
      if (ex.dense.length !== F) throw new Error(`${name}[${i}]: ${ex.dense.length} dense features, expected ${F}`);
      if (ex.teacher && ex.teacher.length !== M) throw new Error(`${name}[${i}]: teacher has ${ex.teacher.length} entries, expected ${M}`);
      if (ex.label && ex.label.length !== M) throw new Error(`${name}[${i}]: label has ${ex.label.length} entries, expected ${M}`);
      if (ex.label) for (const y of ex.label) if (!(Number.isNaN(y) || (y >= 0 && y <= 1))) throw new Error(`${name}[${i}]: label ${y} not in [0,1]`);
      if (ex.teacher) for (const t of ex.teacher) if (!Number.isNaN(t)) teacherEntries++;
      if (ex.weight !== undefined && !(Number.isFinite(ex.weight) && ex.weight > 0)) throw new Error(`${name}[${i}]: weight ${ex.weight} is not a positive finite number`);
    }
  }
  if (data.train.length === 0) throw new Error("no training examples");
  if (alpha > 0 && teacherEntries === 0) throw new Error(`alpha=${alpha} but no teacher logits were given; use alpha=0 (label-only)`);
}

export function trainStudent(data: TrainData, configInput: TrainConfigInput = {}, opts: ProgressOptions = {}): TrainResult {
  const cfg = TrainConfig.parse(configInput);
  const F = data.train[0]?.dense.length ?? 0;
  validate(data, F, cfg.alpha);
  if (cfg.labelTarget === "majority") data = { ...data, train: data.train.map(majorityTarget), val: data.val.map(majorityTarget) };
  if (!cfg.deep && !cfg.wide) throw new Error("deep: false needs wide: true (nothing would be trained)");
  // The wide part's L2 logistic path has no sample weights: silently ignoring them would undo the IPS correction.
  if (cfg.wide && data.train.some((ex) => ex.weight !== undefined && ex.weight !== 1)) throw new Error("wide: true does not support weighted rows (logged rows); use a deep-only student");
  const wide = cfg.wide ? fitWide(data.train, data.val, data.buckets, data.outputs, { Cs: cfg.wideCs, tfidf: cfg.wideTfidf }) : null;
  // Residual mode (default): the deep part trains on top of the wide logits. Blend mode: on its own.
  const blending = wide !== null && cfg.deep && cfg.wideBlend !== undefined && data.val.length > 0;
  const plain = data;
  if (wide && !blending) data = { ...data, train: data.train.map((ex) => withWide(ex, wide)), val: data.val.map((ex) => withWide(ex, wide)) };
  // Member k uses seed + k, so member 0 is exactly the single-model run.
  const members = Array.from({ length: cfg.deep ? cfg.ensemble : 1 }, (_, k) => trainMember(data, { ...cfg, seed: (cfg.seed + k) >>> 0 }, F, wide !== null && !blending, opts));
  const first = members[0];
  const weights = members.length > 1 ? mergeMembers(members.map((m) => m.weights)) : first.weights;
  let blend: BlendChoice | undefined;
  if (wide) {
    const deep = { ...weights };
    blend = blending ? chooseBlend(wide, (ex) => forward(deep, ex.ids, ex.dense).logits, plain.val, cfg.wideBlend!) : undefined;
    const a = blend ? blend.alpha : 1;
    // α·wide + (1 − α)·deep, folded into the tables: no graph change.
    weights.wide = Float32Array.from(wide.table, (x) => a * x);
    weights.wideNorm = Float32Array.from(wide.norm);
    if (wide.tfidf) weights.wideTfidf = true;
    if (blend) for (const k of ["w2", "b2"] as const) weights[k] = weights[k].map((x) => (1 - a) * x);
    for (let m = 0; m < data.outputs; m++) weights.b2[m] += a * wide.bias[m];
  }
  let task: TrainResult["task"];
  if (cfg.taskPrior) {
    const input = cfg.taskInput ?? "hidden";
    if (input === "ids" && !wide) throw new Error("taskInput ids needs wide: true (the task classifier shares the wide part's idf and norm)");
    const student = { ...weights };
    const fit = fitTaskPrior(plain.train, plain.val, data.buckets, data.outputs, { input, minDf: cfg.taskMinDf, Cs: cfg.wideCs, tfidf: wide?.tfidf ?? false, grid: cfg.taskBlend ?? TASK_BLEND, student: (ex) => forward(student, ex.ids, ex.dense) });
    if ("skipped" in fit) task = fit;
    else {
      const { table, bias, prior, ...summary } = fit;
      task = summary;
      // b·student folded into its own output weights (linear in w2, b2 and the wide table): the graph only adds the prior.
      const b = fit.studentWeight;
      for (const k of ["w2", "b2", "wide"] as const) if (weights[k]) weights[k] = weights[k]!.map((x) => b * x);
      weights.task = { input: fit.input, table: Float32Array.from(table), bias: Float32Array.from(bias), prior: Float32Array.from(prior) };
    }
  }
  return {
    ...first,
    weights,
    config: cfg,
    seconds: members.reduce((a, m) => a + m.seconds, 0),
    steps: members.reduce((a, m) => a + m.steps, 0),
    ...(members.length > 1 ? { members: members.map((m) => ({ seed: m.config.seed, bestEpoch: m.bestEpoch, bestValLoss: m.bestValLoss })) } : {}),
    ...(wide ? { wide: wide.chosen } : {}),
    ...(blend ? { blend } : {}),
    ...(task ? { task } : {}),
  };
}

/** One deep part on examples that already carry the wide offsets (when hasWide); weights without the wide part. */
function trainMember(data: TrainData, cfg: TrainConfig, F: number, hasWide: boolean, opts: ProgressOptions): TrainResult {
  const shape: StudentShape = { buckets: data.buckets, dim: cfg.dim, dense: F, hidden: cfg.hidden, outputs: data.outputs };
  const rng = mulberry32(cfg.seed);
  const p = initParams(shape, rng, { embStd: cfg.embStd }, data.train);
  if (hasWide) {
    // The wide part carries the intercepts; with w2 = 0 the start is the wide model exactly (epoch 0 below).
    p.b2.fill(0);
    p.w2.fill(0);
  }
  const std = fitStandardizer(data.train, F);
  const adam = new Adam(p, { lr: cfg.lr, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: cfg.weightDecay });
  const g = newGrads(shape);
  const ws = new Workspace(shape);
  const allVal = Int32Array.from(data.val.keys());
  const best = cloneParams(p);
  const now = opts.now ?? (() => performance.now());
  const progress = createProgress(opts);
  const n = data.train.length;
  const history: EpochRecord[] = [];
  let bestValLoss = Infinity;
  let bestEpoch = 0;
  let bad = 0;
  let trainMs = 0;
  let processed = 0;
  const t0 = now();
  if (hasWide && data.val.length > 0) {
    // Epoch 0 = the wide part alone: the deep part is kept only if it lowers validation loss.
    bestValLoss = lossAndGrad(p, std, data.val, allVal, cfg.alpha, ws, null).loss;
    copyParams(best, p);
  }
  progress.start(cfg.maxEpochs * n);
  try {
    for (let epoch = 1; cfg.deep && epoch <= cfg.maxEpochs; epoch++) {
      const te = now();
      const order = permutation(n, rng);
      let lossSum = 0;
      let batches = 0;
      for (let from = 0; from < n; from += cfg.batchSize) {
        const to = Math.min(from + cfg.batchSize, n);
        clearGrads(g, shape.dim);
        const { loss } = lossAndGrad(p, std, data.train, order, cfg.alpha, ws, g, from, to);
        adam.step(p, g);
        lossSum += loss;
        batches++;
        processed += to - from;
        const elapsed = trainMs + (now() - te);
        progress.tick((epoch - 1) * n + to, { epoch, loss, promptsPerSec: (processed / Math.max(elapsed, 1e-9)) * 1000 });
      }
      const epochTrainMs = now() - te;
      trainMs += epochTrainMs;
      const trainLoss = lossSum / batches;
      const valLoss = data.val.length > 0 ? lossAndGrad(p, std, data.val, allVal, cfg.alpha, ws, null).loss : trainLoss;
      const rec: EpochRecord = {
        epoch,
        trainLoss,
        valLoss,
        seconds: (now() - te) / 1000,
        promptsPerSec: (n / Math.max(epochTrainMs, 1e-9)) * 1000,
      };
      history.push(rec);
      const improved = valLoss < bestValLoss - cfg.minDelta;
      progress.log(
        `epoch ${epoch}: train ${trainLoss.toFixed(5)} val ${valLoss.toFixed(5)} ` +
          `${Math.round(rec.promptsPerSec)} prompts/s${improved ? " *" : ""}`,
      );
      if (improved) {
        bestValLoss = valLoss;
        bestEpoch = epoch;
        bad = 0;
        copyParams(best, p);
      } else if (++bad >= cfg.patience) {
        progress.log(`early stop after epoch ${epoch}; restoring epoch ${bestEpoch} (val ${bestValLoss.toFixed(5)})`);
        break;
      }
    }
  } finally {
    progress.stop();
  }
  return {
    weights: foldToWeights(best, std),
    history,
    bestEpoch,
    bestValLoss,
    standardizer: { mean: Array.from(std.mean), std: Array.from(std.std) },
    config: cfg,
    seconds: (now() - t0) / 1000,
    promptsPerSec: (processed / Math.max(trainMs, 1e-9)) * 1000,
    steps: adam.steps,
  };
}

/** The example with its success rates replaced by majority labels (rate > 0.5 → 1, else 0; missing stays NaN). */
export function majorityTarget(ex: Example): Example {
  return ex.label ? { ...ex, label: ex.label.map((y) => (Number.isNaN(y) ? NaN : y > 0.5 ? 1 : 0)) } : ex;
}

/** The example with the wide part's logits (bias included) as its fixed offset. */
function withWide(ex: Example, wide: WidePart): Example {
  const M = wide.bias.length;
  const offset = wideLogits(wide, ex.ids, M);
  for (let m = 0; m < M; m++) offset[m] += wide.bias[m];
  return { ...ex, offset };
}
