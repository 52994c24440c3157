/**
 * Report test and bench fixtures. `seedExperiment` seeds a synthetic experiment straight into a local D1 with SQL generated
 * inside SQLite (`WITH RECURSIVE`), so a million decisions take seconds
 * instead of a million requests. Used by the report scale bench
 * (bench/report-scale.ts) and the bounded-report test (trust-report.test.ts).
 *
 * The log is coherent enough for every report statistic to be exercised:
 * two arms alternate by row (`control`: threshold(min_p=0.7), deterministic,
 * every 50th row an abstain; `explore`: the same policy with ε-greedy
 * exploration and true propensities), K candidates whose p grows and cost
 * grows with the model index, 10% of decisions with feedback (a score on
 * every third of those, a realised cost on every other), all derived from a
 * deterministic integer hash of the row number. Writes the report columns
 * (chosen_p, chosen_cost) only when the schema has them, so the same seed
 * runs against the code before migration 0003.
 * `joinedRows` reads an experiment back as the pre-0003 worker did (every
 * row, feedback joined), the input of the in-memory reference report, and
 * `expectClose` compares a report with that reference.
 */
import type { Miniflare } from "miniflare";
import { expect } from "vitest";
import { DecisionRecord, type JoinedDecision } from "../../src/core/decision-record.js";

export interface SeedOptions {
  experiment: string;
  rows: number;
  /** Candidates per decision (model names m0…m{K−1}). */
  k?: number;
  epsilon?: number;
  /** Rows per INSERT statement. */
  chunk?: number;
  /** First row number (to add rows to an experiment already seeded). */
  from?: number;
}

export const SEED_POLICY = { type: "threshold", min_p: 0.7 } as const;

/** Deterministic pseudo-uniform in [0,1) from row i and stream s, in SQLite integer arithmetic (no overflow below 3e9 rows). */
const u = (s: number) => `((((i * 2654435761) + ${s * 97_531}) % 1000003) % 1000) / 1000.0`;

function baseCte(k: number, eps: number, experiment: string): string {
  const ps = Array.from({ length: k }, (_, j) => `MIN(0.99, ${(0.2 + (0.6 * j) / Math.max(1, k - 1)).toFixed(4)} + 0.35 * ${u(j + 1)}) AS p${j}`);
  const cs = Array.from({ length: k }, (_, j) => `${((j + 1) ** 2 * 1e-7).toExponential(3)} * tok AS c${j}`);
  // Greedy threshold(0.7): the cheapest (lowest index) model with p ≥ 0.7, else the most likely one (the last).
  const greedy = `CASE ${Array.from({ length: k }, (_, j) => `WHEN p${j} >= 0.7 THEN ${j}`).join(" ")} ELSE ${k - 1} END`;
  const pick = (col: string) => `CASE ch ${Array.from({ length: k }, (_, j) => `WHEN ${j} THEN ${col}${j}`).join(" ")} END`;
  const cands = `json_array(${Array.from({ length: k }, (_, j) => `json_object('model', 'm${j}', 'p', p${j}, 'cost', c${j}, 'utility', NULL)`).join(", ")})`;
  return `WITH RECURSIVE seq(i) AS (SELECT CAST(?1 AS INTEGER) UNION ALL SELECT i + 1 FROM seq WHERE i < CAST(?2 AS INTEGER)),
    t AS (SELECT i, i % 2 AS arm, 20 + CAST(${u(0)} * 1000 AS INTEGER) AS tok, ${u(20)} < ${eps} AS ex, CAST(${u(21)} * ${k} AS INTEGER) AS rnd FROM seq),
    b AS (SELECT *, ${ps.join(", ")}, ${cs.join(", ")} FROM t),
    g AS (SELECT *, ${greedy} AS gr FROM b),
    c AS (SELECT *, CASE WHEN arm = 0 AND i % 50 = 7 THEN NULL WHEN arm = 1 AND ex THEN rnd ELSE gr END AS ch FROM g),
    r AS (SELECT *, 'm' || ch AS chosen, ${pick("p")} AS cp, ${pick("c")} AS cc, ${cands} AS cands,
      CASE WHEN arm = 0 THEN 1.0 WHEN ch = gr THEN ${1 - eps + eps / k} ELSE ${eps / k} END AS prop,
      CASE WHEN arm = 1 AND ex THEN 1 ELSE 0 END AS explored,
      '${experiment}' AS exp, CASE WHEN arm = 0 THEN 'control' ELSE 'explore' END AS variant FROM c)`;
}

async function columns(mf: Miniflare): Promise<Set<string>> {
  const db = await mf.getD1Database("DB");
  const res = await db.prepare("SELECT name FROM pragma_table_info('decisions')").all<{ name: string }>();
  return new Set(res.results.map((r) => r.name));
}

