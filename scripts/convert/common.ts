/**
 * Shared helpers for the per-source converters: the located error type, raw
 * file readers, typed field accessors, task families with their documented
 * default output lengths, the output-token counting rule, row construction
 * and the citty command factory. Must not know any one source's layout and
 * must not call process.exit (scripts/cli.ts owns that).
 */
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import { defineCommand } from "citty";
import { pretokenize } from "../../src/core/featurizer.js";
import type { OutcomeRow, PoolConfig } from "../formats/outcomes.js";
import { promptId, splitForId } from "./normalise.js";

/** Malformed raw input, located by file, 0-based record index and field. */
export class ConvertError extends Error {
  override readonly name = "ConvertError";
  constructor(
    readonly file: string,
    /** 0-based record index within the file; -1 for the whole file. */
    readonly index: number,
    readonly field: string,
    readonly detail: string,
  ) {
    super(`${file}${index >= 0 ? ` record ${index}` : ""}: field "${field}": ${detail}`);
  }
}

export type ConvertStats = Record<string, number>;

export interface ConvertResult {
  rows: OutcomeRow[];
  pool?: PoolConfig;
  stats: ConvertStats;
}

export async function readText(file: string): Promise<string> {
  try {
    return await readFile(file, "utf8");
  } catch (e) {
    throw new ConvertError(file, -1, "(file)", `cannot read: ${(e as Error).message}`);
  }
}

export async function readJson(file: string): Promise<unknown> {
  const text = await readText(file);
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new ConvertError(file, -1, "(json)", `malformed JSON: ${(e as Error).message}`);
  }
}

/** Non-blank lines parsed as JSON; the index counts non-blank lines from 0. */
export async function readJsonLines(file: string): Promise<unknown[]> {
  const lines = (await readText(file)).split(/\r?\n/).filter((l) => l.trim() !== "");
  return lines.map((l, i) => {
    try {
      return JSON.parse(l);
    } catch (e) {
      throw new ConvertError(file, i, "(json)", `malformed JSON: ${(e as Error).message}`);
    }
  });
}

/** Accessors that throw a ConvertError naming file, record and field. */
export class Fields {
  constructor(
    readonly file: string,
    readonly index: number,
    readonly record: unknown,
  ) {}

  private fail(field: string, detail: string): never {
    throw new ConvertError(this.file, this.index, field, detail);
  }

  obj(): Record<string, unknown> {
    const r = this.record;
    if (typeof r !== "object" || r === null || Array.isArray(r)) this.fail("(record)", "expected an object");
    return r as Record<string, unknown>;
  }

  str(field: string, opts: { nonEmpty?: boolean } = { nonEmpty: true }): string {
    const v = this.obj()[field];
    if (typeof v !== "string") this.fail(field, `expected a string, got ${describe(v)}`);
    if (opts.nonEmpty !== false && v.trim() === "") this.fail(field, "expected a non-empty string");
    return v;
  }

  num(field: string, min = -Infinity, max = Infinity): number {
    const v = this.obj()[field];
    if (typeof v !== "number" || !Number.isFinite(v)) this.fail(field, `expected a finite number, got ${describe(v)}`);
    if (v < min || v > max) this.fail(field, `expected a number in [${min}, ${max}], got ${v}`);
    return v;
  }

  bool(field: string): boolean {
    const v = this.obj()[field];
    if (typeof v === "boolean") return v;
    if (v === "True" || v === "true") return true;
    if (v === "False" || v === "false") return false;
    return this.fail(field, `expected a boolean (or "True"/"False"), got ${describe(v)}`);
  }

  object(field: string): Record<string, unknown> {
    const v = this.obj()[field];
    if (typeof v !== "object" || v === null || Array.isArray(v)) this.fail(field, `expected an object, got ${describe(v)}`);
    return v as Record<string, unknown>;
  }

  /** Fails with a located message; for source-specific checks. */
  error(field: string, detail: string): never {
    return this.fail(field, detail);
  }
}

function describe(v: unknown): string {
  if (v === undefined) return "nothing (missing)";
  if (v === null) return "null";
  if (Array.isArray(v)) return "an array";
  const s = JSON.stringify(v);
  return `${typeof v} ${s.length > 40 ? `${s.slice(0, 40)}…` : s}`;
}

/**
 * Task families and their default output length (tokens) where no responses
 * exist. Rough, documented guesses (docs/data.md), recorded in pools as
 * output_tokens_source "estimate". The math figure is anchored on the measured
 * GSM8K responses in RouteLLM (~135 pre-tokenizer pieces per answer).
 */
