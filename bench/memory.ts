/**
 * Memory per isolate (issue 18 item 3): for workers embedding 1, 2 and 4
 * bundles (bench/bundle-workers.ts), on raw workerd with the inspector open,
 * reads the isolate's JS heap (used and committed) and the bytes of every live
 * WebAssembly.Memory (ORT's linear memory) through
 * test/worker/isolate-memory.ts: after load, after every bundle has been used
 * once (its session created), and after each quarter of --requests
 * `POST /v1/route` calls (512-token prompt, 8 connections, bundles in turn via
 * x-preflight-bundle). Growth per request is read from the committed heap and
 * WASM between the first and the last quarter: used heap includes garbage not
 * yet collected and workerd never answers a forced GC, so it swings.
 * Writes bench/results/memory.{json,md}.
 *
 * Run: `npx tsx bench/memory.ts [--requests=10000] [--bundles=1,2,4] [--sessions=4] [--port=18827]`
 * (--sessions sets MAX_LIVE_SESSIONS). Owned by bench/; never imported by src/.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import { IsolateProbe, freePort, type IsolateSample } from "../test/worker/isolate-memory.js";
import { bundleIds, workerDir } from "./bundle-workers.js";
import { numFlag, parseFlags } from "./cli.js";
import { runLoad, type Target } from "./loadgen.js";
import { makePrompt } from "./prompts.js";
import { buildWorker, memory, startWorkerd, stopWorkerd, writeConfig } from "./workerd.js";

const args = parseFlags();
const REQUESTS = numFlag(args, "requests", 10_000);
const PORT = numFlag(args, "port", 18827);
const SESSIONS = args.sessions ?? "4";
const OUT = args.out ?? "bench/results";
const COUNTS = (args.bundles ?? "1,2,4").split(",").map(Number);
const WORK = ".cache/bench-memory";
const MiB = 2 ** 20;

interface Point {
  label: string;
  requests: number;
  js_used_mib: number;
  js_committed_mib: number;
  wasm_mib: number;
  /** JS heap committed + WASM: what the isolate holds from the OS. */
  isolate_mib: number;
  rss_mib: number;
}

const prompt = makePrompt(512);

/** POSTs /v1/route for `id` until it is not 503 bundle-loading (its session is created off the request path). */
async function warm(id: string): Promise<void> {
  for (let i = 0; i < 400; i++) {
    const r = await fetch(`http://127.0.0.1:${PORT}/v1/route`, { method: "POST", headers: { "content-type": "application/json", "x-preflight-bundle": id }, body: JSON.stringify({ prompt }) });
    await r.text();
    if (r.status === 200) return;
    if (r.status !== 503) throw new Error(`${id}: /v1/route answered ${r.status}`);
    await new Promise((res) => setTimeout(res, 50));
  }
  throw new Error(`${id} still loading after 400 tries`);
}

async function main() {
  const rows: { bundles: number; points: Point[]; growth_bytes_per_request: { js_committed: number; wasm: number } }[] = [];
  const load_before = loadavg();
  for (const n of COUNTS) {
    const dir = workerDir(WORK, n);
    buildWorker(`${dir}/entry.ts`, `${dir}/build`);
    const config = writeConfig(`${dir}/build`, "entry.js", PORT, { AUTH: "disabled", MAX_BODY_BYTES: "262144", MAX_LIVE_SESSIONS: SESSIONS });
    const inspectorPort = await freePort();
    const w = await startWorkerd(config, PORT, null, 60_000, inspectorPort);
    const probe = await IsolateProbe.attach(inspectorPort, w.pid, "main");
    const points: Point[] = [];
    let done = 0;
    const at = async (label: string) => {
      const s: IsolateSample = await probe.sample();
      const p: Point = {
        label,
        requests: done,
        js_used_mib: s.jsHeapUsedBytes / MiB,
        js_committed_mib: s.jsHeapTotalBytes / MiB,
        wasm_mib: s.wasmBytes / MiB,
        isolate_mib: (s.jsHeapTotalBytes + s.wasmBytes) / MiB,
        rss_mib: memory(w.pid).rss_kib / 1024,
      };
      points.push(p);
      console.log(`${n} bundle(s), ${label}: JS used ${p.js_used_mib.toFixed(1)} / committed ${p.js_committed_mib.toFixed(1)} MiB, WASM ${p.wasm_mib.toFixed(1)} MiB, isolate ${p.isolate_mib.toFixed(1)} MiB, workerd RSS ${p.rss_mib.toFixed(0)} MiB`);
    };
    try {
      await at("after load");
      const ids = bundleIds(n);
      for (const id of ids) await warm(id);
      await at(`every bundle used once (${ids.length})`);
      const quarter = Math.ceil(REQUESTS / 4);
      for (let q = 1; q <= 4; q++) {
        // Bundles in turn, a slice each, so every live session keeps running.
        for (const id of ids) {
          const t: Target = { method: "POST", path: "/v1/route", body: JSON.stringify({ prompt }), headers: { "x-preflight-bundle": id } };
          const r = await runLoad(PORT, t, { conns: 8, requests: Math.ceil(quarter / ids.length), maxSeconds: 600, warmup: 0 });
          if (r.errors) throw new Error(`${id}: ${r.errors} non-200`);
          done += r.requests;
        }
        await at(`after ${done} requests`);
      }
    } finally {
      probe.close();
      await stopWorkerd(w);
    }
    const first = points[2];
    const last = points[points.length - 1];
    const per = (k: "js_committed_mib" | "wasm_mib") => ((last[k] - first[k]) * MiB) / (last.requests - first.requests);
    rows.push({ bundles: n, points, growth_bytes_per_request: { js_committed: per("js_committed_mib"), wasm: per("wasm_mib") } });
  }
  const result = {
    generated_at: new Date().toISOString(),
    commit: execFileSync("git", ["rev-parse", "--short", "HEAD"], { encoding: "utf8" }).trim(),
    params: { requests: REQUESTS, max_live_sessions: SESSIONS },
    loadavg: { before: load_before, after: loadavg() },
    rows,
  };
  mkdirSync(OUT, { recursive: true });
  writeFileSync(`${OUT}/memory.json`, `${JSON.stringify(result, null, 2)}\n`);
  const md = [
    `# Memory per isolate (bench/memory.ts), ${result.generated_at}, commit ${result.commit}, MAX_LIVE_SESSIONS=${SESSIONS}`,
    "",
    "| bundles | point | JS heap used | JS heap committed | WASM memory | isolate (committed + WASM) | workerd RSS |",
    "|---|---|---|---|---|---|---|",
    ...rows.flatMap((r) => r.points.map((p) => `| ${r.bundles} | ${p.label} | ${p.js_used_mib.toFixed(1)} MiB | ${p.js_committed_mib.toFixed(1)} MiB | ${p.wasm_mib.toFixed(1)} MiB | ${p.isolate_mib.toFixed(1)} MiB | ${p.rss_mib.toFixed(0)} MiB |`)),
    "",
    ...rows.map((r) => `${r.bundles} bundle(s): growth from the first to the last quarter: JS committed ${r.growth_bytes_per_request.js_committed.toFixed(1)} B/request, WASM ${r.growth_bytes_per_request.wasm.toFixed(1)} B/request.`),
    "",
  ].join("\n");
  writeFileSync(`${OUT}/memory.md`, md);
  console.log(md);
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
