/**
 * The Hono app: wires routes, auth, problem+json errors, 404/405 and the
 * response headers. Takes the runtime promise and a clock from the entry
 * point so tests can build it with other bundles or config. Must not load
 * bundles or read env itself.
 */
import { Hono, type Context } from "hono";
import { BatchRouteRequest, RouteRequest, TokenizeRequest } from "../core/api-schemas.js";
import { featurize } from "../core/featurizer.js";
import { formatMessages } from "../core/messages.js";
import type { Reason } from "../core/result.js";
import { authenticate, type Scope } from "./auth.js";
import type { AppDeps, Env } from "./context.js";
import { logDecisions } from "./log-decisions.js";
import { registerLoopRoutes } from "./loop-routes.js";
import { registerAliasRoutes } from "./alias-routes.js";
import { registerExportRoutes } from "./export-routes.js";
import { openApiDocument } from "./openapi.js";
import { problemResponse } from "./problem.js";
import { readJsonBody } from "./request-body.js";
import { artifactBody, healthBody, modelsBody } from "./info-bodies.js";
import { routeMany, type RouteOutcome } from "./route-use-case.js";
import { bundleForRequest, configProblem, prepareHealth, type Background } from "../infer/runtime.js";

// Static paths only; parametrised ones (/v1/experiments/:name/report) 404 on a wrong method.
const ROUTES: Record<string, string[]> = {
  "/v1/route": ["POST"],
  "/v1/route/batch": ["POST"],
  "/v1/tokenize": ["POST"],
  "/v1/models": ["GET"],
  "/v1/artifact": ["GET"],
  "/healthz": ["GET"],
  "/openapi.json": ["GET"],
  "/v1/feedback": ["POST"],
  "/dashboard": ["GET"],
  "/v1/aliases": ["GET"],
  "/v1/export": ["GET"],
};

