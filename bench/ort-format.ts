/**
 * Issue 18, experiment 1: does the ORT format (or a session option) make the
 * student's `InferenceSession.create` cheaper in onnxruntime-web, as the
 * worker runs it (1 thread, no proxy, graph optimisation disabled)?
 * 1. Writes the default bundle's student in ORT format with onnxruntime-node
 *    (`optimizedModelFilePath` + `session.save_model_format = "ORT"`, the
 *    worker's optimisation level) into .cache/bench-ort-format/.
 * 2. Per variant (model file × session options) and round, a fresh Node
 *    process (so ORT's WASM start-up and V8's lazy compilation are fresh, as in
 *    a new isolate): process CPU of ORT start-up (a create that fails on junk
 *    bytes), of the first real create, and the median / min of 30 more
 *    create+release. Variants alternate within each round (shared machine).
 *    `--eager` repeats every variant with `--no-wasm-lazy-compilation`, which
 *    moves V8's compilation of the 14 MB module into start-up and leaves in
 *    the first create only ORT's own work.
 * 3. Logits of every golden prompt through both files, compared bitwise.
 *
 * Run: `npx tsx bench/ort-format.ts [--rounds=5] [--eager=true] [--out=bench/results]`
 * Writes bench/results/ort-format.{json,md}. Owned by bench/; never imported by src/.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import { saveOrtFormat } from "../scripts/lib/ort-node.js";
import * as ort from "onnxruntime-web/wasm";
import { scorePrompts, type RunModel } from "../src/core/scoring.js";
import { median, numFlag, parseFlags } from "./cli.js";
import { ortFeeds } from "./score-node.js";

const args = parseFlags();
const BUNDLE = "artifacts/llmrouter-v5";
const WORK = ".cache/bench-ort-format";
const ONNX = `${BUNDLE}/student.onnx`;
const ORT = `${WORK}/student.ort`;
const LEVEL = "disabled"; // as src/infer/ort-engine.ts

const prepack = { extra: { session: { disable_prepacking: "1" } } };
const VARIANTS: { name: string; file: string; opts: object }[] = [
  { name: ".onnx (worker today)", file: ONNX, opts: {} },
  { name: ".ort", file: ORT, opts: {} },
  { name: ".ort + load_model_format=ORT, disable_prepacking", file: ORT, opts: { extra: { session: { load_model_format: "ORT", disable_prepacking: "1" } } } },
  { name: ".onnx + disable_prepacking", file: ONNX, opts: prepack },
  { name: ".onnx + enableMemPattern, enableCpuMemArena", file: ONNX, opts: { enableMemPattern: true, enableCpuMemArena: true } },
];

interface ChildResult {
  init_ms: number;
  first_ms: number;
  steady_median_ms: number;
  steady_min_ms: number;
}

const cpuMs = () => {
  const c = process.cpuUsage();
  return (c.user + c.system) / 1000;
};

/** Child mode: one variant in a fresh process. */
async function child(file: string, optsJson: string): Promise<void> {
  const opts = () => ({ executionProviders: ["wasm"], graphOptimizationLevel: LEVEL, ...JSON.parse(optsJson) }) as ort.InferenceSession.SessionOptions;
  ort.env.wasm.numThreads = 1;
  ort.env.wasm.proxy = false;
  const bytes = new Uint8Array(readFileSync(file));
  let t = cpuMs();
  await ort.InferenceSession.create(new Uint8Array(16), { executionProviders: ["wasm"] }).catch(() => undefined);
  const init_ms = cpuMs() - t;
  t = cpuMs();
  await (await ort.InferenceSession.create(bytes, opts())).release();
  const first_ms = cpuMs() - t;
  const xs: number[] = [];
  for (let i = 0; i < 30; i++) {
    t = cpuMs();
    const s = await ort.InferenceSession.create(bytes, opts());
    xs.push(cpuMs() - t);
    await s.release();
  }
  const r: ChildResult = { init_ms, first_ms, steady_median_ms: median(xs), steady_min_ms: Math.min(...xs) };
  console.log(JSON.stringify(r));
}

async function writeOrt(): Promise<void> {
  mkdirSync(WORK, { recursive: true });
  await saveOrtFormat(ONNX, ORT, LEVEL);
}

