/**
 * Closed-loop HTTP load generator over loopback: `conns` keep-alive
 * connections, each sending its next request as soon as the previous response
 * has been read, until `requests` have completed. Latency per request from
 * send to the last body byte, with process.hrtime.bigint() (ns, reported µs).
 * Owned by bench/.
 */
import { readFileSync } from "node:fs";
import { Agent, request } from "node:http";

export interface Target {
  method: "GET" | "POST";
  path: string;
  body?: string;
  headers?: Record<string, string>;
}

export interface Sample {
  us: number;
  status: number;
  body: string;
  serverTiming: string | undefined;
}

export interface RunResult {
  conns: number;
  requests: number;
  wall_s: number;
  rps: number;
  min_us: number;
  p50_us: number;
  p99_us: number;
  mean_us: number;
  errors: number;
  /** workerd user+sys CPU per measured request (µs), from /proc/<pid>/stat; null without a pid. */
  server_cpu_us_per_req: number | null;
  samples: Sample[];
}

/** user+sys CPU time of a process in µs (clock ticks of 1/CLK_TCK s; 100 Hz on Linux x64). */
export function cpuMicros(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(f[11]) + Number(f[12])) * 10_000; // utime, stime (fields 14, 15)
}

export function quantile(xs: number[], p: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  // Nearest rank: the smallest value with at least p of the samples at or below it.
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(p * s.length) - 1))];
}

function once(agent: Agent, port: number, t: Target, keepBody: boolean): Promise<Sample> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = { ...t.headers };
    if (t.body !== undefined) {
      headers["content-type"] = "application/json";
      headers["content-length"] = Buffer.byteLength(t.body);
    }
    const t0 = process.hrtime.bigint();
    const req = request({ host: "127.0.0.1", port, path: t.path, method: t.method, agent, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => keepBody && chunks.push(c));
      res.on("end", () => {
        const us = Number(process.hrtime.bigint() - t0) / 1000;
        const st = res.headers["server-timing"];
        resolve({ us, status: res.statusCode ?? 0, body: keepBody ? Buffer.concat(chunks).toString("utf8") : "", serverTiming: typeof st === "string" ? st : undefined });
      });
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(t.body);
  });
}

export interface LoadOptions {
  conns: number;
  /** Measured requests (upper bound). */
  requests: number;
  /** Stop issuing measured requests after this many seconds (a second bound). */
  maxSeconds: number;
  /** Discarded warm-up requests, also capped at maxSeconds / 3. */
  warmup: number;
  keepBodies?: boolean;
  /** workerd pid, to read its CPU time around the measured phase. */
  pid?: number;
}

/** Runs the warm-up (discarded) then the measured phase over `conns` keep-alive connections. */
export async function runLoad(port: number, t: Target, o: LoadOptions): Promise<RunResult> {
  const { conns } = o;
  const agent = new Agent({ keepAlive: true, maxSockets: conns, maxFreeSockets: conns });
  try {
    const phase = async (n: number, seconds: number, keep: boolean) => {
      let issued = 0;
      const samples: Sample[] = [];
      const deadline = process.hrtime.bigint() + BigInt(Math.round(seconds * 1e9));
      const worker = async () => {
        while (issued < n && process.hrtime.bigint() < deadline) {
          issued++;
          samples.push(await once(agent, port, t, keep));
        }
      };
      const t0 = process.hrtime.bigint();
      await Promise.all(Array.from({ length: conns }, worker));
      return { samples, wall_s: Number(process.hrtime.bigint() - t0) / 1e9 };
    };
    await phase(o.warmup, o.maxSeconds / 3, false);
    const cpu0 = o.pid ? cpuMicros(o.pid) : 0;
    const { samples, wall_s } = await phase(o.requests, o.maxSeconds, o.keepBodies ?? false);
    const cpu1 = o.pid ? cpuMicros(o.pid) : 0;
    const us = samples.map((s) => s.us);
    const requests = samples.length;
    return {
      conns,
      requests,
      wall_s,
      rps: requests / wall_s,
      min_us: Math.min(...us),
      p50_us: quantile(us, 0.5),
      p99_us: quantile(us, 0.99),
      mean_us: us.reduce((a, b) => a + b, 0) / us.length,
      errors: samples.filter((s) => s.status !== 200).length,
      server_cpu_us_per_req: o.pid ? (cpu1 - cpu0) / requests : null,
      samples,
    };
  } finally {
    agent.destroy();
  }
}
