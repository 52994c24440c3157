/**
 * Cold-start baselines that split the worker's start-up: (a) a trivial worker
 * (workerd process + one tiny isolate), (b) the same plus the ORT .wasm listed
 * as a CompiledWasm module (imported, never instantiated). Both answer 200 on
 * every path, so startWorkerd's /healthz poll times them like the real worker.
 * Owned by bench/.
 */
import { copyFileSync, mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { startWorkerd, stopWorkerd, writeConfig } from "./workerd.js";

export interface Baseline {
  name: string;
  cold_ms: number[];
  cpu_ms: number[];
}

/** Cold starts of the two baselines, `n` each, using the .wasm from `buildDir`. */
export async function baselineColdStarts(buildDir: string, port: number, n: number): Promise<Baseline[]> {
  const wasm = readdirSync(buildDir).find((f) => f.endsWith(".wasm"));
  const out: Baseline[] = [];
  const variants: { name: string; withWasm: boolean }[] = [
    { name: "trivial worker (workerd floor)", withWasm: false },
    { name: "trivial worker + ORT .wasm module (compiled, not instantiated)", withWasm: true },
  ];
  for (const v of variants) {
    const dir = `.cache/bench-baseline-${v.withWasm ? "wasm" : "plain"}`;
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    const imp = v.withWasm && wasm ? `import m from "./${wasm}";\nconst size = m instanceof WebAssembly.Module ? 1 : 0;\n` : "const size = 0;\n";
    writeFileSync(`${dir}/entry.js`, `${imp}export default { fetch() { return new Response("ok " + size); } };\n`);
    if (v.withWasm && wasm) copyFileSync(`${buildDir}/${wasm}`, `${dir}/${wasm}`);
    const config = writeConfig(dir, "entry.js", port, {});
    const b: Baseline = { name: v.name, cold_ms: [], cpu_ms: [] };
    for (let i = 0; i < n; i++) {
      const w = await startWorkerd(config, port);
      b.cold_ms.push(w.coldStartMs);
      b.cpu_ms.push(w.coldStartCpuMs);
      await stopWorkerd(w);
    }
    out.push(b);
  }
  return out;
}
