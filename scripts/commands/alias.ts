/**
 * `alias --name <alias> (--digest <sha256> | --bundle <dir>) (--url <worker> --key-env <VAR> | --local)`:
 * CLI shell over scripts/stages/publish.ts: point an alias at a published
 * bundle through the worker's admin route, or in wrangler's local D1.
 * Holds no stage logic.
 */
import { defineCommand } from "citty";
import { aliasLocal, aliasViaRoute, digestOf, wranglerBinding } from "../stages/publish.js";

export default defineCommand({
  meta: { name: "alias", description: "Point an alias (default, candidate, …) at a bundle published with `publish`; logged with who and when" },
  args: {
    name: { type: "string", required: true, description: "alias: lowercase letters, digits, '-'" },
    digest: { type: "string", description: "manifest sha256 that `publish` printed" },
    bundle: { type: "string", description: "or the bundle directory (its manifest's sha256 is the digest)" },
    url: { type: "string", description: "worker base URL: change the alias through PUT /v1/aliases/{name}" },
    "key-env": { type: "string", default: "PREFLIGHT_ALIAS_KEY", description: "environment variable holding an API key with the alias scope" },
    local: { type: "boolean", default: false, description: "instead of --url: write wrangler's local D1 (updated_by wrangler), checking the local R2 first" },
    config: { type: "string", default: "wrangler.toml", description: "wrangler configuration (--local: bucket and database names)" },
  },
  async run({ args }) {
    const digest = digestOf({ digest: args.digest, bundle: args.bundle });
    if (args.local === (args.url !== undefined)) throw new Error("give exactly one of --url or --local");
    if (args.local) {
      const bucket = wranglerBinding(args.config, "r2_buckets", "BUNDLES", "bucket_name");
      const database = wranglerBinding(args.config, "d1_databases", "DB", "database_name");
      const rec = aliasLocal(args.name, digest, { bucket, database, now: Date.now() });
      console.log(JSON.stringify({ alias: rec }));
      return;
    }
    const key = process.env[args["key-env"]];
    if (!key) throw new Error(`no API key in $${args["key-env"]} (a key with the alias scope)`);
    console.log(JSON.stringify(await aliasViaRoute(args.url!, key, args.name, digest)));
  },
});
