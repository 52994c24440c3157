/**
 * numberFlag (scripts/lib/flags.ts): numeric CLI flags are parsed or refused
 * with the flag named, never passed on as NaN; and a command uses it (add-model
 * with a price that is not a number stops before reading the bundle).
 */
import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { numberFlag, optionalNumberFlag } from "../../scripts/lib/flags.js";

describe("numberFlag", () => {
  it("parses numbers within the rule", () => {
    expect(numberFlag("price-in", "0.25", { min: 0 })).toBe(0.25);
    expect(numberFlag("n", "100", { integer: true, min: 1 })).toBe(100);
    expect(numberFlag("flip", "1", { min: 0, max: 1 })).toBe(1);
    expect(numberFlag("seed", "-3", { integer: true })).toBe(-3);
  });

  it.each([
    ["price-in", "abc", { min: 0 }, /--price-in must be a number ≥ 0, got "abc"/],
    ["price-in", "-1", { min: 0 }, /--price-in must be a number ≥ 0/],
    ["n", "2.5", { integer: true, min: 1 }, /--n must be an integer ≥ 1/],
    ["n", "", { integer: true }, /--n must be an integer, got ""/],
    ["flip", "1.5", { min: 0, max: 1 }, /--flip must be a number in \[0, 1\]/],
    ["since", "Infinity", { integer: true, min: 0 }, /--since must be an integer ≥ 0/],
  ] as const)("refuses --%s %j", (flag, raw, rule, message) => {
    expect(() => numberFlag(flag, raw, rule)).toThrow(message);
  });

  it("leaves an absent optional flag to the stage's default and checks a given one", () => {
    expect(optionalNumberFlag("reps", undefined, { integer: true, min: 1 })).toBeUndefined();
    expect(optionalNumberFlag("reps", "", { integer: true, min: 1 })).toBeUndefined();
    expect(optionalNumberFlag("reps", "200", { integer: true, min: 1 })).toBe(200);
    expect(() => optionalNumberFlag("alpha", "0.5x", { min: 0, max: 1 })).toThrow(/--alpha must be a number in \[0, 1\], got "0.5x"/);
  });

  it("add-model refuses a price that is not a number, naming the flag", () => {
    let stderr = "";
    try {
      execFileSync("npx", ["tsx", "scripts/cli.ts", "add-model", "--bundle", "artifacts/llmrouter-v5", "--data", "/nonexistent.jsonl", "--model", "m", "--price-in", "abc"], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
    } catch (e) {
      stderr = String((e as { stderr?: string }).stderr);
    }
    expect(stderr).toContain('--price-in must be a number ≥ 0, got "abc"');
  });
});
