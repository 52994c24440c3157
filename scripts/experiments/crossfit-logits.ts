/**
 * Cross-fitted student logits for choosing on more than the val split (issue
 * 17): the train+val rows of a build config's data are cut into K folds by a
 * stable hash of the row id; for each fold k the config's wide part
 * (scripts/distill/wide.ts fitWide) and deep part (trainStudent, wide off,
 * the same seed, exactly as blend mode trains it) are fitted on the other
 * folds with fold k as their early-stopping / C split, and fold k's rows (the
 * out-of-fold rows) and the cal rows are scored. The "main" model (train →
 * val, as the build trains it) scores val, cal and test. Wide and deep logits
 * are kept apart so any blend can be formed afterwards
 * (scripts/experiments/crossfit-router.ts); with --whole, the config's
 * trainer end to end (task prior included) and its final logits as both
 * parts. An experiment: writes one JSON
 * cache, never a bundle; test rows are scored only by the main model.
 *
 * Usage: tsx scripts/experiments/crossfit-logits.ts --config configs/llmrouter-v2.json
 *          --out .cache/crossfit/v2.json [--folds 5]
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { parseArgs } from "node:util";
import { featurize } from "../../src/core/featurizer.js";
import { forward } from "../../src/core/student.js";
import { unitInterval } from "../../src/core/hash.js";
import { BuildConfig } from "../stages/build-config.js";
import { featuriseRows, toDistillRow } from "../distill/dataset.js";
import type { Example } from "../distill/network.js";
import { majorityTarget, trainStudent } from "../distill/trainer.js";
import { fitWide, wideLogits } from "../distill/wide.js";
import { rowCost, rowSuccess, rowText } from "../evaluate/score.js";
import { OutcomeRow, PoolConfig } from "../formats/outcomes.js";
import { readJsonFile, readJsonl } from "../lib/jsonl.js";

const { values } = parseArgs({ options: { config: { type: "string" }, out: { type: "string" }, folds: { type: "string", default: "5" }, whole: { type: "boolean", default: false } } });
const cfg = await readJsonFile(values.config!, BuildConfig);
const pool = await readJsonFile(cfg.pool, PoolConfig);
const models = pool.models.map((m) => m.id);
const rows: OutcomeRow[] = [];
for await (const { value } of readJsonl(cfg.data, OutcomeRow)) rows.push(value);
const K = Number(values.folds);
const f = featuriseRows(rows.map(toDistillRow), models, cfg.featurizer);
const M = models.length;
const B = cfg.featurizer.buckets;
const inTV = (i: number) => rows[i].split === "train" || rows[i].split === "val";
/** Fold of a train/val row (stable hash of its id), −1 otherwise. */
const fold = rows.map((r, i) => (inTV(i) ? Math.min(K - 1, Math.floor(unitInterval(`crossfit|${r.id}`) * K)) : -1));

interface Part {
  /** Row index → wide logits (bias included) and deep logits. */
  wide: Record<number, number[]>;
  deep: Record<number, number[]>;
  bestEpoch: number;
  wideC: (number | null)[];
}

function fitPart(trainIdx: number[], valIdx: number[], scoreIdx: number[]): Part {
  const ex = (idx: number[]): Example[] => idx.map((i) => f.examples[i]);
  const train = ex(trainIdx);
  const val = ex(valIdx);
  if (values.whole) return wholePart(train, val, scoreIdx);
  // The wide part is fitted here directly, so it gets the trainer's label target and weighting by hand.
  const target = (set: Example[]) => (cfg.train.labelTarget === "majority" ? set.map(majorityTarget) : set);
  const wide = fitWide(target(train), target(val), B, M, { Cs: cfg.train.wideCs ?? [0.1, 1, 10, 100], tfidf: cfg.train.wideTfidf });
  const deep = trainStudent({ train, val, buckets: B, outputs: M }, { ...cfg.train, seed: cfg.train.seed ?? cfg.seed, wide: false, wideBlend: undefined, alpha: 0 }, { mode: "none" });
  const part: Part = { wide: {}, deep: {}, bestEpoch: deep.bestEpoch, wideC: wide.chosen.map((c) => (c ? c.C : null)) };
  for (const i of scoreIdx) {
    const e = f.examples[i];
    const z = wideLogits(wide, e.ids, M);
    part.wide[i] = Array.from(z, (v, m) => v + wide.bias[m]);
    part.deep[i] = Array.from(forward(deep.weights, e.ids, e.dense).logits);
  }
  return part;
}

/**
 * --whole: the config's own trainer end to end (wide, deep, blend and task prior, as the build's crossfit stage
 * trains it); its final logits are stored as both parts, so every blend α reads the shipped student.
 */
function wholePart(train: Example[], val: Example[], scoreIdx: number[]): Part {
  const res = trainStudent({ train, val, buckets: B, outputs: M }, { ...cfg.train, seed: cfg.train.seed ?? cfg.seed, alpha: 0 }, { mode: "none" });
  const part: Part = { wide: {}, deep: {}, bestEpoch: res.bestEpoch, wideC: (res.wide ?? []).map((c) => (c ? c.C : null)) };
  for (const i of scoreIdx) part.wide[i] = part.deep[i] = Array.from(forward(res.weights, f.examples[i].ids, f.examples[i].dense).logits);
  return part;
}

const all = rows.map((_, i) => i);
const bySplit = (s: string) => all.filter((i) => rows[i].split === s);
const cal = bySplit("cal");
const parts: Record<string, Part> = {};
const t0 = Date.now();
parts.main = fitPart(bySplit("train"), bySplit("val"), [...bySplit("val"), ...cal, ...bySplit("test")]);
console.error(`main: best epoch ${parts.main.bestEpoch} (${Math.round((Date.now() - t0) / 1000)} s)`);
for (let k = 0; k < K; k++) {
  const held = all.filter((i) => fold[i] === k);
  parts[`fold${k}`] = fitPart(all.filter((i) => fold[i] >= 0 && fold[i] !== k), held, [...held, ...cal]);
  console.error(`fold ${k}: ${held.length} rows, best epoch ${parts[`fold${k}`].bestEpoch} (${Math.round((Date.now() - t0) / 1000)} s)`);
}

const inputTokens = rows.map((r) => featurize(rowText(r), cfg.featurizer).inputTokens);
mkdirSync(dirname(values.out!), { recursive: true });
writeFileSync(
  values.out!,
  JSON.stringify({
    config: values.config,
    folds: K,
    models,
    ids: rows.map((r) => r.id),
    splits: rows.map((r) => r.split ?? null),
    tasks: rows.map((r) => r.task ?? null),
    fold,
    success: rows.map((r) => models.map((m) => rowSuccess(r, m))),
    cost: rows.map((r, i) => pool.models.map((m) => rowCost(r, m, inputTokens[i]))),
    parts,
  }),
);
console.error(`wrote ${values.out}`);
