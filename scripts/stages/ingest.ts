/**
 * Stage 1, ingest: validates an outcomes JSONL and a pool config
 * (scripts/formats/outcomes.ts), assigns deterministic splits where missing,
 * checks every row's models against the pool, and writes a normalised dataset
 * (dataset.jsonl + dataset.json) into a cache directory keyed by the sha256 of
 * its inputs. Owns the split rule and the cache layout. The CLI shell is
 * scripts/commands/ingest.ts. Must not: call process.exit (scripts/cli.ts
 * does), train, or skip a bad row.
 */
import { createHash } from "node:crypto";
import { access, mkdir, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fnv1a32 } from "../../src/core/hash.js";
import { DataFileError, JsonlWriter, readJsonFile, readJsonl, sha256File } from "../lib/jsonl.js";
import {
  DatasetMeta,
  DatasetRow,
  OutcomeRow,
  PoolConfig,
  majorityLabel,
  type Split,
} from "../formats/outcomes.js";

/** Bump when the split rule or the output layout changes: it is part of the cache key. */
export const INGEST_VERSION = "preflight-dataset/1";
export const SPLIT_RULE =
  "explicit split kept; else no outcomes → unlabelled; else fnv1a32(id) % 100: 0–69 train, 70–79 val, 80–89 cal, 90–99 test";
const SPLITS: Split[] = ["train", "val", "cal", "test", "unlabelled"];

/** Split for a labelled row without one: stable in the id alone, so re-runs and stages agree. */
export function assignSplit(id: string): Split {
  const b = fnv1a32(id) % 100;
  return b < 70 ? "train" : b < 80 ? "val" : b < 90 ? "cal" : "test";
}

export interface IngestOptions {
  outcomes: string;
  pool: string;
  /** Cache root; output goes to <cacheDir>/ingest/<key>/. */
  cacheDir: string;
  /** Re-ingest even if the cache entry exists. */
  force?: boolean;
}

export interface IngestResult {
  key: string;
  dir: string;
  dataset: string;
  meta: DatasetMeta;
  cached: boolean;
}

const zeroSplits = (): Record<Split, number> => ({ train: 0, val: 0, cal: 0, test: 0, unlabelled: 0 });

function checkPool(pool: PoolConfig, file: string): void {
  const seen = new Map<string, number>();
  pool.models.forEach((m, i) => {
    const first = seen.get(m.id);
    if (first !== undefined) {
      throw new DataFileError(file, 0, [{ path: `models.${i}.id`, message: `duplicate model id "${m.id}" (also models.${first}.id)` }]);
    }
    seen.set(m.id, i);
  });
}

const exists = (p: string) =>
  access(p).then(
    () => true,
    () => false,
  );

/** Reads a previously written cache entry (used by later stages too). */
export async function readIngestMeta(dir: string): Promise<DatasetMeta> {
  return readJsonFile(join(dir, "dataset.json"), DatasetMeta);
}

/** Streams the normalised rows of a cache entry, validated. */
export function readIngestRows(dir: string) {
  return readJsonl(join(dir, "dataset.jsonl"), DatasetRow);
}

