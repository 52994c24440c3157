/**
 * House rules as tests: core stays pure, vendor runtimes stay at the edges,
 * src never imports scripts, the src folders import one way (worker → http →
 * infer/store → core), no import loops, only the CLI entry exits, files stay small.
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, normalize, resolve } from "node:path";
import { describe, expect, it } from "vitest";

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? files(p) : /\.(ts|tsx)$/.test(f) ? [p] : [];
  });
}
const imports = (p: string) => [...readFileSync(p, "utf8").matchAll(/(?:from|import)\s*\(?\s*"([^"]+)"/g)].map((m) => m[1]);

/** The .ts/.tsx files a module's relative imports (type-only included) resolve to. */
function localImports(p: string): string[] {
  return imports(p)
    .filter((i) => i.startsWith("."))
    .map((i) => normalize(join(dirname(p), i)).replace(/\.js$/, ""))
    .flatMap((base) => [`${base}.ts`, `${base}.tsx`].filter((f) => existsSync(f)));
}

/** Every import loop among `dir`'s modules, each as the path that closes it (depth-first, one per back edge). */
function importCycles(dir: string): string[][] {
  const state = new Map<string, "open" | "done">();
  const stack: string[] = [];
  const cycles: string[][] = [];
  const visit = (f: string) => {
    state.set(f, "open");
    stack.push(f);
    for (const g of localImports(f)) {
      if (state.get(g) === "open") cycles.push([...stack.slice(stack.indexOf(g)), g]);
      else if (!state.has(g)) visit(g);
    }
    stack.pop();
    state.set(f, "done");
  };
  for (const f of files(dir).sort()) if (!state.has(f)) visit(f);
  return cycles;
}

/** Files under `from` with a relative import that lands under any of `banned`. */
const crossings = (from: string, banned: string[]) =>
  files(from).flatMap((f) => localImports(f).filter((g) => banned.some((b) => g.startsWith(b))).map((g) => `${f} → ${g}`));

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
  it("src/core imports nothing outside src/core but zod", () => {
    for (const f of files("src/core")) {
      for (const i of imports(f)) expect(i.startsWith(".") ? localImports(f).every((g) => g.startsWith("src/core/")) : i === "zod", `${f} imports ${i}`).toBe(true);
    }
  });
  it("src folders import in one direction: store and infer never import http, infer never imports store, nothing imports the entry", () => {
    expect(crossings("src/store", ["src/http/", "src/worker/"])).toEqual([]);
    expect(crossings("src/infer", ["src/http/", "src/store/", "src/worker/"])).toEqual([]);
    expect(crossings("src/http", ["src/worker/"])).toEqual([]);
  });
  it("no import loops in src", () => {
    expect(importCycles("src")).toEqual([]);
  });
  it("no import loops in scripts", () => {
    expect(importCycles("scripts")).toEqual([]);
  });
  it("only src/http/openapi.ts imports zod-to-openapi", () => {
    const users = [...files("src"), ...files("scripts")].filter((f) => imports(f).some((i) => i.startsWith("@asteasolutions/zod-to-openapi")));
    expect(users).toEqual(["src/http/openapi.ts"]);
  });
  it("exactly one module in src imports onnxruntime-web and exactly one in scripts imports onnxruntime-node", () => {
    const web = files("src").filter((f) => imports(f).some((i) => i.startsWith("onnxruntime-web")));
    // bench/ and test/ go through scripts/lib/ort-node.ts too, so ORT's Node API has one importer in the repository.
    const node = [...files("scripts"), ...files("bench"), ...files("test")].filter((f) => imports(f).some((i) => i === "onnxruntime-node"));
    expect(web).toEqual(["src/infer/ort-engine.ts"]);
    expect(node).toEqual(["scripts/lib/ort-node.ts"]);
  });
  it("src never imports node:* or scripts/", () => {
    for (const f of files("src")) for (const i of imports(f)) expect(i.startsWith("node:") || i.includes("scripts/"), `${f} imports ${i}`).toBe(false);
  });
  it("only the CLI entry point exits the process", () => {
    const exits = files("scripts").filter((f) => /process\.exit\(/.test(readFileSync(f, "utf8")));
    expect(exits).toEqual(["scripts/cli.ts"]);
  });
  it("only scripts/cli.ts imports scripts/commands/ (stage logic lives in scripts/stages/)", () => {
    const commands = resolve("scripts/commands") + "/";
    const importers = ["scripts", "bench", "test"]
      .flatMap(files)
      .filter((f) => f !== join("scripts", "cli.ts") && !resolve(f).startsWith(commands))
      .filter((f) => imports(f).some((i) => i.startsWith(".") && resolve(dirname(f), i).startsWith(commands)));
    expect(importers).toEqual([]);
  });
  it("every src and scripts module opens with a header comment", () => {
    for (const f of [...files("src"), ...files("scripts")]) expect(/^\s*(\/\*\*|\/\/)/.test(readFileSync(f, "utf8")), f).toBe(true);
  });
});
