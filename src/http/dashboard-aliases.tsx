/**
 * The dashboard's bundle and alias history (issue 19): for each experiment,
 * the aliases its arms serve (a variant whose `bundle` is an alias, and
 * `default`) with every change: when, which bundle and digest, the digest
 * before, who. Rendered next to the experiment's report so a change in the
 * arms' numbers can be read against what served when. Pure view: the route
 * passes the rows in; must not read D1 or a clock.
 */
/** @jsxImportSource hono/jsx */
import type { AliasRecord } from "../core/bundle-ref.js";
import type { Experiment } from "../core/experiment.js";
import type { AliasEvent } from "../store/alias-store.js";

export interface AliasView {
  current: AliasRecord[];
  /** Newest first, as aliasHistory lists them. */
  history: AliasEvent[];
}

/** The aliases an experiment's arms can serve: `default` (every arm without its own bundle) and each arm's bundle that is an alias. */
export function experimentAliases(exp: Experiment, view: AliasView): string[] {
  const known = new Set([...view.current.map((a) => a.alias), ...view.history.map((e) => e.alias)]);
  const named = ["default", ...exp.variants.map((v) => v.bundle).filter((b): b is string => b !== undefined)];
  return [...new Set(named)].filter((n) => known.has(n));
}

const short = (d: string | null) => (d === null ? "—" : d.slice(0, 12));
const when = (ms: number) => new Date(ms).toISOString().replace("T", " ").replace(/\.\d{3}Z$/, "Z");

export function AliasHistory(p: { names: string[]; view: AliasView; arms: Experiment["variants"] }) {
  if (p.names.length === 0) return null;
  const rows = p.view.history.filter((e) => p.names.includes(e.alias));
  const armsOf = (alias: string) => p.arms.filter((v) => (v.bundle ?? "default") === alias).map((v) => v.name);
  return (
    <>
      <h3>Bundles and alias history</h3>
      <div class="tw">
        <table>
          <thead>
            <tr>
              <th class="l">alias</th>
              <th class="l">arms</th>
              <th class="l">changed (UTC)</th>
              <th class="l">bundle</th>
              <th class="l">digest</th>
              <th class="l">before</th>
              <th class="l">by</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((e) => {
              const cur = p.view.current.find((a) => a.alias === e.alias);
              const live = cur !== undefined && cur.updated_at === e.updated_at && cur.manifest_sha256 === e.manifest_sha256;
              return (
                <tr>
                  <td class="l">
                    {e.alias}
                    {live ? " (current)" : ""}
                  </td>
                  <td class="l">{armsOf(e.alias).join(", ") || "—"}</td>
                  <td class="l">{when(e.updated_at)}</td>
                  <td class="l">{e.bundle_id}</td>
                  <td class="l" title={e.manifest_sha256}>
                    {short(e.manifest_sha256)}
                  </td>
                  <td class="l" title={e.previous_sha256 ?? ""}>
                    {short(e.previous_sha256)}
                  </td>
                  <td class="l">{e.updated_by}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
      {rows.length === 0 ? <p class="note">No change to {p.names.join(", ")} among the newest changes listed.</p> : null}
    </>
  );
}

/** Alias history for the dashboard: the rows and the configured experiments, whose arms name the aliases. */
export interface DashboardAliases {
  view: AliasView;
  experiments: Experiment[];
}

/** The history panel of one experiment's section (nothing when no alias data was passed or no arm serves an alias). */
export function ExperimentAliases(p: { name: string; aliases?: DashboardAliases }) {
  const exp = p.aliases?.experiments.find((e) => e.name === p.name);
  if (!p.aliases || !exp) return null;
  return <AliasHistory names={experimentAliases(exp, p.aliases.view)} view={p.aliases.view} arms={exp.variants} />;
}
