/**
 * The typed client: sends the right method, path, headers and body, and turns
 * problem+json answers into PreflightError.
 */
import { describe, expect, it } from "vitest";
import { createClient, PreflightError } from "../../src/client.js";

function fakeFetch(status: number, body: unknown, seen: { url?: string; init?: RequestInit }[]) {
  return (async (url: URL | RequestInfo, init?: RequestInit) => {
    seen.push({ url: String(url), init });
    return new Response(JSON.stringify(body), { status, headers: { "content-type": status >= 400 ? "application/problem+json" : "application/json" } });
  }) as typeof fetch;
}

describe("typed client", () => {
  it("posts route requests with auth and experiment headers", async () => {
    const seen: { url?: string; init?: RequestInit }[] = [];
    const client = createClient({ baseUrl: "http://edge.test", apiKey: "k1", experiment: { name: "canary", unit: "u7" }, fetch: fakeFetch(200, { decision: { type: "route", model: "m" } }, seen) });
    const out = await client.route({ prompt: "hi", policy: { type: "threshold", min_p: 0.5 } });
    expect(out.decision.type).toBe("route");
    expect(seen[0].url).toBe("http://edge.test/v1/route");
    expect(seen[0].init?.method).toBe("POST");
    const h = seen[0].init?.headers as Record<string, string>;
    expect(h.authorization).toBe("Bearer k1");
    expect(h["x-preflight-experiment"]).toBe("canary");
    expect(h["x-preflight-unit"]).toBe("u7");
    expect(JSON.parse(String(seen[0].init?.body))).toEqual({ prompt: "hi", policy: { type: "threshold", min_p: 0.5 } });
  });
  it("throws PreflightError carrying the problem body", async () => {
    const problem = { type: "x", title: "Unprocessable Content", status: 422, detail: "models: unknown model gpt-9", request_id: "r1" };
    const client = createClient({ baseUrl: "http://edge.test", fetch: fakeFetch(422, problem, []) });
    const err = await client.route({ prompt: "hi", models: ["gpt-9"] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PreflightError);
    expect((err as PreflightError).status).toBe(422);
    expect((err as PreflightError).problem?.detail).toMatch(/gpt-9/);
  });
});
