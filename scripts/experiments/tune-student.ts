/**
 * Validation-only tuning of the label-supervised student for a build config
 * (docs/default-bundle-tuning.md). For each candidate (featurizer / trainer
 * overrides on top of the config) it trains with runDistill — the same code
 * the build uses — and appends one JSON line with the validation AUROC per
 * model (early stopping also uses val; test metrics are never read; a
 * wide-and-deep blend's α is chosen on val too and recorded). With
 * --tfidf it also records the TF-IDF baseline's validation AUROC (fitted on
 * train, C chosen on val, so an optimistic reference). No bundle writing.
 * An experiment, not a product stage: the `tune-student` command (wired by
 * scripts/cli.ts).
 *
 * Usage: npm run pipeline -- tune-student --config configs/x.json
 *          --candidates '[{"name":"a","featurizer":{...},"train":{...}}]' --out file.jsonl
 */
import { defineCommand } from "citty";
import { appendFileSync, readFileSync } from "node:fs";
import { BuildConfig } from "../stages/build-config.js";
import { runDistill } from "../stages/distill.js";
import { toDistillRow } from "../distill/dataset.js";
import { OutcomeRow } from "../formats/outcomes.js";
import { readJsonFile, readJsonl } from "../lib/jsonl.js";
import { exportStudent } from "../onnx/export-student.js";
import { fitBaselines } from "../evaluate/baselines.js";
import { rowSuccess, rowText } from "../evaluate/score.js";
import { auroc } from "../lib/stats/metrics.js";
import type { FeaturizerSpec } from "../../src/core/featurizer.js";
import type { TrainConfigInput } from "../distill/trainer.js";

interface Candidate {
  name: string;
  featurizer?: Partial<FeaturizerSpec>;
  train?: TrainConfigInput;
}

export default defineCommand({
  meta: { name: "tune-student", description: "Validation-only tuning of a build config's label-supervised student: one JSON line per candidate (docs/default-bundle-tuning.md)" },
  args: {
    config: { type: "string", required: true, description: "build config JSON" },
    candidates: { type: "string", default: "[]", description: "JSON array of {name, featurizer?, train?} overrides" },
    out: { type: "string", required: true, description: "JSONL file to append results to" },
    tfidf: { type: "boolean", default: false, description: "also record the TF-IDF baseline's validation AUROC" },
  },
  async run({ args }) {
    const cfg = await readJsonFile(args.config, BuildConfig);
    const rows: OutcomeRow[] = [];
    for await (const { value } of readJsonl(cfg.data, OutcomeRow)) rows.push(value);
    const pool = readFileSync(cfg.pool, "utf8");
    const models: string[] = JSON.parse(pool).models.map((m: { id: string }) => m.id);
    const r3 = (x: number | null) => (x === null ? null : Math.round(x * 10000) / 10000);

    if (args.tfidf) {
      const b = fitBaselines(rows, models);
      const val = rows.filter((r) => r.split === "val");
      const p = b.predict(val.map(rowText)).tfidf;
      const per: Record<string, number | null> = {};
      models.forEach((m, j) => {
        const idx = val.flatMap((r, i) => (r.outcomes[m] ? [i] : []));
        per[m] = r3(auroc(idx.map((i) => p[i][j]), idx.map((i) => rowSuccess(val[i], m))));
      });
      const vals = Object.values(per).filter((x): x is number => x !== null);
      appendFileSync(args.out, JSON.stringify({ name: "tfidf-baseline", val_mean_auroc: r3(vals.reduce((a, c) => a + c, 0) / vals.length), val_auroc: per }) + "\n");
    }

    const distillRows = rows.filter((r) => r.split !== "test").map(toDistillRow); // test rows never enter tuning
    for (const c of JSON.parse(args.candidates) as Candidate[]) {
      const featurizer = { ...cfg.featurizer, ...c.featurizer };
      const train = { ...cfg.train, seed: cfg.train.seed ?? cfg.seed, ...c.train, alpha: 0 };
      const t0 = Date.now();
      const res = runDistill({ rows: distillRows, models, featurizer, train, progress: { mode: "none" } });
      const per = Object.fromEntries(models.map((m) => [m, r3(res.metrics.val.per_model[m].auroc)]));
      const line = {
        name: c.name,
        featurizer: c.featurizer ?? {},
        train: c.train ?? {},
        val_mean_auroc: r3(res.metrics.val.mean_auroc),
        val_loss: r3(res.training.bestValLoss),
        best_epoch: res.training.bestEpoch,
        ...(res.training.blend ? { blend_alpha: res.training.blend.alpha, blend_tried: res.training.blend.tried.map((t) => [t.alpha, r3(t.valMeanAuroc)]) } : {}),
        onnx_fp16_bytes: exportStudent(res.weights, "float16").length,
        seconds: Math.round((Date.now() - t0) / 1000),
        val_auroc: per,
      };
      appendFileSync(args.out, JSON.stringify(line) + "\n");
      console.error(`${c.name}: val mean AUROC ${line.val_mean_auroc} loss ${line.val_loss} epoch ${line.best_epoch} ${line.seconds}s`);
    }
  },
});
