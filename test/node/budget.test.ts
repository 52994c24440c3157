/**
 * Budgets are tests: the production worker upload (wrangler's own bundle of
 * src/worker/index.ts with every embedded bundle and the ORT WASM) must stay
 * within 6 MiB gzipped, and each student within 3 MiB raw.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { buildWorker } from "../../scripts/lib/worker-build.js";

const OUT = ".cache/build-budget";
const MiB = 1024 * 1024;

describe("bundle size budget", () => {
  it("production worker upload ≤ 6 MiB gzipped", () => {
    buildWorker(null, OUT); // src/worker/index.ts, as wrangler.toml says
    const files = readdirSync(OUT).filter((f) => !f.endsWith(".map") && f !== "README.md");
    let raw = 0;
    let gz = 0;
    for (const f of files) {
      const bytes = readFileSync(`${OUT}/${f}`);
      raw += bytes.byteLength;
      gz += gzipSync(bytes, { level: 9 }).byteLength;
    }
    console.log(`worker upload: ${(raw / MiB).toFixed(2)} MiB raw, ${(gz / MiB).toFixed(2)} MiB gzip -9 (${files.length} modules)`);
    expect(files.some((f) => f.endsWith(".wasm"))).toBe(true);
    expect(gz).toBeLessThanOrEqual(6 * MiB);
  }, 120_000);

  it("each release student ≤ 3 MiB raw", () => {
    const dirs = readdirSync("artifacts", { withFileTypes: true }).filter((d) => d.isDirectory());
    expect(dirs.length).toBeGreaterThan(0);
    for (const d of dirs) expect(statSync(`artifacts/${d.name}/student.onnx`).size).toBeLessThanOrEqual(3 * MiB);
  });
});
