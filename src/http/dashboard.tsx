/**
 * The experiments dashboard page, server-rendered with hono/jsx from
 * ExperimentReport objects passed in as props: variants table, differences
 * vs control, reliability plots, success-vs-cost scatter and OPE curves.
 * Self-contained HTML (inline CSS + SVG, no scripts, no external assets).
 * Must not fetch data, read env or a clock (generatedAt is a prop).
 */
/** @jsxImportSource hono/jsx */
import { raw } from "hono/html";
import type { ExperimentReport } from "../core/report/experiment-report.js";
import type { Policy } from "../core/policy.js";
import type { Interval } from "../core/report/stats.js";
import { BOOTSTRAP_MAX_N, type VariantStats } from "../core/report/variant-stats.js";
import { colourOf, fmtPct, fmtUsd, OpeCurve, ReliabilityPlot, SuccessCostScatter } from "./dashboard-charts.js";
import { DASHBOARD_CSS } from "./dashboard-style.js";
import { ExperimentAliases, type DashboardAliases } from "./dashboard-aliases.js";

function describePolicy(p: Policy | null): string {
  if (p === null) return "—";
  switch (p.type) {
    case "utility":
      return p.value_usd !== undefined ? `utility(value=$${p.value_usd})` : `utility(λ=${p.lambda ?? 0})`;
    case "threshold":
      return `threshold(min_p=${p.min_p})`;
    case "budget":
      return `budget(≤$${p.max_cost_usd})`;
    case "fixed":
      return `fixed(${p.model})`;
  }
}

function Ci(p: { i: Interval; fmt: (v: number | null) => string }) {
  return (
    <>
      {p.fmt(p.i.value)}{" "}
      <span class="ci">[{p.fmt(p.i.lo)}, {p.fmt(p.i.hi)}]</span>
    </>
  );
}

const MIX_COLOURS = ["#0ea5e9", "#f59e0b", "#10b981", "#8b5cf6", "#f43f5e", "#84cc16", "#14b8a6", "#a16207"];
const ABSTAIN_COLOUR = "#cbd5e1";

/** One colour per model across the experiment, so a model looks the same in every variant's mix. */
function modelColours(r: ExperimentReport): Map<string, string> {
  const models = [...new Set(r.variants.flatMap((v) => v.model_mix.map((m) => m.model).filter((m): m is string => m !== null)))].sort();
  return new Map(models.map((m, i) => [m, MIX_COLOURS[i % MIX_COLOURS.length]]));
}

function ModelMix(p: { v: VariantStats; colours: Map<string, string> }) {
  const colour = (m: string | null) => (m === null ? ABSTAIN_COLOUR : (p.colours.get(m) ?? "#64748b"));
  return (
    <div>
      <div class="mix" title="model mix">
        {p.v.model_mix.map((m) => (
          <span style={`width:${(m.share * 100).toFixed(2)}%;background:${colour(m.model)}`} />
        ))}
      </div>
      <div class="mixlbl">
        {p.v.model_mix.slice(0, 6).map((m) => (
          <span class="mi">
            <span class="dot" style={`background:${colour(m.model)}`} />
            {m.model ?? "abstain"} {fmtPct(m.share, 0)}
          </span>
        ))}
        {p.v.model_mix.length > 6 ? <span class="mi">+{p.v.model_mix.length - 6} more</span> : null}
      </div>
    </div>
  );
}

