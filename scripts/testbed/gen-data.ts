/**
 * Testbed step 1: writes, deterministically from seeds,
 *   <world>/vocab.json                  char vocab (shared by every member)
 *   <world>/train/<model>.tsv           that member's training mixture (prompt \t answer)
 *   <world>/problems.jsonl              evaluation prompts: labelled then unlabelled, with
 *                                       split, group and human-difficulty features
 * Usage: npx tsx scripts/testbed/gen-data.ts [--world .cache/testbed] [--labelled N] [--unlabelled N]
 * Training and evaluation draws use disjoint seeds; exact duplicates of the
 * first HOLDOUT (20000) evaluation prompts — a superset of the labelled ones —
 * are removed from every training file, except
 * 1-digit problems (there are too few of them to hold out).
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { assignSplit } from "../commands/ingest.js";
import { mulberry32 } from "../../src/core/random.js";
import { ALPHABET, EOS, generate, generateOne, type Op } from "./tasks.js";

export const MODELS_FILE = "scripts/testbed/models.json";
export interface MemberSpec { id: string; d: number; layers: number; heads: number; steps: number; seed: number; mixture: Record<Op, number> }
export const loadMembers = (): { train_examples: number; models: MemberSpec[] } => JSON.parse(readFileSync(MODELS_FILE, "utf8"));

export function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : def;
}

export const EVAL_SEED = 20261129;
/** The first HOLDOUT evaluation prompts never appear in training files (bar 1-digit ones), whatever --labelled is. */
export const HOLDOUT = 20000;

export function vocab() {
  const v: Record<string, number> = { "<pad>": 0, "<unk>": 1, "<bos>": 2 };
  for (const ch of [...ALPHABET, EOS]) if (v[ch] === undefined) v[ch] = Object.keys(v).length;
  return { pad: "<pad>", unk: "<unk>", bos: "<bos>", eos: EOS, vocab: v };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const world = arg("world", ".cache/testbed");
  const nLab = Number(arg("labelled", "13000"));
  const nUnl = Number(arg("unlabelled", "100000"));
  mkdirSync(join(world, "train"), { recursive: true });
  writeFileSync(join(world, "vocab.json"), JSON.stringify(vocab(), null, 1));
  // Evaluation prompts: the seeded stream, keeping only the first occurrence of each prompt, so
  // no test prompt is a verbatim copy of a train prompt (1-digit problems recur otherwise).
  const unique = arg("unique", "1") === "1";
  const rng = mulberry32(EVAL_SEED);
  const lines: string[] = [];
  const seen = new Set<string>(); // the raw first HOLDOUT prompts: held out of training files
  const used = new Set<string>();
  let lab = 0;
  let unl = 0;
  for (let raw = 0; lab + unl < nLab + nUnl || raw < HOLDOUT; raw++) {
    const p = generateOne(rng);
    if (raw < HOLDOUT) seen.add(p.prompt);
    if (lab + unl >= nLab + nUnl || (unique && used.has(p.prompt))) continue;
    used.add(p.prompt);
    const isLab = lab < nLab;
    if (isLab && raw >= HOLDOUT) throw new Error(`labelled prompt ${lab} is past the holdout; raise HOLDOUT`);
    const id = isLab ? `tb-${lab++}` : `tbu-${unl++}`;
    const split = isLab ? assignSplit(id) : "unlabelled";
    lines.push(JSON.stringify({ id, split, prompt: p.prompt, answer: p.answer, op: p.op, group: p.group, features: p.features }));
  }
  writeFileSync(join(world, "problems.jsonl"), lines.join("\n") + "\n");
  const { train_examples, models } = loadMembers();
  for (const m of models) {
    const train = generate(1000 + m.seed, train_examples, { opWeights: m.mixture })
      .filter((p) => p.features.max_len === 1 || !seen.has(p.prompt))
      .map((p) => `${p.prompt}\t${p.answer}`);
    writeFileSync(join(world, "train", `${m.id}.tsv`), train.join("\n") + "\n");
    console.log(`${m.id}: ${train.length} training examples`);
  }
  console.log(`problems: ${nLab} labelled + ${nUnl} unlabelled → ${world}/problems.jsonl`);
}
