/**
 * A/B of two worker builds on raw workerd, interleaved so both see the same
 * machine load (this machine is shared and noisy): each of --runs rounds runs
 * the cells on A then B (order alternating by round): `GET /hello` (floor) and
 * `POST /v1/route` with the same --tokens prompt at 1 and 8 connections.
 * Reports per build the medians of p50, p99 and workerd CPU per request, the
 * route/floor ratios computed within each round, and B/A per cell. This is
 * what bench/README.md's "what each change bought" rows come from.
 *
 * Run: `npx tsx bench/ab.ts --a=<build dir> --b=<build dir> [--runs=5] [--requests=1000] [--tokens=512] [--label=ab] [--b-flags=<V8 flags for B>]`
 * (build dirs from `wrangler deploy --dry-run --outdir <dir> bench/entry.ts`, e.g. on two checkouts).
 * Owned by bench/; never imported by src/.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import { median, numFlag, parseFlags } from "./cli.js";
import { runLoad, type RunResult, type Target } from "./loadgen.js";
import { makePrompt } from "./prompts.js";
import { startWorkerd, stopWorkerd, writeConfig, type Running } from "./workerd.js";

const args = parseFlags();
const RUNS = numFlag(args, "runs", 5);
const REQUESTS = numFlag(args, "requests", 1000);
const TOKENS = numFlag(args, "tokens", 512);
const PORT = numFlag(args, "port", 18817);
const OUT = args.out ?? "bench/results";
const LABEL = args.label ?? "ab";
if (!args.a || !args.b) throw new Error("--a=<build dir> and --b=<build dir> are required");

const route: Target = { method: "POST", path: "/v1/route", body: JSON.stringify({ prompt: makePrompt(TOKENS) }) };
const CELLS = [
  { name: "hello c1", t: { method: "GET", path: "/hello" } as Target, conns: 1 },
  { name: "route c1", t: route, conns: 1 },
  { name: "hello c8", t: { method: "GET", path: "/hello" } as Target, conns: 8 },
  { name: "route c8", t: route, conns: 8 },
];

async function main() {
  const load_before = loadavg();
  const builds = [
    { key: "A", dir: args.a, port: PORT },
    { key: "B", dir: args.b, port: PORT + 1 },
  ];
  // Diagnosis only (Cloudflare takes no V8 flags): --b-flags=--no-liftoff,... runs B's workerd with them.
  const flags = (k: string) => (k === "B" && args["b-flags"] ? args["b-flags"].split(",") : []);
  const running: Running[] = [];
  try {
    for (const b of builds) running.push(await startWorkerd(writeConfig(b.dir, "entry.js", b.port, { AUTH: "disabled", MAX_BODY_BYTES: "262144" }, flags(b.key)), b.port, null, 120_000));
    const raw: Record<string, RunResult[]> = {};
    for (let r = 0; r < RUNS; r++) {
      const order = r % 2 ? [1, 0] : [0, 1];
      for (const k of order) {
        for (const c of CELLS) {
          const res = await runLoad(builds[k].port, c.t, { conns: c.conns, requests: REQUESTS, maxSeconds: 4, warmup: 200, pid: running[k].pid });
          if (res.errors) throw new Error(`${builds[k].key} ${c.name}: ${res.errors} non-200`);
          res.samples = [];
          (raw[`${builds[k].key}|${c.name}`] ??= []).push(res);
        }
      }
      console.log(`round ${r + 1}/${RUNS} done`);
    }
    const cell = (k: string, c: string) => {
      const rs = raw[`${k}|${c}`];
      return { p50_us: median(rs.map((x) => x.p50_us)), p99_us: median(rs.map((x) => x.p99_us)), cpu_us: median(rs.map((x) => x.server_cpu_us_per_req!)), requests: rs.map((x) => x.requests) };
    };
    const perRound = (k: string, a: string, b: string, f: (x: RunResult) => number) => median(raw[`${k}|${a}`].map((x, i) => f(x) / f(raw[`${k}|${b}`][i])));
    const p50 = (x: RunResult) => x.p50_us;
    const cpu = (x: RunResult) => x.server_cpu_us_per_req!;
    const result = {
      label: LABEL,
      generated_at: new Date().toISOString(),
      a: args.a,
      b: args.b,
      b_flags: flags("B"),
      params: { runs: RUNS, requests: REQUESTS, tokens: TOKENS },
      loadavg: { before: load_before, after: loadavg() },
      builds: Object.fromEntries(
        builds.map(({ key }) => [
          key,
          {
            cells: Object.fromEntries(CELLS.map((c) => [c.name, cell(key, c.name)])),
            route_over_floor: { p50_c1: perRound(key, "route c1", "hello c1", p50), p50_c8: perRound(key, "route c8", "hello c8", p50), cpu_c1: perRound(key, "route c1", "hello c1", cpu), cpu_c8: perRound(key, "route c8", "hello c8", cpu) },
          },
        ]),
      ),
      b_over_a: Object.fromEntries(CELLS.map((c) => [c.name, { p50: median(raw[`B|${c.name}`].map((x, i) => x.p50_us / raw[`A|${c.name}`][i].p50_us)), cpu: median(raw[`B|${c.name}`].map((x, i) => cpu(x) / cpu(raw[`A|${c.name}`][i]))) }])),
    };
    mkdirSync(OUT, { recursive: true });
    writeFileSync(`${OUT}/${LABEL}.json`, `${JSON.stringify(result, null, 2)}\n`);
    const lines = [`# ${LABEL}: A = ${args.a}, B = ${args.b} (${result.generated_at}; load ${load_before.map((x) => x.toFixed(1)).join(" ")} → ${result.loadavg.after.map((x) => x.toFixed(1)).join(" ")}; ${RUNS} interleaved rounds, medians)`, "", "| cell | A p50 | B p50 | A p99 | B p99 | A CPU/req | B CPU/req | B/A CPU |", "|---|---|---|---|---|---|---|---|"];
    for (const c of CELLS) {
      const a = result.builds.A.cells[c.name];
      const b = result.builds.B.cells[c.name];
      lines.push(`| ${c.name} | ${a.p50_us.toFixed(0)} µs | ${b.p50_us.toFixed(0)} µs | ${a.p99_us.toFixed(0)} µs | ${b.p99_us.toFixed(0)} µs | ${a.cpu_us.toFixed(0)} µs | ${b.cpu_us.toFixed(0)} µs | ${result.b_over_a[c.name].cpu.toFixed(2)} |`);
    }
    for (const k of ["A", "B"]) {
      const r = result.builds[k].route_over_floor;
      lines.push("", `${k}: route/floor p50 ${r.p50_c1.toFixed(2)}× (1 conn), ${r.p50_c8.toFixed(2)}× (8 conns); CPU/req ${r.cpu_c1.toFixed(2)}× / ${r.cpu_c8.toFixed(2)}×`);
    }
    writeFileSync(`${OUT}/${LABEL}.md`, `${lines.join("\n")}\n`);
    console.log(lines.join("\n"));
  } finally {
    for (const w of running) await stopWorkerd(w);
  }
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
