/**
 * Testbed step 3: real rollouts of every pool member on every labelled prompt,
 * with onnxruntime-node (through scripts/lib/ort-node.ts), graded by exact match.
 *
 * Per prompt and model: K = 5 samples at temperature 0.3 (seeded mulberry32 per
 * model) plus one greedy decode. Generation stops at the end marker ';' or after
 * len(answer) + 1 tokens — any longer output cannot be an exact match, so the cap
 * changes no grade (output_tokens then counts the capped tokens). A sample
 * succeeds iff the text before ';' equals the answer and ';' was produced.
 *
 * Writes <world>/rollouts/<model>.jsonl ({id, k, greedy_ok, tokens, samples}),
 * then <world>/outcomes.jsonl (outcomes format: per model n=5, k, output_tokens =
 * mean generated tokens of the 5 samples; unlabelled prompts with outcomes {})
 * and <world>/pool.json (default_output_tokens = mean generated tokens over every
 * rollout of that model, rounded). Price rule: input and output USD per Mtok =
 * params / 1e6 (proportional to parameter count), e.g. 786k params → $0.786/Mtok.
 *
 * Speed: there is no KV cache, so each step re-runs the whole prefix; identical
 * prefixes among a prompt's 6 rows (common when the model is confident) are run
 * once per step (same logits up to float rounding of the batch shape).
 *
 * Usage: npx tsx scripts/testbed/rollouts.ts [--world .cache/testbed] [--models a,b] [--limit N]
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { mulberry32, type Rng } from "../../src/core/random.js";
import { closeSession, loadSession, runSession } from "../lib/ort-node.js";
import { loadVocabTokenizer } from "../lib/activations/tokenizer.js";
import { arg, loadMembers } from "./gen-data.js";

export const K = 5;
export const TEMPERATURE = 0.3;
const CHUNK = 48; // prompts per batch

export interface ProblemRow {
  id: string;
  split: string;
  prompt: string;
  answer: string;
  op: string;
  group: string;
  features: Record<string, number>;
}

export function readProblems(world: string): ProblemRow[] {
  return readFileSync(join(world, "problems.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l));
}

function sample(logits: Float32Array, off: number, V: number, temp: number, rng: Rng): number {
  let mx = -Infinity;
  for (let v = 0; v < V; v++) mx = Math.max(mx, logits[off + v]);
  let tot = 0;
  const p = new Float64Array(V);
  for (let v = 0; v < V; v++) tot += p[v] = Math.exp((logits[off + v] - mx) / temp);
  let u = rng() * tot;
  for (let v = 0; v < V; v++) if ((u -= p[v]) < 0) return v;
  return V - 1;
}
function argmax(logits: Float32Array, off: number, V: number): number {
  let b = 0;
  for (let v = 1; v < V; v++) if (logits[off + v] > logits[off + b]) b = v;
  return b;
}

export async function rolloutModel(world: string, model: string, problems: ProblemRow[], log = console.error) {
  const dir = join(world, "models");
  const tok = await loadVocabTokenizer(join(dir, `${model}.vocab.json`));
  const vocab: Record<string, number> = JSON.parse(readFileSync(join(dir, `${model}.vocab.json`), "utf8")).vocab;
  const itos = new Map(Object.entries(vocab).map(([k, v]) => [v, k]));
  const eos = vocab[";"];
  const V = Object.keys(vocab).length;
  const session = await loadSession(join(dir, `${model}.onnx`), { threads: 1 });
  const rng = mulberry32(0x5eed ^ [...model].reduce((h, c) => (h * 31 + c.charCodeAt(0)) >>> 0, 7));
  const enc = problems.map((p) => tok.encode(p.prompt));
  // Lockstep batches need equal prompt lengths: group by token length, stable order.
  const byLen = new Map<number, number[]>();
  enc.forEach((e, i) => byLen.set(e.length, [...(byLen.get(e.length) ?? []), i]));
  const results: Array<{ id: string; k: number; greedy_ok: number; tokens: number; samples: string[] }> = new Array(problems.length);
  let done = 0;
  const t0 = performance.now();
  let runs = 0;
  for (const idxs of byLen.values()) {
    for (let s = 0; s < idxs.length; s += CHUNK) {
      const chunk = idxs.slice(s, s + CHUNK);
      // rows: per prompt, row 0 greedy, rows 1..K sampled
      const rows = chunk.flatMap((pi) => Array.from({ length: K + 1 }, (_, r) => ({ pi, greedy: r === 0, seq: [...enc[pi]], out: [] as number[], cap: problems[pi].answer.length + 1, done: false })));
      for (;;) {
        const active = rows.filter((r) => !r.done);
        if (active.length === 0) break;
        const uniq = new Map<string, number>();
        const uniqSeqs: number[][] = [];
        const slot = active.map((r) => {
          const key = r.seq.join(",");
          let u = uniq.get(key);
          if (u === undefined) { u = uniqSeqs.length; uniq.set(key, u); uniqSeqs.push(r.seq); }
          return u;
        });
        const T = uniqSeqs[0].length;
        const B = uniqSeqs.length;
        const flat = uniqSeqs.flat();
        const out = await runSession(session, {
          input_ids: { type: "int64", data: flat, dims: [B, T] },
          attention_mask: { type: "int64", data: new Array<number>(B * T).fill(1), dims: [B, T] },
        }, ["logits"]);
        runs++;
        const lg = out.logits.data;
        active.forEach((r, a) => {
          const off = (slot[a] * T + (T - 1)) * V;
          const next = r.greedy ? argmax(lg, off, V) : sample(lg, off, V, TEMPERATURE, rng);
          r.out.push(next);
          r.seq.push(next);
          if (next === eos || r.out.length >= r.cap) r.done = true;
        });
      }
      for (const pi of chunk) {
        const mine = rows.filter((r) => r.pi === pi);
        const text = (r: (typeof rows)[number]) => r.out.map((t) => itos.get(t) ?? "?").join("");
        const ok = (r: (typeof rows)[number]) => (text(r) === problems[pi].answer + ";" ? 1 : 0);
        const samples = mine.filter((r) => !r.greedy);
        results[pi] = {
          id: problems[pi].id,
          k: samples.reduce((a, r) => a + ok(r), 0),
          greedy_ok: ok(mine[0]),
          tokens: samples.reduce((a, r) => a + r.out.length, 0) / K,
          samples: samples.map(text),
        };
      }
      done += chunk.length;
      if (Math.floor((done - chunk.length) / 2000) !== Math.floor(done / 2000)) log(`${model}: ${done}/${problems.length} prompts, ${runs} runs, ${((performance.now() - t0) / 1000).toFixed(0)} s`);
    }
  }
  await closeSession(session);
  return results;
}

/** outTokens: mean generated tokens over every rollout of that model (rounded into default_output_tokens). */
export interface Member { id: string; params: number; outTokens: number }

