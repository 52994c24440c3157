/**
 * SHA-256 via WebCrypto (a global in workerd and Node 20; no I/O), for the
 * worker's API-key and bundle checks. The pipeline uses node:crypto. Both
 * produce lowercase hex.
 */
export async function sha256Hex(data: ArrayBuffer | Uint8Array | string): Promise<string> {
  const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
  const digest = await crypto.subtle.digest("SHA-256", bytes);
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}
