/**
 * How many decisions per second one local D1 database takes with the decision
 * log's write shape: every request commits its own records in one D1 batch
 * (multi-row INSERTs of the `decisions` table with the columns of
 * src/store/decision-log.ts, 6 rows per statement), as the
 * route does before it answers. Also the bytes each decision costs on disk.
 * Feeds docs/scale.md; judges nothing.
 *
 * Run: `npx tsx bench/d1-throughput.ts [--seconds=5] [--out=bench/results/d1-throughput.json]`
 * Real workerd (Miniflare) with a D1 database persisted to .cache/bench-d1-throughput,
 * migrations/ applied; load from this Node process over dispatchFetch, closed loop.
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Miniflare } from "miniflare";

const args = Object.fromEntries(process.argv.slice(2).map((a) => a.replace(/^--/, "").split("=") as [string, string]));
const SECONDS = Number(args.seconds ?? 5);
const OUT = args.out ?? "bench/results/d1-throughput.json";
const PERSIST = ".cache/bench-d1-throughput";

// A worker that writes `rows` synthetic decisions per request in one batch. The
// candidate list has nine models, like the default bundle's pool.
const SCRIPT = `
const COLS = 16, PER = Math.floor(100 / COLS);
const insert = (n) => "INSERT INTO decisions (decision_id, ts, key_id, experiment, variant, bundle_id, policy, candidates, chosen, propensity, explored, prompt_hmac, input_tokens, prompt_text, chosen_p, chosen_cost) VALUES " +
  Array.from({ length: n }, () => "(" + Array(COLS).fill("?").join(",") + ")").join(",");
const cands = JSON.stringify(Array.from({ length: 9 }, (_, i) => ({ model: "model-number-" + i + "-instruct", p: 0.6123456789012345 + i / 100, cost: 0.000123456 * (i + 1), utility: null })));
export default {
  async fetch(req, env) {
    const n = Number(new URL(req.url).searchParams.get("rows") ?? "1");
    const rows = Array.from({ length: n }, () => [crypto.randomUUID(), Date.now(), "key-a", "exp", "control", "llmrouter-v1",
      '{"type":"threshold","min_p":0.77}', cands, "model-number-3-instruct", 1, 0, "f".repeat(64), 120, null, 0.6423456789012345, 0.000493824]);
    const stmts = [];
    for (let i = 0; i < rows.length; i += PER) { const c = rows.slice(i, i + PER); stmts.push(env.DB.prepare(insert(c.length)).bind(...c.flat())); }
    await env.DB.batch(stmts);
    return new Response("ok");
  },
};`;

async function main() {
  rmSync(PERSIST, { recursive: true, force: true });
  mkdirSync(PERSIST, { recursive: true });
  const mf = new Miniflare({ modules: true, script: SCRIPT, compatibilityDate: "2026-04-20", d1Databases: { DB: "bench-d1" }, d1Persist: PERSIST, cf: false });
  await mf.ready;
  const db = await mf.getD1Database("DB");
  for (const f of readdirSync("migrations").filter((x) => x.endsWith(".sql")).sort()) {
    const sql = readFileSync(`migrations/${f}`, "utf8").replace(/--.*$/gm, "");
    for (const s of sql.split(";").map((x) => x.trim()).filter(Boolean)) await db.prepare(s).run();
  }
  const cells: { rows_per_request: number; connections: number; requests: number; decisions_per_s: number; requests_per_s: number; p50_ms: number }[] = [];
  for (const rows of [1, 8, 64]) {
    for (const conns of [1, 8]) {
      const lat: number[] = [];
      const until = performance.now() + SECONDS * 1000;
      const t0 = performance.now();
      await Promise.all(
        Array.from({ length: conns }, async () => {
          while (performance.now() < until) {
            const s = performance.now();
            const r = await mf.dispatchFetch(`http://x/?rows=${rows}`);
            await r.text();
            if (r.status !== 200) throw new Error(`status ${r.status}`);
            lat.push(performance.now() - s);
          }
        }),
      );
      const wall = (performance.now() - t0) / 1000;
      lat.sort((a, b) => a - b);
      const cell = { rows_per_request: rows, connections: conns, requests: lat.length, decisions_per_s: Math.round((lat.length * rows) / wall), requests_per_s: Math.round(lat.length / wall), p50_ms: Number(lat[Math.floor(lat.length / 2)].toFixed(2)) };
      cells.push(cell);
      console.log(JSON.stringify(cell));
    }
  }
  const count = (await db.prepare("SELECT COUNT(*) AS n FROM decisions").first<{ n: number }>())!.n;
  // Fold the write-ahead log into the database file so the size below is the table's, not the WAL's.
  await db.prepare("PRAGMA wal_checkpoint(TRUNCATE)").run().catch(() => undefined);
  await mf.dispose();
  // The persisted SQLite file(s) (plus WAL) after the run: bytes per decision row with the table's index.
  const files = (dir: string): string[] => readdirSync(dir).flatMap((f) => (statSync(join(dir, f)).isDirectory() ? files(join(dir, f)) : [join(dir, f)]));
  const bytes = files(PERSIST).filter((f) => /\.sqlite/.test(f)).reduce((s, f) => s + statSync(f).size, 0);
  const result = { measured_at: new Date().toISOString(), seconds_per_cell: SECONDS, cells, rows: count, sqlite_bytes: bytes, bytes_per_decision: Math.round(bytes / count) };
  console.log(JSON.stringify({ rows: count, sqlite_bytes: bytes, bytes_per_decision: result.bytes_per_decision }));
  writeFileSync(OUT, JSON.stringify(result, null, 2) + "\n");
}

await main();
