/**
 * The onboarding learning curve's record (scripts/experiments/onboarding-curve.ts)
 * and its markdown table for docs/student.md: per held-out model and N, test
 * AUROC of the new head on the frozen trunk, a from-scratch student and
 * TF-IDF on the same N (means over the seeds that ran), and the head's share
 * of the full-data head's lift over 0.5. Formatting only; no I/O.
 */
export interface Cell {
  n: number;
  seed: number;
  head: number | null;
  head_parts: string;
  head_C: number;
  tfidf: number | null;
  scratch: number | null;
  positives: number;
}

export interface CurveReport {
  config: string;
  /** Split the AUROCs are measured on: "val" for design comparisons, "test" once. */
  eval: string;
  /** Candidate head feature sets. */
  parts: string[];
  /** How the head was made from the candidates (new-head.ts HeadCombine / HeadSelect) and the K-fold repeats; absent in older records. */
  combine?: string;
  select_by?: string;
  repeats?: number;
  heads_scale?: number;
  /** Prior variance of the rate block's task logits (task-rates.ts); absent in older records (then 1). */
  rate_var?: number;
  /** The head was fitted with the other models' outcomes imputing the new model's (scripts/stages/impute-head.ts); absent = no. */
  impute?: boolean;
  /** With impute: the imputer's inputs (impute-head.ts ImputerInputs); absent in records made before the option (= "outcomes"). */
  imputer?: string;
  /** How the N prompts were drawn: "tasks" (label-plan's task-balanced order) or "random" (a uniform shuffle); absent = random. */
  sample?: string;
  ns: number[];
  seeds: number[];
  /** Seeds of the headline N (100) when it had more draws than the other Ns; absent = seeds. */
  headline_seeds?: number[];
  folds: number;
  Cs: number[];
  models: Record<string, { train_rows: number; val_rows: number; test_rows: number; full_head: number | null; full_parts: string; full_C: number; cells: Cell[] }>;
}

const mean = (xs: number[]) => (xs.length === 0 ? NaN : xs.reduce((a, b) => a + b, 0) / xs.length);
const f3 = (x: number) => (Number.isFinite(x) ? x.toFixed(3) : "—");
const vals = (cells: Cell[], k: "head" | "tfidf" | "scratch") => cells.flatMap((c) => (c[k] === null ? [] : [c[k] as number]));

/** The full-data heads' mean AUROC over the models that have one (the table's and the plot's reference). */
export const fullHeadMean = (r: CurveReport) => mean(Object.values(r.models).map((m) => m.full_head ?? NaN).filter(Number.isFinite));

/** Per N, the mean over models of each model's mean AUROC over its draws (the table's "mean" row); a model without a value at N is left out, NaN where none has one. */
export function curveMeans(r: CurveReport, key: "head" | "scratch" | "tfidf"): Array<{ n: number; auroc: number }> {
  const ms = Object.values(r.models);
  return [...r.ns]
    .sort((a, b) => a - b)
    .map((n) => {
      const perModel = ms.flatMap((m) => {
        const xs = vals(m.cells.filter((c) => c.n === n), key);
        return xs.length > 0 ? [mean(xs)] : [];
      });
      return { n, auroc: mean(perModel) };
    });
}

/** Share of the full-data head's lift over 0.5 (NaN when the full head has none). */
export const liftShare = (a: number, full: number) => (full > 0.5 ? (a - 0.5) / (full - 0.5) : NaN);

const pct1 = (x: number) => (Number.isFinite(x) ? (100 * x).toFixed(1) + "%" : "—");

