/**
 * The simulator's records and report: per seed and round what was sent and
 * stored, every bundle's true value, the gate's estimates and decision, the
 * canary; the summary against issue 19's targets (recovery of the gap to the
 * oracle with a t interval over seeds, gate coverage, refusal of the
 * inverted-label candidate, IPS vs unweighted); written as markdown, JSON
 * and one SVG plot. Must not run the loop.
 */
import { readFile, writeFile } from "node:fs/promises";
import type { Interval } from "../../src/core/report/stats.js";
import type { Estimate } from "../../src/core/report/ope.js";
import { colour, frame, legend, linearScale, px, svgDoc } from "../lib/plots/axes.js";

export interface Value {
  success: number;
  cost: number;
  utility: number;
}

export interface GateSummary {
  promote: boolean;
  reasons: string[];
  n: number;
  dr_utility: Estimate;
  ips_utility: Estimate;
  dr_success: Estimate;
  dr_difference_utility: Estimate;
  ips_difference_utility: Estimate;
  current_dr_utility: Estimate;
  realised_current_utility: Estimate;
  disagree_rate: number | null;
  /** True utility on the gate's prompt population (its estimand), and the true candidate − current difference there. */
  true_utility: number;
  true_difference: number;
  covers_true: { dr: boolean; ips: boolean };
  covers_difference: { dr: boolean };
  /** Against the held-out evaluation traffic instead (another finite sample of the same mix). */
  covers_evaluation: { dr: boolean };
}

export interface RoundRecord {
  seed: number;
  round: number;
  sent: { decisions: number; feedback: number };
  stored: { pulled: number; no_feedback: number; train_rows: number; gate_rows_total: number; train_logs: number };
  true: Record<"current_before" | "candidate" | "candidate_unweighted" | "inverted" | "round0" | "oracle" | "current_after", Value>;
  gate: { candidate: GateSummary; inverted: GateSummary };
  canary: { requests: number; weight: number; control: { n: number; utility: Interval }; candidate: { n: number; utility: Interval }; difference: Interval; harmful: boolean } | null;
  promoted: boolean;
}

export interface SeedRecord {
  seed: number;
  prompts: { base: number; traffic_train: number; traffic_gate: number; evaluation: number };
  mix: Record<"base" | "traffic" | "evaluation", { heavy: number; other: number; heavy_share: number }>;
  round0: Value;
  oracle: Value;
  final: Value;
  final_bundle: string;
  recovery: number | null;
  rounds: RoundRecord[];
}

export interface Summary {
  recovery: { per_seed: (number | null)[]; mean: number | null; lo: number | null; hi: number | null; met: boolean };
  coverage: { dr: number; ips: number; difference_dr: number; evaluation_dr: number; inverted_dr: number; n: number; met: boolean };
  inverted_refused: { rounds: number; refused: number; every_seed: boolean };
  weighting: { mean_ips_minus_unweighted: number | null; lo: number | null; hi: number | null; n: number };
  promotions: number;
}

export interface LoopResult {
  options: Record<string, unknown>;
  seeds: SeedRecord[];
  summary: Summary;
}

/** Two-sided 95% Student t quantiles for df = 1..10 (normal beyond). */
const T95 = [12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228];

function tInterval(xs: number[]): { mean: number | null; lo: number | null; hi: number | null } {
  const n = xs.length;
  if (n === 0) return { mean: null, lo: null, hi: null };
  const mean = xs.reduce((a, b) => a + b, 0) / n;
  if (n === 1) return { mean, lo: null, hi: null };
  const sd = Math.sqrt(xs.reduce((a, x) => a + (x - mean) ** 2, 0) / (n - 1));
  const h = (T95[n - 2] ?? 1.96) * (sd / Math.sqrt(n));
  return { mean, lo: mean - h, hi: mean + h };
}

