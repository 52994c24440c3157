/**
 * `npm run doctor` (scripts/doctor.ts): every missing or invalid secret, var
 * and binding is named, with the worker's own validation; exit code 1 when
 * anything is wrong, 0 for a complete production configuration. No secret
 * value is printed.
 */
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { diagnose, embeddedBundles, LOCAL_D1_ID, parseDotVars, runDoctor, type DoctorInput } from "../../scripts/doctor.js";

const KEYS = JSON.stringify([{ id: "team-a", sha256: createHash("sha256").update("pf_live_a").digest("hex"), scopes: ["route", "feedback"] }]);
const HMAC = "f".repeat(64);
const good: DoctorInput = {
  vars: { AUTH: "required", MAX_BODY_BYTES: "262144" },
  secrets: { API_KEYS: KEYS, PROMPT_HMAC_KEY: HMAC },
  d1: [{ binding: "DB", database_id: "4f1e2d3c-0000-4000-8000-123456789abc" }],
  bundles: embeddedBundles("."),
};
const problemsOf = (over: Partial<DoctorInput>) => diagnose({ ...good, ...over }).problems;

describe("diagnose", () => {
  it("passes a complete production configuration", () => {
    expect(good.bundles.map((b) => b.id)).toContain("llmrouter-v5");
    expect(diagnose(good).problems).toEqual([]);
  });
  it("names each missing or invalid secret", () => {
    expect(problemsOf({ secrets: { API_KEYS: KEYS } }).join("\n")).toMatch(/^PROMPT_HMAC_KEY: required/m);
    expect(problemsOf({ secrets: { API_KEYS: KEYS, PROMPT_HMAC_KEY: "short" } }).join("\n")).toMatch(/^PROMPT_HMAC_KEY: too short \(5 characters/m);
    expect(problemsOf({ secrets: { PROMPT_HMAC_KEY: HMAC } }).join("\n")).toMatch(/^API_KEYS: AUTH is required but no keys/m);
    const malformed = problemsOf({ secrets: { API_KEYS: '[{"id":"team-a","sha256":"abc SECRET', PROMPT_HMAC_KEY: HMAC } });
    expect(malformed).toEqual(["API_KEYS: not valid JSON (at position 36)"]);
  });
  it("names each invalid var, and reports them all in one run", () => {
    const p = problemsOf({
      vars: {
        MAX_BODY_BYTES: "2000000",
        PRICE_OVERRIDES: JSON.stringify({ "gemma-2-9b-it": { input_per_mtok: 1e308, output_per_mtok: 1 } }),
        EXPERIMENTS: JSON.stringify([{ name: "x", variants: [{ name: "a", weight: 1, bundle: "nope" }] }]),
        DEFAULT_BUNDLE: "missing-bundle",
      },
    });
    expect(p.join("\n")).toMatch(/^MAX_BODY_BYTES: at most 1048576/m);
    expect(problemsOf({ vars: { PRICE_OVERRIDES: JSON.stringify({ "gemma-2-9b-it": { input_per_mtok: 1e308, output_per_mtok: 1 } }) } }).join("\n")).toMatch(
      /^PRICE_OVERRIDES\.gemma-2-9b-it\.input_per_mtok: /m,
    );
    const rest = problemsOf({
      vars: {
        // Not built in and not an alias name either (aliases are lowercase letters, digits and '-').
        EXPERIMENTS: JSON.stringify([{ name: "x", variants: [{ name: "a", weight: 1, bundle: "no_such.bundle" }] }]),
        DEFAULT_BUNDLE: "missing-bundle",
        PRICE_OVERRIDES: JSON.stringify({ "gpt-9": { input_per_mtok: 1, output_per_mtok: 1 } }),
      },
    });
    expect(rest).toEqual([
      "DEFAULT_BUNDLE: unknown bundle missing-bundle; built in: llmrouter-v5, routellm-v1",
      "PRICE_OVERRIDES.gpt-9: not a model of any built-in bundle",
      "EXPERIMENTS.x.a: unknown bundle no_such.bundle (neither built in nor an alias name)",
    ]);
  });
  it("flags secrets kept in [vars], AUTH=disabled and the D1 binding", () => {
    expect(problemsOf({ vars: { PROMPT_HMAC_KEY: HMAC } }).join("\n")).toMatch(/^PROMPT_HMAC_KEY: set in \[vars\]/m);
    expect(problemsOf({ vars: { AUTH: "disabled" } }).join("\n")).toMatch(/^AUTH: disabled serves without API keys/m);
    expect(problemsOf({ d1: [] }).join("\n")).toMatch(/^D1 binding DB: missing/m);
    expect(problemsOf({ d1: [{ binding: "DB", database_id: LOCAL_D1_ID }] }).join("\n")).toMatch(/local placeholder/);
  });
});

describe("npm run doctor", () => {
  const dir = mkdtempSync(join(tmpdir(), "preflight-doctor-"));
  const toml = readFileSync("wrangler.toml", "utf8");
  const run = async (tomlText: string, secrets: string | null, env: NodeJS.ProcessEnv = {}) => {
    writeFileSync(join(dir, "wrangler.toml"), tomlText);
    writeFileSync(join(dir, ".prod.vars"), secrets ?? "");
    const lines: string[] = [];
    const code = await runDoctor(["--config", join(dir, "wrangler.toml"), ...(secrets === null ? [] : ["--secrets", join(dir, ".prod.vars")])], (l) => lines.push(l), env);
    return { code, out: lines.join("\n") };
  };

  it("on the committed wrangler.toml without secrets: exit 1 naming both secrets and the D1 placeholder", async () => {
    const { code, out } = await run(toml, null);
    expect(code).toBe(1);
    expect(out).toMatch(/API_KEYS\s+secret\s+MISSING/);
    expect(out).toMatch(/✗ PROMPT_HMAC_KEY: required when AUTH=required/);
    expect(out).toMatch(/✗ D1 binding DB: database_id is the local placeholder/);
  }, 30_000);
  it("with a real database id and both secrets (file and environment): exit 0, no secret printed", async () => {
    const { code, out } = await run(toml.replace(LOCAL_D1_ID, "4f1e2d3c-0000-4000-8000-123456789abc"), `# production secrets\nAPI_KEYS='${KEYS}'\n`, { PROMPT_HMAC_KEY: HMAC });
    expect(out).toMatch(/^OK: nothing missing or invalid/m);
    expect(code).toBe(0);
    expect(out).not.toContain(HMAC);
    expect(out).not.toContain(JSON.parse(KEYS)[0].sha256);
  }, 30_000);
});

describe("parseDotVars", () => {
  it("reads NAME=value lines with quotes and comments", () => {
    expect(parseDotVars(`# c\nA=1\nexport B="two words"\nC='{"x":1}'\n\nbad line\n`)).toEqual({ A: "1", B: "two words", C: '{"x":1}' });
  });
});
