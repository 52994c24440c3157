/**
 * `evaluate`: CLI shell over the evaluate stage (scripts/stages/evaluate.ts):
 * parse flags, evaluate a bundle on an outcomes file, print the headline and
 * where the report went. Holds no stage logic.
 */
import { defineCommand } from "citty";
import type { EvalSplit } from "../evaluate/evaluate-bundle.js";
import { runEvaluate } from "../stages/evaluate.js";
import { optionalNumberFlag } from "../lib/flags.js";

export default defineCommand({
  meta: { name: "evaluate", description: "Evaluate a bundle on an outcomes JSONL: per-model AUROC/calibration vs baselines, routing accuracy–cost; writes report.md, metrics.json, SVGs" },
  args: {
    data: { type: "string", required: true, description: "outcomes JSONL to evaluate on" },
    bundle: { type: "string", required: true, description: "bundle id (directory under --artifacts)" },
    artifacts: { type: "string", default: "artifacts", description: "artifacts root" },
    out: { type: "string", description: "report directory (default <artifacts>/<bundle>/eval)" },
    split: { type: "enum", options: ["test", "all"], default: "test", description: "evaluate rows with split test, or every row" },
    "train-data": { type: "string", description: "outcomes JSONL the baselines are fitted on (default: the manifest's provenance data)" },
    seed: { type: "string", description: "bootstrap seed (default 1)" },
    reps: { type: "string", description: "bootstrap resamples (default 1000)" },
    teacher: { type: "string", description: "teacher JSONL {id, teacher: {model: logit}, p?: {model: prob}} (probe-distilled bundles): fidelity, teacher AUROC, teacher-probe router" },
  },
  async run({ args }) {
    const res = await runEvaluate({
      data: args.data,
      bundle: args.bundle,
      artifacts: args.artifacts,
      out: args.out,
      split: args.split as EvalSplit,
      trainData: args["train-data"],
      seed: optionalNumberFlag("seed", args.seed, { integer: true }),
      reps: optionalNumberFlag("reps", args.reps, { integer: true, min: 1 }),
      teacher: args.teacher,
    });
    const h = res.result.manifestMetrics.headline;
    const t = res.result.targets;
    console.log(`evaluate: ${res.result.counts.evaluated} rows (${res.result.split}); baselines from ${res.trainData.path} (${res.trainData.source})`);
    console.log(`router ${res.result.routing.headline_kind}: acc ${h.router_acc ?? "—"} cost ${h.router_cost ?? "—"} vs best single ${String(res.result.manifestMetrics.best_single_model)} acc ${h.best_single_acc} cost ${h.best_single_cost}`);
    console.log(`targets: AUROC ${t.auroc.met ? "met" : "NOT met"}; cost ${t.cost.met ? "met" : "NOT met"}`);
    console.log(`report: ${res.report.files[0]}`);
  },
});
