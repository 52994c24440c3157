/**
 * House rules as tests: core stays pure, vendor runtimes stay at the edges,
 * src never imports scripts, only the CLI entry exits, files stay small.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? files(p) : /\.(ts|tsx)$/.test(f) ? [p] : [];
  });
}
const imports = (p: string) => [...readFileSync(p, "utf8").matchAll(/(?:from|import)\s*\(?\s*"([^"]+)"/g)].map((m) => m[1]);

describe("architecture", () => {
  it("src/core is pure: no node:*, no onnxruntime, no worker or script imports, no clock", () => {
    for (const f of files("src/core")) {
      const text = readFileSync(f, "utf8");
      for (const i of imports(f)) {
        expect(i.startsWith("node:") || i.startsWith("onnxruntime") || i.includes("/worker/") || i.includes("scripts/"), `${f} imports ${i}`).toBe(false);
      }
      expect(/Date\.now\(|performance\.now\(|Math\.random\(|process\.env/.test(text), `${f} reads a clock, randomness or env`).toBe(false);
    }
  });
  it("exactly one module in src imports onnxruntime-web and exactly one in scripts imports onnxruntime-node", () => {
    const web = files("src").filter((f) => imports(f).some((i) => i.startsWith("onnxruntime-web")));
    const node = files("scripts").filter((f) => imports(f).some((i) => i === "onnxruntime-node"));
    expect(web).toEqual(["src/worker/ort-engine.ts"]);
    expect(node).toEqual(["scripts/lib/ort-node.ts"]);
  });
  it("src never imports node:* or scripts/", () => {
    for (const f of files("src")) for (const i of imports(f)) expect(i.startsWith("node:") || i.includes("scripts/"), `${f} imports ${i}`).toBe(false);
  });
  it("only the CLI entry point exits the process", () => {
    const exits = files("scripts").filter((f) => /process\.exit\(/.test(readFileSync(f, "utf8")));
    expect(exits).toEqual(["scripts/cli.ts"]);
  });
  it("every src and scripts module opens with a header comment", () => {
    for (const f of [...files("src"), ...files("scripts")]) expect(/^\s*(\/\*\*|\/\/)/.test(readFileSync(f, "utf8")), f).toBe(true);
  });
});
