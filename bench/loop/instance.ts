/**
 * Worker instances of the decision log load check: starts a built worker in
 * Miniflare (real workerd, loopback URL from `mf.ready`, optional D1 with
 * migrations/ applied), finds its workerd pid for CPU accounting, and hands
 * out fresh keep-alive pools per phase. Sends no load and checks nothing.
 * Owned by bench/loop.
 */
import { readdirSync, readFileSync } from "node:fs";
import type { Agent } from "node:http";
import type { Readable } from "node:stream";
import { Miniflare } from "miniflare";
import { cpuMicros } from "../loadgen.js";
import { agent } from "./http.js";

const HMAC_KEY = "bench-loop-hmac-key-0123456789";
/** D1 database id of the logging instances; a persisted directory is reopened under the same id. */
export const D1_ID = "preflight-bench";

export interface Instance {
  name: "on" | "off" | "null";
  mf: Miniflare;
  url: URL;
  pid: number | null;
  /** Keep-alive pool; replaced at the start of every phase (see fresh()). */
  agent: Agent;
  stderr: string[];
}

/** workerd processes that are children of this Node process. */
export function workerdChildren(): Set<number> {
  const out = new Set<number>();
  for (const d of readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, "utf8");
      const comm = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (ppid === process.pid && comm.startsWith("workerd")) out.add(Number(d));
    } catch {
      /* exited */
    }
  }
  return out;
}

/**
 * Starts `entry` of `buildDir`; with `persist` set it gets a `DB` D1 binding
 * persisted there (logging on), without it no DB (logging off). `conns` sizes
 * the first keep-alive pool. `bindings` replaces the default vars (AUTH disabled).
 */
export async function start(
  name: Instance["name"],
  buildDir: string,
  entry: string,
  persist: string | null,
  conns: number,
  bindings: Record<string, string> = { AUTH: "disabled", PROMPT_HMAC_KEY: HMAC_KEY, MAX_BODY_BYTES: "262144" },
): Promise<Instance> {
  const before = workerdChildren();
  const stderr: string[] = [];
  const mf = new Miniflare({
    modulesRoot: buildDir,
    modules: readdirSync(buildDir)
      .filter((f) => !f.endsWith(".map") && f !== "README.md")
      .sort((a, b) => (a === entry ? -1 : b === entry ? 1 : a.localeCompare(b)))
      .map((f) => ({
        path: `${buildDir}/${f}`,
        type: f.endsWith(".js") ? "ESModule" : f.endsWith(".wasm") ? "CompiledWasm" : f.endsWith(".onnx") ? "Data" : "Text",
      })) as { path: string; type: "ESModule" | "CompiledWasm" | "Data" | "Text" }[],
    compatibilityDate: "2026-04-20",
    cf: false,
    host: "127.0.0.1",
    port: 0,
    bindings,
    ...(persist !== null ? { d1Databases: { DB: D1_ID }, d1Persist: persist } : {}),
    handleRuntimeStdio: (out: Readable, err: Readable) => {
      out.on("data", (d: Buffer) => stderr.push(d.toString()));
      err.on("data", (d: Buffer) => stderr.push(d.toString()));
    },
  });
  const url = await mf.ready;
  if (persist !== null) {
    const db = await mf.getD1Database("DB");
    for (const f of readdirSync("migrations").filter((x) => x.endsWith(".sql")).sort()) {
      const sql = readFileSync(`migrations/${f}`, "utf8").replace(/--.*$/gm, "");
      for (const stmt of sql.split(";").map((x) => x.trim()).filter(Boolean)) await db.prepare(stmt).run();
    }
  }
  // Only a single new workerd child can be attributed to this instance with certainty.
  const pids = [...workerdChildren()].filter((p) => !before.has(p));
  return { name, mf, url, pid: pids.length === 1 ? pids[0] : null, agent: agent(conns), stderr };
}

/**
 * A new keep-alive pool for a phase: sockets left idle since the instance's previous
 * phase may be closed by the server just as the client reuses them (ECONNRESET), which
 * would count as a lost request that never reached the worker.
 */
export function fresh(inst: Instance, conns: number): void {
  inst.agent.destroy();
  inst.agent = agent(conns);
}

/** workerd user+sys CPU in µs; NaN without a pid or once the process is gone (it is then reported, not fatal). */
export function cpuNow(inst: Instance): number {
  if (!inst.pid) return NaN;
  try {
    return cpuMicros(inst.pid);
  } catch {
    return NaN;
  }
}

export async function stop(inst: Instance): Promise<void> {
  inst.agent.destroy();
  await inst.mf.dispose();
}
