/**
 * Measures the memory of the worker's isolate in a running workerd, for tests
 * that bound it (the platform's isolate limit is 128 MB: JS heap plus WASM).
 *
 * The inspector (Chrome DevTools Protocol) cannot ask a busy isolate, so a
 * peak inside a request is bounded from what can be read around it. The JS
 * heap's peak is at most the smaller of
 *  (a) heap in use before (`Runtime.getHeapUsage` usedSize) + every byte the
 *      isolate allocated during the action, collected or not (V8's sampling
 *      heap profiler with includeObjectsCollectedBy{Major,Minor}GC, sampled
 *      every 1 KiB, so an estimate within a few %) + the request body twice
 *      for its off-heap buffers (stream chunks and one contiguous copy);
 *  (b) heap committed before (totalSize) + the growth of the workerd
 *      process's peak RSS (`VmHWM`, reset through `/proc/<pid>/clear_refs`
 *      "5", Linux ≥ 4.0), which also counts Miniflare's proxy worker and
 *      workerd's own buffers.
 * WASM is the byte size of every live `WebAssembly.Memory`
 * (`Runtime.queryObjects`), i.e. ORT's linear memory, read after the action:
 * it never shrinks, and ORT grows it for a large batch.
 * `peakBoundBytes` = min(a, b) + WASM after. Both branches over-count (a:
 * garbage counted as if alive at once; b: other isolates in the process),
 * neither under-counts. workerd never answers HeapProfiler.collectGarbage, so
 * no GC is forced.
 *
 * API: `startMeasuredWorker` (a harness worker with its inspector open and its
 * workerd pid found), `IsolateProbe.sample()`, `IsolateProbe.measure(action)`.
 * Node-only test helper (Linux /proc); it speaks a minimal WebSocket client so
 * the test needs no extra dependency. Must not be imported by src/.
 */
