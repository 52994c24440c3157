/**
 * Stage 6, output-length: from outcomes with measured output_tokens,
 * fit candidate estimators of a model's expected output tokens on train,
 * choose one on validation by cost MdAPE, refit it on every non-test row and
 * return the manifest's output_length block. Candidates, simplest first:
 * per model (mean or median), per model × prompt family (the serve-time rule
 * in src/core/output-length.ts; mean or median), and per prompt (per model,
 * log output tokens linear in log input tokens). A more complex tier is taken
 * only when it beats the simpler ones by a margin on validation. Test rows
 * are never used here (their error is reported by
 * scripts/evaluate/cost-error.ts). Must not write files.
 */
import type { FeaturizerSpec } from "../../src/core/featurizer.js";
import type { Manifest, PoolModel } from "../../src/core/manifest.js";
import { FAMILY_RULE, PromptFamily, expectedOutputTokens, type LogLinear, type OutputLengthTable } from "../../src/core/output-length.js";
import type { OutcomeRow } from "../formats/outcomes.js";
import { costErrorByModel, lengthObservations, meanOver, type LengthObs } from "../evaluate/cost-error.js";

export type OutputLengthKind = NonNullable<Manifest["output_length"]>["kind"];
/** Candidates in tiers of growing complexity. */
export const TIERS: OutputLengthKind[][] = [["per-model-mean", "per-model-median"], ["per-family-mean", "per-family-median"], ["per-model-loglinear"]];
export const CANDIDATES: OutputLengthKind[] = TIERS.flat();

/** A family needs this many measured answers of a model to get its own figure. */
export const MIN_FAMILY_ROWS = 20;
/** A candidate of a more complex tier must beat the best simpler one by this many MdAPE points on validation ("clearly helps"). */
export const TIER_MARGIN_PTS = 1;

function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  const pos = q * (s.length - 1);
  const i = Math.floor(pos);
  return i + 1 < s.length ? s[i] + (pos - i) * (s[i + 1] - s[i]) : s[i];
}

function stat(xs: number[], kind: OutputLengthKind): number {
  return kind.endsWith("-mean") ? xs.reduce((a, b) => a + b, 0) / xs.length : quantile(xs, 0.5);
}

/**
 * log1p(out) = a + b·log1p(in): least-squares slope, median residual as the
 * intercept (so the fit tracks the median, which MdAPE rewards, and one very
 * long answer cannot drag it), clamped to the 1st–99th percentile of outputs.
 */
export function fitLogLinear(inputs: number[], outputs: number[]): LogLinear {
  const x = inputs.map((v) => Math.log1p(v));
  const y = outputs.map((v) => Math.log1p(v));
  const n = x.length;
  const mx = x.reduce((a, b) => a + b, 0) / n;
  const my = y.reduce((a, b) => a + b, 0) / n;
  let sxy = 0;
  let sxx = 0;
  for (let i = 0; i < n; i++) {
    sxy += (x[i] - mx) * (y[i] - my);
    sxx += (x[i] - mx) ** 2;
  }
  const b = sxx > 0 ? sxy / sxx : 0;
  return { a: quantile(y.map((v, i) => v - b * x[i]), 0.5), b, lo: Math.round(quantile(outputs, 0.01)), hi: Math.round(quantile(outputs, 0.99)) };
}

