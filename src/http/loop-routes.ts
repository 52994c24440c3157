/**
 * Closing the loop: POST /v1/feedback (single or batch of ≤ 500, idempotent
 * upsert on (decision_id, model); a key writes only on its own decisions
 * unless it holds `admin`, others' decisions read as unknown (404); the model
 * must be one of the decision's candidates (422)), the experiment report and
 * the dashboard. Must not compute statistics (core/report does).
 */
import type { Context, Hono } from "hono";
import { FeedbackRequest } from "../core/api-schemas.js";
import type { FeedbackItem } from "../core/decision-record.js";
import type { Experiment } from "../core/experiment.js";
import type { Reason } from "../core/result.js";
import type { AppDeps, Env } from "./context.js";
import type { Principal, Scope } from "./auth.js";
import type { ExperimentReport } from "../core/report/experiment-report.js";
import { DashboardPage } from "./dashboard.js";
import { loggedDecisions, upsertFeedback, type LoggedDecision } from "../store/feedback-store.js";
import { reportFromD1 } from "../store/report-store.js";
import { aliasHistory, readAliases } from "../store/alias-store.js";
import { readJsonBody } from "./request-body.js";

const NO_LOG: Reason = { reason: "log_unavailable", detail: "no D1 binding (DB) is configured, so there is no decision log" };

type Guard = (c: Context<Env>, scope: Scope) => Promise<Response | null>;
type Fail = (c: Context<Env>, r: Reason) => Response;

/**
 * Who may write which feedback, checked after the schema. A decision that is
 * not logged, or that another key made (unless the caller holds `admin`), is
 * reported exactly as unknown: 404 with the same body, so a key cannot learn
 * that another tenant's decision exists. A model outside the decision's
 * logged candidates is a 422. Paths name the item (`items.<i>.` in a batch).
 */
function checkFeedback(items: FeedbackItem[], logged: Map<string, LoggedDecision>, who: Principal, batch: boolean): Reason | null {
  const at = (i: number, field: string) => (batch ? `items.${i}.${field}` : field);
  const admin = who.scopes.includes("admin");
  const unknown: { path: string; decision_id: string }[] = [];
  const issues: { path: string; message: string }[] = [];
  for (const [i, f] of items.entries()) {
    const d = logged.get(f.decision_id);
    if (!d || (!admin && d.key_id !== who.keyId)) unknown.push({ path: at(i, "decision_id"), decision_id: f.decision_id });
    else if (!d.models.includes(f.model)) {
      issues.push({ path: at(i, "model"), message: `${f.model} was not a candidate of decision ${f.decision_id}; candidates: ${d.models.join(", ")}` });
    }
  }
  if (unknown.length > 0) return { reason: "unknown_decision", unknown };
  return issues.length > 0 ? { reason: "validation", issues } : null;
}

export function registerLoopRoutes(app: Hono<Env>, deps: AppDeps, guard: Guard, fail: Fail): void {
  app.post("/v1/feedback", async (c) => {
    const denied = await guard(c, "feedback");
    if (denied) return denied;
    if (!deps.db) return fail(c, NO_LOG);
    const body = await readJsonBody(c.req.raw, FeedbackRequest, c.get("rt").config!.maxBodyBytes);
    if (!body.ok) return fail(c, body.error);
    const batch = "items" in body.value;
    const items = "items" in body.value ? body.value.items : [body.value];
    // Every acknowledged decision is already committed (routes log before answering), so no waiting here.
    const logged = await loggedDecisions(deps.db, items.map((i) => i.decision_id));
    const refused = checkFeedback(items, logged, c.get("principal"), batch);
    if (refused) return fail(c, refused);
    await upsertFeedback(deps.db, items, deps.wallClock());
    return c.json({ accepted: items.length, request_id: c.get("requestId") });
  });

  // Bootstrap seed is fixed so the same log always yields the same report.
  // Aggregated in D1 and streamed in pages: memory does not grow with the experiment (src/store/report-store.ts).
  const report = (exp: Experiment): Promise<ExperimentReport> => reportFromD1(deps.db!, exp, { seed: 1 });

  app.get("/v1/experiments/:name/report", async (c) => {
    const denied = await guard(c, "report");
    if (denied) return denied;
    if (!deps.db || !deps.logger) return fail(c, NO_LOG);
    const experiments = c.get("rt").config!.experiments;
    const name = c.req.param("name");
    const exp = experiments.find((e) => e.name === name);
    if (!exp) return fail(c, { reason: "not_found", detail: `unknown experiment ${name}; configured: ${experiments.map((e) => e.name).join(", ") || "(none)"}` });
    return c.json(await report(exp));
  });

  app.get("/dashboard", async (c) => {
    const denied = await guard(c, "report");
    if (denied) return denied;
    if (!deps.db || !deps.logger) return fail(c, NO_LOG);
    const experiments = c.get("rt").config!.experiments;
    const reports = [];
    for (const e of experiments) reports.push(await report(e));
    // Which bundle served each arm when (issue 19): alias history is a few rows, read whole up to the newest 200.
    const view = { current: await readAliases(deps.db), history: await aliasHistory(deps.db, 200) };
    return c.html(DashboardPage({ reports, generatedAt: new Date(deps.wallClock()).toISOString(), aliases: { view, experiments } }));
  });
}
