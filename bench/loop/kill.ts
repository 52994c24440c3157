/**
 * Decision log kill check (`npx tsx bench/loop/kill.ts`): are acknowledged
 * decisions still in D1 after the worker process dies mid-load?
 *
 * Per trial: the production worker (src/worker/index.ts, or --build=<dir>) in
 * real workerd with a persisted local D1, a production-like config (AUTH=
 * required, two API keys, PROMPT_HMAC_KEY, an experiment bucketed by
 * sequential unit ids), closed-loop load over loopback HTTP from both keys,
 * half the connections sending /v1/route and half /v1/route/batch; each
 * single decision's feedback is posted by the same key as soon as its 200
 * arrives (feedback racing the log is what tripped workerd's cross-request
 * checks in the old logger). After
 * --load-ms the workerd process gets SIGKILL (hard kill) or SIGTERM (graceful
 * stop). The D1 directory is then reopened by a fresh workerd and every
 * decision_id of a 200 is looked up. Lost = acknowledged but absent; each is
 * timed against the kill (target: none older than 100 ms; batches whole);
 * accepted feedback is checked the same way.
 * The worker's log is scanned for hung-code and cross-request warnings.
 * Writes bench/results/kill.{json,md} (or --out). Owned by bench/loop.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createHash } from "node:crypto";
import { cpus, loadavg } from "node:os";
import { Miniflare } from "miniflare";
import { buildWorker } from "../../scripts/lib/worker-build.js";
import { pool, post, prompt } from "./http.js";
import { D1_ID, start, stop } from "./instance.js";

const args = Object.fromEntries(
  process.argv.slice(2).map((a) => {
    const [k, v] = a.replace(/^--/, "").split("=");
    return [k, v ?? "true"];
  }),
);
const BUILD = args.build ?? ".cache/bench-kill-build";
const SIGNALS = (args.signals ?? "SIGKILL,SIGTERM").split(",") as NodeJS.Signals[];
const LOAD_MS = Number(args["load-ms"] ?? 6_000);
const CONNS = Number(args.conns ?? 16);
const BATCH = Number(args.batch ?? 10);
const OUT = args.out ?? "bench/results";
const PERSIST = ".cache/bench-kill-d1";

const sha = (s: string) => createHash("sha256").update(s).digest("hex");
const KEYS = [
  { id: "tenant-a", sha256: sha("kill-key-a"), scopes: ["route", "feedback"] },
  { id: "tenant-b", sha256: sha("kill-key-b"), scopes: ["route", "feedback"] },
];
const BINDINGS = {
  AUTH: "required",
  API_KEYS: JSON.stringify(KEYS),
  PROMPT_HMAC_KEY: "bench-kill-hmac-key-0123456789-abcdef",
  EXPERIMENTS: JSON.stringify([{ name: "seq", variants: [{ name: "control", weight: 1, policy: { type: "threshold", min_p: 0.5 } }, { name: "treatment", weight: 1, policy: { type: "threshold", min_p: 0.7 } }] }]),
};
/** Lines workerd prints when a request waits on I/O or promises of another request, or hangs. */
const WARNING = /hung|cross-request|different request|another request|Cannot perform I\/O/i;

const log = (...a: unknown[]) => console.log(`[${new Date().toISOString().slice(11, 19)}]`, ...a);
const nowMs = () => Number(process.hrtime.bigint()) / 1e6;

interface Ack {
  ids: string[];
  at: number;
}

async function storedIds(persist: string): Promise<{ decisions: Set<string>; feedback: Set<string> }> {
  // A fresh workerd on the same directory: what a restarted process would find.
  const mf = new Miniflare({ modules: true, script: "export default { fetch() { return new Response('') } }", d1Databases: { DB: D1_ID }, d1Persist: persist, cf: false });
  try {
    const db = await mf.getD1Database("DB");
    const ids = async (table: string) => new Set((await db.prepare(`SELECT decision_id FROM ${table}`).all<{ decision_id: string }>()).results.map((r) => r.decision_id));
    return { decisions: await ids("decisions"), feedback: await ids("feedback") };
  } finally {
    await mf.dispose();
  }
}