/** Fits one candidate on observations with measured tokens; constant figures are rounded to whole tokens. */
export function fitOutputLength(obs: LengthObs[], kind: OutputLengthKind, minFamilyRows = MIN_FAMILY_ROWS): OutputLengthTable {
  const outputs = new Map<string, number[]>();
  const inputs = new Map<string, number[]>();
  const byFam = new Map<string, number[]>();
  const push = (m: Map<string, number[]>, k: string, v: number) => {
    const xs = m.get(k);
    if (xs) xs.push(v);
    else m.set(k, [v]);
  };
  for (const o of obs) {
    if (o.outputTokens === undefined) continue;
    push(outputs, o.model, o.outputTokens);
    push(inputs, o.model, o.inputTokens);
    push(byFam, `${o.family}\u0000${o.model}`, o.outputTokens);
  }
  const models = [...outputs.keys()].sort();
  const tokens: Record<string, number> = {};
  if (kind === "per-model-loglinear") {
    // The per-model figure is the median: /v1/models shows it next to the per-prompt rule.
    const loglinear: Record<string, LogLinear> = {};
    for (const m of models) {
      tokens[m] = Math.round(stat(outputs.get(m)!, "per-model-median"));
      loglinear[m] = fitLogLinear(inputs.get(m)!, outputs.get(m)!);
    }
    return { tokens, loglinear };
  }
  for (const m of models) tokens[m] = Math.round(stat(outputs.get(m)!, kind));
  if (!kind.startsWith("per-family")) return { tokens };
  const by_family: NonNullable<OutputLengthTable["by_family"]> = {};
  for (const f of PromptFamily.options) {
    for (const m of models) {
      const xs = byFam.get(`${f}\u0000${m}`);
      if (xs && xs.length >= minFamilyRows) (by_family[f] ??= {})[m] = Math.round(stat(xs, kind));
    }
  }
  return { tokens, family_rule: FAMILY_RULE, by_family };
}

export interface OutputLengthChoice {
  outputLength: Manifest["output_length"];
  /** Validation mean-over-models cost MdAPE (%) of each candidate fitted on train. */
  val: Record<string, number | null>;
  chosen: OutputLengthKind | null;
}

/** Candidates fitted on train, scored on val, chosen tier by tier with the margin; the choice is refitted on train + val + cal. */
export function chooseOutputLength(rows: OutcomeRow[], pool: PoolModel[], featurizer: FeaturizerSpec, dataName: string): OutputLengthChoice {
  const obs = lengthObservations(rows, pool, featurizer).filter((o) => o.outputTokens !== undefined);
  if (obs.length === 0) return { outputLength: undefined, val: {}, chosen: null };
  const train = obs.filter((o) => o.split === "train");
  const valObs = obs.filter((o) => o.split === "val");
  const fallback = new Map(pool.map((m) => [m.id, m.default_output_tokens]));
  const val: Record<string, number | null> = {};
  for (const kind of CANDIDATES) {
    const fitted = fitOutputLength(train, kind);
    const errs = costErrorByModel(valObs, (o) => expectedOutputTokens(fitted, o.model, o.family, o.inputTokens, fallback.get(o.model) ?? 0));
    val[kind] = meanOver(errs, "cost_mdape");
  }
  const score = (k: OutputLengthKind) => val[k] ?? Infinity;
  const bestOf = (tier: OutputLengthKind[]) => tier.reduce((a, b) => (score(b) < score(a) ? b : a));
  // Without validation rows nothing can be chosen: the per-model mean (the rule before issue 17) stays.
  let chosen: OutputLengthKind = "per-model-mean";
  if (valObs.length > 0) {
    chosen = bestOf(TIERS[0]);
    for (const tier of TIERS.slice(1)) if (score(bestOf(tier)) <= score(chosen) - TIER_MARGIN_PTS) chosen = bestOf(tier);
  }
  const table = fitOutputLength(
    obs.filter((o) => o.split !== "test"),
    chosen,
  );
  const fmt = (k: string) => `${k} ${val[k] === null ? "n/a" : `${val[k]!.toFixed(1)}%`}`;
  return {
    chosen,
    val,
    outputLength: {
      kind: chosen,
      ...table,
      source:
        `measured output_tokens in ${dataName}, non-test rows; ${chosen} chosen on val by mean-over-models cost MdAPE ` +
        `(${CANDIDATES.map(fmt).join(", ")}; a more complex tier must win by ≥ ${TIER_MARGIN_PTS} point)`,
    },
  };
}
