/**
 * Markdown rendering of the decision log load check (loop.md) and the µs/ms
 * formatting its log lines share. Pure formatting of a finished result: no
 * I/O, no computation of checks. Owned by bench/loop.
 */
import type { LoopResult, Summary } from "./results.js";

export const fmtUs = (us: number) => (us >= 1000 ? `${(us / 1000).toFixed(2)} ms` : `${Math.round(us)} µs`);

export function markdown(r: LoopResult): string {
  const yes = (b: boolean) => (b ? "met" : "**MISS**");
  const L = r.latency;
  const row = (name: string, s: Summary | null) =>
    s ? `| ${name} | ${s.runs} | ${fmtUs(s.p50_us)} | ${fmtUs(s.p99_us)} | ${fmtUs(s.min_us)} | ${s.rps.toFixed(0)} | ${s.server_cpu_us_per_req === null ? "—" : fmtUs(s.server_cpu_us_per_req)} |` : "";
  const S = r.storage;
  return `# Decision log load check

Generated ${r.generated_at} by \`${r.command}\` (${r.total_s.toFixed(0)} s). Method and machine: [../README.md](../README.md#decision-log-load-check).
${r.params.requests} \`/v1/route\` calls per run at ${r.params.conns} keep-alive connections, ${r.params.runs} runs per configuration (instances alternated), ${r.params.transport}.
Load average at the end: ${r.machine.loadavg_at_end.map((x) => x.toFixed(1)).join(" / ")} on ${r.machine.cpus} CPUs.

## Checks

| check | result | |
|---|---|---|
| decisions in D1 = route 200s | ${S.decisions_in_d1} / ${S.route_200} | ${yes(r.checks.decisions_count_matches)} |
| every returned decision_id in D1 | ${S.missing_decision_ids} missing | ${yes(r.checks.every_decision_id_present)} |
| feedback rows = accepted (decision, model) pairs | ${S.feedback_rows_in_d1} / ${S.feedback_unique_accepted} | ${yes(r.checks.feedback_count_matches)} |
| every accepted feedback in D1 | ${S.missing_feedback} missing | ${yes(r.checks.every_feedback_present)} |
| every feedback post accepted | ${S.feedback_non_200} non-200 | ${yes(r.checks.all_feedback_accepted)} |
| no 5xx / transport errors | route ${S.route_5xx_or_transport}, feedback ${S.feedback_5xx_or_transport} | ${yes(r.checks.no_5xx)} |
| route p50 logging on ≤ 1.10 × off | ${L.p50_ratio_on_off.toFixed(3)} (per round: ${L.p50_ratio_per_round.map((x) => x.toFixed(3)).join(", ")}) | ${yes(r.checks.route_p50_within_10pct)} |

## /v1/route latency (median over runs; min = min over runs)

| configuration | runs | p50 | p99 | min | req/s | workerd CPU/req |
|---|---|---|---|---|---|---|
${row("logging off (no DB)", L.logging_off)}
${row("logging on (D1)", L.logging_on)}
${L.null_d1 ? row("logging on, stub DB (diag)", L.null_d1) : ""}

Per run:

| run | config | p50 | p99 | req/s | workerd CPU/req | statuses |
|---|---|---|---|---|---|---|
${r.runs.map((x) => `| ${x.run} | ${x.instance} | ${fmtUs(x.p50_us)} | ${fmtUs(x.p99_us)} | ${x.rps.toFixed(0)} | ${x.server_cpu_us_per_req === null ? "—" : fmtUs(x.server_cpu_us_per_req)} | ${JSON.stringify(x.status_counts)} |`).join("\n")}
${r.mixed ? `| mixed | on + feedback | ${fmtUs(r.mixed.p50_us)} | ${fmtUs(r.mixed.p99_us)} | ${r.mixed.rps.toFixed(0)} | ${r.mixed.server_cpu_us_per_req === null ? "—" : fmtUs(r.mixed.server_cpu_us_per_req)} | ${JSON.stringify(r.mixed.status_counts)} |` : ""}

Decision drain (rows visible after each logging-on run): ${S.drain.map((d) => `${d.found}/${d.expected} after ${d.lag_ms} ms`).join("; ")}.

## Feedback

| form | items | posts | in flight | accepted | wall | items/s | p50 | p99 | workerd CPU/item | statuses |
|---|---|---|---|---|---|---|---|---|---|---|
${r.feedback.map((f) => `| ${f.form} | ${f.items} | ${f.posts} | ${f.in_flight} | ${f.accepted} | ${f.wall_s.toFixed(1)} s | ${f.items_per_s.toFixed(0)} | ${fmtUs(f.p50_us)} | ${fmtUs(f.p99_us)} | ${f.server_cpu_us_per_item === null ? "—" : fmtUs(f.server_cpu_us_per_item)} | ${JSON.stringify(f.status_counts)} |`).join("\n")}
`;
}
