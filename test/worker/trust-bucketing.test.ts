/**
 * Fair bucketing end to end (issue 15, finding 4): 2,000 routed requests with
 * sequential unit ids on a 9:1 experiment; the arm sizes read from the
 * x-preflight-variant response header must pass a chi-square test. With the
 * old FNV-1a assignment this experiment gave 91 treatment units instead of
 * ~200 (χ² = 66); the breadth of names × id styles × splits is in
 * test/node/bucketing.test.ts.
 */
import type { Miniflare } from "miniflare";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { call, startWorker } from "./harness.js";

const EXPERIMENT = {
  name: "nine-to-one",
  variants: [
    { name: "control", weight: 9, model: "fixture-small" },
    { name: "treatment", weight: 1, model: "fixture-large" },
  ],
};
const UNITS = 2_000;
// χ² critical value for df 1 at α = 1e-9 (scipy.stats.chi2.isf(1e-9, 1)): a fair hash fails this with probability 1e-9.
const CRIT_DF1 = 37.32;

let mf: Miniflare;
beforeAll(async () => {
  mf = await startWorker({ AUTH: "disabled", EXPERIMENTS: JSON.stringify([EXPERIMENT]) });
});
afterAll(async () => mf?.dispose());

describe("variant bucketing in the worker", () => {
  it("a 9:1 split over sequential unit ids gives arms of the asked sizes (χ², df 1)", async () => {
    const counts: Record<string, number> = { control: 0, treatment: 0 };
    for (let start = 0; start < UNITS; start += 50) {
      const replies = await Promise.all(
        Array.from({ length: Math.min(50, UNITS - start) }, (_, j) =>
          call(mf, "POST", "/v1/route", {
            body: { prompt: "hi" },
            headers: { "x-preflight-experiment": EXPERIMENT.name, "x-preflight-unit": `user-${start + j}` },
          }),
        ),
      );
      for (const r of replies) {
        expect(r.status).toBe(200);
        counts[r.headers.get("x-preflight-variant")!]++;
      }
    }
    expect(counts.control + counts.treatment).toBe(UNITS);
    const expected = { control: UNITS * 0.9, treatment: UNITS * 0.1 };
    const x2 = (counts.control - expected.control) ** 2 / expected.control + (counts.treatment - expected.treatment) ** 2 / expected.treatment;
    expect(x2, `control ${counts.control}, treatment ${counts.treatment}`).toBeLessThan(CRIT_DF1);
  });
  it("a unit keeps its variant on every request", async () => {
    const headers = { "x-preflight-experiment": EXPERIMENT.name, "x-preflight-unit": "user-7" };
    const first = await call(mf, "POST", "/v1/route", { body: { prompt: "a" }, headers });
    for (const prompt of ["b", "c", "d"]) {
      const r = await call(mf, "POST", "/v1/route", { body: { prompt }, headers });
      expect(r.headers.get("x-preflight-variant")).toBe(first.headers.get("x-preflight-variant"));
    }
  });
});
