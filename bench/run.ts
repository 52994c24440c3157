/**
 * `npm run bench`: latency, throughput, scoring time, cold start, bundle size
 * and memory of the Preflight worker on raw workerd over loopback. See
 * bench/README.md for the method. Flags: --bundle=auto|production|fixture,
 * --runs, --requests, --cell-seconds, --warmup, --cold, --score-iters,
 * --port, --out.
 * Owned by bench/; never imported by src/.
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { dirname, resolve } from "node:path";
import { runLoad, type RunResult, type Target } from "./loadgen.js";
import { baselineColdStarts } from "./baseline.js";
import { median, numFlag, parseFlags } from "./cli.js";
import { makePrompt } from "./prompts.js";
import { renderMarkdown, type BenchResult, type Cell } from "./report.js";
import { scoreInNode, type ScoreStats } from "./score-node.js";
import { buildWorker, bundleSize, coldStarts, memory, stopWorkerd, writeConfig } from "./workerd.js";

const args = parseFlags();
const num = (k: string, d: number) => numFlag(args, k, d);
const RUNS = num("runs", 3);
const REQUESTS = num("requests", 400);
const WARMUP = num("warmup", 50);
const COLD = num("cold", 3);
const SCORE_ITERS = num("score-iters", 200);
const CELL_SECONDS = num("cell-seconds", 3);
const PORT = num("port", 18787);
const OUT = args.out ?? "bench/results";
const TOKENS = [64, 512, 2048];
const CONNS = [1, 8];

/** The bundle dir a generated embedded-bundles file points at, or null when it lists none. */
function firstBundleDir(listFile: string): string | null {
  const m = /import\s+\w+\s+from\s+"([^"]+)\/manifest\.json"/.exec(readFileSync(listFile, "utf8"));
  return m ? resolve(dirname(listFile), m[1]) : null;
}

function chooseBundle(): { kind: "production" | "fixture"; entry: string; dir: string } {
  const want = args.bundle ?? "auto";
  const prod = firstBundleDir("src/worker/embedded-bundles.ts");
  if (want === "production" || (want === "auto" && prod)) {
    if (!prod) throw new Error("--bundle=production: src/worker/embedded-bundles.ts lists no bundle yet");
    return { kind: "production", entry: "bench/entry.ts", dir: prod };
  }
  if (want !== "fixture" && want !== "auto") throw new Error(`--bundle must be auto, production or fixture, not ${want}`);
  return { kind: "fixture", entry: "bench/entry-fixture.ts", dir: firstBundleDir("test/worker/fixture-bundles.ts")! };
}

async function post(port: number, path: string, body: unknown): Promise<{ status: number; json: any }> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  return { status: res.status, json: await res.json() };
}