export function poolConfig(members: Member[]) {
  return {
    name: "testbed",
    source: "scripts/testbed (small char LMs trained here); price rule: USD per Mtok (input and output) = parameter count / 1e6",
    models: members.map((m) => ({
      id: m.id,
      provider: "testbed",
      input_per_mtok: m.params / 1e6,
      output_per_mtok: m.params / 1e6,
      default_output_tokens: Math.round(m.outTokens),
      output_tokens_source: "measured" as const,
      price_source: `testbed rule: params/1e6 per Mtok (${m.params} params)`,
    })),
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const world = arg("world", ".cache/testbed");
  const limit = Number(arg("limit", "0"));
  const members = loadMembers().models.map((m) => m.id);
  const only = arg("models", members.join(",")).split(",");
  const all = readProblems(world);
  let labelled = all.filter((p) => p.split !== "unlabelled");
  if (limit > 0) labelled = labelled.slice(0, limit);
  mkdirSync(join(world, "rollouts"), { recursive: true });
  for (const m of only) {
    const t0 = performance.now();
    const res = await rolloutModel(world, m, labelled);
    writeFileSync(join(world, "rollouts", `${m}.jsonl`), res.map((r) => JSON.stringify(r)).join("\n") + "\n");
    const acc = res.reduce((a, r) => a + r.greedy_ok, 0) / res.length;
    const maj = res.reduce((a, r) => a + (r.k / K > 0.5 ? 1 : 0), 0) / res.length;
    console.error(`${m}: greedy acc ${acc.toFixed(3)}, majority-of-${K} ${maj.toFixed(3)}, ${((performance.now() - t0) / 1000).toFixed(0)} s`);
  }
  // Assemble outcomes + pool once every member has rollouts.
  if (members.every((m) => existsSync(join(world, "rollouts", `${m}.jsonl`)))) {
    const roll = new Map(members.map((m) => [m, new Map(readFileSync(join(world, "rollouts", `${m}.jsonl`), "utf8").trim().split("\n").map((l) => { const r = JSON.parse(l); return [r.id, r]; }))]));
    const rows = all.flatMap((p) => {
      const outcomes: Record<string, { n: number; k: number; output_tokens: number }> = {};
      if (p.split !== "unlabelled") {
        for (const m of members) {
          const r = roll.get(m)!.get(p.id);
          if (!r) return []; // labelled prompt outside --limit: left out entirely
          outcomes[m] = { n: K, k: r.k, output_tokens: r.tokens };
        }
      }
      return [JSON.stringify({ id: p.id, prompt: p.prompt, split: p.split, task: p.group, source: p.op, human_difficulty: p.features.answer_len + p.features.carries + p.features.carry_chain, human_features: p.features, outcomes })];
    });
    writeFileSync(join(world, "outcomes.jsonl"), rows.join("\n") + "\n");
    const params = members.map((m) => {
      const r = [...roll.get(m)!.values()] as { tokens: number }[];
      return { id: m, params: JSON.parse(readFileSync(join(world, "models", `${m}.train.json`), "utf8")).params as number, outTokens: r.reduce((a, x) => a + x.tokens, 0) / r.length };
    });
    writeFileSync(join(world, "pool.json"), JSON.stringify(poolConfig(params), null, 2) + "\n");
    console.error(`outcomes: ${rows.length} rows → ${world}/outcomes.jsonl; pool → ${world}/pool.json`);
  }
}