export function createApp(deps: AppDeps) {
  const app = new Hono<Env>();
  const fail = (c: Context<Env>, r: Reason) => problemResponse(r, c.get("requestId"));
  // Bundle loading continues past the response (src/infer/session-pool.ts); without an ExecutionContext
  // (Hono's app.request in Node) the work still runs, only unprotected.
  const background = (c: Context<Env>): Background => (work) => {
    try {
      c.executionCtx.waitUntil(work);
    } catch {
      /* no ExecutionContext */
    }
  };

  app.use("*", async (c, next) => {
    const incoming = c.req.header("x-request-id");
    c.set("requestId", incoming && /^[\w.-]{1,128}$/.test(incoming) ? incoming : deps.newId());
    c.set("rt", await deps.runtime);
    await next();
    c.header("x-request-id", c.get("requestId"));
  });

  async function guard(c: Context<Env>, scope: Scope): Promise<Response | null> {
    const rt = c.get("rt");
    if (rt.config === null) {
      // Every guarded route is 503 naming the invalid variables; the messages only for a key that passes this route.
      const who = rt.access ? await authenticate(rt.access, c.req.header("authorization"), scope) : null;
      return fail(c, configProblem(rt, who?.ok === true));
    }
    const who = await authenticate(rt.config, c.req.header("authorization"), scope);
    if (!who.ok) return fail(c, who.error);
    c.set("principal", who.value);
    if (deps.rateLimiter) {
      const { success } = await deps.rateLimiter.limit({ key: who.value.keyId });
      if (!success) {
        const period = String(deps.rateLimitPeriod ?? 60);
        return problemResponse({ reason: "rate_limited", key_id: who.value.keyId, retry_after_s: Number(period) }, c.get("requestId"), { "retry-after": period });
      }
    }
    return null;
  }

  const routeCtx = (c: Context<Env>) => ({
    rt: c.get("rt"),
    headers: c.req.raw.headers,
    requestId: c.get("requestId"),
    now: deps.now,
    random: deps.random,
    newId: deps.newId,
    background: background(c),
  });

  function routeHeaders(c: Context<Env>, out: RouteOutcome, logged: boolean) {
    c.header("x-preflight-decision", out.results[0].decision_id);
    // false only without a D1 binding: the decision_id is for correlation, nothing was stored.
    c.header("x-preflight-logged", String(logged));
    const first = out.results[0];
    c.header("x-preflight-model", first.decision.type === "route" ? first.decision.model : "abstain");
    c.header("x-preflight-variant", out.selection.experiment?.variant ?? "none");
    c.header("x-preflight-artifact", `${out.bundle.id}@${out.bundle.sha256.slice(0, 12)}`);
    c.header("server-timing", `score;dur=${out.scoreMs.toFixed(3)}`);
  }

  app.post("/v1/route", async (c) => {
    const denied = await guard(c, "route");
    if (denied) return denied;
    const body = await readJsonBody(c.req.raw, RouteRequest, c.get("rt").config!.maxBodyBytes);
    if (!body.ok) return fail(c, body.error);
    const out = await routeMany(routeCtx(c), [body.value], []);
    if (!out.ok) return fail(c, out.error);
    // Durable before acknowledged: no decision_id leaves before its record is committed.
    const logged = await logDecisions(c, deps, out.value);
    if (!logged.ok) return fail(c, logged.error);
    routeHeaders(c, out.value, logged.value);
    return c.json(out.value.results[0]);
  });

  app.post("/v1/route/batch", async (c) => {
    const denied = await guard(c, "route");
    if (denied) return denied;
    const body = await readJsonBody(c.req.raw, BatchRouteRequest, c.get("rt").config!.maxBodyBytes);
    if (!body.ok) return fail(c, body.error);
    const out = await routeMany(routeCtx(c), body.value.requests, ["requests"]);
    if (!out.ok) return fail(c, out.error);
    const logged = await logDecisions(c, deps, out.value);
    if (!logged.ok) return fail(c, logged.error);
    routeHeaders(c, out.value, logged.value);
    return c.json({ request_id: c.get("requestId"), results: out.value.results });
  });

  // Exposes the shared featurizer as the worker runs it, for cost previews and golden parity checks.
  app.post("/v1/tokenize", async (c) => {
    const denied = await guard(c, "route");
    if (denied) return denied;
    const body = await readJsonBody(c.req.raw, TokenizeRequest, c.get("rt").config!.maxBodyBytes);
    if (!body.ok) return fail(c, body.error);
    const b = await bundleForRequest(c.get("rt"), c.req.raw.headers, c.get("requestId"), background(c));
    if (!b.ok) return fail(c, b.error);
    const f = featurize(body.value.prompt ?? formatMessages(body.value.messages ?? []), b.value.manifest.featurizer);
    return c.json({ artifact: { id: b.value.id, sha256: b.value.sha256 }, ids: Array.from(f.ids), input_tokens: f.inputTokens, truncated: f.truncated });
  });

  app.get("/v1/models", async (c) => {
    const denied = await guard(c, "route");
    if (denied) return denied;
    const b = await bundleForRequest(c.get("rt"), c.req.raw.headers, c.get("requestId"), background(c));
    return b.ok ? c.json(modelsBody(b.value)) : fail(c, b.error);
  });

  app.get("/v1/artifact", async (c) => {
    const denied = await guard(c, "route");
    if (denied) return denied;
    const b = await bundleForRequest(c.get("rt"), c.req.raw.headers, c.get("requestId"), background(c));
    return b.ok ? c.json(artifactBody(c.get("rt"), b.value)) : fail(c, b.error);
  });

  // Public state for anyone; details under AUTH=disabled or for a key with the report scope (a wrong key is 401/403).
  app.get("/healthz", async (c) => {
    const rt = c.get("rt");
    const header = c.req.header("authorization");
    let detailed = rt.access?.auth === "disabled";
    if (header !== undefined && rt.access?.auth === "required") {
      const who = await authenticate(rt.access, header, "report");
      if (!who.ok) return fail(c, who.error);
      detailed = true;
    }
    await prepareHealth(rt, background(c));
    const h = healthBody(rt, detailed);
    return c.json(h.body, h.healthy ? 200 : 503);
  });

  app.get("/openapi.json", (c) => c.json(openApiDocument() as object));

  registerLoopRoutes(app, deps, guard, fail);
  registerAliasRoutes(app, deps, guard, fail);
  registerExportRoutes(app, deps, guard, fail);

  app.notFound((c) => {
    const allowed = ROUTES[c.req.path];
    if (allowed) return problemResponse({ reason: "method_not_allowed", allowed }, c.get("requestId") ?? deps.newId(), { allow: allowed.join(", ") });
    return problemResponse({ reason: "not_found", detail: `no route ${c.req.method} ${c.req.path}` }, c.get("requestId") ?? deps.newId());
  });

  app.onError((e, c) => {
    const id = c.get("requestId") ?? deps.newId();
    console.error(`[preflight] request ${id} failed: ${(e as Error).stack ?? String(e)}`);
    return problemResponse({ reason: "internal", request_id: id }, id);
  });

  return app;
}
