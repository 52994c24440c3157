/**
 * Diagnostic worker entry for the decision log load check (bench/loop only),
 * the production app and bundles with an instrumented DB:
 * - without a DB binding: a stub DB whose batch() resolves at once and stores
 *   nothing. Logging-on with this stub minus logging off isolates the
 *   in-request cost of logging (record building, prompt HMAC, enqueue +
 *   waitUntil) from the D1 write itself;
 * - with a DB binding: the real D1, wrapped to count batch() calls and rows.
 * `GET /__d1stats` answers {batches, rows, max_rows}. Never deployed; must not
 * be imported by src/.
 */
import { env } from "cloudflare:workers";
import { createApp } from "../../src/http/app.js";
import { workerDeps } from "../../src/worker/deps.js";
import { EMBEDDED_BUNDLES } from "../../src/worker/embedded-bundles.js";

const stats = { batches: 0, rows: 0, max_rows: 0 };
const count = (n: number) => {
  stats.batches++;
  stats.rows += n;
  stats.max_rows = Math.max(stats.max_rows, n);
};

const stmt = { bind: () => stmt };
const nullD1 = {
  prepare: () => stmt,
  batch: async (s: unknown[]) => {
    count(s.length);
    return [];
  },
} as unknown as D1Database;

function counted(db: D1Database): D1Database {
  return new Proxy(db, {
    get(target, prop) {
      if (prop === "batch") {
        return (s: D1PreparedStatement[]) => {
          count(s.length);
          return target.batch(s);
        };
      }
      const v = Reflect.get(target, prop);
      return typeof v === "function" ? v.bind(target) : v;
    },
  });
}

const e = env as unknown as Record<string, unknown>;
const app = createApp(workerDeps({ ...e, DB: e.DB ? counted(e.DB as D1Database) : nullD1 }, EMBEDDED_BUNDLES));

export default {
  fetch(req: Request, bindings: unknown, ctx: ExecutionContext) {
    if (new URL(req.url).pathname === "/__d1stats") return Response.json(stats);
    return app.fetch(req, bindings, ctx);
  },
};