export function summarise(seeds: SeedRecord[]): Summary {
  const rec = seeds.map((s) => s.recovery);
  const r = tInterval(rec.filter((x): x is number => x !== null));
  const rounds = seeds.flatMap((s) => s.rounds);
  const share = (f: (x: RoundRecord) => boolean) => (rounds.length > 0 ? rounds.filter(f).length / rounds.length : 0);
  const cov = (k: "dr" | "ips") => share((x) => x.gate.candidate.covers_true[k]);
  const refused = rounds.filter((x) => !x.gate.inverted.promote).length;
  const w = tInterval(rounds.map((x) => x.true.candidate.utility - x.true.candidate_unweighted.utility));
  return {
    recovery: { per_seed: rec, ...r, met: r.mean !== null && r.mean >= 0.5 && r.lo !== null && r.lo > 0 },
    coverage: {
      dr: cov("dr"),
      ips: cov("ips"),
      difference_dr: share((x) => x.gate.candidate.covers_difference.dr),
      evaluation_dr: share((x) => x.gate.candidate.covers_evaluation.dr),
      inverted_dr: share((x) => x.gate.inverted.covers_true.dr),
      n: rounds.length,
      met: cov("dr") >= 0.9,
    },
    inverted_refused: { rounds: rounds.length, refused, every_seed: refused === rounds.length },
    weighting: { mean_ips_minus_unweighted: w.mean, lo: w.lo, hi: w.hi, n: rounds.length },
    promotions: rounds.filter((x) => x.promoted).length,
  };
}

const f4 = (x: number | null | undefined) => (x === null || x === undefined ? "n/a" : x.toFixed(4));
const ci = (e: { value: number | null; lo: number | null; hi: number | null }) => `${f4(e.value)} [${f4(e.lo)}, ${f4(e.hi)}]`;

export function markdown(res: LoopResult, cmd: string): string {
  const s = res.summary;
  const L: string[] = [];
  L.push(`Command: \`${cmd}\``, "");
  L.push(`| target | result | met |`, `|---|---|---|`);
  L.push(`| promoted bundle recovers ≥ 50% of the round-0 → oracle gap, CI over seeds excludes 0 | mean ${f4(s.recovery.mean)} [${f4(s.recovery.lo)}, ${f4(s.recovery.hi)}] (per seed ${s.recovery.per_seed.map(f4).join(", ")}) | ${s.recovery.met ? "met" : "missed"} |`);
  const pc = (x: number) => `${(100 * x).toFixed(0)}%`;
  L.push(`| gate's 95% interval covers the realised (true) value in ≥ 90% of rounds × seeds | candidate utility, DR ${pc(s.coverage.dr)} of ${s.coverage.n} (IPS ${pc(s.coverage.ips)}; DR difference ${pc(s.coverage.difference_dr)}; inverted candidate DR ${pc(s.coverage.inverted_dr)}; DR vs the evaluation traffic's value ${pc(s.coverage.evaluation_dr)}) | ${s.coverage.met ? "met" : "missed"} |`);
  L.push(`| gate refuses the inverted-label candidate in every seed | refused ${s.inverted_refused.refused} of ${s.inverted_refused.rounds} rounds | ${s.inverted_refused.every_seed ? "met" : "missed"} |`);
  L.push("", `IPS-weighted minus unweighted candidate, true utility: ${f4(s.weighting.mean_ips_minus_unweighted)} [${f4(s.weighting.lo)}, ${f4(s.weighting.hi)}] over ${s.weighting.n} rounds × seeds; promotions: ${s.promotions}.`, "");
  for (const seed of res.seeds) {
    L.push(`### Seed ${seed.seed}`, "");
    L.push(`Prompts: base ${seed.prompts.base} (heavy-task share ${(100 * seed.mix.base.heavy_share).toFixed(0)}%), traffic ${seed.prompts.traffic_train} trainable + ${seed.prompts.traffic_gate} gate-only (${(100 * seed.mix.traffic.heavy_share).toFixed(0)}% heavy), evaluation ${seed.prompts.evaluation} (${(100 * seed.mix.evaluation.heavy_share).toFixed(0)}% heavy). True utility: round-0 ${f4(seed.round0.utility)}, oracle retrain ${f4(seed.oracle.utility)}, final ${f4(seed.final.utility)} (${seed.final_bundle}); recovery ${f4(seed.recovery)}.`, "");
    L.push(`| round | sent (decisions / feedback) | stored (pulled / trainable / gate rows so far) | true: current → after | candidate (unweighted) | inverted | gate DR candidate utility (true) | gate DR difference (true) | gate says | inverted gate | canary (control vs candidate) |`);
    L.push(`|---|---|---|---|---|---|---|---|---|---|---|`);
    for (const r of seed.rounds) {
      const c = r.canary;
      const can = c ? `${f4(c.control.utility.value)} vs ${f4(c.candidate.utility.value)} (n ${c.control.n}/${c.candidate.n}; diff ${ci(c.difference)})${c.harmful ? " stopped" : ""}` : "–";
      L.push(
        `| ${r.round} | ${r.sent.decisions} / ${r.sent.feedback} | ${r.stored.pulled} / ${r.stored.train_rows} / ${r.stored.gate_rows_total} | ${f4(r.true.current_before.utility)} → ${f4(r.true.current_after.utility)} | ${f4(r.true.candidate.utility)} (${f4(r.true.candidate_unweighted.utility)}) | ${f4(r.true.inverted.utility)} | ${ci(r.gate.candidate.dr_utility)} (${f4(r.gate.candidate.true_utility)}${r.gate.candidate.covers_true.dr ? "" : ", missed"}) | ${ci(r.gate.candidate.dr_difference_utility)} (${f4(r.gate.candidate.true_difference)}) | ${r.gate.candidate.promote ? "promote" : "refuse"}${r.promoted ? ", promoted" : ""} | ${r.gate.inverted.promote ? "PROMOTE" : "refuse"} | ${can} |`,
      );
    }
    L.push("");
  }
  return L.join("\n");
}

