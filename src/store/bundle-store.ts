/**
 * Reads a bundle published to R2 (`bundles/<manifest sha256>/<path>`, see
 * src/core/bundle-ref.ts): manifest.json and the files the worker serves
 * from (the ONNX student), as bytes pinned to the digest in the key. Must not
 * verify or parse for trust: the runtime hands these bytes to the same
 * verification as embedded bundles (src/infer/bundle-loader.ts: the manifest
 * must hash to the key's digest, then schema, then every file's sha256).
 * Here the manifest is read only to learn which file to fetch; a manifest
 * that lies about it fails that digest check anyway.
 */
import { bundleObjectKey, ManifestDigest } from "../core/bundle-ref.js";

/**
 * Largest object read into memory. An isolate has 128 MB and our budget is 64;
 * today's largest student is 1.7 MB, so 16 MiB refuses only what cannot be ours.
 */
export const MAX_BUNDLE_OBJECT_BYTES = 16 * 2 ** 20;

export interface PublishedBytes {
  manifestText: string;
  manifestSha256: string;
  files: Record<string, ArrayBuffer>;
  origin: string;
}

export type FetchedBundle = { ok: true; bytes: PublishedBytes } | { ok: false; reason: string };

/**
 * One bundle object's bytes, refusing (without reading) anything over
 * MAX_BUNDLE_OBJECT_BYTES. `missing` tells an absent object from a refused one.
 * The one R2 reader for bundles: the serving loader and the alias route's
 * publish check both read through it, so both have the same memory bound.
 */
export async function readBundleObject(bucket: R2Bucket, key: string): Promise<{ ok: true; bytes: ArrayBuffer } | { ok: false; missing: boolean; reason: string }> {
  const obj = await bucket.get(key);
  if (obj === null) return { ok: false, missing: true, reason: `${key} is missing in R2 (not published, or deleted)` };
  if (obj.size > MAX_BUNDLE_OBJECT_BYTES) {
    await obj.body.cancel();
    return { ok: false, missing: false, reason: `${key} is ${obj.size} bytes, over the ${MAX_BUNDLE_OBJECT_BYTES}-byte limit for a bundle file` };
  }
  return { ok: true, bytes: await obj.arrayBuffer() };
}

/** manifest.json and the student of the bundle whose manifest hashes to `digest`, unverified. */
export async function fetchBundle(bucket: R2Bucket, digest: string): Promise<FetchedBundle> {
  if (!ManifestDigest.safeParse(digest).success) return { ok: false, reason: `not a manifest digest: ${digest}` };
  const origin = `R2 ${bundleObjectKey(digest, "")}`;
  try {
    const m = await readBundleObject(bucket, bundleObjectKey(digest, "manifest.json"));
    if (!m.ok) return m;
    // fatal: bytes that are not UTF-8 would otherwise be replaced and still fail the digest, less clearly.
    let manifestText: string;
    try {
      manifestText = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(m.bytes);
    } catch {
      return { ok: false, reason: `${bundleObjectKey(digest, "manifest.json")} is not UTF-8` };
    }
    let onnx = "student.onnx";
    try {
      const hint = (JSON.parse(manifestText) as { onnx?: { file?: unknown } }).onnx?.file;
      if (typeof hint === "string" && hint.length > 0) onnx = hint;
    } catch {
      /* not JSON: verification says so, with the digest check first */
    }
    const f = await readBundleObject(bucket, bundleObjectKey(digest, onnx));
    if (!f.ok) return f;
    return { ok: true, bytes: { manifestText, manifestSha256: digest, files: { [onnx]: f.bytes }, origin } };
  } catch (e) {
    return { ok: false, reason: `reading ${origin} failed: ${(e as Error).message}` };
  }
}
