/**
 * `gate` (issue 19 item 5, docs/loop.md "Gate"): before a candidate bundle
 * sees traffic, replay every logged prompt through the candidate's and the
 * current bundle's scoring and policy (scripts/lib/ope/replay.ts: the
 * worker's core path), estimate both policies' success, cost and utility
 * from the ε-greedy log with IPS and doubly-robust estimators (DR's outcome
 * model is the current bundle's calibrated p and expected cost, never the
 * candidate's), and say promote / don't promote by the rule in
 * scripts/lib/ope/gate-estimate.ts. Must not change aliases or bundles: the
 * canary and the alias flip are separate, deliberate steps.
 */
import { z } from "zod";
import { formatMessages } from "../../src/core/messages.js";
import { Policy } from "../../src/core/policy.js";
import type { OutcomeRow } from "../formats/outcomes.js";
import { DEFAULT_RULE, GateEstimate, gateEstimate, type GateRow } from "../lib/ope/gate-estimate.js";
import { Replayer, type BundleFiles } from "../lib/ope/replay.js";

export const GateReport = GateEstimate.extend({
  candidate_bundle: z.object({ id: z.string(), sha256: z.string().nullable() }),
  current_bundle: z.object({ id: z.string(), sha256: z.string().nullable() }),
  rows: z.object({
    read: z.number().int(),
    usable: z.number().int(),
    no_logged_block: z.number().int(),
    no_text: z.number().int(),
    cost_from_bundle: z.number().int().meta({ description: "rows without a logged cost_usd: the current bundle's expected cost of the called model stands in" }),
  }),
  policy: z.string().meta({ description: "'logged' (each row's own policy) or the one policy given" }),
});
export type GateReport = z.infer<typeof GateReport>;

export interface GateInput {
  candidate: BundleFiles;
  current: BundleFiles;
  rows: OutcomeRow[];
  /** utility = success − λ·cost; default: the λ every logged row's utility policy shares (an error if they do not). */
  lambda?: number;
  /** "logged": replay each row under the policy it was routed with; or one policy for every row. */
  policy?: "logged" | Policy;
  successMargin?: number;
  minRows?: number;
  /** Replayers already open for these bundles (the simulator reuses them). */
  replayers?: { candidate: Replayer; current: Replayer };
}

function lambdaOf(rows: OutcomeRow[], policies: Policy[]): number {
  const ls = new Set(policies.map((p) => (p.type === "utility" && p.lambda !== undefined ? p.lambda : null)));
  const [only] = ls;
  if (ls.size !== 1 || only === null || only === undefined) {
    throw new Error(`gate: the ${rows.length} logged rows do not share one utility λ (policies: ${[...new Set(policies.map((p) => JSON.stringify(p)))].slice(0, 3).join(", ")}); pass --lambda`);
  }
  return only;
}

export async function runGate(input: GateInput): Promise<GateReport> {
  const usable: { row: OutcomeRow & { logged: NonNullable<OutcomeRow["logged"]> }; text: string }[] = [];
  let noLogged = 0;
  let noText = 0;
  for (const r of input.rows) {
    if (!r.logged || r.outcomes[r.logged.chosen] === undefined) noLogged++;
    else if (r.prompt === undefined && r.messages === undefined) noText++;
    else usable.push({ row: r as OutcomeRow & { logged: NonNullable<OutcomeRow["logged"]> }, text: r.prompt ?? formatMessages(r.messages!) });
  }
  // A model outside the current pool has no outcome model and was never logged: its value would read as 0.
  const known = new Set(input.current.manifest.pool.map((m) => m.id));
  const unknown = input.candidate.manifest.pool.map((m) => m.id).filter((m) => !known.has(m));
  if (unknown.length > 0) throw new Error(`gate: the candidate's pool has models the current bundle's lacks (${unknown.join(", ")}): the log cannot value them`);
  const cand = input.replayers?.candidate ?? (await Replayer.open(input.candidate));
  const cur = input.replayers?.current ?? (await Replayer.open(input.current));
  const mode = input.policy ?? "logged";
  const policies = usable.map(({ row }) => {
    if (mode !== "logged") return mode;
    const p = Policy.safeParse(row.logged.policy);
    if (!p.success) throw new Error(`gate: row ${row.id} has no valid logged policy; pass --policy`);
    return p.data;
  });
  const lambda = input.lambda ?? lambdaOf(usable.map((u) => u.row), policies);
  const texts = usable.map((u) => u.text);
  const [a, b] = [await cand.route(texts, policies), await cur.route(texts, policies)];
  let costFromBundle = 0;
  const rows: GateRow[] = usable.map(({ row }, i) => {
    const o = row.outcomes[row.logged.chosen];
    const qP: Record<string, number> = {};
    const qC: Record<string, number> = {};
    for (const c of b[i].cands) {
      qP[c.model] = c.p;
      qC[c.model] = c.cost;
    }
    if (o.cost_usd === undefined) costFromBundle++;
    return {
      action: row.logged.chosen,
      propensity: row.logged.propensity,
      success: o.k / o.n,
      cost: o.cost_usd ?? qC[row.logged.chosen] ?? 0,
      candidate: a[i].greedy,
      current: b[i].greedy,
      qP,
      qC,
      // Realised value of the current bundle: only the rows it logged itself.
      byCurrent: row.logged.bundle_id === cur.id,
    };
  });
  const est = gateEstimate(rows, { ...DEFAULT_RULE, lambda, ...(input.successMargin !== undefined ? { success_margin: input.successMargin } : {}), ...(input.minRows !== undefined ? { min_rows: input.minRows } : {}) },
  );
  return {
    ...est,
    candidate_bundle: { id: cand.id, sha256: input.candidate.sha256 ?? null },
    current_bundle: { id: cur.id, sha256: input.current.sha256 ?? null },
    rows: { read: input.rows.length, usable: usable.length, no_logged_block: noLogged, no_text: noText, cost_from_bundle: costFromBundle },
    policy: mode === "logged" ? "logged" : JSON.stringify(mode),
  };
}

/** A short human summary of a gate report (the command prints it). */
export function formatGate(r: GateReport): string {
  const f = (e: { value: number | null; lo: number | null; hi: number | null }, d = 4) =>
    e.value === null ? "n/a" : `${e.value.toFixed(d)} [${e.lo!.toFixed(d)}, ${e.hi!.toFixed(d)}]`;
  const lines = [
    `gate: candidate ${r.candidate_bundle.id} vs current ${r.current_bundle.id} on ${r.n} logged rows (λ = ${r.rule.lambda}, policy ${r.policy})`,
    `                 success (DR)            cost USD (DR)                    utility (DR)            utility (IPS)`,
    `candidate        ${f(r.candidate.dr.success)}  ${f(r.candidate.dr.cost, 7)}  ${f(r.candidate.dr.utility)}  ${f(r.candidate.ips.utility)}`,
    `current          ${f(r.current.dr.success)}  ${f(r.current.dr.cost, 7)}  ${f(r.current.dr.utility)}  ${f(r.current.ips.utility)}`,
    `difference       ${f(r.difference.dr.success)}  ${f(r.difference.dr.cost, 7)}  ${f(r.difference.dr.utility)}  ${f(r.difference.ips.utility)}`,
    `current realised (its own ${r.realised_current.n} rows, with exploration): success ${f(r.realised_current.success)}, utility ${f(r.realised_current.utility)}`,
    `decision: ${r.promote ? "PROMOTE" : "DON'T PROMOTE"}: ${r.reasons.join("; ")}`,
  ];
  return lines.join("\n");
}
