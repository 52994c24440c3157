/**
 * Bench: peak RSS while streaming a large F16 activation set through
 * streamActivations (scripts/lib/activations/store.ts). Owns only the bench;
 * must not be imported by src/ or scripts/. Writes bench/stream-rss.md.
 *
 *   npx tsx bench/stream-rss.ts [rows] [d] [batchRows] [shardRows]
 *
 * Phases run in separate processes so the read phase's maxRSS is not inflated
 * by the write phase: `write <dir> …` and `read <dir> …` are the children,
 * the default (no mode) orchestrates them, writes the report, and deletes the
 * data. Values follow a closed-form pattern exactly representable in F16, so
 * the read phase also checks the bytes it streamed.
 */
import { spawnSync } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ActivationWriter, streamActivations } from "../scripts/lib/activations/store.js";

const MODEL = "bench/teacher";
const LAYER = 12;
// k/64 - 16 for k in [0, 2048): magnitudes < 16 have F16 spacing ≤ 1/64, so exact.
const pattern = (row: number, j: number) => (((row * 31 + j * 7) % 2048) / 64) - 16;

interface Params {
  rows: number;
  d: number;
  batchRows: number;
  shardRows: number;
}

async function writePhase(dir: string, p: Params) {
  const t0 = performance.now();
  const w = await ActivationWriter.create({ dir, model: MODEL, layers: [LAYER], totalRows: p.rows, shardRows: p.shardRows, dtype: "F16" });
  const chunk = 4096;
  for (let start = 0; start < p.rows; start += chunk) {
    const n = Math.min(chunk, p.rows - start);
    const data = new Float32Array(n * p.d);
    for (let r = 0; r < n; r++) for (let j = 0; j < p.d; j++) data[r * p.d + j] = pattern(start + r, j);
    await w.append(Array.from({ length: n }, (_, i) => `p${start + i}`), { [LAYER]: data });
  }
  const res = await w.close();
  return { ...res, seconds: (performance.now() - t0) / 1000, maxRssMiB: process.resourceUsage().maxRSS / 1024 };
}

async function readPhase(dir: string, p: Params) {
  const baselineMiB = process.memoryUsage().rss / 2 ** 20;
  const t0 = performance.now();
  let rows = 0;
  let peakSampledMiB = 0;
  let mismatches = 0;
  for await (const b of streamActivations({ dir, model: MODEL, layers: [LAYER], batchRows: p.batchRows })) {
    const x = b.layers[LAYER];
    for (let i = 0; i < b.rows; i++) {
      const row = rows + i;
      // Spot-check both ends of every row and the id.
      if (x[i * b.d] !== pattern(row, 0) || x[i * b.d + b.d - 1] !== pattern(row, b.d - 1) || b.ids[i] !== `p${row}`) mismatches++;
    }
    rows += b.rows;
    peakSampledMiB = Math.max(peakSampledMiB, process.memoryUsage().rss / 2 ** 20);
  }
  const seconds = (performance.now() - t0) / 1000;
  return {
    rows,
    mismatches,
    seconds,
    gibPerSecond: (rows * p.d * 2) / 2 ** 30 / seconds,
    baselineMiB,
    peakSampledMiB,
    maxRssMiB: process.resourceUsage().maxRSS / 1024,
  };
}

function child(mode: string, dir: string, p: Params): Record<string, number> {
  const args = [...process.execArgv, process.argv[1], mode, dir, String(p.rows), String(p.d), String(p.batchRows), String(p.shardRows)];
  const r = spawnSync(process.execPath, args, { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"], maxBuffer: 1 << 20 });
  if (r.status !== 0) throw new Error(`${mode} phase failed with status ${r.status}`);
  return JSON.parse(r.stdout.trim().split("\n").pop()!) as Record<string, number>;
}

async function main() {
  const argv = process.argv.slice(2);
  const mode = argv[0] === "write" || argv[0] === "read" ? argv.shift()! : "all";
  const dir = mode === "all" ? "" : argv.shift()!;
  const num = (i: number, dflt: number) => (argv[i] === undefined ? dflt : Number(argv[i]));
  const p: Params = { rows: num(0, 1_000_000), d: num(1, 4096), batchRows: num(2, 1024), shardRows: num(3, 131072) };
  if (mode === "write") return console.log(JSON.stringify(await writePhase(dir, p)));
  if (mode === "read") return console.log(JSON.stringify(await readPhase(dir, p)));

  const root = await mkdtemp(join(tmpdir(), "preflight-stream-rss-"));
  try {
    const w = child("write", root, p);
    const r = child("read", root, p);
    const gib = (p.rows * p.d * 2) / 2 ** 30;
    const cmd = `npx tsx bench/stream-rss.ts ${p.rows} ${p.d} ${p.batchRows} ${p.shardRows}`;
    const md = `# stream-rss: peak memory while streaming F16 activations

Command (from the repo root): \`${cmd}\`

Data: ${p.rows.toLocaleString("en-US")} rows × d=${p.d}, one layer, F16 → ${gib.toFixed(2)} GiB in ${w.shards} shards of ≤ ${p.shardRows} rows,
written to a temp dir under \`${tmpdir()}\` by the same run and deleted afterwards.
Streamed with \`streamActivations({ batchRows: ${p.batchRows} })\`, converting each batch to Float32Array
(one batch = ${((p.batchRows * p.d * 4) / 2 ** 20).toFixed(0)} MiB of floats + ${((p.batchRows * p.d * 2) / 2 ** 20).toFixed(0)} MiB of raw bytes).

| phase | seconds | peak RSS (resourceUsage maxRSS) | notes |
|---|---|---|---|
| write (separate process) | ${w.seconds.toFixed(1)} | ${w.maxRssMiB.toFixed(0)} MiB | ActivationWriter, F32→F16 encode |
| read (separate process) | ${r.seconds.toFixed(1)} | ${r.maxRssMiB.toFixed(0)} MiB | ${r.gibPerSecond.toFixed(2)} GiB/s of F16; RSS before streaming ${r.baselineMiB.toFixed(0)} MiB, max sampled per batch ${r.peakSampledMiB.toFixed(0)} MiB |

Rows streamed: ${r.rows}; value/id mismatches: ${r.mismatches} (first and last element of every row checked against the generator).
Peak read RSS is ${((r.maxRssMiB / 1024 / gib) * 100).toFixed(1)}% of the data size: memory is bounded by the batch, not the shard or file.
Machine: ${process.platform} ${process.arch}, Node ${process.version}. Page cache is not counted in RSS.
`;
    await writeFile(new URL("./stream-rss.md", import.meta.url), md);
    console.log(md);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

await main();
