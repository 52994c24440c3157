/**
 * The use case behind POST /v1/route and /v1/route/batch (app.ts parses the
 * body, this runs it): validate, pick variant and bundle (infer/variant-select),
 * score in WASM (infer/scorer), decide in core (core/decide). Must not format
 * errors itself: failures are returned as core Reasons and mapped by problem.ts.
 */
import { RouteRequest, type RouteResponse, type BatchRouteRequest } from "../core/api-schemas.js";
import { epsilonGreedy } from "../core/explore.js";
import { formatMessages } from "../core/messages.js";
import { decide, selectCandidates, type RuntimeModel } from "../core/decide.js";
import { err, ok, type Result } from "../core/result.js";
import type { Policy } from "../core/policy.js";
import type { LoadedBundle } from "../infer/bundle-loader.js";
import { bundleFor, type Background, type Runtime } from "../infer/runtime.js";
import { scoreTexts } from "../infer/scorer.js";
import { selectVariant, type Selection } from "../infer/variant-select.js";

export interface RouteContext {
  rt: Runtime;
  headers: Headers;
  requestId: string;
  now: () => number;
  /** Uniform [0,1) draws for exploration; the worker passes crypto-backed ones. */
  random: () => number;
  newId: () => string;
  /** Keeps a bundle load started by this request alive past its response (ctx.waitUntil). */
  background: Background;
}

/** What the decision log needs beyond the response body. */
export interface LogInfo {
  policy: Policy;
  text: string;
  propensity: number;
  explored: boolean;
}

interface Prepared {
  req: RouteRequest;
  policy: Policy;
  cands: RuntimeModel[];
  text: string;
}

function prepare(bundle: LoadedBundle, sel: Selection, req: RouteRequest): Result<Prepared> {
  const policy = sel.policy ?? req.policy ?? bundle.manifest.default_policy;
  const cands = selectCandidates(bundle.pool, req, policy);
  if (!cands.ok) return cands;
  const text = req.prompt ?? formatMessages(req.messages ?? []);
  return ok({ req, policy, cands: cands.value, text });
}

export interface RouteOutcome {
  results: RouteResponse[];
  logs: LogInfo[];
  bundle: LoadedBundle;
  selection: Selection;
  scoreMs: number;
}

/** Routes one or more requests under one selection (variant, bundle) and one ORT batch. */
export async function routeMany(ctx: RouteContext, reqs: RouteRequest[], pathPrefix: string[]): Promise<Result<RouteOutcome>> {
  const sel = selectVariant(ctx.rt.config?.experiments ?? [], ctx.headers, ctx.requestId);
  if (!sel.ok) return sel;
  // The last await before scoring: a bundle is used from here to the end of run without I/O (see session-pool.ts).
  const bundle = await bundleFor(ctx.rt, sel.value.bundleId, ctx.background, sel.value.bundleFrom === "variant");
  if (!bundle.ok) return bundle;
  const prepared: Prepared[] = [];
  for (const [i, req] of reqs.entries()) {
    const p = prepare(bundle.value, sel.value, req);
    if (!p.ok) {
      // Prefix field paths with the batch index so the caller can find the item.
      if (p.error.reason === "unknown_model" && pathPrefix.length) return err({ ...p.error, field: `${pathPrefix.join(".")}.${i}.${p.error.field}` });
      return p;
    }
    prepared.push(p.value);
  }
  const t0 = ctx.now();
  const scored = await scoreTexts(bundle.value, prepared.map((p) => p.text));
  const scoreMs = ctx.now() - t0;
  const logs: LogInfo[] = [];
  const results = prepared.map((p, i): RouteResponse => {
    const s = scored[i];
    const { decision, candidates } = decide({
      candidates: p.cands,
      logits: s.logits,
      inputTokens: s.features.inputTokens,
      request: p.req,
      text: p.text,
      policy: p.policy,
    });
    let propensity = 1;
    let explored = false;
    if (decision.type === "route" && sel.value.epsilon > 0) {
      const x = epsilonGreedy(decision.model, p.cands.map((m) => m.id), sel.value.epsilon, ctx.random(), ctx.random());
      propensity = x.propensity;
      explored = x.explored;
      if (x.model !== decision.model) {
        decision.model = x.model;
        decision.provider = p.cands.find((m) => m.id === x.model)!.provider;
        decision.reason = `ε-greedy exploration (ε=${sel.value.epsilon})`;
      }
    }
    logs.push({ policy: p.policy, text: p.text, propensity, explored });
    return {
      request_id: reqs.length > 1 || pathPrefix.length ? `${ctx.requestId}/${i}` : ctx.requestId,
      decision_id: ctx.newId(),
      decision,
      candidates,
      artifact: { id: bundle.value.id, sha256: bundle.value.sha256 },
      experiment: sel.value.experiment,
      truncated: s.features.truncated,
      timing: { score_us: Math.round((scoreMs * 1000) / reqs.length) },
    };
  });
  return ok({ results, logs, bundle: bundle.value, selection: sel.value, scoreMs });
}

export type { BatchRouteRequest };