function VariantsTable(p: { r: ExperimentReport }) {
  const colours = modelColours(p.r);
  return (
    <div class="tw">
    <table>
      <thead>
        <tr>
          <th>variant</th>
          <th class="l">policy</th>
          <th>requests</th>
          <th>feedback</th>
          <th>success [95% CI]</th>
          <th>mean cost [95% CI]</th>
          <th>cost / success</th>
          <th>ECE</th>
          <th>explored</th>
          <th class="l">model mix</th>
        </tr>
      </thead>
      <tbody>
        {p.r.variants.map((v, i) => (
          <tr>
            <td>
              <span class="sw" style={`background:${colourOf(i)}`} />
              {v.variant}
              {v.variant === p.r.control ? <span class="ci"> (control)</span> : null}
            </td>
            <td class="l w">{describePolicy(v.policy)}</td>
            <td>{v.requests}</td>
            <td>{v.with_feedback} <span class="ci">({fmtPct(v.feedback_share, 0)})</span></td>
            <td class="n"><Ci i={v.success} fmt={(x) => fmtPct(x)} /></td>
            <td class="n"><Ci i={v.mean_cost} fmt={fmtUsd} /></td>
            <td>{fmtUsd(v.cost_per_success)}</td>
            <td>{v.calibration.ece === null ? "—" : v.calibration.ece.toFixed(3)}</td>
            <td class="n">{v.explored}{v.min_propensity !== null && v.min_propensity < 1 ? <span class="ci">min propensity {v.min_propensity.toFixed(3)}</span> : null}</td>
            <td class="l"><ModelMix v={v} colours={colours} /></td>
          </tr>
        ))}
      </tbody>
    </table>
    </div>
  );
}

const signed = (f: (v: number | null) => string) => (v: number | null) => (v === null ? "—" : v > 0 ? `+${f(v)}` : v < 0 ? `−${f(-v)}` : f(v));
const verdict = (i: Interval, betterWhenUp: boolean) => {
  if (i.lo === null || i.hi === null) return <span class="ns">—</span>;
  if (i.lo > 0) return <span class={betterWhenUp ? "pos" : "neg"}>higher</span>;
  if (i.hi < 0) return <span class={betterWhenUp ? "neg" : "pos"}>lower</span>;
  return <span class="ns">not significant</span>;
};

