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
 *
 * This file is the entry: flags, the order of the phases and the result files.
 * Instances live in instance.ts, load in route.ts / feedback.ts, D1 reads in
 * d1.ts, the result in results.ts and its rendering in markdown.ts.
 */
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { buildWorker } from "../../scripts/lib/worker-build.js";
import { d1Batches, feedbackKey, stored, waitForDecisions } from "./d1.js";
import { feedbackBatch, feedbackSingle, mixedRun, type FeedbackRun } from "./feedback.js";
import { start, stop, type Instance } from "./instance.js";
import { fmtUs, markdown } from "./markdown.js";
import { countWhere, isFailure, type Decision } from "./replies.js";
import { buildResult, type Drain, type Params } from "./results.js";
import { routeRun, type RouteRun } from "./route.js";

const args = Object.fromEntries(
  process.argv.slice(2).map((a) => {
    const [k, v] = a.replace(/^--/, "").split("=");
    return [k, v ?? "true"];
  }),
);
const P: Params = {
  /** Run the logging-on instance from the diag build (real D1 wrapped to count batches). */
  counted: args.counted === "true",
  feedback: args.feedback !== "false",
  persist: args.persist ?? ".cache/bench-loop-d1",
  requests: Number(args.requests ?? 2_000),
  conns: Number(args.conns ?? 8),
  runs: Number(args.runs ?? 5),
  mixed: Number(args.mixed ?? 1_000),
  warmup: Number(args.warmup ?? 300),
  fb_in_flight: Number(args["fb-conns"] ?? 64),
  fb_batch: Number(args["fb-batch"] ?? 100),
  diag: args.diag !== "false",
  transport: "loopback HTTP to the Miniflare URL (mf.ready), keep-alive",
};
const OUT = args.out ?? "bench/results";
const SKIP_BUILD = args["skip-build"] === "true";
/** --build=<dir>: run a worker built elsewhere (e.g. an older commit) instead of building src/worker/index.ts. */
const BUILD = args.build ?? ".cache/bench-loop-build";
const BUILD_NULL = ".cache/bench-loop-build-null-d1";

const log = (...a: unknown[]) => console.log(`[${new Date().toISOString().slice(11, 19)}]`, ...a);