import { randomBytes } from "node:crypto";
import { readFileSync, readdirSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { createServer, type AddressInfo, type Socket } from "node:net";
import type { Miniflare } from "miniflare";
import { startWorker, type WorkerOptions } from "./harness.js";

export interface IsolateSample {
  /** V8 heap in use (live and not yet collected objects). */
  jsHeapUsedBytes: number;
  /** V8 heap committed for this isolate. */
  jsHeapTotalBytes: number;
  /** Sum of the byte lengths of every live WebAssembly.Memory. */
  wasmBytes: number;
}

export interface Measurement {
  before: IsolateSample;
  after: IsolateSample;
  /** Bytes the isolate's JS heap allocated during the action (sampled), garbage included. */
  allocatedBytes: number;
  /** Growth of the workerd process's peak RSS during the action. */
  processPeakGrowthBytes: number;
  /** Upper bound of the isolate's peak (JS heap + WASM) during the action: min(a, b) + WASM after, see the header. */
  peakBoundBytes: number;
}

/** Minimal CDP session over a WebSocket (RFC 6455 text frames, client-masked). */
export class CdpSocket {
  private buf = Buffer.alloc(0);
  private parts: Buffer[] = [];
  private nextId = 1;
  private waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  /** Last Runtime.executionContextCreated: workerd has no "default" context to evaluate in. */
  contextId: number | undefined;

  private constructor(private socket: Socket) {
    socket.on("data", (d: Buffer) => this.onData(d));
  }

  static open(url: string): Promise<CdpSocket> {
    const u = new URL(url);
    return new Promise((resolve, reject) => {
      const req = request({
        host: u.hostname,
        port: u.port,
        path: u.pathname + u.search,
        headers: { connection: "Upgrade", upgrade: "websocket", "sec-websocket-version": "13", "sec-websocket-key": randomBytes(16).toString("base64") },
      });
      req.on("upgrade", (_res, socket, head) => {
        const s = new CdpSocket(socket);
        if (head.length) s.onData(head);
        resolve(s);
      });
      req.on("response", (res) => reject(new Error(`inspector refused the WebSocket upgrade: HTTP ${res.statusCode}`)));
      req.on("error", reject);
      req.end();
    });
  }

  send<T = Record<string, unknown>>(method: string, params: Record<string, unknown> = {}): Promise<T> {
    const id = this.nextId++;
    const payload = Buffer.from(JSON.stringify({ id, method, params }));
    const len = payload.length;
    const head = len < 126 ? Buffer.from([0x81, 0x80 | len]) : Buffer.from([0x81, 0x80 | 126, len >> 8, len & 0xff]);
    if (len > 0xffff) throw new Error("CDP command too large for this client");
    const mask = randomBytes(4);
    for (let i = 0; i < len; i++) payload[i] ^= mask[i & 3];
    this.socket.write(Buffer.concat([head, mask, payload]));
    return new Promise<T>((resolve, reject) => this.waiting.set(id, { resolve: resolve as (v: unknown) => void, reject }));
  }

  private onData(d: Buffer) {
    this.buf = Buffer.concat([this.buf, d]);
    for (;;) {
      if (this.buf.length < 2) return;
      const fin = (this.buf[0] & 0x80) !== 0;
      const opcode = this.buf[0] & 0x0f;
      let len = this.buf[1] & 0x7f;
      let off = 2;
      if (len === 126) {
        if (this.buf.length < 4) return;
        len = this.buf.readUInt16BE(2);
        off = 4;
      } else if (len === 127) {
        if (this.buf.length < 10) return;
        len = Number(this.buf.readBigUInt64BE(2));
        off = 10;
      }
      if (this.buf.length < off + len) return;
      const payload = this.buf.subarray(off, off + len);
      this.buf = this.buf.subarray(off + len);
      if (opcode === 0x8) return; // close
      if (opcode !== 0x1 && opcode !== 0x0) continue; // pings and binary frames carry no CDP replies
      this.parts.push(payload);
      if (!fin) continue;
      const msg = JSON.parse(Buffer.concat(this.parts).toString("utf8"));
      this.parts = [];
      const w = msg.id !== undefined ? this.waiting.get(msg.id) : undefined;
      if (msg.method === "Runtime.executionContextCreated") this.contextId = msg.params.context.id;
      if (!w) continue; // other events
      this.waiting.delete(msg.id);
      if (msg.error) w.reject(new Error(`CDP ${msg.error.code}: ${msg.error.message}`));
      else w.resolve(msg.result);
    }
  }

  close() {
    this.socket.destroy();
  }
}

function childPids(name: string): number[] {
  return readdirSync("/proc")
    .filter((p) => /^\d+$/.test(p))
    .flatMap((p) => {
      try {
        const stat = readFileSync(`/proc/${p}/stat`, "utf8");
        const comm = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
        const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
        return comm === name && ppid === process.pid ? [Number(p)] : [];
      } catch {
        return []; // the process ended while we listed
      }
    });
}

function statusKb(pid: number, field: "VmHWM" | "VmRSS"): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  if (!m) throw new Error(`no ${field} for pid ${pid}`);
  return Number(m[1]);
}