async function main() {
  const t0 = Date.now();
  const log = (s: string) => console.log(`[bench ${((Date.now() - t0) / 1000).toFixed(1)}s] ${s}`);
  const load_before = loadavg();
  const bundle = chooseBundle();
  const entryName = bundle.entry.replace(/^.*\//, "").replace(/\.ts$/, ".js");
  const outDir = `.cache/bench-build-${bundle.kind}`;
  log(`bundle ${bundle.kind} (${bundle.dir}); building ${bundle.entry} with wrangler deploy --dry-run`);
  const wr = buildWorker(bundle.entry, outDir);
  const wranglerTotal = /Total Upload: ([^\n]+)/.exec(wr)?.[1]?.trim() ?? null;
  const size = bundleSize(outDir, entryName);
  const config = writeConfig(outDir, entryName, PORT, { AUTH: "disabled", MAX_BODY_BYTES: "262144" });
  log(`bundle ${(size.raw_bytes / 2 ** 20).toFixed(2)} MiB raw, ${(size.gzip9_bytes / 2 ** 20).toFixed(2)} MiB gzip -9; config ${config}`);

  const cold = await coldStarts(config, PORT, COLD, "/hello");
  const { colds, coldCpu, helloFirst, idle } = { colds: cold.wall_ms, coldCpu: cold.cpu_ms, helloFirst: cold.first_path_ms, idle: cold.idle };
  log(`cold starts (ms): ${colds.map((c) => c.toFixed(0)).join(", ")}; workerd CPU by then (ms): ${coldCpu.join(", ")}; first /hello at (ms): ${helloFirst.map((c) => c.toFixed(0)).join(", ")}`);
  const run = cold.last;
  try {
    const prompts = TOKENS.map((tokens) => ({ tokens, text: makePrompt(tokens) }));
    const tok: BenchResult["prompts"] = [];
    for (const p of prompts) {
      const r = await post(PORT, "/v1/tokenize", { prompt: p.text });
      if (r.status !== 200) throw new Error(`/v1/tokenize ${r.status}: ${JSON.stringify(r.json)}`);
      const rr = await post(PORT, "/v1/route", { prompt: p.text });
      if (rr.status !== 200) throw new Error(`/v1/route ${rr.status}: ${JSON.stringify(rr.json)}`);
      tok.push({ tokens: p.tokens, chars: p.text.length, input_tokens: r.json.input_tokens, feature_ids: r.json.ids.length, truncated: r.json.truncated, artifact: r.json.artifact.id });
    }
    log(`prompts: ${tok.map((t) => `${t.tokens}→input_tokens ${t.input_tokens} (${t.feature_ids} ids${t.truncated ? ", truncated" : ""})`).join("; ")}`);

    const targets: { name: string; tokens: number | null; t: Target }[] = [
      { name: "GET /hello (floor)", tokens: null, t: { method: "GET", path: "/hello" } },
      ...prompts.map((p) => ({ name: `POST /v1/route ${p.tokens} tok`, tokens: p.tokens, t: { method: "POST" as const, path: "/v1/route", body: JSON.stringify({ prompt: p.text }) } })),
    ];
    const raw: Record<string, RunResult[]> = {};
    const scoreUs: Record<number, number[]> = {};
    for (let r = 0; r < RUNS; r++) {
      for (const tg of targets) {
        for (const conns of CONNS) {
          const res = await runLoad(PORT, tg.t, { conns, requests: REQUESTS, maxSeconds: CELL_SECONDS, warmup: WARMUP, keepBodies: tg.tokens !== null, pid: run.pid });
          if (res.errors) throw new Error(`${tg.name} c=${conns}: ${res.errors} non-200 responses`);
          if (tg.tokens !== null) for (const s of res.samples) (scoreUs[tg.tokens] ??= []).push(JSON.parse(s.body).timing.score_us);
          res.samples = [];
          (raw[`${tg.name}|${conns}`] ??= []).push(res);
        }
      }
      log(`run ${r + 1}/${RUNS} done`);
    }
    const after = memory(run.pid);
    const cells: Cell[] = targets.flatMap((tg) =>
      CONNS.map((conns) => {
        const rs = raw[`${tg.name}|${conns}`];
        return {
          name: tg.name,
          tokens: tg.tokens,
          conns,
          min_us: Math.min(...rs.map((x) => x.min_us)),
          p50_us: median(rs.map((x) => x.p50_us)),
          p99_us: median(rs.map((x) => x.p99_us)),
          rps: median(rs.map((x) => x.rps)),
          server_cpu_us_per_req: median(rs.map((x) => x.server_cpu_us_per_req ?? NaN)),
          runs: rs.map((x) => ({ requests: x.requests, p50_us: x.p50_us, p99_us: x.p99_us, rps: x.rps, wall_s: x.wall_s, server_cpu_us_per_req: x.server_cpu_us_per_req })),
        };
      }),
    );
    const inWorker = TOKENS.map((t) => {
      const xs = scoreUs[t] ?? [];
      return { tokens: t, p50_us: median(xs), mean_us: Math.round(xs.reduce((a, b) => a + b, 0) / xs.length), max_us: Math.max(...xs), distinct_values: [...new Set(xs)].sort((a, b) => a - b).slice(0, 10), n: xs.length };
    });
    await stopWorkerd(run);
    log("baseline cold starts (trivial worker, trivial worker + ORT wasm)");
    const baselines = await baselineColdStarts(outDir, PORT, COLD);
    log("scoring in Node (onnxruntime-web WASM, same featurizer)");
    const nodeRuns: ScoreStats[][] = [];
    for (let r = 0; r < RUNS; r++) nodeRuns.push(await scoreInNode(bundle.dir, prompts, SCORE_ITERS, 20, CELL_SECONDS / 2));
    const nodeScore = TOKENS.map((t, i) => ({
      tokens: t,
      featurize_p50_us: median(nodeRuns.map((x) => x[i].featurize_p50_us)),
      run_p50_us: median(nodeRuns.map((x) => x[i].run_p50_us)),
      total_p50_us: median(nodeRuns.map((x) => x[i].total_p50_us)),
      total_p99_us: median(nodeRuns.map((x) => x[i].total_p99_us)),
      total_cpu_p50_us: median(nodeRuns.map((x) => x[i].total_cpu_p50_us)),
      featurize_min_us: Math.min(...nodeRuns.map((x) => x[i].featurize_min_us)),
      run_min_us: Math.min(...nodeRuns.map((x) => x[i].run_min_us)),
      total_min_us: Math.min(...nodeRuns.map((x) => x[i].total_min_us)),
      iterations: Math.min(...nodeRuns.map((x) => x[i].iterations)),
      runs: RUNS,
    }));

    const result: BenchResult = {
      generated_at: new Date().toISOString(),
      bundle: { kind: bundle.kind, dir: bundle.dir.replace(`${process.cwd()}/`, ""), entry: bundle.entry, artifact: tok[0].artifact },
      machine: { cpus: cpus().length, cpu_model: cpus()[0]?.model ?? "?", node: process.version, loadavg_before: load_before, loadavg_after: loadavg() },
      params: { runs: RUNS, requests: REQUESTS, cell_seconds: CELL_SECONDS, warmup: WARMUP, cold_starts: COLD, score_iters: SCORE_ITERS },
      prompts: tok,
      cells,
      in_worker_score_us: inWorker,
      node_score_us: nodeScore,
      cold_start_ms: { median: median(colds), all: colds, workerd_cpu_median: median(coldCpu), workerd_cpu_all: coldCpu, first_hello_median: median(helloFirst), first_hello_all: helloFirst },
      baseline_cold_start: baselines.map((b) => ({ name: b.name, median_ms: median(b.cold_ms), all_ms: b.cold_ms, cpu_median_ms: median(b.cpu_ms), cpu_all_ms: b.cpu_ms })),
      bundle_size: { ...size, wrangler_total_upload: wranglerTotal, out_dir: outDir },
      memory_kib: { idle_rss_median: median(idle.map((m) => m.rss_kib)), after_load_rss: after.rss_kib, after_load_hwm: after.hwm_kib },
      duration_s: (Date.now() - t0) / 1000,
    };
    mkdirSync(OUT, { recursive: true });
    const md = renderMarkdown(result);
    // latest.* is the last run of any bundle; <kind>.* keeps the last run per bundle kind.
    for (const name of ["latest", bundle.kind]) {
      writeFileSync(`${OUT}/${name}.json`, `${JSON.stringify(result, null, 2)}\n`);
      writeFileSync(`${OUT}/${name}.md`, md);
    }
    console.log(md);
    log(`wrote ${OUT}/latest.{json,md} and ${OUT}/${bundle.kind}.{json,md}`);
  } finally {
    await stopWorkerd(run);
  }
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
