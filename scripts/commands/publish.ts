/**
 * `publish --bundle <dir> [--remote] [--bucket <name>]`: CLI shell over
 * scripts/stages/publish.ts: check the bundle, upload it to R2 with wrangler
 * (local state by default), print its digest for `alias`. Holds no stage logic.
 */
import { defineCommand } from "citty";
import { planPublish, publishBundle, wranglerBinding } from "../stages/publish.js";

export default defineCommand({
  meta: { name: "publish", description: "Upload a built bundle to the worker's R2 bucket (bundles/<manifest sha256>/), no redeploy; prints the digest" },
  args: {
    bundle: { type: "string", required: true, description: "bundle directory (manifest.json and the files it lists)" },
    remote: { type: "boolean", default: false, description: "upload to the account's R2 (default: wrangler's local state, what `npm start` serves)" },
    bucket: { type: "string", description: "R2 bucket name (default: the BUNDLES binding in wrangler.toml)" },
    config: { type: "string", default: "wrangler.toml", description: "wrangler configuration" },
  },
  async run({ args }) {
    const plan = planPublish(args.bundle);
    const bucket = args.bucket ?? wranglerBinding(args.config, "r2_buckets", "BUNDLES", "bucket_name");
    console.error(`publishing ${plan.bundle_id} (${plan.objects.length} objects) to ${args.remote ? "remote" : "local"} R2 bucket ${bucket}…`);
    const digest = publishBundle(plan, bucket, { remote: args.remote });
    console.error(`published ${plan.bundle_id}; point an alias at it: pipeline alias --name candidate --digest ${digest} …`);
    console.log(digest);
  },
});
