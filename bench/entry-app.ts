/**
 * Wraps the production Hono app for benchmarking: a Hono app that answers
 * `GET /hello` itself (the floor: workerd + Hono routing + a tiny response)
 * and hands every other request to the unmodified production app. Must not
 * change production behaviour for any other path.
 */
import { Hono } from "hono";
import { createApp } from "../src/http/app.js";
import type { EmbeddedBundle } from "../src/infer/bundle-loader.js";
import { workerDeps } from "../src/worker/deps.js";

export function benchApp(env: Record<string, unknown>, bundles: EmbeddedBundle[]) {
  const app = createApp(workerDeps(env, bundles));
  const outer = new Hono();
  outer.get("/hello", (c) => c.text("hello"));
  outer.all("*", (c) => app.fetch(c.req.raw, c.env, c.executionCtx));
  return outer;
}
