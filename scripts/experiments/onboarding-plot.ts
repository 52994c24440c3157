/**
 * The onboarding learning curve as a picture (scripts/experiments/onboarding-curve.ts
 * writes it next to its table): mean AUROC over the held-out models against the
 * number of labelled outcomes N (log scale) for the new head on the frozen trunk,
 * a student trained from scratch and TF-IDF on the same N, with the full-data
 * head and the target (90% of its lift over 0.5) as flat lines. Drawing
 * only, through the report's shared chart (scripts/lib/plots/svg.ts); no I/O.
 */
import { paretoPlot, type Curve } from "../lib/plots/svg.js";
import { curveMeans, fullHeadMean, type CurveReport } from "./onboarding-table.js";

/** Share of the full-data lift the target asks for at N = 100 (issue 17). */
export const TARGET_SHARE = 0.9;

export function onboardingPlot(r: CurveReport): string {
  const full = fullHeadMean(r);
  const series = (label: string, key: "head" | "scratch" | "tfidf"): Curve => ({ label, points: curveMeans(r, key).map((p) => ({ cost: p.n, accuracy: p.auroc })) });
  const curves = [series("new head on the frozen trunk", "head"), series("student from scratch", "scratch"), series("TF-IDF", "tfidf")].filter((c) => c.points.some((p) => Number.isFinite(p.accuracy)));
  const ns = [...r.ns].sort((a, b) => a - b);
  const flat = (label: string, v: number): Curve => ({ label, points: [ns[0], ns[ns.length - 1]].map((n) => ({ cost: n, accuracy: v })) });
  if (Number.isFinite(full)) curves.push(flat(`full-data head (${full.toFixed(3)})`, full), flat(`target: ${Math.round(TARGET_SHARE * 100)}% of its lift over 0.5`, 0.5 + TARGET_SHARE * (full - 0.5)));
  return paretoPlot({
    title: `Onboarding a held-out model (${r.eval}; mean over ${Object.keys(r.models).length} models)`,
    points: [],
    curves,
    logX: true,
    xLabel: "labelled outcomes of the new model, N (log scale)",
    yLabel: "AUROC",
  });
}
