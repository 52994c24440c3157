/**
 * `make-e2e-fixture`: rewrites test/fixtures/e2e (synthetic outcomes, pool and
 * activations for the end-to-end pipeline test). See scripts/bundle/make-e2e-fixture.ts.
 */
import { defineCommand } from "citty";
import { makeE2eFixture } from "../bundle/make-e2e-fixture.js";

export default defineCommand({
  meta: { name: "make-e2e-fixture", description: "Write the synthetic end-to-end pipeline fixture under test/fixtures/e2e" },
  args: { dir: { type: "string", default: "test/fixtures/e2e", description: "output directory" } },
  async run({ args }) {
    const r = await makeE2eFixture(args.dir);
    console.log(`wrote ${r.rows} rows to ${args.dir}`);
  },
});