export const FAMILY_OUTPUT_TOKENS = {
  math: 250,
  code: 200,
  "multiple-choice": 60,
  "short-answer": 20,
  generation: 40,
  other: 150,
} as const;
export type TaskFamily = keyof typeof FAMILY_OUTPUT_TOKENS;

const FAMILY_OF: Record<string, TaskFamily> = {
  gsm8k: "math",
  math: "math",
  "agentverse-mgsm": "math",
  aime: "math",
  mbpp: "code",
  human_eval: "code",
  mmlu: "multiple-choice",
  arc_challenge: "multiple-choice",
  openbook_qa: "multiple-choice",
  commonsense_qa: "multiple-choice",
  gpqa: "multiple-choice",
  "agentverse-logicgrid": "multiple-choice",
  natural_qa: "short-answer",
  trivia_qa: "short-answer",
  commongen: "generation",
};

/** Family of a task; "mmlu/anatomy" resolves through its prefix "mmlu". */
export function taskFamily(task: string | undefined): TaskFamily {
  if (task === undefined) return "other";
  return FAMILY_OF[task] ?? FAMILY_OF[task.split("/")[0]] ?? "other";
}

/** Row-weighted mean of the family defaults over the given tasks, rounded. */
export function estimatedOutputTokens(tasks: (string | undefined)[]): number {
  if (tasks.length === 0) return FAMILY_OUTPUT_TOKENS.other;
  const sum = tasks.reduce((s, t) => s + FAMILY_OUTPUT_TOKENS[taskFamily(t)], 0);
  return Math.round(sum / tasks.length);
}

/**
 * Output tokens of a real response: the featurizer's GPT-style pre-tokenizer
 * piece count. An approximation of BPE tokens (documented in docs/data.md).
 */
export function countOutputTokens(response: string): number {
  return pretokenize(response).length;
}

/** Builds a row with id and split derived from the prompt. */
export function makeRow(fields: Omit<OutcomeRow, "id" | "split">): OutcomeRow {
  const id = promptId(fields.prompt ?? "");
  return {
    id,
    prompt: fields.prompt,
    task: fields.task,
    source: fields.source,
    ...(fields.human_difficulty !== undefined ? { human_difficulty: fields.human_difficulty } : {}),
    ...(fields.human_features !== undefined ? { human_features: fields.human_features } : {}),
    split: splitForId(id),
    outcomes: fields.outcomes,
  };
}

/** Per-model mean success rate (k/n) over the rows that carry that model. */
export function accuracyStats(rows: OutcomeRow[]): ConvertStats {
  const sums = new Map<string, { s: number; c: number }>();
  for (const r of rows) {
    for (const [m, o] of Object.entries(r.outcomes)) {
      const a = sums.get(m) ?? { s: 0, c: 0 };
      a.s += o.k / o.n;
      a.c += 1;
      sums.set(m, a);
    }
  }
  const out: ConvertStats = {};
  for (const [m, a] of [...sums].sort(([x], [y]) => x.localeCompare(y))) out[`accuracy.${m}`] = a.s / a.c;
  return out;
}

export function splitStats(rows: OutcomeRow[]): ConvertStats {
  const out: ConvertStats = {};
  for (const r of rows) out[`split.${r.split}`] = (out[`split.${r.split}`] ?? 0) + 1;
  return out;
}

export async function writeRows(file: string, rows: OutcomeRow[]): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, rows.map((r) => JSON.stringify(r)).join("\n") + (rows.length ? "\n" : ""), "utf8");
}

export async function writePool(file: string, pool: PoolConfig): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, JSON.stringify(pool, null, 2) + "\n", "utf8");
}

/** citty command: --in <raw dir> --out <file.jsonl> [--pool <file.json>]. */
export function converterCommand(name: string, description: string, convert: (rawDir: string) => Promise<ConvertResult>) {
  return defineCommand({
    meta: { name, description },
    args: CONVERT_ARGS,
    async run({ args }) {
      await emitResult(await convert(args.in), args.out, args.pool);
    },
  });
}

/** Writes a conversion result and prints its stats as JSON. */
export async function emitResult(result: ConvertResult, out: string, poolFile?: string): Promise<void> {
  await writeRows(out, result.rows);
  if (poolFile && result.pool) await writePool(poolFile, result.pool);
  console.log(JSON.stringify({ out, pool: poolFile ?? null, ...result.stats }, null, 2));
}

/** The common --in/--out/--pool argument definitions, for commands with extra args. */
export const CONVERT_ARGS = {
  in: { type: "string", required: true, description: "raw source directory (e.g. ../shared/data/<source>)" },
  out: { type: "string", required: true, description: "output outcomes JSONL file" },
  pool: { type: "string", required: false, description: "also write the pool config JSON here" },
} as const;
