/**
 * /v1/feedback load runs of the decision log load check: one single-item post
 * per decision, the same decisions again in batches, and the mixed run where
 * each decision's feedback is posted the moment its /v1/route reply arrives.
 * Reports what the worker answered; whether it reached D1 is d1.ts's to check.
 * Owned by bench/loop.
 */
import { quantile } from "../loadgen.js";
import { pool, post, type Reply } from "./http.js";
import { cpuNow, fresh, type Instance } from "./instance.js";
import { noteError, statusCounts, type Decision } from "./replies.js";
import { routeRun, type RouteRun } from "./route.js";

export interface FeedbackRun {
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
  let accepted = 0;
  for (const r of replies) {
    noteError(r);
    if (r.status === 200) accepted += JSON.parse(r.body).accepted;
  }
  const status_counts = statusCounts(replies);
  const us = replies.map((r) => r.us);
  const error_samples = replies.filter((r) => r.status !== 200).slice(0, 3).map((r) => (r.status === 0 ? `transport: ${r.error}` : r.body.slice(0, 600)));
  return { error_samples, form, items, posts: replies.length, in_flight: inFlight, accepted, status_counts, wall_s, items_per_s: items / wall_s, p50_us: quantile(us, 0.5), p99_us: quantile(us, 0.99), server_cpu_us_per_item: cpu_us === null || !Number.isFinite(cpu_us) ? null : cpu_us / items };
}

/** One post per decision, `fbConns` in flight. Returns the run and the decisions whose post was accepted. */
export async function feedbackSingle(inst: Instance, ds: Decision[], fbConns: number): Promise<[FeedbackRun, Decision[]]> {
  fresh(inst, fbConns);
  const c0 = cpuNow(inst);
  const { results, wall_s } = await pool(ds.length, fbConns, (i) => post(inst.agent, inst.url, "/v1/feedback", JSON.stringify(feedbackBody(ds[i], i))));
  return [fbStats("single", ds.length, fbConns, results, wall_s, inst.pid ? cpuNow(inst) - c0 : null), ds.filter((_, i) => results[i].status === 200)];
}

/** The decisions in posts of `fbBatch` items each, at most 16 posts in flight. */
export async function feedbackBatch(inst: Instance, ds: Decision[], fbConns: number, fbBatch: number, note = ""): Promise<FeedbackRun> {
  fresh(inst, fbConns);
  const c0 = cpuNow(inst);
  const batches: Decision[][] = [];
  for (let i = 0; i < ds.length; i += fbBatch) batches.push(ds.slice(i, i + fbBatch));
  const inFlight = Math.min(16, fbConns);
  const { results, wall_s } = await pool(batches.length, inFlight, (i) =>
    post(inst.agent, inst.url, "/v1/feedback", JSON.stringify({ items: batches[i].map((d, k) => feedbackBody(d, k)) })),
  );
  return fbStats(`batch of ${fbBatch}${note}`, ds.length, inFlight, results, wall_s, inst.pid ? cpuNow(inst) - c0 : null);
}

export interface MixedRun {
  route: RouteRun;
  /** Decisions of the route calls' 200s. */
  decisions: Decision[];
  feedback: FeedbackRun;
  /** Decisions whose feedback post was accepted. */
  accepted: Decision[];
}

/**
 * `n` route calls at `conns` connections, each decision's feedback posted as soon as
 * its response arrives (≤ `fbConns` in flight), so feedback races the logger queue
 * and the D1 batches.
 */
export async function mixedRun(inst: Instance, n: number, run: number, conns: number, fbConns: number): Promise<MixedRun> {
  const fbReplies: Promise<Reply>[] = [];
  let inFlight = 0;
  const waiters: (() => void)[] = [];
  const fbDs: Decision[] = [];
  const fb0 = process.hrtime.bigint();
  const { stats, decisions } = await routeRun(inst, n, run, conns, {
    fbConns,
    onDecision: (d) => {
      fbDs.push(d);
      const k = fbDs.length;
      fbReplies.push(
        (async () => {
          while (inFlight >= fbConns) await new Promise<void>((r) => waiters.push(r));
          inFlight++;
          try {
            return await post(inst.agent, inst.url, "/v1/feedback", JSON.stringify(feedbackBody(d, k)));
          } finally {
            inFlight--;
            waiters.shift()?.();
          }
        })(),
      );
    },
  });
  const replies = await Promise.all(fbReplies);
  const fbWall = Number(process.hrtime.bigint() - fb0) / 1e9;
  return {
    route: stats,
    decisions,
    feedback: fbStats("single, concurrent with routing", fbDs.length, fbConns, replies, fbWall),
    // Only accepted feedback must be stored; rejected posts are reported as failures of their own.
    accepted: fbDs.filter((_, k) => replies[k].status === 200),
  };
}