/** Every golden prompt's logits through `file` with onnxruntime-web (the worker's scoring path). */
async function goldenLogits(file: string): Promise<Float32Array> {
  const m = JSON.parse(readFileSync(`${BUNDLE}/manifest.json`, "utf8"));
  const io = m.onnx.inputs;
  ort.env.wasm.numThreads = 1;
  ort.env.wasm.proxy = false;
  const s = await ort.InferenceSession.create(new Uint8Array(readFileSync(file)), { executionProviders: ["wasm"], graphOptimizationLevel: LEVEL });
  const run: RunModel = async (b) => (await s.run(ortFeeds(io, b)))[m.onnx.output].data as Float32Array;
  const prompts = readFileSync(`${BUNDLE}/golden.jsonl`, "utf8").trim().split("\n").map((l) => JSON.parse(l).prompt as string);
  const out: number[] = [];
  for (const p of prompts) for (const r of await scorePrompts(run, m.featurizer, [p])) out.push(...r.logits);
  await s.release();
  return Float32Array.from(out);
}

async function main(): Promise<void> {
  const rounds = numFlag(args, "rounds", 5);
  const modes = args.eager === "false" ? [false] : [false, true];
  const out = args.out ?? "bench/results";
  const load_before = loadavg();
  await writeOrt();
  const a = await goldenLogits(ONNX);
  const b = await goldenLogits(ORT);
  const differ = a.reduce((n, x, i) => n + (Object.is(x, b[i]) ? 0 : 1), 0);
  const raw: Record<string, ChildResult[]> = {};
  for (let r = 0; r < rounds; r++) {
    for (const eager of modes) {
      const order = r % 2 ? [...VARIANTS].reverse() : VARIANTS;
      for (const v of order) {
        const flags = [...process.execArgv, ...(eager ? ["--no-wasm-lazy-compilation"] : [])];
        const line = execFileSync(process.execPath, [...flags, process.argv[1], `--child=${v.file}`, `--opts=${JSON.stringify(v.opts)}`], { encoding: "utf8" }).trim().split("\n").pop()!;
        (raw[`${eager ? "eager" : "lazy"}|${v.name}`] ??= []).push(JSON.parse(line) as ChildResult);
      }
    }
    console.log(`round ${r + 1}/${rounds}`);
  }
  const rows = Object.entries(raw).map(([k, rs]) => {
    const [mode, name] = k.split("|");
    const m = (f: (x: ChildResult) => number) => median(rs.map(f));
    return { mode, name, init_ms: m((x) => x.init_ms), first_ms: m((x) => x.first_ms), first_runs: rs.map((x) => Math.round(x.first_ms)), steady_median_ms: m((x) => x.steady_median_ms), steady_min_ms: Math.min(...rs.map((x) => x.steady_min_ms)) };
  });
  const bytes = { onnx: readFileSync(ONNX).byteLength, ort: readFileSync(ORT).byteLength };
  const result = { generated_at: new Date().toISOString(), rounds, loadavg: { before: load_before, after: loadavg() }, bytes, golden: { logits: a.length, differ_bitwise: differ }, rows };
  mkdirSync(out, { recursive: true });
  writeFileSync(`${out}/ort-format.json`, `${JSON.stringify(result, null, 2)}\n`);
  const md = [
    `# ORT format vs ONNX for session creation (bench/ort-format.ts), ${result.generated_at}`,
    "",
    `${rounds} rounds, a fresh Node process per variant and round, process CPU (all threads), medians; load ${load_before.map((x) => x.toFixed(1)).join(" ")} → ${result.loadavg.after.map((x) => x.toFixed(1)).join(" ")}. Files: .onnx ${bytes.onnx} B, .ort ${bytes.ort} B. Golden logits (${a.length}) through both: ${differ} differ bitwise.`,
    "",
    "| V8 WASM compilation | variant | ORT start-up | first create (per round) | later creates, median / min |",
    "|---|---|---|---|---|",
    ...rows.map((r) => `| ${r.mode} | ${r.name} | ${r.init_ms.toFixed(0)} ms | **${r.first_ms.toFixed(0)} ms** (${r.first_runs.join(", ")}) | ${r.steady_median_ms.toFixed(1)} / ${r.steady_min_ms.toFixed(1)} ms |`),
    "",
  ].join("\n");
  writeFileSync(`${out}/ort-format.md`, md);
  console.log(md);
}

if (args.child) child(args.child, args.opts ?? "{}").catch((e) => ((process.exitCode = 1), console.error(e)));
else main().catch((e) => ((process.exitCode = 1), console.error(e)));
