/**
 * Decision log load check (`npx tsx bench/loop/run.ts`): 10k /v1/route calls
 * with logging on and 10k feedback posts, every decision and feedback must be
 * in D1 (counts match, every id present, no 5xx), and route p50 with logging
 * on must stay within 10 % of logging off.
 *
 * The worker is built once with `wrangler deploy --dry-run` (src/worker/index.ts)
 * and run in Miniflare (real workerd; D1 = Miniflare's local SQLite on disk,
 * migrations/ applied) twice: with the DB binding (logging on) and without it
 * (logging off). Load goes over real loopback HTTP to the URL `mf.ready`
 * returns (not dispatchFetch). Route runs alternate between the instances.
 * With --diag a third instance (bench/loop/entry-null-d1.ts: a stub DB whose
 * batch() stores nothing) separates the in-request cost of logging from the
 * D1 writes. Owned by bench/loop; nothing in src/ imports it.
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { basename } from "node:path";
import type { Agent } from "node:http";
import type { Readable } from "node:stream";
import { Miniflare } from "miniflare";
import { buildWorker } from "../../scripts/lib/worker-build.js";
import { cpuMicros as cpuOf, type RunResult } from "../loadgen.js";
import { agent, median, pool, post, prompt, quantile, type Reply } from "./http.js";

const args = Object.fromEntries(
  process.argv.slice(2).map((a) => {
    const [k, v] = a.replace(/^--/, "").split("=");
    return [k, v ?? "true"];
  }),
);
const REQUESTS = Number(args.requests ?? 2_000);
const CONNS = Number(args.conns ?? 8);
const RUNS = Number(args.runs ?? 5);
const MIXED = Number(args.mixed ?? 1_000);
const WARMUP = Number(args.warmup ?? 300);
const FB_CONNS = Number(args["fb-conns"] ?? 64);
const FB_BATCH = Number(args["fb-batch"] ?? 100);
const DIAG = args.diag !== "false";
const OUT = args.out ?? "bench/results";
const SKIP_BUILD = args["skip-build"] === "true";
/** Run the logging-on instance from the diag build (real D1 wrapped to count batches). */
const COUNTED = args.counted === "true";
const FEEDBACK = args.feedback !== "false";
const HMAC_KEY = "bench-loop-hmac-key-0123456789";
const BUILD = ".cache/bench-loop-build";
const BUILD_NULL = ".cache/bench-loop-build-null-d1";
const PERSIST = args.persist ?? ".cache/bench-loop-d1";

/** workerd user+sys CPU in µs; NaN once the process is gone (it is then reported, not fatal). */
function cpuMicros(pid: number): number {
  try {
    return cpuOf(pid);
  } catch {
    return NaN;
  }
}

const log = (...a: unknown[]) => console.log(`[${new Date().toISOString().slice(11, 19)}]`, ...a);

function build(entry: string, outDir: string): void {
  buildWorker(entry, outDir);
}

/** workerd processes that are children of this Node process. */
function workerdChildren(): Set<number> {
  const out = new Set<number>();
  for (const d of readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, "utf8");
      const comm = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (ppid === process.pid && comm.startsWith("workerd")) out.add(Number(d));
    } catch {
      /* exited */
    }
  }
  return out;
}

interface Instance {
  name: "on" | "off" | "null";
  mf: Miniflare;
  url: URL;
  pid: number | null;
  /** Keep-alive pool; replaced at the start of every phase (see fresh()). */
  agent: Agent;
  stderr: string[];
}

