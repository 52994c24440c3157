/**
 * Result of the decision log load check: medians over runs, the on/off p50
 * ratios, the pass/miss checks, and the object written to loop.json (its key
 * order is the file's). Pure computation over what the runs collected (plus
 * the clock and load average it stamps): no load, no D1, no files. Owned by
 * bench/loop.
 */
import { cpus, loadavg } from "node:os";
import type { FeedbackRun } from "./feedback.js";
import type { Stored } from "./d1.js";
import { median } from "./http.js";
import { countWhere, isFailure, transportErrors } from "./replies.js";
import type { RouteRun } from "./route.js";

/** The run's settings as loop.json records them. */
export interface Params {
  counted: boolean;
  feedback: boolean;
  persist: string;
  requests: number;
  conns: number;
  runs: number;
  mixed: number;
  warmup: number;
  fb_in_flight: number;
  fb_batch: number;
  diag: boolean;
  transport: string;
}

/** Decisions visible in D1 after one logging-on run. */
export interface Drain {
  run: number;
  expected: number;
  found: number;
  lag_ms: number;
}

/** What main() gathered over all phases. */
export interface Collected {
  /** Date.now() at the start of main(). */
  t0: number;
  params: Params;
  runs: RouteRun[];
  drains: Drain[];
  routeOk: number;
  routeOther: number;
  route5xx: number;
  d1Batches: Record<string, unknown>;
  feedback: FeedbackRun[];
  mixed: RouteRun | null;
  stored: Stored;
  /** Distinct (decision, model) pairs whose feedback was accepted. */
  acceptedUnique: number;
  /** stdout+stderr of the logging-on workerd. */
  workerLog: string;
}

function summary(runs: RouteRun[], name: RouteRun["instance"]) {
  const rs = runs.filter((r) => r.instance === name);
  if (rs.length === 0) return null;
  return {
    runs: rs.length,
    p50_us: median(rs.map((r) => r.p50_us)),
    p99_us: median(rs.map((r) => r.p99_us)),
    min_us: Math.min(...rs.map((r) => r.min_us)),
    rps: median(rs.map((r) => r.rps)),
    server_cpu_us_per_req: rs.some((r) => r.server_cpu_us_per_req !== null) ? median(rs.filter((r) => r.server_cpu_us_per_req !== null).map((r) => r.server_cpu_us_per_req!)) : null,
  };
}

export type Summary = NonNullable<ReturnType<typeof summary>>;

export function buildResult(c: Collected) {
  const S = c.stored;
  const fb5xx = c.feedback.reduce((s, f) => s + countWhere(f.status_counts, isFailure), 0);
  const fbNon200 = c.feedback.reduce((s, f) => s + countWhere(f.status_counts, (k) => k !== "200"), 0);
  const lostLogLines = c.workerLog.split("\n").filter((l) => /records lost/.test(l));

  const sOn = summary(c.runs, "on")!;
  const sOff = summary(c.runs, "off")!;
  const sNull = summary(c.runs, "null");
  const p50Of = (r: number, name: RouteRun["instance"]) => c.runs.find((x) => x.run === r && x.instance === name)!.p50_us;
  const pairRatios = Array.from({ length: c.params.runs }, (_, r) => p50Of(r, "on") / p50Of(r, "off"));
  const ratio = sOn.p50_us / sOff.p50_us;

  const checks = {
    decisions_count_matches: S.decision_count === c.routeOk,
    every_decision_id_present: S.missing_decisions.length === 0,
    feedback_count_matches: S.feedback_count === c.acceptedUnique,
    every_feedback_present: S.missing_feedback === 0,
    all_feedback_accepted: fbNon200 === 0,
    no_5xx: c.route5xx === 0 && fb5xx === 0,
    route_p50_within_10pct: ratio <= 1.1,
  };
  const result = {
    generated_at: new Date().toISOString(),
    command: `npx tsx bench/loop/run.ts ${process.argv.slice(2).join(" ")}`.trim(),
    machine: { cpus: cpus().length, loadavg_at_end: loadavg(), node: process.version },
    params: c.params,
    checks,
    latency: { logging_on: sOn, logging_off: sOff, null_d1: sNull, p50_ratio_on_off: ratio, p50_ratio_per_round: pairRatios, p50_ratio_null_off: sNull ? sNull.p50_us / sOff.p50_us : null },
    storage: {
      route_200: c.routeOk,
      route_non_200: c.routeOther,
      route_5xx_or_transport: c.route5xx,
      transport_errors: transportErrors,
      decisions_in_d1: S.decision_count,
      missing_decision_ids: S.missing_decisions.length,
      missing_examples: S.missing_decisions.slice(0, 5),
      duplicate_decision_ids_returned: S.duplicate_ids,
      drain: c.drains,
      final_wait_ms: S.final_wait_ms,
      feedback_unique_accepted: c.acceptedUnique,
      feedback_rows_in_d1: S.feedback_count,
      missing_feedback: S.missing_feedback,
      feedback_non_200: fbNon200,
      feedback_5xx_or_transport: fb5xx,
      logger_lost_lines: lostLogLines.length,
      worker_log_tail: c.workerLog.slice(-3000),
    },
    d1_batches_during_route_runs: c.d1Batches,
    feedback: c.feedback,
    mixed: c.mixed,
    runs: c.runs,
    total_s: (Date.now() - c.t0) / 1000,
  };
  return result;
}

export type LoopResult = ReturnType<typeof buildResult>;
