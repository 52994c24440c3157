/**
 * Pinned bundles (issue 15, finding 6): the registry pins each manifest's
 * sha256 and the loader refuses a manifest that no longer has it. The test
 * entry embeds `fixture-tampered`, the fixture pinned and then edited by one
 * digit of a calibration number (test/worker/entry.ts); before pinning it was
 * served as healthy. Also checks that the committed registries pin the
 * committed manifests, so a manifest changed without re-running promote (or
 * make-fixture) fails here rather than in production.
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import type { Miniflare } from "miniflare";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readRegistryPins } from "../../scripts/bundle/registry.js";
import { call, startWorker } from "./harness.js";

const PIN_MISMATCH = /bundle fixture-tampered failed to load: manifest\.json sha256 [0-9a-f]{12}… does not match the pinned [0-9a-f]{12}…/;
const EXPERIMENTS = [{ name: "tampered-arm", variants: [{ name: "only", weight: 1, bundle: "fixture-tampered" }] }];

describe("committed registries", () => {
  for (const registry of ["src/worker/embedded-bundles.ts", "test/worker/fixture-bundles.ts"]) {
    it(`${registry} pins the sha256 of every manifest it embeds`, () => {
      const pins = readRegistryPins(registry);
      expect(pins.length).toBeGreaterThan(0);
      for (const pin of pins) {
        const file = join(dirname(registry), pin.manifest);
        const actual = createHash("sha256").update(readFileSync(file)).digest("hex");
        expect(pin.sha256, `${file} changed since ${registry} was generated: re-run its generator`).toBe(actual);
      }
    });
  }
});

describe("a manifest that differs from its pin", () => {
  let mf: Miniflare;
  beforeAll(async () => {
    mf = await startWorker({ AUTH: "disabled", EXPERIMENTS: JSON.stringify(EXPERIMENTS) });
  });
  afterAll(async () => mf?.dispose());

  it("is failed with the reason; the default still serves and /healthz stays 200", async () => {
    const h = await call(mf, "GET", "/healthz");
    expect(h.status).toBe(200);
    expect(h.body.bundles.find((b: { id: string }) => b.id === "fixture-tampered")?.state).toBe("failed");
    // Every correctly pinned bundle, the committed production ones included, loads as workerd hands it the text.
    const ready = h.body.bundles.filter((b: { state: string }) => b.state === "ready").map((b: { id: string }) => b.id);
    expect(ready).toEqual(expect.arrayContaining(["fixture-tiny", "llmrouter-v5", "routellm-v1"]));
    const ok = await call(mf, "POST", "/v1/route", { body: { prompt: "hi" } });
    expect(ok.status).toBe(200);
  });
  it("answers 503 bundle-unavailable to requests that name it, by header or through a variant", async () => {
    const byHeader = await call(mf, "POST", "/v1/route", { body: { prompt: "hi" }, headers: { "x-preflight-bundle": "fixture-tampered" } });
    expect(byHeader.status).toBe(503);
    expect(byHeader.body.type).toMatch(/bundle-unavailable$/);
    expect(byHeader.body.detail).toMatch(PIN_MISMATCH);
    const byVariant = await call(mf, "POST", "/v1/route", { body: { prompt: "hi" }, headers: { "x-preflight-experiment": "tampered-arm" } });
    expect(byVariant.status).toBe(503);
    expect(byVariant.body.detail).toMatch(PIN_MISMATCH);
  });
});

describe("a default bundle that differs from its pin", () => {
  let mf: Miniflare;
  beforeAll(async () => {
    mf = await startWorker({ AUTH: "disabled", DEFAULT_BUNDLE: "fixture-tampered" });
  });
  afterAll(async () => mf?.dispose());

  it("makes /healthz unhealthy (503) and routes without a bundle header 503", async () => {
    const h = await call(mf, "GET", "/healthz");
    expect(h.status).toBe(503);
    expect(h.body.status).toBe("unhealthy");
    expect(h.body.default_bundle).toBe("fixture-tampered");
    const r = await call(mf, "POST", "/v1/route", { body: { prompt: "hi" } });
    expect(r.status).toBe(503);
    expect(r.body.detail).toMatch(PIN_MISMATCH);
  });
});
