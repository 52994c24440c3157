/**
 * `make-fixture`: rewrites the worker-test fixture bundle and its registry
 * (test/worker/fixture-bundles.ts). Fixtures are labelled kind "fixture".
 */
import { defineCommand } from "citty";
import { FIXTURE_ID, makeFixture } from "../bundle/make-fixture.js";
import { writeRegistry } from "../bundle/registry.js";

export default defineCommand({
  meta: { name: "make-fixture", description: "Write test/fixtures/bundles/fixture-tiny and its test registry" },
  args: {},
  async run() {
    const r = await makeFixture("test/fixtures/bundles", "2026-11-29T00:00:00.000Z");
    writeRegistry("test/worker/fixture-bundles.ts", [`test/fixtures/bundles/${FIXTURE_ID}`], "scripts/commands/make-fixture.ts");
    console.log(`wrote ${r.dir}`);
  },
});