export function onboardingMarkdown(r: CurveReport): string {
  const ms = Object.keys(r.models);
  const ns = [...r.ns].sort((a, b) => a - b).filter((n) => ms.some((m) => r.models[m].cells.some((c) => c.n === n)));
  const lines = [
    "| held-out model | full-data head | " + ns.map((n) => `N=${n}: head / scratch / TF-IDF (share of lift)`).join(" | ") + " |",
    "|---|---:|" + ns.map(() => "---:").join("|") + "|",
  ];
  const agg = new Map<number, { head: number[]; scratch: number[]; tfidf: number[]; share: number[]; wins: number; met: number; k: number }>();
  for (const m of ms) {
    const rec = r.models[m];
    const full = rec.full_head ?? NaN;
    const cols = ns.map((n) => {
      const cells = rec.cells.filter((c) => c.n === n);
      if (cells.length === 0) return "—";
      const h = mean(vals(cells, "head"));
      const s = mean(vals(cells, "scratch"));
      const t = mean(vals(cells, "tfidf"));
      const share = liftShare(h, full);
      const a = agg.get(n) ?? { head: [], scratch: [], tfidf: [], share: [], wins: 0, met: 0, k: 0 };
      a.head.push(h), a.scratch.push(s), a.tfidf.push(t), a.share.push(share), a.k++;
      if (h > t) a.wins++;
      if (share >= 0.9 && h > t) a.met++;
      agg.set(n, a);
      return `${f3(h)} / ${f3(s)} / ${f3(t)} (${Number.isFinite(share) ? Math.round(100 * share) + "%" : "—"})${cells.length > 1 ? ` ×${cells.length}` : ""}`;
    });
    lines.push(`| ${m} | ${f3(full)} | ${cols.join(" | ")} |`);
  }
  const fullMean = fullHeadMean(r);
  // Each N's per-seed mean shares, computed once for the spread row and the SE row.
  const shares = new Map(ns.map((n) => [n, seedShares(r, ms, n, fullMean)]));
  lines.push(
    `| **mean** | ${f3(fullMean)} | ` +
      ns.map((n) => {
        const a = agg.get(n)!;
        const share = liftShare(mean(a.head), fullMean);
        return `${f3(mean(a.head))} / ${f3(mean(a.scratch))} / ${f3(mean(a.tfidf))} (${pct1(share)})`;
      }).join(" | ") + " |",
    `| head > TF-IDF (models) | | ` + ns.map((n) => `${agg.get(n)!.wins} of ${agg.get(n)!.k}`).join(" | ") + " |",
    `| target met (share ≥ 90% and > TF-IDF) | | ` + ns.map((n) => `${agg.get(n)!.met} of ${agg.get(n)!.k}`).join(" | ") + " |",
    // The mean share over the models within one seed's draw: how far one draw of N prompts moves the headline.
    `| mean share, one seed at a time (min – max) | | ` +
      ns.map((n) => {
        const s = shares.get(n)!;
        return s.length < 2 ? "—" : `${pct1(Math.min(...s))} – ${pct1(Math.max(...s))} (${s.length} seeds)`;
      }).join(" | ") + " |",
    // How precisely the draws pin the headline: the standard error of the mean share over the seeds.
    `| mean share ± SE over seeds | | ` +
      ns.map((n) => {
        const s = shares.get(n)!;
        if (s.length < 2) return "—";
        const m = mean(s);
        const se = Math.sqrt(s.reduce((a, x) => a + (x - m) ** 2, 0) / (s.length - 1) / s.length);
        return `${pct1(m)} ± ${pct1(se)}`;
      }).join(" | ") + " |",
  );
  return lines.join("\n") + "\n";
}

/** The mean share over the models within each seed's draw at N (seeds with a cell for every model only). */
function seedShares(r: CurveReport, ms: string[], n: number, fullMean: number): number[] {
  const seeds = [...new Set(ms.flatMap((m) => r.models[m].cells.filter((c) => c.n === n).map((c) => c.seed)))].sort((a, b) => a - b);
  return seeds.flatMap((sd) => {
    const hs = ms.flatMap((m) => r.models[m].cells.filter((c) => c.n === n && c.seed === sd && c.head !== null).map((c) => c.head as number));
    return hs.length === ms.length ? [liftShare(mean(hs), fullMean)] : [];
  });
}
