/**
 * The experiment report's reads from D1, in memory that does not grow with
 * the experiment: core's ReportSource over D1. SQL aggregates the
 * per-variant groups over covering indexes (migrations/0003_report_columns.sql),
 * so no row crosses into the isolate for them; only the exploring variants'
 * rows with feedback stream (a hash subsample beyond OPE_MAX_ROWS, taken in
 * SQL), in keyset pages of `pageRows`; core's
 * boundedReport asks for costs only while they are few (≤ BOOTSTRAP_MAX_N).
 * Must not compute statistics (core/report does) or decide who may read
 * (routes do).
 */
import type { LoggedCandidate } from "../core/decision-record.js";
import type { Experiment } from "../core/experiment.js";
import type { Policy } from "../core/policy.js";
import { NO_VARIANT, type ExperimentReport } from "../core/report/experiment-report.js";
import type { OpeRow } from "../core/report/ope.js";
import { hash32Sql, sampleThreshold } from "../core/report/ope-sampling.js";
import { boundedReport, type FeedbackGroup, type ReportSource, type RowGroup, type Summary } from "../core/report/summary.js";

/** Rows per OPE page: ~1–2 MB of candidates JSON and parsed rows at a time. */
const OPE_PAGE_ROWS = 2000;

// cost = rowCost: the feedback's cost_usd, else the chosen model's logged cost (NULL for abstains).
const GROUPS = `SELECT variant, chosen, bundle_id, COUNT(*) AS n, SUM(explored) AS explored, MIN(propensity) AS min_propensity,
  COUNT(c) AS cost_n, TOTAL(c) AS cost_sum, TOTAL(c * c) AS cost_sq
  FROM (SELECT variant, chosen, bundle_id, explored, propensity, COALESCE(fb_cost, chosen_cost) AS c FROM decisions WHERE experiment = ?1)
  GROUP BY variant, chosen, bundle_id`;

// The calibration bin of chosen_p: exactly binOf() in core/report/summary.ts (CAST truncates toward 0,
// and p·10 < 0 clamps to 0 either way; NULL stays NULL). The same expression keys the partial index
// decisions_feedback (migrations/0003), so SQLite groups in index order without sorting.
const BIN = "MIN(9, MAX(0, CAST(chosen_p * 10 AS INTEGER)))";
const FEEDBACK = `SELECT variant, chosen, ${BIN} AS bin, COUNT(*) AS n, TOTAL(fb_reward) AS reward_sum, TOTAL(fb_reward * fb_reward) AS reward_sq,
  TOTAL(COALESCE(fb_cost, chosen_cost, 0)) AS cost_sum, TOTAL(chosen_p) AS p_sum, TOTAL((chosen_p - fb_reward) * (chosen_p - fb_reward)) AS brier_sum,
  SUM(NOT (propensity > 0)) AS zero_propensity
  FROM decisions WHERE experiment = ?1 AND fb_reward IS NOT NULL
  GROUP BY variant, chosen, ${BIN}`;

/** WHERE clause for one report variant: NO_VARIANT is the rows logged without a variant (and any named so). */
const ofVariant = (v: string) => (v === NO_VARIANT ? "(variant IS NULL OR variant = ?2)" : "variant = ?2");

/** One OPE page row, as .raw() returns it: rowid, candidates JSON, chosen, propensity, reward, rowCost. */
type PageRow = [number, string, string, number, number, number | null];

/** The experiment's rows on D1 as core's ReportSource. */
function d1ReportSource(db: D1Database, experiment: string, pageRows = OPE_PAGE_ROWS): ReportSource {
  return {
    async summary(): Promise<Summary> {
      const [groups, feedback] = await db.batch<RowGroup | FeedbackGroup>([db.prepare(GROUPS).bind(experiment), db.prepare(FEEDBACK).bind(experiment)]);
      const names = [...new Set((groups.results as RowGroup[]).map((g) => g.variant ?? NO_VARIANT))];
      const firstPolicy = new Map<string, Policy>();
      for (const v of names) {
        const row = await db
          .prepare(`SELECT policy FROM decisions WHERE experiment = ?1 AND ${ofVariant(v)} ORDER BY ts, decision_id LIMIT 1`)
          .bind(experiment, v)
          .first<{ policy: string }>();
        if (row) firstPolicy.set(v, JSON.parse(row.policy) as Policy);
      }
      return { groups: groups.results as RowGroup[], feedback: feedback.results as FeedbackGroup[], firstPolicy };
    },

    // Keyset pages on rowid over the partial index decisions_ope: each page is one indexed range read.
    // Below rate 1 the hash subsample is taken in SQL, so unsampled rows never leave D1.
    async *opePages(v: string, rate: number): AsyncIterable<OpeRow[]> {
      const sampled = rate < 1;
      // Every WHERE term is answered by the index (propensity is checked below), so SQLite reads
      // the wide row (candidates) only for rows it returns.
      const sql = `SELECT rowid, candidates, chosen, propensity, fb_reward, COALESCE(fb_cost, chosen_cost) FROM decisions
        WHERE experiment = ?1 AND ${ofVariant(v)} AND fb_reward IS NOT NULL AND rowid > ?3
        ${sampled ? `AND ${hash32Sql("rowid")} < ?5` : ""} ORDER BY rowid LIMIT ?4`;
      const fetchAfter = (after: number) => db.prepare(sql).bind(experiment, v, after, pageRows, ...(sampled ? [sampleThreshold(rate)] : [])).raw<PageRow>();
      // One page in flight while the previous one is evaluated: at most two pages in memory.
      let next = fetchAfter(0);
      for (;;) {
        const page = await next;
        const more = page.length === pageRows;
        if (more) next = fetchAfter(page[page.length - 1][0]);
        yield page.filter((r) => r[3] > 0).map(([, cands, action, propensity, reward, cost]) => ({ cands: JSON.parse(cands) as LoggedCandidate[], action, propensity, reward, cost: cost ?? 0 }));
        if (!more) return;
      }
    },

    async costs(v: string): Promise<number[]> {
      const res = await db
        .prepare(`SELECT COALESCE(fb_cost, chosen_cost) AS c FROM decisions WHERE experiment = ?1 AND ${ofVariant(v)} AND chosen IS NOT NULL ORDER BY ts, decision_id`)
        .bind(experiment, v)
        .raw<[number | null]>();
      return res.map((r) => r[0]).filter((c): c is number => c !== null);
    },
  };
}

/** The experiment's report, read from D1 in bounded memory; the same figures as core's experimentReport over all its rows. */
export function reportFromD1(db: D1Database, exp: Experiment, opts: { seed: number; pageRows?: number }): Promise<ExperimentReport> {
  return boundedReport(exp.name, d1ReportSource(db, exp.name, opts.pageRows), { seed: opts.seed, variants: exp.variants.map((v) => v.name) });
}
