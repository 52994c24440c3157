/**
 * Result shape of `npm run bench` and its markdown rendering, including the
 * pass/miss check against the targets in bench/README.md. Pure formatting:
 * no I/O. Owned by bench/.
 */
export interface Cell {
  name: string;
  tokens: number | null;
  conns: number;
  min_us: number;
  p50_us: number;
  p99_us: number;
  rps: number;
  server_cpu_us_per_req: number;
  runs: { requests: number; p50_us: number; p99_us: number; rps: number; wall_s: number; server_cpu_us_per_req: number | null }[];
}

export interface BenchResult {
  generated_at: string;
  bundle: { kind: string; dir: string; entry: string; artifact: string };
  machine: { cpus: number; cpu_model: string; node: string; loadavg_before: number[]; loadavg_after: number[] };
  params: { runs: number; requests: number; cell_seconds: number; warmup: number; cold_starts: number; score_iters: number };
  prompts: { tokens: number; chars: number; input_tokens: number; feature_ids: number; truncated: boolean; artifact: string }[];
  cells: Cell[];
  in_worker_score_us: { tokens: number; p50_us: number; mean_us: number; max_us: number; distinct_values: number[]; n: number }[];
  node_score_us: { tokens: number; featurize_p50_us: number; run_p50_us: number; total_p50_us: number; total_p99_us: number; total_cpu_p50_us: number; featurize_min_us: number; run_min_us: number; total_min_us: number; iterations: number; runs: number }[];
  cold_start_ms: { median: number; all: number[]; workerd_cpu_median: number; workerd_cpu_all: number[]; first_hello_median: number; first_hello_all: number[] };
  baseline_cold_start: { name: string; median_ms: number; all_ms: number[]; cpu_median_ms: number; cpu_all_ms: number[] }[];
  bundle_size: { raw_bytes: number; gzip9_bytes: number; files: { file: string; bytes: number; gzip9_bytes: number }[]; wrangler_total_upload: string | null; out_dir: string };
  memory_kib: { idle_rss_median: number; after_load_rss: number; after_load_hwm: number };
  duration_s: number;
  targets?: Target[];
}

export interface Target {
  target: string;
  measured: string;
  met: boolean;
}

const us = (x: number) => (x >= 1000 ? `${(x / 1000).toFixed(2)} ms` : `${Math.round(x)} µs`);
const mib = (b: number) => `${(b / 2 ** 20).toFixed(2)} MiB`;

export function evaluateTargets(r: BenchResult): Target[] {
  const cell = (tokens: number | null, conns: number) => r.cells.find((c) => c.tokens === tokens && c.conns === conns)!;
  const floor = cell(null, 1);
  const out: Target[] = [];
  for (const t of [64, 512, 2048]) {
    const c = cell(t, 1);
    out.push({ target: `/v1/route p50 ≤ 1.5× floor p50 at 1 conn (${t} tok)`, measured: `${us(c.p50_us)} vs floor ${us(floor.p50_us)} = ${(c.p50_us / floor.p50_us).toFixed(1)}×`, met: c.p50_us <= 1.5 * floor.p50_us });
  }
  for (const conns of [1, 8]) {
    const c = cell(512, conns);
    out.push({ target: `/v1/route p99 ≤ 3 ms, 512 tok, ${conns} conn`, measured: us(c.p99_us), met: c.p99_us <= 3000 });
  }
  const s = r.node_score_us.find((x) => x.tokens === 512)!;
  out.push({ target: "scoring ≤ 500 µs p50, 512 tok (Node, same WASM + featurizer)", measured: `${us(s.total_p50_us)} (featurize ${us(s.featurize_p50_us)} + ORT run ${us(s.run_p50_us)})`, met: s.total_p50_us <= 500 });
  out.push({ target: "cold start ≤ 600 ms (spawn → first 200 /healthz)", measured: `${r.cold_start_ms.median.toFixed(0)} ms`, met: r.cold_start_ms.median <= 600 });
  out.push({ target: "bundle ≤ 6 MiB gzip -9", measured: mib(r.bundle_size.gzip9_bytes), met: r.bundle_size.gzip9_bytes <= 6 * 2 ** 20 });
  return out;
}

