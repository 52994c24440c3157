/**
 * Testbed step 1: writes, deterministically from seeds,
 *   <world>/vocab.json                  char vocab (shared by every member)
 *   <world>/train/<model>.tsv           that member's training mixture (prompt \t answer)
 *   <world>/problems.jsonl              evaluation prompts: labelled then unlabelled, with
 *                                       split, group and human-difficulty features
 * Usage: npx tsx scripts/testbed/gen-data.ts [--world .cache/testbed] [--labelled N] [--unlabelled N]
 * Training and evaluation draws use disjoint seeds. A prompt is *held out* when
 * a hash of its text falls in the first HOLDOUT_PCT percent (isHeldOut): held-out
 * prompts never appear in a training file, and labelled prompts are drawn only
 * from them, so no test prompt was trained on. The rule is by hash, not by draw
 * order, so small problem spaces (e.g. 2-digit × 1-digit products, 720 problems)
 * keep 70 % of their problems for training. 1-digit problems are exempt: there
 * are too few of them to hold out, so every model may have memorised them.
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { assignSplit } from "../stages/ingest.js";
import { fnv1a32 } from "../../src/core/hash.js";
import { mulberry32 } from "../../src/core/random.js";
import { ALPHABET, EOS, generate, generateOne, type Op, type Problem } from "./tasks.js";

export const MODELS_FILE = "scripts/testbed/models.json";
export interface MemberSpec { id: string; d: number; layers: number; heads: number; steps: number; seed: number; lr?: number; mixture: Record<Op, number> }
export const loadMembers = (): { train_examples: number; models: MemberSpec[] } => JSON.parse(readFileSync(MODELS_FILE, "utf8"));

export function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : def;
}

export const EVAL_SEED = 20261129;
export const HOLDOUT_PCT = 30;
/** Held-out prompts are evaluation-only: never in a training file; labelled prompts come only from them. */
export const isHeldOut = (p: Problem) => p.features.max_len > 1 && fnv1a32(`holdout:${p.prompt}`) % 100 < HOLDOUT_PCT;

export function vocab() {
  const v: Record<string, number> = { "<pad>": 0, "<unk>": 1, "<bos>": 2 };
  for (const ch of [...ALPHABET, EOS]) if (v[ch] === undefined) v[ch] = Object.keys(v).length;
  return { pad: "<pad>", unk: "<unk>", bos: "<bos>", eos: EOS, vocab: v };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const world = arg("world", ".cache/testbed");
  const nLab = Number(arg("labelled", "22000"));
  const nUnl = Number(arg("unlabelled", "100000"));
  mkdirSync(join(world, "train"), { recursive: true });
  writeFileSync(join(world, "vocab.json"), JSON.stringify(vocab(), null, 1));
  // Evaluation prompts: one seeded stream, first occurrence of each prompt only. Labelled rows
  // take held-out (or 1-digit) prompts until nLab are found; unlabelled rows take any distinct
  // prompt that is not held out (they only feed distillation, so they may have been trained on).
  const rng = mulberry32(EVAL_SEED);
  const lines: string[] = [];
  const used = new Set<string>();
  let lab = 0;
  let unl = 0;
  for (let raw = 0; lab < nLab || unl < nUnl; raw++) {
    if (raw > 50 * (nLab + nUnl)) throw new Error(`only ${lab} labelled / ${unl} unlabelled distinct prompts after ${raw} draws`);
    const p = generateOne(rng);
    if (used.has(p.prompt)) continue;
    const held = isHeldOut(p);
    const isLab = (held || p.features.max_len === 1) && lab < nLab;
    if (!isLab && (held || unl >= nUnl)) continue;
    used.add(p.prompt);
    const id = isLab ? `tb-${lab++}` : `tbu-${unl++}`;
    const split = isLab ? assignSplit(id) : "unlabelled";
    lines.push(JSON.stringify({ id, split, prompt: p.prompt, answer: p.answer, op: p.op, group: p.group, features: p.features }));
  }
  writeFileSync(join(world, "problems.jsonl"), lines.join("\n") + "\n");
  const { train_examples, models } = loadMembers();
  for (const m of models) {
    const train = generate(1000 + m.seed, train_examples, { opWeights: m.mixture })
      .filter((p) => !isHeldOut(p))
      .map((p) => `${p.prompt}\t${p.answer}`);
    writeFileSync(join(world, "train", `${m.id}.tsv`), train.join("\n") + "\n");
    console.log(`${m.id}: ${train.length} training examples`);
  }
  console.log(`problems: ${nLab} labelled + ${nUnl} unlabelled → ${world}/problems.jsonl`);
}
