/**
 * `promote --bundle <id>`: CLI shell over scripts/stages/promote.ts: verify
 * the bundle, embed it as the worker's default, print the pinned manifests.
 * Holds no stage logic.
 */
import { defineCommand } from "citty";
import { REGISTRY_FILE, runPromote } from "../stages/promote.js";

export default defineCommand({
  meta: { name: "promote", description: "Verify a bundle (sha256, schema, golden replay) and embed it as the worker's default" },
  args: {
    bundle: { type: "string", required: true, description: "bundle id under artifacts/" },
    artifacts: { type: "string", default: "artifacts", description: "bundles root" },
  },
  async run({ args }) {
    const order = await runPromote(args.bundle, args.artifacts);
    console.log(`default bundle: ${order[0].id}; wrote ${REGISTRY_FILE}; embedded, manifest sha256 pinned:`);
    for (const b of order) console.log(`  ${b.id}  ${b.sha256}`);
  },
});
