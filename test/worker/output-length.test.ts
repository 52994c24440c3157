/**
 * Expected output length served in workerd (issue 17 item 5): a copy of the
 * committed routellm-v1 bundle given a per-family and a per-prompt
 * output_length is loaded by the worker; /v1/route quotes the family figure
 * for a maths prompt and the per-model figure otherwise, the per-prompt fit
 * grows with the prompt, and /v1/models says what is measured.
 */
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import type { Miniflare } from "miniflare";
import { afterAll, describe, expect, it } from "vitest";
import type { Manifest } from "../../src/core/manifest.js";
import { FAMILY_RULE, tokensFor } from "../../src/core/output-length.js";
import { call, serveBundles } from "./harness.js";

const WORK = ".cache/output-length-test";
const GPT = "gpt-4-1106-preview";
const MIX = "mistralai/Mixtral-8x7B-Instruct-v0.1";
const LL = { a: 2, b: 0.5, lo: 10, hi: 400 };
let mf: Miniflare | undefined;
afterAll(async () => mf?.dispose());

describe("output length in workerd", () => {
  it("quotes family and per-prompt figures and shows them on /v1/models", async () => {
    rmSync(WORK, { recursive: true, force: true });
    mkdirSync(WORK, { recursive: true });
    const dir = `${WORK}/routellm-ol`;
    cpSync("artifacts/routellm-v1", dir, { recursive: true });
    const m = JSON.parse(readFileSync(`${dir}/manifest.json`, "utf8")) as Manifest;
    m.bundle_id = "routellm-ol";
    m.output_length = {
      kind: "per-family-median",
      tokens: { [GPT]: 111, [MIX]: 100 },
      source: "test",
      family_rule: FAMILY_RULE,
      by_family: { math: { [GPT]: 222 } },
      loglinear: { [MIX]: LL },
    };
    writeFileSync(`${dir}/manifest.json`, JSON.stringify(m, null, 2) + "\n");
    mf = await serveBundles(WORK, [dir], "test/worker/output-length.test.ts");

    const quote = async (prompt: string) => {
      const r = await call(mf!, "POST", "/v1/route", { body: { prompt } });
      expect(r.status).toBe(200);
      const by = (id: string) => r.body.candidates.find((c: { model: string }) => c.model === id);
      return { gpt: by(GPT), mix: by(MIX) };
    };
    const math = await quote("Janet has 16 eggs and eats 3. How many are left?");
    expect(math.gpt.expected_output_tokens).toBe(222);
    expect(math.mix.expected_output_tokens).toBe(tokensFor({ loglinear: LL }, "math", math.mix.input_tokens, 0));
    const other = await quote("Who wrote Middlemarch, and in which year was it first published in full?");
    expect(other.gpt.expected_output_tokens).toBe(111);
    expect(other.mix.expected_output_tokens).toBe(tokensFor({ loglinear: LL }, "other", other.mix.input_tokens, 0));
    expect(other.mix.expected_output_tokens).not.toBe(math.mix.expected_output_tokens);

    const models = await call(mf, "GET", "/v1/models");
    const info = (id: string) => models.body.models.find((x: { id: string }) => x.id === id);
    expect(info(GPT)).toMatchObject({ default_output_tokens: 111, output_tokens_source: "measured", output_tokens_by_family: { math: 222 } });
    expect(info(MIX).output_tokens_per_prompt).toContain("log1p(input_tokens)");
  }, 240_000);
});
