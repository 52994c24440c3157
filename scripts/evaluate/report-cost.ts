/**
 * The evaluation report's cost-estimate section: per model, the MdAPE of the
 * bundle's expected cost (and expected output tokens) against the realised
 * ones on rows with measured output lengths. Formatting only: the figures come
 * from scripts/evaluate/cost-error.ts through EvalResult.
 */
import { mdTableOf, type ReportSection } from "../lib/report/markdown.js";
import type { EvalResult } from "./evaluate-bundle.js";

export function costErrorSections(r: EvalResult): ReportSection[] {
  const rows = Object.entries(r.costError ?? {});
  if (rows.length === 0) return [];
  const pct = (v: number | null) => (v === null ? "—" : `${v.toFixed(1)}%`);
  const table = mdTableOf(rows, [
    { header: "model", value: ([m]) => m },
    { header: "rows with measured length", value: ([, e]) => e.n, align: "right" },
    { header: "cost MdAPE", value: ([, e]) => pct(e.cost_mdape), align: "right" },
    { header: "output tokens MdAPE", value: ([, e]) => pct(e.output_tokens_mdape), align: "right" },
  ]);
  const ol = r.outputLength;
  return [
    {
      title: "Expected vs realised cost",
      body:
        `Median absolute percentage error of the expected cost the worker quotes (featurizer input tokens, the bundle's output length for the prompt, pool prices) ` +
        `against the realised cost (same input tokens, the measured output tokens), on ${r.split} rows whose outcomes carry output_tokens. ` +
        `Output length: ${ol ? `\`${ol.kind}\` — ${ol.source}` : "none in the bundle (pool default_output_tokens)"}.\n\n${table}\n\n` +
        `Mean over models: cost ${pct(mean(rows.map(([, e]) => e.cost_mdape)))}.`,
    },
  ];
}

function mean(xs: (number | null)[]): number | null {
  const v = xs.filter((x): x is number => x !== null);
  return v.length ? v.reduce((a, b) => a + b, 0) / v.length : null;
}