async function main() {
  const t0 = Date.now();
  if (!SKIP_BUILD) {
    if (args.build === undefined) {
      log(`building src/worker/index.ts → ${BUILD}`);
      buildWorker("src/worker/index.ts", BUILD);
    }
    if (P.diag || P.counted) {
      log(`building bench/loop/entry-null-d1.ts → ${BUILD_NULL}`);
      buildWorker("bench/loop/entry-null-d1.ts", BUILD_NULL);
    }
  }
  rmSync(P.persist, { recursive: true, force: true });
  mkdirSync(P.persist, { recursive: true });

  // Every instance's first pool is sized for the largest phase it may run.
  const poolConns = Math.max(P.conns, P.fb_in_flight);
  const instances: Instance[] = [
    P.counted ? await start("on", BUILD_NULL, "entry-null-d1.js", P.persist, poolConns) : await start("on", BUILD, "index.js", P.persist, poolConns),
    await start("off", BUILD, "index.js", null, poolConns),
  ];
  if (P.diag) instances.push(await start("null", BUILD_NULL, "entry-null-d1.js", null, poolConns));
  const [on] = instances;
  for (const i of instances) log(`${i.name}: ${i.url.href} workerd pid ${i.pid ?? "?"}`);

  const allDecisions: Decision[] = [];
  let routeOk = 0;
  let route5xx = 0;
  let routeOther = 0;
  for (const i of instances) {
    const w = await routeRun(i, P.warmup, -1, P.conns);
    log(`warm-up ${i.name}: ${JSON.stringify(w.stats.status_counts)}`);
    if (i.name === "on") {
      allDecisions.push(...w.decisions);
      routeOk += w.stats.ok;
    }
  }

  // Latency: P.runs rounds, the instance order rotated each round so drifts in machine load hit all alike.
  const runs: RouteRun[] = [];
  const decisionsByRun: Decision[][] = [];
  const drains: Drain[] = [];
  for (let r = 0; r < P.runs; r++) {
    const order = instances.map((_, k) => instances[(k + r) % instances.length]);
    for (const inst of order) {
      const { stats, decisions } = await routeRun(inst, P.requests, r, P.conns);
      runs.push(stats);
      route5xx += countWhere(stats.status_counts, isFailure);
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

  const batches = await d1Batches(instances, P.counted);
  if (Object.keys(batches).length) log(`D1 batch() calls during route runs: ${JSON.stringify(batches)}`);

  // Feedback: one single-item post per logged decision of the measured runs, P.fb_in_flight in flight;
  // then the same (decision, model) pairs again in batches (upserts: the row count must not change).
  const feedback: FeedbackRun[] = [];
  const expectedFb = new Set<string>();
  const fbTargets = (ds: Decision[]) => ds.forEach((d) => expectedFb.add(feedbackKey(d.id, d.model)));
  const measured = decisionsByRun.flat();
  if (P.feedback) {
    const [f, accepted] = await feedbackSingle(on, measured, P.fb_in_flight);
    feedback.push(f);
    fbTargets(accepted);
    log(`feedback single ×${f.items} (${f.in_flight} in flight): accepted ${f.accepted} in ${f.wall_s.toFixed(1)} s, p50 ${fmtUs(f.p50_us)} p99 ${fmtUs(f.p99_us)} cpu/item ${f.server_cpu_us_per_item?.toFixed(0)} µs ${JSON.stringify(f.status_counts)}`);
    const b = await feedbackBatch(on, measured, P.fb_in_flight, P.fb_batch, ", repeat (upsert)");
    feedback.push(b);
    log(`feedback ${b.form} ×${b.items}: accepted ${b.accepted} in ${b.wall_s.toFixed(1)} s cpu/item ${b.server_cpu_us_per_item?.toFixed(0)} µs ${JSON.stringify(b.status_counts)}`);
  }

  let mixed: RouteRun | null = null;
  if (P.mixed > 0) {
    const m = await mixedRun(on, P.mixed, P.runs, P.conns, P.fb_in_flight);
    routeOk += m.route.ok;
    routeOther += m.route.requests - m.route.ok;
    route5xx += countWhere(m.route.status_counts, isFailure);
    allDecisions.push(...m.decisions);
    fbTargets(m.accepted);
    mixed = m.route;
    feedback.push(m.feedback);
    log(`mixed: route p50 ${fmtUs(m.route.p50_us)} ${JSON.stringify(m.route.status_counts)}; feedback accepted ${m.feedback.accepted} ${JSON.stringify(m.feedback.status_counts)}`);
  }

  const inD1 = await stored(on.mf, routeOk, allDecisions, expectedFb);
  const result = buildResult({
    t0,
    params: P,
    runs,
    drains,
    routeOk,
    routeOther,
    route5xx,
    d1Batches: batches,
    feedback,
    mixed,
    stored: inD1,
    acceptedUnique: expectedFb.size,
    workerLog: on.stderr.join(""),
  });
  mkdirSync(OUT, { recursive: true });
  writeFileSync(`${OUT}/loop.json`, JSON.stringify(result, null, 2) + "\n");
  writeFileSync(`${OUT}/loop.md`, markdown(result));
  const L = result.latency;
  log(`checks: ${JSON.stringify(result.checks)}`);
  log(`p50 on/off = ${L.p50_ratio_on_off.toFixed(3)} (on ${fmtUs(L.logging_on.p50_us)}, off ${fmtUs(L.logging_off.p50_us)}${L.null_d1 ? `, null-D1 ${fmtUs(L.null_d1.p50_us)}` : ""}); wrote ${OUT}/loop.{json,md} in ${result.total_s.toFixed(0)} s`);
  for (const i of instances) await stop(i);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