async function start(name: Instance["name"], buildDir: string, entry: string, d1: boolean): Promise<Instance> {
  const before = workerdChildren();
  const stderr: string[] = [];
  const mf = new Miniflare({
    modulesRoot: buildDir,
    modules: readdirSync(buildDir)
      .filter((f) => !f.endsWith(".map") && f !== "README.md")
      .sort((a, b) => (a === entry ? -1 : b === entry ? 1 : a.localeCompare(b)))
      .map((f) => ({
        path: `${buildDir}/${f}`,
        type: f.endsWith(".js") ? "ESModule" : f.endsWith(".wasm") ? "CompiledWasm" : f.endsWith(".onnx") ? "Data" : "Text",
      })) as { path: string; type: "ESModule" | "CompiledWasm" | "Data" | "Text" }[],
    compatibilityDate: "2026-04-20",
    cf: false,
    host: "127.0.0.1",
    port: 0,
    bindings: { AUTH: "disabled", PROMPT_HMAC_KEY: HMAC_KEY, MAX_BODY_BYTES: "262144" },
    ...(d1 ? { d1Databases: { DB: "preflight-bench" }, d1Persist: PERSIST } : {}),
    handleRuntimeStdio: (out: Readable, err: Readable) => {
      out.on("data", (d: Buffer) => stderr.push(d.toString()));
      err.on("data", (d: Buffer) => stderr.push(d.toString()));
    },
  });
  const url = await mf.ready;
  if (d1) {
    const db = await mf.getD1Database("DB");
    for (const f of readdirSync("migrations").filter((x) => x.endsWith(".sql")).sort()) {
      const sql = readFileSync(`migrations/${f}`, "utf8").replace(/--.*$/gm, "");
      for (const stmt of sql.split(";").map((x) => x.trim()).filter(Boolean)) await db.prepare(stmt).run();
    }
  }
  const pids = [...workerdChildren()].filter((p) => !before.has(p));
  return { name, mf, url, pid: pids.length === 1 ? pids[0] : null, agent: agent(Math.max(CONNS, FB_CONNS)), stderr };
}

/**
 * A new keep-alive pool for a phase: sockets left idle since the instance's previous
 * phase may be closed by the server just as the client reuses them (ECONNRESET), which
 * would count as a lost request that never reached the worker.
 */
function fresh(inst: Instance, conns: number): void {
  inst.agent.destroy();
  inst.agent = agent(conns);
}

const transportErrors: Record<string, number> = {};
function noteError(r: Reply): void {
  if (r.status === 0) transportErrors[r.error ?? "unknown"] = (transportErrors[r.error ?? "unknown"] ?? 0) + 1;
}

interface Decision {
  id: string;
  model: string;
}

/** The latency fields are loadgen's, so both benches report one shape. */
interface RouteRun extends Pick<RunResult, "requests" | "wall_s" | "rps" | "min_us" | "p50_us" | "p99_us" | "mean_us" | "server_cpu_us_per_req"> {
  instance: Instance["name"];
  run: number;
  ok: number;
  status_counts: Record<string, number>;
}

let promptSeq = 0;

/** Closed loop: CONNS connections, REQUESTS /v1/route calls; decisions of 200s collected. */
async function routeRun(inst: Instance, n: number, run: number, onDecision?: (d: Decision) => void): Promise<{ stats: RouteRun; decisions: Decision[] }> {
  const decisions: Decision[] = [];
  if (!onDecision) fresh(inst, CONNS);
  else fresh(inst, CONNS + FB_CONNS);
  const cpu0 = inst.pid ? cpuMicros(inst.pid) : 0;
  const base = promptSeq;
  promptSeq += n;
  const { results, wall_s } = await pool(n, CONNS, async (i) => {
    const r = await post(inst.agent, inst.url, "/v1/route", JSON.stringify({ prompt: prompt(base + i) }));
    noteError(r);
    if (r.status === 200) {
      const b = JSON.parse(r.body);
      const d = { id: b.decision_id as string, model: (b.decision?.model ?? b.candidates?.[0]?.model) as string };
      decisions.push(d);
      onDecision?.(d);
    }
    return { us: r.us, status: r.status };
  });
  const cpu1 = inst.pid ? cpuMicros(inst.pid) : 0;
  const us = results.map((r) => r.us);
  const status_counts: Record<string, number> = {};
  for (const r of results) status_counts[r.status] = (status_counts[r.status] ?? 0) + 1;
  return {
    decisions,
    stats: {
      instance: inst.name,
      run,
      requests: n,
      ok: decisions.length,
      status_counts,
      wall_s,
      rps: n / wall_s,
      min_us: Math.min(...us),
      p50_us: quantile(us, 0.5),
      p99_us: quantile(us, 0.99),
      mean_us: us.reduce((a, b) => a + b, 0) / us.length,
      server_cpu_us_per_req: inst.pid && Number.isFinite(cpu1 - cpu0) ? (cpu1 - cpu0) / n : null,
    },
  };
}

