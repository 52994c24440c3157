/**
 * Typed client for callers: a thin fetch wrapper whose request and response
 * types come from the same zod schemas the worker validates with. Errors are
 * thrown as PreflightError carrying the problem+json body. No runtime deps.
 */
import type { z } from "zod";
import type { ArtifactResponse, BatchRouteResponse, ModelsResponse, Problem, RouteRequest, RouteResponse } from "./core/api-schemas.js";

export interface ClientOptions {
  baseUrl: string;
  apiKey?: string;
  fetch?: typeof fetch;
  /** Experiment headers sent with every call. */
  experiment?: { name: string; unit?: string; variant?: string };
}

export class PreflightError extends Error {
  constructor(
    readonly status: number,
    readonly problem: Problem | null,
  ) {
    super(problem ? `${status} ${problem.title}: ${problem.detail}` : `HTTP ${status}`);
  }
}

export function createClient(opts: ClientOptions) {
  const doFetch = opts.fetch ?? fetch;
  const headers = (): Record<string, string> => {
    const h: Record<string, string> = { "content-type": "application/json" };
    if (opts.apiKey) h.authorization = `Bearer ${opts.apiKey}`;
    if (opts.experiment) {
      h["x-preflight-experiment"] = opts.experiment.name;
      if (opts.experiment.unit) h["x-preflight-unit"] = opts.experiment.unit;
      if (opts.experiment.variant) h["x-preflight-variant"] = opts.experiment.variant;
    }
    return h;
  };
  async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await doFetch(new URL(path, opts.baseUrl), { method, headers: headers(), body: body === undefined ? undefined : JSON.stringify(body) });
    const json: unknown = await res.json().catch(() => null);
    if (!res.ok) throw new PreflightError(res.status, (json as Problem | null) ?? null);
    return json as T;
  }
  return {
    route: (req: RouteRequest) => call<RouteResponse>("POST", "/v1/route", req),
    routeBatch: (requests: RouteRequest[]) => call<z.infer<typeof BatchRouteResponse>>("POST", "/v1/route/batch", { requests }),
    models: () => call<z.infer<typeof ModelsResponse>>("GET", "/v1/models"),
    artifact: () => call<z.infer<typeof ArtifactResponse>>("GET", "/v1/artifact"),
  };
}
