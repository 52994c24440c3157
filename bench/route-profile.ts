/**
 * Where a `/v1/route` request's CPU goes inside workerd (issue 18 item 4):
 * builds the bench worker (production bundles, `GET /hello` floor), runs it on
 * raw workerd with the inspector open, and alternates short cells of
 * `GET /hello` and `POST /v1/route` (the same 512-token prompt repeated) at 1
 * and 8 connections, --runs times; reports p50/p99 and workerd CPU per
 * request with their ratios to the floor of the same run (medians over runs),
 * plus `POST /v1/tokenize` with the same body (route − tokenize CPU ≈ the ORT
 * run) next to Node's CPU per `session.run` of the same tensors, measured in
 * the same minutes; then records a V8 CPU profile over --profile-requests route calls and lists
 * the top frames by self time. `--v8-flags=--no-liftoff,...` passes V8 flags
 * to workerd (for diagnosis only: Cloudflare's runtime takes none).
 * Writes bench/results/route-profile.{json,md} (or --out).
 *
 * Run: `npx tsx bench/route-profile.ts [--runs=5] [--requests=1500] [--tokens=512] [--label=...] [--build=<prebuilt dir>]`
 * Owned by bench/; never imported by src/.
 */
import { execFileSync } from "node:child_process";
import { Session } from "node:inspector/promises";
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { IsolateProbe, freePort } from "../test/worker/isolate-memory.js";
import { median, numFlag, parseFlags } from "./cli.js";
import { runLoad, type RunResult, type Target } from "./loadgen.js";
import { summariseProfile, type CpuProfile } from "./profile.js";
import { makePrompt } from "./prompts.js";
import { nodeRunCpuUs } from "./score-node.js";
import { buildWorker, startWorkerd, stopWorkerd, writeConfig } from "./workerd.js";

const args = parseFlags();
const RUNS = numFlag(args, "runs", 5);
const REQUESTS = numFlag(args, "requests", 1500);
const TOKENS = numFlag(args, "tokens", 512);
const PROFILE_REQUESTS = numFlag(args, "profile-requests", 2000);
const PORT = numFlag(args, "port", 18807);
const OUT = args.out ?? "bench/results";
const LABEL = args.label ?? "route-profile";
const V8_FLAGS = args["v8-flags"] ? args["v8-flags"].split(",") : [];
const BUILD = args.build ?? ".cache/bench-route-profile";
const BUNDLE = "artifacts/llmrouter-v5"; // the production default, embedded first by bench/entry.ts