interface FeedbackRun {
  form: string;
  items: number;
  posts: number;
  in_flight: number;
  accepted: number;
  status_counts: Record<string, number>;
  wall_s: number;
  items_per_s: number;
  p50_us: number;
  p99_us: number;
  server_cpu_us_per_item: number | null;
  /** Up to 3 bodies of non-200 replies. */
  error_samples: string[];
}

function feedbackBody(d: Decision, k: number): object {
  return { decision_id: d.id, model: d.model, success: k % 3 !== 0, cost_usd: 0.0001 * (k % 7), latency_ms: 100 + (k % 50) };
}

function fbStats(form: string, items: number, inFlight: number, replies: Reply[], wall_s: number, cpu_us: number | null = null): FeedbackRun {
  const status_counts: Record<string, number> = {};
  let accepted = 0;
  for (const r of replies) {
    noteError(r);
    status_counts[r.status] = (status_counts[r.status] ?? 0) + 1;
    if (r.status === 200) accepted += JSON.parse(r.body).accepted;
  }
  const us = replies.map((r) => r.us);
  const error_samples = replies.filter((r) => r.status !== 200).slice(0, 3).map((r) => (r.status === 0 ? `transport: ${r.error}` : r.body.slice(0, 600)));
  return { error_samples, form, items, posts: replies.length, in_flight: inFlight, accepted, status_counts, wall_s, items_per_s: items / wall_s, p50_us: quantile(us, 0.5), p99_us: quantile(us, 0.99), server_cpu_us_per_item: cpu_us === null || !Number.isFinite(cpu_us) ? null : cpu_us / items };
}

const cpuNow = (inst: Instance) => (inst.pid ? cpuMicros(inst.pid) : NaN);

async function feedbackSingle(inst: Instance, ds: Decision[], form = "single"): Promise<[FeedbackRun, Decision[]]> {
  fresh(inst, FB_CONNS);
  const c0 = cpuNow(inst);
  const { results, wall_s } = await pool(ds.length, FB_CONNS, (i) => post(inst.agent, inst.url, "/v1/feedback", JSON.stringify(feedbackBody(ds[i], i))));
  return [fbStats(form, ds.length, FB_CONNS, results, wall_s, inst.pid ? cpuNow(inst) - c0 : null), ds.filter((_, i) => results[i].status === 200)];
}

async function feedbackBatch(inst: Instance, ds: Decision[], note = ""): Promise<FeedbackRun> {
  fresh(inst, FB_CONNS);
  const c0 = cpuNow(inst);
  const batches: Decision[][] = [];
  for (let i = 0; i < ds.length; i += FB_BATCH) batches.push(ds.slice(i, i + FB_BATCH));
  const inFlight = Math.min(16, FB_CONNS);
  const { results, wall_s } = await pool(batches.length, inFlight, (i) =>
    post(inst.agent, inst.url, "/v1/feedback", JSON.stringify({ items: batches[i].map((d, k) => feedbackBody(d, k)) })),
  );
  return fbStats(`batch of ${FB_BATCH}${note}`, ds.length, inFlight, results, wall_s, inst.pid ? cpuNow(inst) - c0 : null);
}

async function scalar(mf: Miniflare, sql: string): Promise<number> {
  const db = await mf.getD1Database("DB");
  const r = await db.prepare(sql).first<{ n: number }>();
  return r?.n ?? 0;
}

/** Polls COUNT(*) of decisions until it reaches `expected` or stops growing for 5 s. Returns [count, ms after the call]. */
async function waitForDecisions(mf: Miniflare, expected: number): Promise<[number, number]> {
  const t0 = Date.now();
  let last = -1;
  let since = Date.now();
  for (;;) {
    const n = await scalar(mf, "SELECT COUNT(*) AS n FROM decisions");
    if (n >= expected) return [n, Date.now() - t0];
    if (n !== last) [last, since] = [n, Date.now()];
    if (Date.now() - since > 5000) return [n, Date.now() - t0];
    await new Promise((r) => setTimeout(r, 20));
  }
}

const fmtUs = (us: number) => (us >= 1000 ? `${(us / 1000).toFixed(2)} ms` : `${Math.round(us)} µs`);