/** Inserts `rows` decisions (and their 10% feedback) of one experiment; returns the feedback row count. */
export async function seedExperiment(mf: Miniflare, opts: SeedOptions): Promise<{ decisions: number; feedback: number }> {
  const k = opts.k ?? 9;
  const eps = opts.epsilon ?? 0.1;
  const chunk = opts.chunk ?? 100_000;
  const from = opts.from ?? 0;
  const db = await mf.getD1Database("DB");
  const reportCols = (await columns(mf)).has("fb_reward");
  const cte = baseCte(k, eps, opts.experiment.replace(/'/g, "''"));
  // 10% feedback on routed rows of both arms (i % 20 in {3, 8} never meets an abstain, i % 50 = 7): a score on every third, a realised cost on every other.
  const hasFb = "i % 20 IN (3, 8)";
  const isScore = "(i / 20) % 3 = 0";
  const reward = `CASE WHEN ${isScore} THEN ${u(30)} WHEN ${u(31)} < cp THEN 1.0 ELSE 0.0 END`;
  const fbCost = "CASE WHEN (i / 20) % 2 = 0 THEN cc * 1.1 END";
  const policy = JSON.stringify(SEED_POLICY);
  const ins = `INSERT INTO decisions (decision_id, ts, key_id, experiment, variant, bundle_id, policy, candidates, chosen, propensity, explored, prompt_hmac, input_tokens, prompt_text${reportCols ? ", chosen_p, chosen_cost, fb_reward, fb_cost" : ""})
    ${cte} SELECT exp || '-' || i, 1700000000000 + i, 'seed', exp, variant, 'seed-bundle', '${policy}', cands, chosen, prop, explored, 'h' || i, tok, NULL${reportCols ? `, cp, cc, CASE WHEN ${hasFb} THEN ${reward} END, CASE WHEN ${hasFb} THEN ${fbCost} END` : ""} FROM r`;
  // The report columns fb_reward/fb_cost above are what a feedback write copies onto its decision (migrations/0003).
  const fb = `INSERT INTO feedback (decision_id, model, reward, success, score, output_tokens, cost_usd, latency_ms, updated_at)
    SELECT decision_id, model, reward, CASE WHEN sc THEN NULL ELSE reward END, CASE WHEN sc THEN reward END, 100, cost, NULL, 1700000000000 FROM (
      ${cte} SELECT exp || '-' || i AS decision_id, chosen AS model, ${isScore} AS sc, ${reward} AS reward, ${fbCost} AS cost FROM r WHERE ${hasFb})`;
  let feedback = 0;
  for (let a = from; a < from + opts.rows; a += chunk) {
    const b = Math.min(from + opts.rows, a + chunk) - 1;
    await db.prepare(ins).bind(a, b).run();
    const res = await db.prepare(fb).bind(a, b).run();
    feedback += res.meta.changes ?? 0;
  }
  return { decisions: opts.rows, feedback };
}

/** Every row of `experiment` joined with the feedback on its chosen model, as the report read them before migration 0003. */
export async function joinedRows(mf: Miniflare, experiment: string): Promise<JoinedDecision[]> {
  const db = await mf.getD1Database("DB");
  const res = await db
    .prepare(
      `SELECT d.decision_id, d.ts, d.key_id, d.experiment, d.variant, d.bundle_id, d.policy, d.candidates, d.chosen, d.propensity, d.explored,
       d.prompt_hmac, d.input_tokens, d.prompt_text, f.reward AS reward, f.cost_usd AS cost_usd FROM decisions d
       LEFT JOIN feedback f ON f.decision_id = d.decision_id AND f.model = d.chosen WHERE d.experiment = ? ORDER BY d.ts, d.decision_id`,
    )
    .bind(experiment)
    .all<Record<string, unknown>>();
  return res.results.map((r) => {
    const rec = DecisionRecord.parse({ ...r, policy: JSON.parse(r.policy as string), candidates: JSON.parse(r.candidates as string), explored: r.explored === 1 });
    const expected = rec.candidates.find((c) => c.model === rec.chosen)?.cost ?? null;
    return { ...rec, reward: r.reward as number | null, realised_cost: (r.cost_usd as number | null) ?? (rec.chosen === null ? 0 : expected) };
  });
}

/** Equal structure and strings; numbers equal to 1e-9 relative (the two paths add sums in different orders). */
export function expectClose(actual: unknown, expected: unknown, path = "report"): void {
  if (typeof expected === "number" && typeof actual === "number") {
    const tol = 1e-9 * Math.max(1, Math.abs(expected));
    if (!(Math.abs(actual - expected) <= tol)) expect.fail(`${path}: ${actual} ≠ ${expected}`);
    return;
  }
  if (expected === null || typeof expected !== "object") {
    expect(actual, path).toEqual(expected);
    return;
  }
  expect(typeof actual, path).toBe("object");
  expect(Object.keys(actual as object).sort(), path).toEqual(Object.keys(expected).sort());
  for (const [k, v] of Object.entries(expected)) expectClose((actual as Record<string, unknown>)[k], v, `${path}.${k}`);
}
