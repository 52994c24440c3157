/**
 * `build --config <file>`: CLI shell over the build composition
 * (scripts/stages/build.ts): read and validate the config, run every stage,
 * print the bundle id, directory and headline. Holds no stage logic.
 */
import { defineCommand } from "citty";
import { readJsonFile } from "../lib/jsonl.js";
import { BuildConfig } from "../stages/build-config.js";
import { runBuild } from "../stages/build.js";

export default defineCommand({
  meta: { name: "build", description: "Run every stage (distill → calibrate → evaluate → bundle) from a build config" },
  args: {
    config: { type: "string", required: true, description: "build config JSON (see docs/pipeline.md)" },
    progress: { type: "enum", options: ["auto", "bar", "lines", "none"], default: "auto", description: "progress output" },
    "created-at": { type: "string", description: "ISO time to record (default: now); fixed values make builds reproducible" },
  },
  async run({ args }) {
    const cfg = await readJsonFile(args.config, BuildConfig);
    const out = await runBuild(cfg, { createdAt: args["created-at"] ?? new Date().toISOString(), progress: args.progress as "auto" });
    console.log(JSON.stringify({ bundle: out.manifest.bundle_id, dir: out.dir, headline: out.manifest.metrics.headline }, null, 2));
  },
});
