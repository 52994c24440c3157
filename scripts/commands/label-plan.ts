/**
 * `label-plan --data <outcomes.jsonl> --n 100 --out <plan.jsonl>`: CLI shell
 * over scripts/stages/label-plan.ts. Writes the N prompts to run a new model
 * on, balanced over tasks, as outcome rows (the pool's outcomes kept) so the
 * caller adds the new model's {n, k} to each and hands the file to add-model.
 * Prints the per-task counts and the add-model command (with --pool-data: the
 * planned prompts are pool prompts). Holds no stage logic.
 */
import { defineCommand } from "citty";
import { OutcomeRow } from "../formats/outcomes.js";
import { readJsonl, writeJsonl } from "../lib/jsonl.js";
import { labelPlan } from "../stages/label-plan.js";
import { numberFlag } from "../lib/flags.js";

export default defineCommand({
  meta: { name: "label-plan", description: "Choose the N prompts to label for a new model before add-model (balanced over tasks; never test rows)" },
  args: {
    data: { type: "string", required: true, description: "outcomes JSONL to draw prompts from (e.g. data/derived/llmrouter.jsonl); rows split \"test\" are skipped" },
    n: { type: "string", default: "100", description: "how many prompts" },
    seed: { type: "string", default: "1", description: "seed of the draw" },
    out: { type: "string", required: true, description: "plan JSONL to write (outcome rows, in plan order)" },
  },
  async run({ args }) {
    const n = numberFlag("n", args.n, { integer: true, min: 1 });
    const seed = numberFlag("seed", args.seed, { integer: true });
    const rows: OutcomeRow[] = [];
    for await (const { value } of readJsonl(args.data, OutcomeRow)) rows.push(value);
    const plan = labelPlan({ rows, n, seed });
    await writeJsonl(args.out, plan.rows);
    if (plan.rows.length < n) console.error(`[label-plan] WARNING: only ${plan.eligible} rows are not marked "test"; planned all of them, not ${n}`);
    for (const [task, c] of Object.entries(plan.byTask).sort()) console.error(`  ${task.padEnd(28)} ${String(c.planned).padStart(4)} of ${c.eligible}`);
    // The planned prompts are pool prompts, so add-model can also learn from the pool's outcomes on them (docs/student.md, "Imputed outcomes").
    console.error(`[label-plan] next: add the new model's {n, k} to each row of ${args.out}, then\n  npm run pipeline -- add-model --bundle <bundle dir> --data ${args.out} --model <id> --pool-data ${args.data}`);
    console.log(JSON.stringify({ out: args.out, planned: plan.rows.length, eligible: plan.eligible, tasks: Object.keys(plan.byTask).length }, null, 2));
  },
});