/** True utility per round, mean over seeds: current after the round, candidate, unweighted; round-0 and oracle as levels. */
export function plot(res: LoopResult): string {
  const rounds = Math.max(...res.seeds.map((s) => s.rounds.length));
  const mean = (f: (s: (typeof res.seeds)[number], r: number) => number | undefined, r: number) => {
    const xs = res.seeds.map((s) => f(s, r)).filter((x): x is number => x !== undefined);
    return xs.reduce((a, b) => a + b, 0) / Math.max(xs.length, 1);
  };
  const series: [string, (s: (typeof res.seeds)[number], r: number) => number | undefined][] = [
    ["promoted (serving after the round)", (s, r) => (r === 0 ? s.round0.utility : s.rounds[r - 1]?.true.current_after.utility)],
    ["candidate, IPS-weighted", (s, r) => (r === 0 ? undefined : s.rounds[r - 1]?.true.candidate.utility)],
    ["candidate, unweighted", (s, r) => (r === 0 ? undefined : s.rounds[r - 1]?.true.candidate_unweighted.utility)],
    ["oracle retrain", (s) => s.oracle.utility],
    ["round-0 default", (s) => s.round0.utility],
  ];
  const pts = series.map(([name, f]) => [name, Array.from({ length: rounds + 1 }, (_, r) => [r, mean(f, r)] as const).filter(([r]) => res.seeds.some((s) => f(s, r) !== undefined))] as const);
  const ys = pts.flatMap(([, p]) => p.map(([, y]) => y));
  const box = { left: 80, top: 40, width: 460, height: 260 };
  const x = linearScale([0, rounds], [box.left, box.left + box.width], false, rounds + 1);
  const y = linearScale([Math.min(...ys) - 0.01, Math.max(...ys) + 0.01], [box.top + box.height, box.top]);
  const body = [frame({ box, x, y, title: "True utility on held-out traffic (mean over seeds)", xLabel: "round", yLabel: "utility = success − λ·cost" })];
  pts.forEach(([, p], k) => body.push(`<polyline fill="none" stroke="${colour(k)}" stroke-width="2.5" points="${p.map(([r, v]) => `${px(x.map(r))},${px(y.map(v))}`).join(" ")}"/>`));
  body.push(legend(pts.map(([name], k) => ({ label: name, colour: colour(k), kind: "line" as const })), box.left + box.width + 12, box.top));
  return svgDoc(860, 360, body.join("\n"));
}

const START = "<!-- results:start (scripts/simulate/report.ts) -->";
const END = "<!-- results:end -->";

/** Writes <out>.json and <out>.svg, and the results between the markers of <out>.md (the whole file when it has none). */
export async function writeLoopReport(out: string, res: LoopResult, cmd: string): Promise<string[]> {
  const md = `${out}.md`;
  const results = `${START}\n${markdown(res, cmd)}\n${END}`;
  let doc = results + "\n";
  try {
    const old = await readFile(md, "utf8");
    const a = old.indexOf(START);
    const b = old.indexOf(END);
    if (a >= 0 && b > a) doc = old.slice(0, a) + results + old.slice(b + END.length);
  } catch {
    // no document yet: the results alone
  }
  await writeFile(md, doc);
  await writeFile(`${out}.json`, JSON.stringify(res, null, 1) + "\n");
  await writeFile(`${out}.svg`, plot(res));
  return [md, `${out}.json`, `${out}.svg`];
}
