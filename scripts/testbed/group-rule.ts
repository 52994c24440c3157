/**
 * Sensitivity of the testbed's within-group verdicts to the group rule: the
 * headline rule (the issue's: operator × size groups weighted by size, any
 * group with both classes scored) against stricter minimum class counts and
 * pair weighting. Returns markdown lines for report.ts.
 * Must not: choose or fit anything. It re-scores scores the report already has,
 * on test, and the headline verdicts stay those of the issue's rule.
 */
import type { GroupRule } from "../lib/stats/metrics.js";
import { fmtNum, mdTable } from "../lib/report/markdown.js";
import { liftKept, withinGroupOn, type Labels } from "./evaluate.js";

export const RULES: { short: string; label: string; rule: GroupRule }[] = [
  { short: "headline", label: "headline: ≥ 1 of each class, weight = group size", rule: {} },
  { short: "≥ 5 per class", label: "≥ 5 of each class, weight = group size", rule: { minPerClass: 5 } },
  { short: "≥ 10 per class", label: "≥ 10 of each class, weight = group size", rule: { minPerClass: 10 } },
  { short: "pair-weighted", label: "≥ 1 of each class, weight = positives × negatives", rule: { weight: "pairs" } },
];

/** Below this many of its minority class, a group's AUROC rests on a handful of prompts. */
const SPARSE = 5;

export interface GroupRuleInput {
  models: string[];
  test: number[];
  groups: string[];
  labels: Record<string, Labels>;
  /** Per model, scores on every row. */
  scores: Record<string, { probe: ArrayLike<number>; tfidf: ArrayLike<number>; length: ArrayLike<number>; student: ArrayLike<number> }>;
  /** cross[i][j]: a probe on model i's activations for model j's success, every row. */
  cross: ArrayLike<number>[][];
}

type Verdicts = { beats: string[]; diag: string[]; lift: string[]; wg: Record<string, Record<"probe" | "tfidf" | "student", number | null>> };

function verdicts(x: GroupRuleInput, rule: GroupRule): Verdicts {
  const wg = (m: string, sc: ArrayLike<number>) => withinGroupOn(sc, x.labels[m], x.test, x.groups, rule);
  const out: Verdicts = { beats: [], diag: [], lift: [], wg: {} };
  x.models.forEach((m, j) => {
    const s = x.scores[m];
    const [probe, tfidf, length, student] = [wg(m, s.probe), wg(m, s.tfidf), wg(m, s.length), wg(m, s.student)];
    out.wg[m] = { probe, tfidf, student };
    if (probe === null || tfidf === null) return;
    if (probe > Math.max(tfidf, length ?? -1)) out.beats.push(m);
    if (liftKept(probe, student ?? NaN, tfidf) >= 0.8) out.lift.push(m);
    const own = wg(m, x.cross[j][j]) ?? -1;
    if (x.models.every((_, i) => i === j || own >= (wg(m, x.cross[i][j]) ?? -1))) out.diag.push(m);
  });
  return out;
}

/** Share of the headline rule's weight (test) that sits in groups with fewer than SPARSE of their minority class. */
function sparseShare(x: GroupRuleInput, m: string): number {
  const lab = x.labels[m];
  const by = new Map<string, [number, number]>();
  for (const i of x.test) {
    if (!lab.has[i]) continue;
    const v = by.get(x.groups[i]) ?? [0, 0];
    v[0] += lab.y[i];
    v[1]++;
    by.set(x.groups[i], v);
  }
  let sparse = 0;
  let all = 0;
  for (const [pos, n] of by.values()) {
    const minority = Math.min(pos, n - pos);
    if (minority === 0) continue;
    all += n;
    if (minority < SPARSE) sparse += n;
  }
  return all === 0 ? 0 : sparse / all;
}

export function groupRuleSection(x: GroupRuleInput): string[] {
  const n = x.models.length;
  const list = (a: string[]) => `${a.length}/${n}${a.length ? ` (${a.join(", ")})` : ""}`;
  const per = RULES.map((r) => ({ ...r, v: verdicts(x, r.rule) }));
  return [
    "## 5. How much the within-group verdicts depend on the group rule",
    "",
    `The headline rule scores every operator × size group that has both classes and weights it by its size. For a specialist, most test rows sit in operators it was never trained on, where it succeeds a handful of times: such a group carries its full size as weight, yet its AUROC ranks a few positives. Share of each model's headline weight (test) in groups with fewer than ${SPARSE} of their minority class:`,
    "",
    mdTable(["model", ...x.models], [[`weight in groups with < ${SPARSE} of a class`, ...x.models.map((m) => `${fmtNum(100 * sparseShare(x, m), 0)}%`)]]),
    "",
    "The same test scores under stricter rules (point estimates, no refitting; the targets above are judged by the headline rule only):",
    "",
    mdTable(["group rule", "probe beats length and TF-IDF", "diagonal dominance", "student keeps ≥ 80% of the lift"], per.map((r) => [r.label, list(r.v.beats), list(r.v.diag), list(r.v.lift)])),
    "",
    "Within-group AUROC on test under each rule, probe / TF-IDF / student:",
    "",
    mdTable(["model", ...per.map((r) => r.short)], x.models.map((m) => [m, ...per.map((r) => (["probe", "tfidf", "student"] as const).map((k) => fmtNum(r.v.wg[m][k])).join(" / "))])),
    "",
  ];
}
