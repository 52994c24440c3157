/**
 * `gate --candidate <bundle dir> --current <bundle dir> --log <rows.jsonl>`:
 * CLI shell over scripts/stages/gate.ts: reads both bundles and the pulled
 * log, prints the estimates and the promote / don't-promote decision, and
 * writes the full report as JSON with --out. Holds no stage logic.
 */
import { writeFile } from "node:fs/promises";
import { defineCommand } from "citty";
import { Policy } from "../../src/core/policy.js";
import { OutcomeRow } from "../formats/outcomes.js";
import { readJsonl } from "../lib/jsonl.js";
import { readBundleDir } from "../lib/ope/replay.js";
import { formatGate, runGate } from "../stages/gate.js";
import { optionalNumberFlag } from "../lib/flags.js";

export default defineCommand({
  meta: { name: "gate", description: "Estimate a candidate bundle's value off-policy from the logged (ε-greedy) rows and say promote / don't promote (docs/loop.md)" },
  args: {
    candidate: { type: "string", required: true, description: "candidate bundle directory (manifest.json + student)" },
    current: { type: "string", required: true, description: "current (serving) bundle directory: its calibrated p is DR's outcome model" },
    log: { type: "string", required: true, description: "pipeline pull output (comma-separated for several files); rows the candidate trained on must not be in it" },
    lambda: { type: "string", description: "utility = success − λ·cost_usd; default: the λ the logged utility policies share" },
    policy: { type: "string", default: "logged", description: "'logged' (each row's own policy) or a policy as JSON" },
    "success-margin": { type: "string", description: "largest success loss tolerated at the lower 95% bound (default 0.02)" },
    "min-rows": { type: "string", description: "fewest usable rows to decide on (default 200)" },
    out: { type: "string", description: "write the report JSON here" },
  },
  async run({ args }) {
    const rows: OutcomeRow[] = [];
    for (const file of args.log.split(",")) for await (const { value } of readJsonl(file, OutcomeRow)) rows.push(value);
    const report = await runGate({
      candidate: await readBundleDir(args.candidate),
      current: await readBundleDir(args.current),
      rows,
      lambda: optionalNumberFlag("lambda", args.lambda, { min: 0 }),
      policy: args.policy === "logged" ? "logged" : Policy.parse(JSON.parse(args.policy)),
      successMargin: optionalNumberFlag("success-margin", args["success-margin"], { min: 0, max: 1 }),
      minRows: optionalNumberFlag("min-rows", args["min-rows"], { integer: true, min: 0 }),
    });
    console.log(formatGate(report));
    if (args.out) await writeFile(args.out, JSON.stringify(report, null, 2) + "\n");
  },
});