export async function inspectorTarget(port: number, workerName: string): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${port}/json`);
  const targets = (await res.json()) as { id: string; webSocketDebuggerUrl: string }[];
  // Miniflare's own service workers (entry, cache, ...) are listed too; ours is "core:user:<name>".
  // Raw workerd (bench/) lists each worker under its service name.
  const t = targets.find((x) => x.id === `core:user:${workerName}`) ?? targets.find((x) => x.id === workerName && workerName !== "");
  if (!t) throw new Error(`workerd inspector lists no worker core:user:${workerName}`);
  return t.webSocketDebuggerUrl;
}

export class IsolateProbe {
  private constructor(
    private cdp: CdpSocket,
    readonly workerdPid: number,
  ) {}

  /** Attaches to the worker named `workerName` ("" for Miniflare's unnamed default). */
  static async attach(inspectorPort: number, workerdPid: number, workerName = ""): Promise<IsolateProbe> {
    const cdp = await CdpSocket.open(await inspectorTarget(inspectorPort, workerName));
    await cdp.send("Runtime.enable"); // Runtime.evaluate needs the worker's execution context
    return new IsolateProbe(cdp, workerdPid);
  }

  /** Current isolate memory (garbage not yet collected included). */
  async sample(): Promise<IsolateSample> {
    const heap = await this.cdp.send<{ usedSize: number; totalSize: number }>("Runtime.getHeapUsage");
    const proto = await this.cdp.send<{ result: { objectId: string } }>("Runtime.evaluate", { expression: "WebAssembly.Memory.prototype", contextId: this.cdp.contextId });
    const found = await this.cdp.send<{ objects: { objectId: string } }>("Runtime.queryObjects", { prototypeObjectId: proto.result.objectId });
    const sum = await this.cdp.send<{ result: { value: number } }>("Runtime.callFunctionOn", {
      objectId: found.objects.objectId,
      functionDeclaration: "function () { return this.reduce((s, m) => s + m.buffer.byteLength, 0); }",
      returnByValue: true,
    });
    await this.cdp.send("Runtime.releaseObjectGroup", { objectGroup: "" }).catch(() => undefined);
    return { jsHeapUsedBytes: heap.usedSize, jsHeapTotalBytes: heap.totalSize, wasmBytes: sum.result.value };
  }

  /** Runs `action`, which sends a request of `bodyBytes`, and bounds the isolate's peak memory during it (see the header). */
  async measure(bodyBytes: number, action: () => Promise<unknown>): Promise<Measurement> {
    const before = await this.sample();
    await this.cdp.send("HeapProfiler.startSampling", {
      samplingInterval: 1024,
      includeObjectsCollectedByMajorGC: true,
      includeObjectsCollectedByMinorGC: true,
    });
    writeFileSync(`/proc/${this.workerdPid}/clear_refs`, "5"); // peak RSS := current RSS
    const base = statusKb(this.workerdPid, "VmHWM");
    await action();
    const processPeakGrowthBytes = Math.max(0, statusKb(this.workerdPid, "VmHWM") - base) * 1024;
    const profile = await this.cdp.send<{ profile: { samples: { size: number }[] } }>("HeapProfiler.stopSampling");
    const allocatedBytes = profile.profile.samples.reduce((s, x) => s + x.size, 0);
    const after = await this.sample();
    const heapPeak = Math.min(before.jsHeapUsedBytes + allocatedBytes + 2 * bodyBytes, before.jsHeapTotalBytes + processPeakGrowthBytes);
    return { before, after, allocatedBytes, processPeakGrowthBytes, peakBoundBytes: heapPeak + after.wasmBytes };
  }

  /** V8 CPU profile of the isolate while `action` runs (sampling every `intervalUs`). */
  async cpuProfile<P>(action: () => Promise<unknown>, intervalUs = 100): Promise<P> {
    await this.cdp.send("Profiler.enable");
    await this.cdp.send("Profiler.setSamplingInterval", { interval: intervalUs });
    await this.cdp.send("Profiler.start");
    await action();
    const { profile } = await this.cdp.send<{ profile: P }>("Profiler.stop");
    return profile;
  }

  close() {
    this.cdp.close();
  }
}

/** A TCP port free right now (other sessions may run workerd on this machine too). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address() as AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/** Starts a harness worker with its inspector open (on a free port) and attaches a probe to its isolate. */
export async function startMeasuredWorker(bindings: Record<string, string>, opts: WorkerOptions = {}): Promise<{ mf: Miniflare; probe: IsolateProbe }> {
  const inspectorPort = opts.inspectorPort ?? (await freePort());
  const known = new Set(childPids("workerd"));
  const mf = await startWorker(bindings, { ...opts, inspectorPort });
  const fresh = childPids("workerd").filter((p) => !known.has(p));
  if (fresh.length !== 1) throw new Error(`expected one new workerd child, found ${fresh.length}`);
  return { mf, probe: await IsolateProbe.attach(inspectorPort, fresh[0]) };
}
