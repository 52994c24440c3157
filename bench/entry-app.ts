/**
 * Wraps the production app for benchmarking: a plain fetch handler that
 * answers `GET /hello` itself (the floor: workerd + a tiny response, no
 * router) and hands every other request to the production Hono app's own
 * `fetch`, so `/v1/route` pays exactly the production dispatch and nothing
 * of the bench's (an outer Hono app used to cost the route a second routing
 * and context; bench/README.md "Edge budgets"). Must not change production
 * behaviour for any other path.
 */
import { createApp } from "../src/http/app.js";
import type { EmbeddedBundle } from "../src/infer/bundle-loader.js";
import { workerDeps } from "../src/worker/deps.js";

const HELLO_HEADERS = { "content-type": "text/plain; charset=UTF-8" };

/** True for `GET <origin>/hello` (no query), without parsing a URL for every other request. */
function isHello(req: Request): boolean {
  if (req.method !== "GET") return false;
  const u = req.url;
  return u.endsWith("/hello") && u.indexOf("/", u.indexOf("//") + 2) === u.length - 6;
}

export function benchApp(env: Record<string, unknown>, bundles: EmbeddedBundle[]) {
  const app = createApp(workerDeps(env, bundles));
  return {
    fetch(req: Request, env: unknown, ctx: ExecutionContext): Response | Promise<Response> {
      return isHello(req) ? new Response("hello", { headers: HELLO_HEADERS }) : app.fetch(req, env, ctx);
    },
  };
}
