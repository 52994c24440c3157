/**
 * `ingest`: CLI shell over the ingest stage (scripts/stages/ingest.ts): parse
 * flags, run it, print its report. Holds no stage logic.
 */
import { defineCommand } from "citty";
import { formatIngestReport, runIngest } from "../stages/ingest.js";

export default defineCommand({
  meta: { name: "ingest", description: "Validate outcomes + pool, assign splits, write a normalised dataset to the cache" },
  args: {
    outcomes: { type: "string", required: true, description: "outcomes JSONL (docs/formats.md)" },
    pool: { type: "string", required: true, description: "pool config JSON" },
    cache: { type: "string", default: ".cache/preflight", description: "cache root" },
    force: { type: "boolean", default: false, description: "re-ingest even if cached" },
  },
  async run({ args }) {
    const res = await runIngest({ outcomes: args.outcomes, pool: args.pool, cacheDir: args.cache, force: args.force });
    console.log(formatIngestReport(res));
    return res;
  },
});
