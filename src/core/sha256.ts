/**
 * SHA-256 and HMAC-SHA256 via WebCrypto (a global in workerd and Node 20; no
 * I/O), for the worker's API-key and bundle checks and the decision log's
 * prompt HMAC (which the pipeline recomputes with this same function). The
 * pipeline's file hashes use node:crypto. All produce lowercase hex.
 */
export async function sha256Hex(data: ArrayBuffer | Uint8Array | string): Promise<string> {
  const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
  const digest = await crypto.subtle.digest("SHA-256", bytes);
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

// Caches the imported key itself, never a pending promise: a promise created in
// one request and awaited by another is what workerd reports as a cross-request
// promise (and may cancel with its request). Concurrent first imports are harmless.
const hmacKeys = new Map<string, CryptoKey>();

/**
 * HMAC-SHA256 of `text` (UTF-8) under `key`, lowercase hex: the decision log's
 * prompt_hmac. One function for the worker (src/http/log-decisions.ts) and the
 * pipeline (`pipeline pull --texts` joins a user's own texts by recomputing it).
 */
export async function hmacSha256Hex(key: string, text: string): Promise<string> {
  let k = hmacKeys.get(key);
  if (!k) {
    k = await crypto.subtle.importKey("raw", new TextEncoder().encode(key), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
    hmacKeys.set(key, k);
  }
  const sig = await crypto.subtle.sign("HMAC", k, new TextEncoder().encode(text));
  return [...new Uint8Array(sig)].map((b) => b.toString(16).padStart(2, "0")).join("");
}
