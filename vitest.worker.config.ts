// Worker tier: the built worker runs in real workerd (Miniflare) with real ORT WASM.
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/worker/**/*.test.ts"],
    globalSetup: ["test/worker/global-setup.ts"],
    environment: "node",
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: "forks",
    fileParallelism: false,
  },
});
