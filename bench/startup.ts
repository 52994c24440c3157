/**
 * Start-up as the platform measures it (issue 18 item 2): for workers that
 * embed 1, 2 and 4 bundles (bench/bundle-workers.ts), runs `wrangler check
 * startup` (offline: it builds the worker, evaluates it in a local workerd
 * with the inspector's CPU profiler on, and writes the profile) and reads the profile's total and active CPU, then times the cold
 * start to the first 200 on raw workerd with bench/workerd.ts. Medians of
 * --runs. Writes bench/results/startup.{json,md}.
 *
 * Run: `npx tsx bench/startup.ts [--runs=3] [--bundles=1,2,4] [--port=18797] [--out=bench/results]`
 * Owned by bench/; never imported by src/.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { workerDir } from "./bundle-workers.js";
import { median, numFlag, parseFlags } from "./cli.js";
import { summariseProfile, type CpuProfile, type ProfileSummary } from "./profile.js";
import { buildWorker, coldStarts, stopWorkerd, writeConfig } from "./workerd.js";

const args = parseFlags();
const RUNS = numFlag(args, "runs", 3);
const PORT = numFlag(args, "port", 18797);
const OUT = args.out ?? "bench/results";
const COUNTS = (args.bundles ?? "1,2,4").split(",").map(Number);
const WORK = ".cache/bench-startup";

function checkStartup(dir: string, i: number): ProfileSummary {
  const outfile = `${dir}/startup-${i}.cpuprofile`;
  execFileSync(process.execPath, ["node_modules/wrangler/bin/wrangler.js", "check", "startup", "-c", `${dir}/wrangler.toml`, "--outfile", outfile], {
    stdio: "pipe",
    env: { ...process.env, WRANGLER_SEND_METRICS: "false", CI: "1" },
  });
  return summariseProfile(JSON.parse(readFileSync(outfile, "utf8")) as CpuProfile);
}

interface Row {
  bundles: number;
  profiles: ProfileSummary[];
  total_ms: number;
  active_ms: number;
  wasm_ms: number;
  js_to_wasm_ms: number;
  gc_ms: number;
  cold_ms: number[];
  cold_cpu_ms: number[];
  first_hello_ms: number[];
  cold_median_ms: number;
  cold_cpu_median_ms: number;
  first_hello_median_ms: number;
}

async function main() {
  const load_before = loadavg();
  const rows: Row[] = [];
  for (const n of COUNTS) {
    const dir = workerDir(WORK, n);
    const profiles: ProfileSummary[] = [];
    for (let i = 0; i < RUNS; i++) profiles.push(checkStartup(dir, i));
    buildWorker(`${dir}/entry.ts`, `${dir}/build`);
    const config = writeConfig(`${dir}/build`, "entry.js", PORT, { AUTH: "disabled", MAX_BODY_BYTES: "262144" });
    const cold = await coldStarts(config, PORT, RUNS, "/hello");
    await stopWorkerd(cold.last);
    const m = (f: (p: ProfileSummary) => number) => median(profiles.map(f));
    const row: Row = {
      bundles: n,
      profiles,
      total_ms: m((p) => p.total_ms),
      active_ms: m((p) => p.active_ms),
      wasm_ms: m((p) => p.wasm_ms),
      js_to_wasm_ms: m((p) => p.js_to_wasm_ms),
      gc_ms: m((p) => p.gc_ms),
      cold_ms: cold.wall_ms,
      cold_cpu_ms: cold.cpu_ms,
      first_hello_ms: cold.first_path_ms,
      cold_median_ms: median(cold.wall_ms),
      cold_cpu_median_ms: median(cold.cpu_ms),
      first_hello_median_ms: median(cold.first_path_ms),
    };
    rows.push(row);
    console.log(
      `${n} bundle(s): check startup total ${row.total_ms.toFixed(0)} ms, active ${row.active_ms.toFixed(0)} ms (runs ${profiles.map((p) => p.active_ms.toFixed(0)).join(", ")}; wasm ${row.wasm_ms.toFixed(0)}, js-to-wasm ${row.js_to_wasm_ms.toFixed(0)}, gc ${row.gc_ms.toFixed(0)}); cold start to first 200 ${row.cold_median_ms.toFixed(0)} ms (workerd CPU ${row.cold_cpu_median_ms} ms; /hello at ${row.first_hello_median_ms.toFixed(0)} ms)`,
    );
  }
  const result = {
    generated_at: new Date().toISOString(),
    commit: execFileSync("git", ["rev-parse", "--short", "HEAD"], { encoding: "utf8" }).trim(),
    machine: { cpus: cpus().length, cpu_model: cpus()[0]?.model ?? "?", node: process.version, loadavg_before: load_before, loadavg_after: loadavg() },
    runs: RUNS,
    rows: rows.map(({ profiles, ...r }) => ({ ...r, profiles: profiles.map(({ top, ...p }) => ({ ...p, top: top.slice(0, 12) })) })),
  };
  mkdirSync(OUT, { recursive: true });
  writeFileSync(`${OUT}/startup.json`, `${JSON.stringify(result, null, 2)}\n`);
  const md = [
    `# Start-up (bench/startup.ts), ${result.generated_at}, commit ${result.commit}`,
    "",
    `Load average before/after: ${load_before.map((x) => x.toFixed(1)).join(" ")} / ${result.machine.loadavg_after.map((x) => x.toFixed(1)).join(" ")}; ${RUNS} runs, medians.`,
    "",
    "| bundles | check startup total | active | in WASM | js-to-wasm | GC | cold start to first 200 (wall) | workerd CPU by then | first /hello |",
    "|---|---|---|---|---|---|---|---|---|",
    ...rows.map((r) => `| ${r.bundles} | ${r.total_ms.toFixed(0)} ms | ${r.active_ms.toFixed(0)} ms | ${r.wasm_ms.toFixed(0)} ms | ${r.js_to_wasm_ms.toFixed(0)} ms | ${r.gc_ms.toFixed(0)} ms | ${r.cold_median_ms.toFixed(0)} ms | ${r.cold_cpu_median_ms.toFixed(0)} ms | ${r.first_hello_median_ms.toFixed(0)} ms |`),
    "",
  ].join("\n");
  writeFileSync(`${OUT}/startup.md`, md);
  console.log(md);
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