function DifferencesTable(p: { r: ExperimentReport }) {
  if (p.r.differences.length === 0) return <p class="meta">Only one variant: nothing to compare.</p>;
  return (
    <table>
      <thead>
        <tr>
          <th>variant vs {p.r.control}</th>
          <th>Δ success [95% CI]</th>
          <th class="l">success</th>
          <th>Δ mean cost [95% CI]</th>
          <th class="l">cost</th>
        </tr>
      </thead>
      <tbody>
        {p.r.differences.map((d) => (
          <tr>
            <td>{d.variant}</td>
            <td><Ci i={d.success_diff} fmt={signed((x) => fmtPct(x))} /></td>
            <td class="l">{verdict(d.success_diff, true)}</td>
            <td title={d.mean_cost_method === "bootstrap" ? "seeded percentile bootstrap" : "Welch normal approximation"}>
              <Ci i={d.mean_cost_diff} fmt={signed(fmtUsd)} />
            </td>
            <td class="l">{verdict(d.mean_cost_diff, false)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function OpeSection(p: { r: ExperimentReport }) {
  const ope = p.r.ope;
  if (ope === null) return <p class="note">Off-policy estimates: {p.r.ope_note ?? "not available"}</p>;
  const s = ope.grid.sample;
  return (
    <>
      <p class="meta">
        From {s.rows_used} logged decisions of {ope.variants.join(", ")}
        {s.sampling_rate < 1 ? ` (a fixed hash subsample of the ${s.rows_usable} usable, rate ${s.sampling_rate.toFixed(3)}; intervals from the subsample)` : ""} (excluded:{" "}
        {s.excluded_no_feedback} without feedback,{" "}
        {s.excluded_zero_propensity} with zero propensity, {s.excluded_abstain} abstains). Solid line and band: doubly-robust estimate with 95% CI;
        dashed: IPS.
      </p>
      {p.r.ope_note ? <p class="note">{p.r.ope_note}</p> : null}
      <div class="charts">
        <OpeCurve title="Success vs λ (utility)" points={ope.grid.utility} metric="success" xKind="lambda" />
        <OpeCurve title="Cost vs λ (utility)" points={ope.grid.utility} metric="cost" xKind="lambda" />
        <OpeCurve title="Success vs min_p (threshold)" points={ope.grid.threshold} metric="success" xKind="threshold" />
        <OpeCurve title="Cost vs min_p (threshold)" points={ope.grid.threshold} metric="cost" xKind="threshold" />
      </div>
      <h3>Logged policies re-estimated off-policy</h3>
      <table>
        <thead>
          <tr>
            <th>variant</th>
            <th class="l">policy</th>
            <th>measured success</th>
            <th>DR success [95% CI]</th>
            <th>DR cost [95% CI]</th>
            <th>match rate</th>
          </tr>
        </thead>
        <tbody>
          {ope.logged_policies.map((l) => (
            <tr>
              <td>{l.variant}</td>
              <td class="l">{describePolicy(l.policy)}</td>
              <td>{fmtPct(p.r.variants.find((v) => v.variant === l.variant)?.success.value ?? null)}</td>
              <td><Ci i={l.success.dr} fmt={(x) => fmtPct(x)} /></td>
              <td><Ci i={l.cost.dr} fmt={fmtUsd} /></td>
              <td>{fmtPct(l.match_rate)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}

function ExperimentSection(p: { r: ExperimentReport; aliases?: DashboardAliases }) {
  const r = p.r;
  const frontier = (r.ope?.grid.utility ?? [])
    .filter((g) => g.cost.dr.value !== null && g.success.dr.value !== null)
    .map((g) => ({ cost: g.cost.dr.value!, success: g.success.dr.value! }));
  const points = r.variants.map((v, i) => ({
    label: v.variant,
    colour: colourOf(i),
    cost: v.mean_cost.value,
    costLo: v.mean_cost.lo,
    costHi: v.mean_cost.hi,
    success: v.success.value,
    successLo: v.success.lo,
    successHi: v.success.hi,
  }));
  return (
    <section class="exp" id={`exp-${r.experiment}`}>
      <h2>{r.experiment}</h2>
      <p class="meta">
        {r.generated_from.rows} decisions, {r.generated_from.with_feedback} with feedback · control: {r.control ?? "—"} · bootstrap seed {r.generated_from.seed}
      </p>
      <ExperimentAliases name={r.experiment} aliases={p.aliases} />
      <h3>Variants</h3>
      <VariantsTable r={r} />
      <h3>Difference vs control</h3>
      <DifferencesTable r={r} />
      <h3>Success vs cost{frontier.length > 1 ? " (dashed: OPE utility frontier, DR)" : ""}</h3>
      <div class="charts">
        <SuccessCostScatter title="Variants: success vs mean cost" points={points} frontier={frontier} />
      </div>
      <h3>Calibration (reliability of the chosen model's p)</h3>
      <div class="charts">
        {r.variants.map((v, i) => (
          <ReliabilityPlot title={`${v.variant} · ECE ${v.calibration.ece === null ? "—" : v.calibration.ece.toFixed(3)} · n=${v.calibration.n}`} cal={v.calibration} colour={colourOf(i)} />
        ))}
      </div>
      <h3>Off-policy estimates</h3>
      <OpeSection r={r} />
    </section>
  );
}

/** The whole dashboard document, doctype included (serve it with c.html(String(...)) or c.html(<DashboardPage .../>)). */
export function DashboardPage(props: { reports: ExperimentReport[]; generatedAt: string; aliases?: DashboardAliases }) {
  return (
    <>
    {raw("<!doctype html>")}
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>Preflight · experiments</title>
        <style dangerouslySetInnerHTML={{ __html: DASHBOARD_CSS }} />
      </head>
      <body>
        <header>
          <h1>Preflight · experiments</h1>
          <p>Generated {props.generatedAt} · {props.reports.length} experiment{props.reports.length === 1 ? "" : "s"}</p>
        </header>
        <main>
          {props.reports.length === 0 ? <p class="note">No experiments have logged decisions yet.</p> : null}
          {props.reports.map((r) => (
            <ExperimentSection r={r} aliases={props.aliases} />
          ))}
        </main>
        <footer>
          Success rates use decisions with feedback (Wilson 95% intervals); mean cost uses every routed decision (realised cost, else the logged
          expected cost). Differences: two-proportion normal interval for success; for cost a seeded percentile bootstrap (Welch normal approximation above{" "}
          {BOOTSTRAP_MAX_N} decisions). Off-policy estimates
          (IPS, doubly-robust with the logged calibrated p and expected cost as the outcome model) assume the logged propensities are the true
          probabilities of the exploring policy and that feedback is missing at random; variants that never explore give no support and are left out.
        </footer>
      </body>
    </html>
    </>
  );
}