export function renderMarkdown(r: BenchResult): string {
  r.targets = evaluateTargets(r);
  const L: string[] = [];
  L.push(`# Preflight worker benchmark (${r.generated_at})`, "");
  L.push(`Bundle: **${r.bundle.kind}** \`${r.bundle.artifact}\` (${r.bundle.dir}, entry ${r.bundle.entry}). Raw workerd on 127.0.0.1, AUTH=disabled.`);
  L.push(`Machine: ${r.machine.cpus} CPUs (${r.machine.cpu_model}), Node ${r.machine.node}; load average before ${r.machine.loadavg_before.map((x) => x.toFixed(1)).join("/")}, after ${r.machine.loadavg_after.map((x) => x.toFixed(1)).join("/")} (shared with other work).`);
  L.push(`Method: ${r.params.runs} runs per cell, each ${r.params.warmup} warm-up + up to ${r.params.requests} measured requests (and at most ${r.params.cell_seconds} s), closed loop; the table shows the median over runs of each run's p50/p99/throughput. Whole bench took ${r.duration_s.toFixed(0)} s.`, "");
  L.push("## Latency and throughput (client-side, loopback)", "");
  L.push("| route | prompt tokens | conns | min | p50 | p99 | req/s | p50 ÷ floor p50 | workerd CPU / req | requests measured per run |", "|---|---|---|---|---|---|---|---|---|---|");
  for (const c of r.cells) {
    const floor = r.cells.find((x) => x.tokens === null && x.conns === c.conns)!;
    L.push(`| ${c.name} | ${c.tokens ?? "–"} | ${c.conns} | ${us(c.min_us)} | ${us(c.p50_us)} | ${us(c.p99_us)} | ${Math.round(c.rps)} | ${(c.p50_us / floor.p50_us).toFixed(1)}× | ${us(c.server_cpu_us_per_req)} | ${c.runs.map((x) => x.requests).join(", ")} |`);
  }
  L.push("", "## Scoring time", "");
  L.push("| prompt tokens | feature ids (worker) | truncated | Node: featurize p50 | Node: ORT run p50 | Node: total p50 | Node: total p99 | Node: CPU p50 | Node: best (featurize + run = total) | in-worker `timing.score_us` p50 / mean | in-worker values seen |", "|---|---|---|---|---|---|---|---|---|---|---|");
  for (const p of r.prompts) {
    const n = r.node_score_us.find((x) => x.tokens === p.tokens)!;
    const w = r.in_worker_score_us.find((x) => x.tokens === p.tokens)!;
    L.push(`| ${p.tokens} (input_tokens ${p.input_tokens}) | ${p.feature_ids} | ${p.truncated} | ${us(n.featurize_p50_us)} | ${us(n.run_p50_us)} | ${us(n.total_p50_us)} | ${us(n.total_p99_us)} | ${us(n.total_cpu_p50_us)} | ${us(n.featurize_min_us)} + ${us(n.run_min_us)} = ${us(n.total_min_us)} | ${w.p50_us} / ${w.mean_us} µs | ${w.distinct_values.join(", ")}${w.distinct_values.length >= 10 ? ", …" : ""} |`);
  }
  L.push("", "Node: onnxruntime-web WASM (1 thread, SIMD build, as in the worker) on the same ONNX with the src/core featurizer, timed with hrtime (wall) and process.cpuUsage (CPU); \"total\" = featurize + tensor packing + ORT run, the span `score_us` covers. In-worker: the worker's own `timing.score_us` (= server-timing `score;dur`), read from every measured response; workerd's clock has 1 ms resolution, so each value is a multiple of 1000 µs — only the mean over many requests carries sub-ms information, and under CPU contention it includes time the isolate was preempted.", "");
  L.push("## Start-up, size, memory", "");
  L.push("| metric | value |", "|---|---|");
  L.push(`| cold start, spawn → first 200 on /healthz (median of ${r.cold_start_ms.all.length}) | ${r.cold_start_ms.median.toFixed(0)} ms (${r.cold_start_ms.all.map((x) => x.toFixed(0)).join(", ")}) |`);
  L.push(`| of which: spawn → first 200 on /hello (isolate up, bundles not awaited) | ${r.cold_start_ms.first_hello_median.toFixed(0)} ms (${r.cold_start_ms.first_hello_all.map((x) => x.toFixed(0)).join(", ")}) |`);
  L.push(`| workerd user+sys CPU used by then (10 ms ticks) | ${r.cold_start_ms.workerd_cpu_median.toFixed(0)} ms (${r.cold_start_ms.workerd_cpu_all.map((x) => x.toFixed(0)).join(", ")}) |`);
  for (const b of r.baseline_cold_start) {
    L.push(`| baseline cold start: ${b.name} | ${b.median_ms.toFixed(0)} ms wall (${b.all_ms.map((x) => x.toFixed(0)).join(", ")}); CPU ${b.cpu_median_ms.toFixed(0)} ms |`);
  }
  L.push(`| bundle raw (uploaded modules, no .map) | ${mib(r.bundle_size.raw_bytes)} (${r.bundle_size.raw_bytes} B) |`);
  L.push(`| bundle gzip -9 (sum over files) | ${mib(r.bundle_size.gzip9_bytes)} (${r.bundle_size.gzip9_bytes} B) |`);
  L.push(`| wrangler's own "Total Upload" | ${r.bundle_size.wrangler_total_upload ?? "?"} |`);
  L.push(`| workerd VmRSS idle, after start (median) | ${mib(r.memory_kib.idle_rss_median * 1024)} |`);
  L.push(`| workerd VmRSS / VmHWM after load | ${mib(r.memory_kib.after_load_rss * 1024)} / ${mib(r.memory_kib.after_load_hwm * 1024)} |`);
  L.push("", "| file | raw | gzip -9 |", "|---|---|---|");
  for (const f of r.bundle_size.files) L.push(`| ${f.file} | ${f.bytes} | ${f.gzip9_bytes} |`);
  L.push("", "## Targets", "", "| target | measured | met |", "|---|---|---|");
  for (const t of r.targets) L.push(`| ${t.target} | ${t.measured} | ${t.met ? "yes" : "**MISS**"} |`);
  return `${L.join("\n")}\n`;
}
