/**
 * Bearer API-key check. Keys are configured only as SHA-256 hashes; the
 * presented key is hashed and compared in constant time against every entry
 * (no early exit), so timing does not reveal which prefix matched.
 */
import { err, ok, type Result } from "../core/result.js";
import type { ApiKeyEntry, Config } from "../core/config.js";
import { sha256Hex } from "../core/sha256.js";

function constantTimeEqual(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}

export type Scope = ApiKeyEntry["scopes"][number];
export interface Principal {
  keyId: string;
  scopes: Scope[];
}

export async function authenticate(config: Pick<Config, "auth" | "keys">, header: string | undefined, scope: Scope): Promise<Result<Principal>> {
  if (config.auth === "disabled") return ok({ keyId: "anonymous", scopes: ["route", "feedback", "report"] });
  const m = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
  if (!m) return err({ reason: "unauthorized", detail: "missing bearer API key (Authorization: Bearer <key>)" });
  const hash = await sha256Hex(m[1]);
  let found: ApiKeyEntry | undefined;
  for (const k of config.keys) if (constantTimeEqual(hash, k.sha256) && !found) found = k;
  if (!found) return err({ reason: "forbidden", detail: "API key rejected" });
  if (!found.scopes.includes(scope)) return err({ reason: "forbidden", detail: `API key ${found.id} lacks scope ${scope}` });
  return ok({ keyId: found.id, scopes: found.scopes });
}
