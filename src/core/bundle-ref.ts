/**
 * Names and addresses of bundles kept outside the code (issue 19): the R2
 * object layout, alias names and the alias record. Pure: schemas and string
 * rules only; the stores that read and write them live in src/store/ and the
 * pipeline's publish stage. Shared by the worker and the pipeline so a bundle
 * published by one is found by the other.
 *
 * A bundle in R2 is addressed by the sha256 of its manifest.json, never by a
 * mutable name: the manifest pins every other file through its listed hashes,
 * so one digest pins the whole bundle. Aliases (`default`, `candidate`, …)
 * are the only mutable names, and they resolve to such a digest.
 */
import { z } from "zod";

export const ManifestDigest = z.string().regex(/^[0-9a-f]{64}$/, "lowercase hex sha256 of manifest.json");
export type ManifestDigest = z.infer<typeof ManifestDigest>;

/** Lowercase letters, digits and dashes, 1–64 characters, starting with a letter. */
export const AliasName = z.string().regex(/^[a-z][a-z0-9-]{0,63}$/, "alias: lowercase letters, digits and '-', starting with a letter, at most 64 characters");
export type AliasName = z.infer<typeof AliasName>;

/** R2 key of one file of a published bundle: `bundles/<manifest sha256>/<path>`. */
export function bundleObjectKey(digest: ManifestDigest, path: string): string {
  return `bundles/${digest}/${path}`;
}

/** One row of the bundle_aliases table (migrations/0004_bundle_aliases.sql). */
export const AliasRecord = z.object({
  alias: AliasName,
  manifest_sha256: ManifestDigest,
  bundle_id: z.string().min(1),
  updated_at: z.number().int().min(0).meta({ description: "ms since the epoch" }),
  updated_by: z.string().min(1).meta({ description: "API key id (or `wrangler` for a change made with the CLI) that set it" }),
});
export type AliasRecord = z.infer<typeof AliasRecord>;