async function main() {
  const t0 = Date.now();
  if (!SKIP_BUILD) {
    log(`building src/worker/index.ts → ${BUILD}`);
    build("src/worker/index.ts", BUILD);
    if (DIAG || COUNTED) {
      log(`building bench/loop/entry-null-d1.ts → ${BUILD_NULL}`);
      build("bench/loop/entry-null-d1.ts", BUILD_NULL);
    }
  }
  rmSync(PERSIST, { recursive: true, force: true });
  mkdirSync(PERSIST, { recursive: true });

  const instances: Instance[] = [
    COUNTED ? await start("on", BUILD_NULL, "entry-null-d1.js", true) : await start("on", BUILD, "index.js", true),
    await start("off", BUILD, "index.js", false),
  ];
  if (DIAG) instances.push(await start("null", BUILD_NULL, `${basename("entry-null-d1.ts", ".ts")}.js`, false));
  const [on] = instances;
  for (const i of instances) log(`${i.name}: ${i.url.href} workerd pid ${i.pid ?? "?"}`);

  const allDecisions: Decision[] = [];
  let routeOk = 0;
  let route5xx = 0;
  let routeOther = 0;
  for (const i of instances) {
    const w = await routeRun(i, WARMUP, -1);
    log(`warm-up ${i.name}: ${JSON.stringify(w.stats.status_counts)}`);
    if (i.name === "on") {
      allDecisions.push(...w.decisions);
      routeOk += w.stats.ok;
    }
  }

  // Latency: RUNS rounds, the instance order rotated each round so drifts in machine load hit all alike.
  const runs: RouteRun[] = [];
  const decisionsByRun: Decision[][] = [];
  const drains: { run: number; expected: number; found: number; lag_ms: number }[] = [];
  for (let r = 0; r < RUNS; r++) {
    const order = instances.map((_, k) => instances[(k + r) % instances.length]);
    for (const inst of order) {
      const { stats, decisions } = await routeRun(inst, REQUESTS, r);
      runs.push(stats);
      for (const [s, c] of Object.entries(stats.status_counts)) if (Number(s) >= 500 || s === "0") route5xx += c;
      log(`run ${r} ${inst.name}: p50 ${fmtUs(stats.p50_us)} p99 ${fmtUs(stats.p99_us)} ${stats.rps.toFixed(0)} req/s cpu/req ${stats.server_cpu_us_per_req?.toFixed(0)} µs ${JSON.stringify(stats.status_counts)}`);
      if (inst.name === "on") {
        routeOk += stats.ok;
        routeOther += stats.requests - stats.ok;
        allDecisions.push(...decisions);
        decisionsByRun.push(decisions);
        const [found, lag] = await waitForDecisions(on.mf, routeOk);
        drains.push({ run: r, expected: routeOk, found, lag_ms: lag });
        log(`  decisions in D1: ${found} / ${routeOk} (${lag} ms after the last response)`);
      }
    }
  }

  // D1 batch() calls and rows per call during the route runs (diag builds only).
  const d1Batches: Record<string, unknown> = {};
  for (const i of instances) {
    if (i.name === "null" || (i.name === "on" && COUNTED)) {
      fresh(i, 1);
      const r = await new Promise<Reply>((res) => post(i.agent, i.url, "/__d1stats", "{}").then(res));
      d1Batches[i.name] = r.status === 200 ? JSON.parse(r.body) : `status ${r.status}`;
    }
  }
  if (Object.keys(d1Batches).length) log(`D1 batch() calls during route runs: ${JSON.stringify(d1Batches)}`);

  // Feedback: one single-item post per logged decision of the measured runs, FB_CONNS in flight;
  // then the same (decision, model) pairs again in batches (upserts: the row count must not change).
  const feedback: FeedbackRun[] = [];
  const expectedFb = new Set<string>();
  const fbTargets = (ds: Decision[]) => ds.forEach((d) => expectedFb.add(`${d.id}\u0000${d.model}`));
  const measured = decisionsByRun.flat();
  if (FEEDBACK) {
    const [f, accepted] = await feedbackSingle(on, measured);
    feedback.push(f);
    fbTargets(accepted);
    log(`feedback single ×${f.items} (${f.in_flight} in flight): accepted ${f.accepted} in ${f.wall_s.toFixed(1)} s, p50 ${fmtUs(f.p50_us)} p99 ${fmtUs(f.p99_us)} cpu/item ${f.server_cpu_us_per_item?.toFixed(0)} µs ${JSON.stringify(f.status_counts)}`);
  }
  if (FEEDBACK) {
    const f = await feedbackBatch(on, measured, ", repeat (upsert)");
    feedback.push(f);
    log(`feedback ${f.form} ×${f.items}: accepted ${f.accepted} in ${f.wall_s.toFixed(1)} s cpu/item ${f.server_cpu_us_per_item?.toFixed(0)} µs ${JSON.stringify(f.status_counts)}`);
  }

  // Mixed: MIXED route calls, each decision's feedback posted the moment its response arrives
  // (≤ FB_CONNS in flight), so feedback races the logger queue and the D1 batches.
  let mixed: { route: RouteRun; feedback: FeedbackRun } | null = null;
  if (MIXED > 0) {
    const fbReplies: Promise<Reply>[] = [];
    let inFlight = 0;
    const waiters: (() => void)[] = [];
    const fbDs: Decision[] = [];
    const fb0 = process.hrtime.bigint();
    const { stats, decisions } = await routeRun(on, MIXED, RUNS, (d) => {
      fbDs.push(d);
      const k = fbDs.length;
      fbReplies.push(
        (async () => {
          while (inFlight >= FB_CONNS) await new Promise<void>((r) => waiters.push(r));
          inFlight++;
          try {
            return await post(on.agent, on.url, "/v1/feedback", JSON.stringify(feedbackBody(d, k)));
          } finally {
            inFlight--;
            waiters.shift()?.();
          }
        })(),
      );
    });
    const replies = await Promise.all(fbReplies);
    const fbWall = Number(process.hrtime.bigint() - fb0) / 1e9;
    // Only accepted feedback must be stored; rejected posts are reported as failures of their own.
    const accepted = fbDs.filter((_, k) => replies[k].status === 200);
    routeOk += stats.ok;
    routeOther += stats.requests - stats.ok;
    for (const [s, c] of Object.entries(stats.status_counts)) if (Number(s) >= 500 || s === "0") route5xx += c;
    allDecisions.push(...decisions);
    fbTargets(accepted);
    mixed = { route: stats, feedback: fbStats("single, concurrent with routing", fbDs.length, FB_CONNS, replies, fbWall) };
    feedback.push(mixed.feedback);
    log(`mixed: route p50 ${fmtUs(stats.p50_us)} ${JSON.stringify(stats.status_counts)}; feedback accepted ${mixed.feedback.accepted} ${JSON.stringify(mixed.feedback.status_counts)}`);
  }

  // Verification against D1.
  const [decisionCount, finalLag] = await waitForDecisions(on.mf, routeOk);
  const db = await on.mf.getD1Database("DB");
  const ids = new Set((await db.prepare("SELECT decision_id FROM decisions").all<{ decision_id: string }>()).results.map((r) => r.decision_id));
  const missingDecisions = allDecisions.filter((d) => !ids.has(d.id)).map((d) => d.id);
  const duplicateIds = allDecisions.length - new Set(allDecisions.map((d) => d.id)).size;
  const fbRows = (await db.prepare("SELECT decision_id, model FROM feedback").all<{ decision_id: string; model: string }>()).results;
  const fbKeys = new Set(fbRows.map((r) => `${r.decision_id}\u0000${r.model}`));
  const missingFeedback = [...expectedFb].filter((k) => !fbKeys.has(k)).length;
  const feedbackCount = fbRows.length;
  const fb5xx = feedback.reduce((s, f) => s + Object.entries(f.status_counts).filter(([k]) => Number(k) >= 500 || k === "0").reduce((a, [, c]) => a + c, 0), 0);
  const fbNon200 = feedback.reduce((s, f) => s + Object.entries(f.status_counts).filter(([k]) => k !== "200").reduce((a, [, c]) => a + c, 0), 0);
  const acceptedUnique = expectedFb.size;
  const lostLogLines = on.stderr.join("").split("\n").filter((l) => /records lost/.test(l));

  const byInst = (name: string) => runs.filter((r) => r.instance === name);
  const summary = (name: string) => {
    const rs = byInst(name);
    if (rs.length === 0) return null;
    return {
      runs: rs.length,
      p50_us: median(rs.map((r) => r.p50_us)),
      p99_us: median(rs.map((r) => r.p99_us)),
      min_us: Math.min(...rs.map((r) => r.min_us)),
      rps: median(rs.map((r) => r.rps)),
      server_cpu_us_per_req: rs.some((r) => r.server_cpu_us_per_req !== null) ? median(rs.filter((r) => r.server_cpu_us_per_req !== null).map((r) => r.server_cpu_us_per_req!)) : null,
    };
  };
  const sOn = summary("on")!;
  const sOff = summary("off")!;
  const sNull = summary("null");
  const pairRatios = Array.from({ length: RUNS }, (_, r) => runs.find((x) => x.run === r && x.instance === "on")!.p50_us / runs.find((x) => x.run === r && x.instance === "off")!.p50_us);
  const ratio = sOn.p50_us / sOff.p50_us;

  const checks = {
    decisions_count_matches: decisionCount === routeOk,
    every_decision_id_present: missingDecisions.length === 0,
    feedback_count_matches: feedbackCount === acceptedUnique,
    every_feedback_present: missingFeedback === 0,
    all_feedback_accepted: fbNon200 === 0,
    no_5xx: route5xx === 0 && fb5xx === 0,
    route_p50_within_10pct: ratio <= 1.1,
  };
  const result = {
    generated_at: new Date().toISOString(),
    command: `npx tsx bench/loop/run.ts ${process.argv.slice(2).join(" ")}`.trim(),
    machine: { cpus: (await import("node:os")).cpus().length, loadavg_at_end: (await import("node:os")).loadavg(), node: process.version },
    params: { counted: COUNTED, feedback: FEEDBACK, persist: PERSIST, requests: REQUESTS, conns: CONNS, runs: RUNS, mixed: MIXED, warmup: WARMUP, fb_in_flight: FB_CONNS, fb_batch: FB_BATCH, diag: DIAG, transport: "loopback HTTP to the Miniflare URL (mf.ready), keep-alive" },
    checks,
    latency: { logging_on: sOn, logging_off: sOff, null_d1: sNull, p50_ratio_on_off: ratio, p50_ratio_per_round: pairRatios, p50_ratio_null_off: sNull ? sNull.p50_us / sOff.p50_us : null },
    storage: {
      route_200: routeOk,
      route_non_200: routeOther,
      route_5xx_or_transport: route5xx,
      transport_errors: transportErrors,
      decisions_in_d1: decisionCount,
      missing_decision_ids: missingDecisions.length,
      missing_examples: missingDecisions.slice(0, 5),
      duplicate_decision_ids_returned: duplicateIds,
      drain: drains,
      final_wait_ms: finalLag,
      feedback_unique_accepted: acceptedUnique,
      feedback_rows_in_d1: feedbackCount,
      missing_feedback: missingFeedback,
      feedback_non_200: fbNon200,
      feedback_5xx_or_transport: fb5xx,
      logger_lost_lines: lostLogLines.length,
      worker_log_tail: on.stderr.join("").slice(-3000),
    },
    d1_batches_during_route_runs: d1Batches,
    feedback,
    mixed: mixed?.route ?? null,
    runs,
    total_s: (Date.now() - t0) / 1000,
  };
  mkdirSync(OUT, { recursive: true });
  writeFileSync(`${OUT}/loop.json`, JSON.stringify(result, null, 2) + "\n");
  writeFileSync(`${OUT}/loop.md`, markdown(result));
  log(`checks: ${JSON.stringify(checks)}`);
  log(`p50 on/off = ${ratio.toFixed(3)} (on ${fmtUs(sOn.p50_us)}, off ${fmtUs(sOff.p50_us)}${sNull ? `, null-D1 ${fmtUs(sNull.p50_us)}` : ""}); wrote ${OUT}/loop.{json,md} in ${result.total_s.toFixed(0)} s`);
  for (const i of instances) {
    i.agent.destroy();
    await i.mf.dispose();
  }
}

