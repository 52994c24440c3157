/**
 * /v1/route load runs of the decision log load check: a closed loop of
 * /v1/route calls against one instance, with latency, throughput and workerd
 * CPU per request, and the decisions of the 200s. Never reads D1; the caller
 * decides which runs are verified. Owned by bench/loop.
 */
import { quantile, type RunResult } from "../loadgen.js";
import { pool, post, prompt } from "./http.js";
import { cpuNow, fresh, type Instance } from "./instance.js";
import { noteError, statusCounts, type Decision } from "./replies.js";

/** The latency fields are loadgen's, so both benches report one shape. */
export interface RouteRun extends Pick<RunResult, "requests" | "wall_s" | "rps" | "min_us" | "p50_us" | "p99_us" | "mean_us" | "server_cpu_us_per_req"> {
  instance: Instance["name"];
  run: number;
  ok: number;
  status_counts: Record<string, number>;
}

/** Feedback posted alongside a route run: its pool needs room for those connections too. */
export interface Alongside {
  fbConns: number;
  onDecision: (d: Decision) => void;
}

// Shared across instances and runs so that no two calls of one bench send the same prompt.
let promptSeq = 0;

/** Closed loop: `conns` connections, `n` /v1/route calls; decisions of 200s collected. */
export async function routeRun(inst: Instance, n: number, run: number, conns: number, alongside?: Alongside): Promise<{ stats: RouteRun; decisions: Decision[] }> {
  const decisions: Decision[] = [];
  fresh(inst, alongside ? conns + alongside.fbConns : conns);
  const cpu0 = cpuNow(inst);
  const base = promptSeq;
  promptSeq += n;
  const { results, wall_s } = await pool(n, conns, async (i) => {
    const r = await post(inst.agent, inst.url, "/v1/route", JSON.stringify({ prompt: prompt(base + i) }));
    noteError(r);
    if (r.status === 200) {
      const b = JSON.parse(r.body);
      const d = { id: b.decision_id as string, model: (b.decision?.model ?? b.candidates?.[0]?.model) as string };
      decisions.push(d);
      alongside?.onDecision(d);
    }
    return { us: r.us, status: r.status };
  });
  const cpu1 = cpuNow(inst);
  const us = results.map((r) => r.us);
  return {
    decisions,
    stats: {
      instance: inst.name,
      run,
      requests: n,
      ok: decisions.length,
      status_counts: statusCounts(results),
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
