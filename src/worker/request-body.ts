/**
 * Reads and validates a JSON request body: media type (415), size limit
 * (413, enforced while streaming so a huge body is never buffered), JSON
 * syntax (400) and schema (422 with field paths). Returns a Result.
 */
import type { z } from "zod";
import { err, ok, type Result } from "../core/result.js";

export function zodIssues(error: z.ZodError): { path: string; message: string }[] {
  return error.issues.map((i) => ({ path: i.path.length ? i.path.join(".") : "(body)", message: i.message }));
}

async function readLimited(req: Request, limit: number): Promise<Result<string>> {
  const declared = Number(req.headers.get("content-length") ?? "NaN");
  if (Number.isFinite(declared) && declared > limit) return err({ reason: "payload_too_large", limit_bytes: limit });
  if (!req.body) return ok("");
  const reader = req.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel();
      return err({ reason: "payload_too_large", limit_bytes: limit });
    }
    chunks.push(value);
  }
  const all = new Uint8Array(size);
  let off = 0;
  for (const c of chunks) {
    all.set(c, off);
    off += c.byteLength;
  }
  return ok(new TextDecoder().decode(all));
}

export async function readJsonBody<T>(req: Request, schema: z.ZodType<T>, limit: number): Promise<Result<T>> {
  const type = (req.headers.get("content-type") ?? "").split(";")[0].trim().toLowerCase();
  if (type !== "application/json") {
    return err({ reason: "unsupported_media_type", detail: `expected application/json, got ${type || "no content-type"}` });
  }
  const text = await readLimited(req, limit);
  if (!text.ok) return text;
  let raw: unknown;
  try {
    raw = JSON.parse(text.value);
  } catch (e) {
    return err({ reason: "malformed_json", detail: (e as Error).message });
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) return err({ reason: "validation", issues: zodIssues(parsed.error) });
  return ok(parsed.data);
}