/* eslint-disable @typescript-eslint/no-explicit-any -- the result object is built above and only formatted here */
function markdown(r: any): string {
  const yes = (b: boolean) => (b ? "met" : "**MISS**");
  const L = r.latency;
  const row = (name: string, s: any) =>
    s ? `| ${name} | ${s.runs} | ${fmtUs(s.p50_us)} | ${fmtUs(s.p99_us)} | ${fmtUs(s.min_us)} | ${s.rps.toFixed(0)} | ${s.server_cpu_us_per_req === null ? "—" : fmtUs(s.server_cpu_us_per_req)} |` : "";
  const S = r.storage;
  return `# Decision log load check

Generated ${r.generated_at} by \`${r.command}\` (${r.total_s.toFixed(0)} s). Method and machine: [../README.md](../README.md#decision-log-load-check).
${r.params.requests} \`/v1/route\` calls per run at ${r.params.conns} keep-alive connections, ${r.params.runs} runs per configuration (instances alternated), ${r.params.transport}.
Load average at the end: ${r.machine.loadavg_at_end.map((x: number) => x.toFixed(1)).join(" / ")} on ${r.machine.cpus} CPUs.

## Checks

| check | result | |
|---|---|---|
| decisions in D1 = route 200s | ${S.decisions_in_d1} / ${S.route_200} | ${yes(r.checks.decisions_count_matches)} |
| every returned decision_id in D1 | ${S.missing_decision_ids} missing | ${yes(r.checks.every_decision_id_present)} |
| feedback rows = accepted (decision, model) pairs | ${S.feedback_rows_in_d1} / ${S.feedback_unique_accepted} | ${yes(r.checks.feedback_count_matches)} |
| every accepted feedback in D1 | ${S.missing_feedback} missing | ${yes(r.checks.every_feedback_present)} |
| every feedback post accepted | ${S.feedback_non_200} non-200 | ${yes(r.checks.all_feedback_accepted)} |
| no 5xx / transport errors | route ${S.route_5xx_or_transport}, feedback ${S.feedback_5xx_or_transport} | ${yes(r.checks.no_5xx)} |
| route p50 logging on ≤ 1.10 × off | ${L.p50_ratio_on_off.toFixed(3)} (per round: ${L.p50_ratio_per_round.map((x: number) => x.toFixed(3)).join(", ")}) | ${yes(r.checks.route_p50_within_10pct)} |

## /v1/route latency (median over runs; min = min over runs)

| configuration | runs | p50 | p99 | min | req/s | workerd CPU/req |
|---|---|---|---|---|---|---|
${row("logging off (no DB)", L.logging_off)}
${row("logging on (D1)", L.logging_on)}
${L.null_d1 ? row("logging on, stub DB (diag)", L.null_d1) : ""}

Per run:

| run | config | p50 | p99 | req/s | workerd CPU/req | statuses |
|---|---|---|---|---|---|---|
${r.runs.map((x: any) => `| ${x.run} | ${x.instance} | ${fmtUs(x.p50_us)} | ${fmtUs(x.p99_us)} | ${x.rps.toFixed(0)} | ${x.server_cpu_us_per_req === null ? "—" : fmtUs(x.server_cpu_us_per_req)} | ${JSON.stringify(x.status_counts)} |`).join("\n")}
${r.mixed ? `| mixed | on + feedback | ${fmtUs(r.mixed.p50_us)} | ${fmtUs(r.mixed.p99_us)} | ${r.mixed.rps.toFixed(0)} | ${r.mixed.server_cpu_us_per_req === null ? "—" : fmtUs(r.mixed.server_cpu_us_per_req)} | ${JSON.stringify(r.mixed.status_counts)} |` : ""}

Decision drain (rows visible after each logging-on run): ${S.drain.map((d: any) => `${d.found}/${d.expected} after ${d.lag_ms} ms`).join("; ")}.

## Feedback

| form | items | posts | in flight | accepted | wall | items/s | p50 | p99 | workerd CPU/item | statuses |
|---|---|---|---|---|---|---|---|---|---|---|
${r.feedback.map((f: any) => `| ${f.form} | ${f.items} | ${f.posts} | ${f.in_flight} | ${f.accepted} | ${f.wall_s.toFixed(1)} s | ${f.items_per_s.toFixed(0)} | ${fmtUs(f.p50_us)} | ${fmtUs(f.p99_us)} | ${f.server_cpu_us_per_item === null ? "—" : fmtUs(f.server_cpu_us_per_item)} | ${JSON.stringify(f.status_counts)} |`).join("\n")}
`;
}

/* eslint-enable @typescript-eslint/no-explicit-any */

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
