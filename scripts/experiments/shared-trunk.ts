/**
 * Ablation (issue 17 item 3): does one shared trunk trained on every public
 * outcome source help the default pool's heads? Arm "single" trains the build
 * config's student on its own data; arm "all" trains the same settings on the
 * same rows plus the other sources' rows (train split only, each row labelled
 * only for its own source's models: the rest are masked, so the trunk is
 * shared and each model keeps its own head; a model in several sources shares
 * one head). Early stopping, the wide/blend choice and the comparison use the
 * pool's validation split only; test is reported once per arm, never used to
 * choose. An experiment, not a product stage: writes one JSON line per
 * (arm, seed) and a TF-IDF line; builds no bundle.
 *
 * Usage: npx tsx scripts/experiments/shared-trunk.ts --config configs/llmrouter-v2.json
 *          --extra data/derived/routellm.jsonl,data/derived/grade-school-math.jsonl,...
 *          --seeds 1,2 [--deep-only] [--tfidf] --out .cache/shared-trunk.jsonl
 */
import { defineCommand, runMain } from "citty";
import { appendFileSync, readFileSync } from "node:fs";
import { BuildConfig } from "../stages/build-config.js";
import { runDistill } from "../stages/distill.js";
import { type DistillRow, toDistillRow } from "../distill/dataset.js";
import { OutcomeRow } from "../formats/outcomes.js";
import { readJsonFile, readJsonl } from "../lib/jsonl.js";
import { fitBaselines } from "../evaluate/baselines.js";
import { rowSuccess, rowText } from "../evaluate/score.js";
import { auroc } from "../lib/stats/metrics.js";

const r4 = (x: number | null) => (x === null ? null : Math.round(x * 10000) / 10000);
const meanOf = (xs: (number | null)[]) => {
  const v = xs.filter((x): x is number => x !== null);
  return v.length === 0 ? null : v.reduce((a, b) => a + b, 0) / v.length;
};

async function readRows(file: string): Promise<OutcomeRow[]> {
  const rows: OutcomeRow[] = [];
  for await (const { value } of readJsonl(file, OutcomeRow)) rows.push(value);
  return rows;
}

const SHINGLE = 10;

/** Lower-cased word shingles of a text (the whole text when it is shorter than one shingle). */
export function shingles(text: string, k = SHINGLE): string[] {
  const w = text.toLowerCase().split(/[^\p{L}\p{N}]+/u).filter(Boolean);
  if (w.length <= k) return [w.join(" ")];
  return Array.from({ length: w.length - k + 1 }, (_, i) => w.slice(i, i + k).join(" "));
}

/**
 * The other sources' rows as train-only DistillRows. Exact-text duplicates
 * across sources are merged into one row (labels united, first source wins a
 * clash). A text that is one of the pool's rows is dropped, and so is one that
 * shares a 10-word shingle with a pool val/cal/test row (the pool wraps public
 * questions in its own instructions, so exact matching alone misses them):
 * no extra row can carry a held-out pool question into training.
 */
export function extraRows(poolRows: OutcomeRow[], extra: OutcomeRow[][]): { rows: DistillRow[]; stats: Record<string, number> } {
  const poolTexts = new Set(poolRows.map(rowText));
  const heldOut = new Set(poolRows.filter((r) => r.split !== "train").flatMap((r) => shingles(rowText(r))));
  const byText = new Map<string, DistillRow>();
  const stats = { read: 0, no_outcomes: 0, pool_overlap: 0, held_out_near_duplicate: 0, merged_duplicates: 0, kept: 0 };
  for (const src of extra) {
    for (const r of src) {
      stats.read++;
      const d = toDistillRow(r);
      if (Object.keys(d.labels).length === 0) {
        stats.no_outcomes++;
        continue;
      }
      if (poolTexts.has(d.text)) {
        stats.pool_overlap++;
        continue;
      }
      if (shingles(d.text).some((sh) => heldOut.has(sh))) {
        stats.held_out_near_duplicate++;
        continue;
      }
      const prev = byText.get(d.text);
      if (prev) {
        stats.merged_duplicates++;
        prev.labels = { ...d.labels, ...prev.labels };
        continue;
      }
      byText.set(d.text, { ...d, split: "train" });
    }
  }
  stats.kept = byText.size;
  return { rows: [...byText.values()], stats };
}