async function main() {
  const load_before = loadavg();
  if (!args.build) buildWorker("bench/entry.ts", BUILD);
  const config = writeConfig(BUILD, "entry.js", PORT, { AUTH: "disabled", MAX_BODY_BYTES: "262144" }, V8_FLAGS);
  const inspectorPort = await freePort();
  const w = await startWorkerd(config, PORT, null, 30_000, inspectorPort);
  try {
    const route: Target = { method: "POST", path: "/v1/route", body: JSON.stringify({ prompt: makePrompt(TOKENS) }) };
    const hello: Target = { method: "GET", path: "/hello" };
    // Same body, same read + zod + featurize, no ORT run: route − tokenize ≈ ORT run + decide + a bigger JSON.
    const tokenize: Target = { method: "POST", path: "/v1/tokenize", body: route.body };
    const cells = [
      { name: "hello c1", t: hello, conns: 1 },
      { name: "tokenize c1", t: tokenize, conns: 1 },
      { name: "route c1", t: route, conns: 1 },
      { name: "hello c8", t: hello, conns: 8 },
      { name: "route c8", t: route, conns: 8 },
    ];
    const raw: Record<string, RunResult[]> = {};
    for (let r = 0; r < RUNS; r++) {
      for (const c of cells) {
        const res = await runLoad(PORT, c.t, { conns: c.conns, requests: REQUESTS, maxSeconds: 4, warmup: 200, pid: w.pid });
        if (res.errors) throw new Error(`${c.name}: ${res.errors} non-200`);
        res.samples = [];
        (raw[c.name] ??= []).push(res);
      }
    }
    const stat = (name: string) => {
      const rs = raw[name];
      return {
        p50_us: median(rs.map((x) => x.p50_us)),
        p99_us: median(rs.map((x) => x.p99_us)),
        cpu_us: median(rs.map((x) => x.server_cpu_us_per_req!)),
        rps: median(rs.map((x) => x.rps)),
        requests: rs.map((x) => x.requests),
      };
    };
    // Ratios within each run, then the median: the floor and the route see the same machine load.
    const ratio = (a: string, b: string, k: "p50_us" | "server_cpu_us_per_req") => median(raw[a].map((x, i) => (x[k] as number) / (raw[b][i][k] as number)));
    const cellsOut = Object.fromEntries(cells.map((c) => [c.name, stat(c.name)]));
    const ratios = {
      p50_c1: ratio("route c1", "hello c1", "p50_us"),
      p50_c8: ratio("route c8", "hello c8", "p50_us"),
      cpu_c1: ratio("route c1", "hello c1", "server_cpu_us_per_req"),
      cpu_c8: ratio("route c8", "hello c8", "server_cpu_us_per_req"),
    };
    const routeMinusTokenize = median(raw["route c1"].map((x, i) => x.server_cpu_us_per_req! - raw["tokenize c1"][i].server_cpu_us_per_req!));
    // The Node side of the gap, measured now (same load): CPU per session.run of the same prompt's tensors.
    const node = { disabled: await nodeRunCpuUs(BUNDLE, makePrompt(TOKENS), "disabled", 2000), all: await nodeRunCpuUs(BUNDLE, makePrompt(TOKENS), "all", 2000) };
    // WASM self time per run in Node under the same sampling profiler as the worker's profile below:
    // compares the WASM compute itself, apart from what surrounds it.
    let nodeProfile: CpuProfile | null = null;
    const inspector = new Session();
    inspector.connect();
    await nodeRunCpuUs(BUNDLE, makePrompt(TOKENS), "disabled", PROFILE_REQUESTS, 3000, async (runs) => {
      await inspector.post("Profiler.enable");
      await inspector.post("Profiler.setSamplingInterval", { interval: 100 });
      await inspector.post("Profiler.start");
      await runs();
      nodeProfile = ((await inspector.post("Profiler.stop")) as { profile: CpuProfile }).profile;
    });
    inspector.disconnect();
    const nodeWasmUs = (summariseProfile(nodeProfile!).wasm_ms * 1000) / PROFILE_REQUESTS;
    const probe = await IsolateProbe.attach(inspectorPort, w.pid, "main");
    const profile = await probe.cpuProfile<CpuProfile>(() => runLoad(PORT, route, { conns: 1, requests: PROFILE_REQUESTS, maxSeconds: 20, warmup: 0 }));
    probe.close();
    const summary = summariseProfile(profile);
    const result = {
      label: LABEL,
      generated_at: new Date().toISOString(),
      commit: execFileSync("git", ["rev-parse", "--short", "HEAD"], { encoding: "utf8" }).trim(),
      v8_flags: V8_FLAGS,
      machine: { cpus: cpus().length, loadavg_before: load_before, loadavg_after: loadavg() },
      params: { runs: RUNS, requests: REQUESTS, tokens: TOKENS, profile_requests: PROFILE_REQUESTS },
      cells: cellsOut,
      ratios,
      ort_gap: { workerd_route_minus_tokenize_cpu_us: routeMinusTokenize, node_session_run_cpu_us: node, node_wasm_self_us_per_run_profiled: nodeWasmUs, workerd_wasm_self_us_per_request_profiled: (summary.wasm_ms * 1000) / PROFILE_REQUESTS },
      profile: { ...summary, per_request_active_us: (summary.active_ms * 1000) / PROFILE_REQUESTS },
    };
    mkdirSync(OUT, { recursive: true });
    writeFileSync(`${OUT}/${LABEL}.json`, `${JSON.stringify(result, null, 2)}\n`);
    writeFileSync(`${OUT}/${LABEL}.cpuprofile`, JSON.stringify(profile));
    const md = [
      `# ${LABEL} (bench/route-profile.ts), ${result.generated_at}, commit ${result.commit}${V8_FLAGS.length ? `, v8Flags ${V8_FLAGS.join(" ")}` : ""}`,
      "",
      `${TOKENS}-token prompt; ${RUNS} runs × ≤ ${REQUESTS} requests per cell; load average ${load_before.map((x) => x.toFixed(1)).join(" ")} → ${result.machine.loadavg_after.map((x) => x.toFixed(1)).join(" ")}.`,
      "",
      "| cell | p50 | p99 | workerd CPU/req | req/s |",
      "|---|---|---|---|---|",
      ...Object.entries(cellsOut).map(([k, v]) => `| ${k} | ${v.p50_us.toFixed(0)} µs | ${v.p99_us.toFixed(0)} µs | ${v.cpu_us.toFixed(0)} µs | ${v.rps.toFixed(0)} |`),
      "",
      `Route / floor (median of per-run ratios): p50 ${ratios.p50_c1.toFixed(2)}× (1 conn), ${ratios.p50_c8.toFixed(2)}× (8 conns); CPU/req ${ratios.cpu_c1.toFixed(2)}× / ${ratios.cpu_c8.toFixed(2)}×.`,
      "",
      `ORT in workerd vs Node (CPU): route − tokenize ${routeMinusTokenize.toFixed(0)} µs/request in workerd (ORT run + decide + a larger JSON); Node session.run of the same tensors ${node.disabled.toFixed(0)} µs (graph optimisation disabled, as the worker) / ${node.all.toFixed(0)} µs ("all"). WASM self time per run under the same 100 µs sampling profiler: workerd ${((summary.wasm_ms * 1000) / PROFILE_REQUESTS).toFixed(0)} µs, Node ${nodeWasmUs.toFixed(0)} µs.`,
      "",
      `Profile over ${PROFILE_REQUESTS} route calls: active ${summary.active_ms.toFixed(0)} ms = ${result.profile.per_request_active_us.toFixed(0)} µs/request; WASM ${summary.wasm_ms.toFixed(0)} ms, JS↔WASM ${summary.js_to_wasm_ms.toFixed(0)} ms, GC ${summary.gc_ms.toFixed(0)} ms.`,
      "",
      "| self time | frame |",
      "|---|---|",
      ...summary.top.slice(0, 25).map((t) => `| ${t.ms.toFixed(1)} ms | \`${t.frame}\` |`),
      "",
    ].join("\n");
    writeFileSync(`${OUT}/${LABEL}.md`, md);
    console.log(md);
  } finally {
    await stopWorkerd(w);
  }
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