export async function runIngest(opts: IngestOptions): Promise<IngestResult> {
  const pool = await readJsonFile(opts.pool, PoolConfig);
  checkPool(pool, opts.pool);
  const [outcomesSha, poolSha] = await Promise.all([sha256File(opts.outcomes), sha256File(opts.pool)]);
  const key = createHash("sha256").update(`${INGEST_VERSION}\n${outcomesSha}\n${poolSha}\n`).digest("hex");
  const dir = join(opts.cacheDir, "ingest", key);
  const dataset = join(dir, "dataset.jsonl");
  // dataset.json is written last inside a temp dir that is renamed into place, so its presence means complete.
  if (!opts.force && (await exists(join(dir, "dataset.json")))) {
    return { key, dir, dataset, meta: await readIngestMeta(dir), cached: true };
  }

  const models = pool.models.map((m) => m.id);
  const known = new Set(models);
  const bySplit = zeroSplits();
  const byModel: DatasetMeta["counts"]["by_model"] = {};
  for (const m of models) byModel[m] = { labelled: 0, masked: 0, majority_success: 0, by_split: zeroSplits() };
  const firstLine = new Map<string, number>();
  let rows = 0;
  let assigned = 0;

  await mkdir(join(opts.cacheDir, "ingest"), { recursive: true });
  const tmp = `${dir}.tmp-${process.pid}`;
  await rm(tmp, { recursive: true, force: true });
  await mkdir(tmp);
  const out = new JsonlWriter(join(tmp, "dataset.jsonl"));
  try {
    for await (const { line, value } of readJsonl(opts.outcomes, OutcomeRow)) {
      const prev = firstLine.get(value.id);
      if (prev !== undefined) throw new DataFileError(opts.outcomes, line, [{ path: "id", message: `duplicate id "${value.id}" (first on line ${prev})` }]);
      firstLine.set(value.id, line);
      for (const m of Object.keys(value.outcomes)) {
        if (!known.has(m)) {
          throw new DataFileError(opts.outcomes, line, [{ path: `outcomes.${m}`, message: `unknown model "${m}" (pool ${pool.name}: ${models.join(", ")})` }]);
        }
      }
      const labelled = Object.keys(value.outcomes).length > 0;
      let split = value.split;
      if (split === undefined) {
        split = labelled ? assignSplit(value.id) : "unlabelled";
        assigned++;
      }
      rows++;
      bySplit[split]++;
      for (const m of models) {
        const o = value.outcomes[m];
        // A model absent from a row is masked: it counts neither as success nor failure.
        if (!o) {
          byModel[m].masked++;
          continue;
        }
        byModel[m].labelled++;
        byModel[m].by_split[split]++;
        byModel[m].majority_success += majorityLabel(o);
      }
      await out.write({ ...value, split });
    }
    if (rows === 0) throw new DataFileError(opts.outcomes, 0, [{ path: "", message: "no rows" }]);
    await out.close();
    const meta: DatasetMeta = {
      format: INGEST_VERSION,
      key,
      inputs: { outcomes: { file: opts.outcomes, sha256: outcomesSha }, pool: { file: opts.pool, sha256: poolSha } },
      pool,
      split_rule: SPLIT_RULE,
      counts: { rows, splits_assigned: assigned, by_split: bySplit, by_model: byModel },
    };
    await writeFile(join(tmp, "dataset.json"), JSON.stringify(DatasetMeta.parse(meta), null, 2) + "\n");
    await rm(dir, { recursive: true, force: true });
    await rename(tmp, dir);
    return { key, dir, dataset, meta, cached: false };
  } catch (e) {
    await out.abort();
    await rm(tmp, { recursive: true, force: true });
    throw e;
  }
}

/** Human-readable summary: rows per split, and per model labelled/masked/majority-success counts by split. */
export function formatIngestReport(r: IngestResult): string {
  const c = r.meta.counts;
  const w = Math.max(6, ...Object.keys(c.by_model).map((m) => m.length));
  const cols = (f: (s: Split) => string | number) => SPLITS.map((s) => String(f(s)).padStart(12)).join("");
  const lines = [
    `ingest ${r.cached ? "(cached) " : ""}${r.meta.inputs.outcomes.file} + ${r.meta.inputs.pool.file}`,
    `→ ${r.dir}`,
    `rows ${c.rows} (${c.splits_assigned} splits assigned: ${SPLIT_RULE})`,
    `${"split".padEnd(w)}${cols((s) => s)}`,
    `${"rows".padEnd(w)}${cols((s) => c.by_split[s] ?? 0)}`,
  ];
  for (const [m, s] of Object.entries(c.by_model)) {
    lines.push(`${m.padEnd(w)}${cols((x) => s.by_split[x] ?? 0)}   labelled ${s.labelled}, masked ${s.masked}, majority success ${s.majority_success}`);
  }
  return lines.join("\n");
}
