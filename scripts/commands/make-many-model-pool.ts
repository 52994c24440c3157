/**
 * `make-many-model-pool`: writes a small many-model outcomes file and pool
 * config from public outcomes (scripts/convert/many-model-pool.ts): the
 * calibration stress case of issue 17, reproducible from the repo's data.
 */
import { defineCommand } from "citty";
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { manyModelPool } from "../convert/many-model-pool.js";
import { OutcomeRow, PoolConfig } from "../formats/outcomes.js";
import { readJsonFile, readJsonl, writeJsonl } from "../lib/jsonl.js";
import { numberFlag } from "../lib/flags.js";

export default defineCommand({
  meta: { name: "make-many-model-pool", description: "Subsample outcomes into a many-model pool (original, ~noisy, ~shuffled copy per model)" },
  args: {
    data: { type: "string", default: "data/derived/llmrouter.jsonl", description: "source outcomes JSONL" },
    pool: { type: "string", default: "data/pools/llmrouter.json", description: "source pool config" },
    prompts: { type: "string", default: "500", description: "prompts to keep" },
    flip: { type: "string", default: "0.3", description: "share of labels flipped in each ~noisy copy" },
    seed: { type: "string", default: "17", description: "subsample/noise seed" },
    "out-data": { type: "string", required: true, description: "outcomes JSONL to write" },
    "out-pool": { type: "string", required: true, description: "pool config JSON to write" },
  },
  async run({ args }) {
    const rows: OutcomeRow[] = [];
    for await (const { value } of readJsonl(args.data, OutcomeRow)) rows.push(value);
    const pool = await readJsonFile(args.pool, PoolConfig);
    const out = manyModelPool(rows, pool, { prompts: numberFlag("prompts", args.prompts, { integer: true, min: 1 }), flip: numberFlag("flip", args.flip, { min: 0, max: 1 }), seed: numberFlag("seed", args.seed, { integer: true }) });
    for (const f of [args["out-data"], args["out-pool"]]) mkdirSync(dirname(f), { recursive: true });
    await writeJsonl(args["out-data"], out.rows);
    writeFileSync(args["out-pool"], JSON.stringify(out.pool, null, 2) + "\n");
    console.log(JSON.stringify({ rows: out.rows.length, models: out.pool.models.length, data: args["out-data"], pool: args["out-pool"] }));
  },
});
