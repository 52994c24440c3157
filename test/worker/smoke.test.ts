import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Miniflare } from "miniflare";
import { call, startWorker } from "./harness.js";

let mf: Miniflare;
beforeAll(async () => {
  mf = await startWorker({ AUTH: "disabled" });
});
afterAll(async () => mf?.dispose());

describe("smoke", () => {
  it("routes", async () => {
    const r = await call(mf, "POST", "/v1/route", { body: { prompt: "What is 17 * 23?" } });
    console.log(r.status, JSON.stringify(r.body, null, 1));
    expect(r.status).toBe(200);
  });
});