/** Running (a zombie, exited but not yet reaped by Miniflare, counts as gone). */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return false;
  }
}

async function trial(signal: NodeJS.Signals) {
  rmSync(PERSIST, { recursive: true, force: true });
  mkdirSync(PERSIST, { recursive: true });
  const inst = await start("on", BUILD, "index.js", PERSIST, CONNS, BINDINGS);
  if (!inst.pid) throw new Error("cannot tell which workerd process to signal");
  const acks: Ack[] = [];
  const feedbackAcks: Ack[] = [];
  const feedbackStatuses: Record<string, number> = {};
  const statuses: Record<string, number> = {};
  /** First reply body (or transport error) per non-200 status. */
  const samples: Record<string, string> = {};
  let unit = 0;
  let killedAt = Infinity;
  let sent = 0;
  // Warm-up (its decisions count as acknowledged too), then load until the signal.
  const warm = await pool(40, 4, (i) => post(inst.agent, inst.url, "/v1/route", JSON.stringify({ prompt: prompt(i) }), { authorization: "Bearer kill-key-a" }));
  for (const r of warm.results) if (r.status === 200) acks.push({ ids: [JSON.parse(r.body).decision_id], at: nowMs() });
  const t0 = nowMs();
  const slot = async (s: number) => {
    const headers = { authorization: `Bearer kill-key-${s % 2 ? "b" : "a"}`, "x-preflight-experiment": "seq" };
    const batch = s % 4 >= 2;
    // After the signal no new call starts (as behind a draining load balancer); calls in flight finish or fail.
    while (nowMs() < killedAt) {
      const n = sent++;
      const body = batch ? { requests: Array.from({ length: BATCH }, (_, j) => ({ prompt: prompt(n * BATCH + j) })) } : { prompt: prompt(n) };
      const r = await post(inst.agent, inst.url, batch ? "/v1/route/batch" : "/v1/route", JSON.stringify(body), { ...headers, "x-preflight-unit": String(unit++) });
      const at = nowMs();
      statuses[r.status] = (statuses[r.status] ?? 0) + 1;
      if (r.status !== 200) samples[r.status] ??= `${at >= killedAt ? "after" : "before"} the signal: ${r.error ?? r.body.slice(0, 300)}`;
      if (r.status === 200) {
        const b = JSON.parse(r.body);
        acks.push({ ids: batch ? b.results.map((x: { decision_id: string }) => x.decision_id) : [b.decision_id], at });
        if (!batch && nowMs() < killedAt) {
          const f = await post(inst.agent, inst.url, "/v1/feedback", JSON.stringify({ decision_id: b.decision_id, model: b.decision.model ?? b.candidates[0].model, success: n % 3 > 0 }), headers);
          feedbackStatuses[f.status] = (feedbackStatuses[f.status] ?? 0) + 1;
          if (f.status === 200) feedbackAcks.push({ ids: [b.decision_id], at: nowMs() });
          else if (nowMs() >= killedAt) return;
          else samples[`feedback ${f.status}`] ??= f.error ?? f.body.slice(0, 300);
        }
      } else if (at >= killedAt) return;
    }
  };
  const slots = Array.from({ length: CONNS }, (_, s) => slot(s));
  await new Promise((r) => setTimeout(r, LOAD_MS));
  killedAt = nowMs();
  process.kill(inst.pid, signal);
  await Promise.all(slots);
  const deadline = Date.now() + 15_000;
  while (alive(inst.pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  const exitedMs = nowMs() - killedAt;
  await stop(inst).catch(() => undefined);
  const { decisions: stored, feedback: storedFeedback } = await storedIds(PERSIST);
  const lostFeedback = feedbackAcks.filter((a) => !storedFeedback.has(a.ids[0])).map((a) => killedAt - a.at);
  const ackedIds = acks.flatMap((a) => a.ids);
  const lost = acks.flatMap((a) => a.ids.filter((id) => !stored.has(id)).map(() => killedAt - a.at));
  const acked = new Set(ackedIds);
  const workerLog = inst.stderr.join("");
  const warnings = workerLog.split("\n").filter((l) => WARNING.test(l));
  const partialBatches = acks.filter((a) => a.ids.length > 1 && a.ids.some((id) => stored.has(id)) && a.ids.some((id) => !stored.has(id))).length;
  return {
    signal,
    load_ms: Math.round(killedAt - t0),
    process_exit_ms_after_signal: Math.round(exitedMs),
    statuses,
    error_samples: samples,
    acknowledged_calls: acks.length,
    /** Calls answered 200 after the signal (workerd drains open connections on SIGTERM). */
    acknowledged_after_signal: acks.filter((a) => a.at >= killedAt).length,
    acknowledged_decisions: ackedIds.length,
    rows_in_d1: stored.size,
    lost: lost.length,
    lost_acked_within_100ms_of_signal: lost.filter((ms) => ms >= 0 && ms <= 100).length,
    lost_acked_earlier: lost.filter((ms) => ms > 100).length,
    lost_acked_after_signal: lost.filter((ms) => ms < 0).length,
    oldest_lost_ms_before_signal: lost.length ? Math.round(Math.max(...lost)) : null,
    partially_stored_batches: partialBatches,
    stored_but_not_acknowledged: [...stored].filter((id) => !acked.has(id)).length,
    feedback_statuses: feedbackStatuses,
    feedback_accepted: feedbackAcks.length,
    feedback_lost: lostFeedback.length,
    feedback_lost_older_than_100ms: lostFeedback.filter((ms) => ms > 100).length,
    worker_log_warnings: warnings.length,
    warning_examples: [...new Set(warnings.map((l) => l.slice(0, 200)))].slice(0, 3),
  };
}

type Trial = Awaited<ReturnType<typeof trial>>;

function markdown(trials: Trial[], command: string): string {
  const row = (t: Trial) =>
    `| ${t.signal} | ${t.load_ms} | ${t.acknowledged_calls} | ${t.acknowledged_decisions} | ${t.rows_in_d1} | **${t.lost}** (${t.lost_acked_within_100ms_of_signal} acked ≤ 100 ms before the signal, ${t.lost_acked_earlier} earlier, ${t.lost_acked_after_signal} after${t.oldest_lost_ms_before_signal === null ? "" : `; oldest ${t.oldest_lost_ms_before_signal} ms`}) | ${t.partially_stored_batches} | ${t.stored_but_not_acknowledged} | ${t.feedback_accepted} / ${t.feedback_lost} lost | ${t.worker_log_warnings} | ${JSON.stringify(t.statuses)} |`;
  return `# Decision log kill check

Generated ${new Date().toISOString()} by \`${command}\`. Load average at the end: ${loadavg().map((x) => x.toFixed(1)).join(" / ")} on ${cpus().length} CPUs.
${CONNS} keep-alive connections (half /v1/route, each followed by its feedback, half /v1/route/batch of ${BATCH}), two API keys, experiment \`seq\` with sequential unit ids; signal after ≈ ${LOAD_MS} ms of load. Method: \`bench/README.md\`, section "Decision log kill check".

| signal | load ms | acknowledged calls | acknowledged decisions | rows in D1 after restart | lost | batches stored in part | stored, not acknowledged | feedback accepted / lost | hung / cross-request warnings | route statuses |
|---|---|---|---|---|---|---|---|---|---|---|
${trials.map(row).join("\n")}
`;
}

async function main() {
  if (args.build === undefined) {
    log(`building src/worker/index.ts → ${BUILD}`);
    buildWorker("src/worker/index.ts", BUILD);
  }
  const trials: Trial[] = [];
  for (const s of SIGNALS) {
    const t = await trial(s);
    log(JSON.stringify(t));
    trials.push(t);
  }
  const command = `npx tsx bench/loop/kill.ts ${process.argv.slice(2).join(" ")}`.trim();
  mkdirSync(OUT, { recursive: true });
  writeFileSync(`${OUT}/kill.json`, JSON.stringify({ generated_at: new Date().toISOString(), command, conns: CONNS, batch: BATCH, load_ms: LOAD_MS, build: BUILD, trials }, null, 2) + "\n");
  writeFileSync(`${OUT}/kill.md`, markdown(trials, command));
  log(`wrote ${OUT}/kill.{json,md}`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