const command = defineCommand({
  meta: { name: "shared-trunk", description: "Single-pool vs all-pools student ablation on the pool's validation split (test reported once)" },
  args: {
    config: { type: "string", required: true, description: "build config JSON (its data, pool, featurizer and train block)" },
    extra: { type: "string", required: true, description: "comma-separated outcomes files of other sources" },
    seeds: { type: "string", default: "1", description: "comma-separated seeds" },
    arms: { type: "string", default: "single,all", description: "arms to run" },
    "deep-only": { type: "boolean", default: false, description: "train both arms without the wide part (wide: false)" },
    tfidf: { type: "boolean", default: false, description: "also record the TF-IDF baseline (fitted on pool train, C on val)" },
    out: { type: "string", required: true, description: "JSONL file to append results to" },
  },
  async run({ args }) {
    const cfg = await readJsonFile(args.config, BuildConfig);
    const poolRows = await readRows(cfg.data);
    const models: string[] = JSON.parse(readFileSync(cfg.pool, "utf8")).models.map((m: { id: string }) => m.id);
    const extra = await Promise.all(args.extra.split(",").filter(Boolean).map(readRows));
    const ex = extraRows(poolRows, extra);
    const testTexts = new Set(poolRows.filter((r) => r.split === "test").map(rowText));
    const leaked = ex.rows.filter((r) => testTexts.has(r.text)).length;
    if (leaked > 0) throw new Error(`${leaked} extra rows carry a pool test question`);
    const extraModels = [...new Set(ex.rows.flatMap((r) => Object.keys(r.labels)))].filter((m) => !models.includes(m)).sort();
    console.error(`extra rows: ${JSON.stringify(ex.stats)}; extra heads: ${extraModels.length}`);
    appendFileSync(args.out, `${JSON.stringify({ name: "data", extra: args.extra, stats: ex.stats, extra_heads: extraModels })}\n`);

    if (args.tfidf) {
      const b = fitBaselines(poolRows, models);
      const line: Record<string, unknown> = { name: "tfidf-baseline" };
      for (const split of ["val", "test"] as const) {
        const rs = poolRows.filter((r) => r.split === split);
        const p = b.predict(rs.map(rowText)).tfidf;
        const per = Object.fromEntries(
          models.map((m, j) => {
            const idx = rs.flatMap((r, i) => (r.outcomes[m] ? [i] : []));
            return [m, r4(auroc(idx.map((i) => p[i][j]), idx.map((i) => rowSuccess(rs[i], m))))];
          }),
        );
        line[`${split}_mean_auroc`] = r4(meanOf(Object.values(per)));
        line[`${split}_auroc`] = per;
      }
      appendFileSync(args.out, `${JSON.stringify(line)}\n`);
      console.error(`tfidf: val ${line.val_mean_auroc} test ${line.test_mean_auroc}`);
    }

    const poolDistill = poolRows.map(toDistillRow);
    for (const seed of args.seeds.split(",").map(Number)) {
      for (const arm of args.arms.split(",")) {
        const rows = arm === "all" ? [...poolDistill, ...ex.rows] : poolDistill;
        const outModels = arm === "all" ? [...models, ...extraModels] : models;
        const train = { ...cfg.train, seed, alpha: 0, ...(args["deep-only"] ? { wide: false } : {}) };
        const t0 = Date.now();
        const res = runDistill({ rows, models: outModels, featurizer: cfg.featurizer, train, progress: { mode: "none" } });
        const pick = (s: "val" | "test") => Object.fromEntries(models.map((m) => [m, r4(res.metrics[s].per_model[m].auroc)]));
        const val = pick("val");
        const test = pick("test");
        const line = {
          name: `${arm}${args["deep-only"] ? "-deep" : ""}`,
          seed,
          train_rows: res.counts.train,
          heads: outModels.length,
          val_mean_auroc: r4(meanOf(Object.values(val))),
          test_mean_auroc: r4(meanOf(Object.values(test))),
          best_epoch: res.training.bestEpoch,
          ...(res.training.blend ? { blend_alpha: res.training.blend.alpha } : {}),
          seconds: Math.round((Date.now() - t0) / 1000),
          val_auroc: val,
          test_auroc: test,
        };
        appendFileSync(args.out, `${JSON.stringify(line)}\n`);
        console.error(`${line.name} seed ${seed}: val ${line.val_mean_auroc} test ${line.test_mean_auroc} epoch ${line.best_epoch} ${line.seconds}s`);
      }
    }
  },
});

export default command;
if (process.argv[1]?.endsWith("shared-trunk.ts")) void runMain(command);
