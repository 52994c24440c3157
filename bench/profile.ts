/**
 * Reads a V8 CPU profile (the `.cpuprofile` that `wrangler check startup` and
 * the inspector's Profiler.stop return) into the figures bench reports: total
 * span, active CPU (every sample not attributed to "(idle)"), and self time
 * in WebAssembly, in the JS↔WASM boundary, in GC, plus the top frames by
 * self time. Owned by bench/; never imported by src/.
 */

export interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] }[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileSummary {
  /** endTime − startTime, ms. */
  total_ms: number;
  /** Sampled time outside "(idle)", ms: what the isolate spent working. */
  active_ms: number;
  /** Self time in wasm-function[...] frames, ms. */
  wasm_ms: number;
  /** Self time in the js-to-wasm / wasm-to-js wrappers, ms (includes lazy WASM compilation charged to them). */
  js_to_wasm_ms: number;
  /** Self time of "(garbage collector)", ms. */
  gc_ms: number;
  /** Frames by self time, ms, largest first (WASM functions grouped). */
  top: { frame: string; ms: number }[];
}

export function summariseProfile(p: CpuProfile): ProfileSummary {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const self = new Map<string, number>();
  let idle = 0;
  let wasm = 0;
  let boundary = 0;
  let gc = 0;
  for (let i = 0; i < p.samples.length; i++) {
    const f = byId.get(p.samples[i])!.callFrame;
    const dt = (p.timeDeltas[i] ?? 0) / 1000;
    const name = f.functionName || "(anonymous)";
    if (name === "(idle)") idle += dt;
    if (name === "(garbage collector)") gc += dt;
    if (name === "js-to-wasm" || name === "wasm-to-js") boundary += dt;
    const isWasm = name.startsWith("wasm-function[") || f.url.startsWith("wasm://");
    if (isWasm) wasm += dt;
    const key = isWasm ? "(WASM functions)" : `${name} ${f.url.replace(/^.*\//, "")}:${f.lineNumber}`;
    self.set(key, (self.get(key) ?? 0) + dt);
  }
  const sampled = p.timeDeltas.reduce((s, x) => s + x, 0) / 1000;
  return {
    total_ms: (p.endTime - p.startTime) / 1000,
    active_ms: sampled - idle,
    wasm_ms: wasm,
    js_to_wasm_ms: boundary,
    gc_ms: gc,
    top: [...self].sort((a, b) => b[1] - a[1]).slice(0, 30).map(([frame, ms]) => ({ frame, ms: Math.round(ms * 10) / 10 })),
  };
}
