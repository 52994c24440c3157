/**
 * Closed-loop HTTP load generator over loopback: `conns` keep-alive
 * connections, each sending its next request as soon as the previous response
 * has been read, until `requests` have completed. Latency per request from
 * send to the last body byte, with process.hrtime.bigint() (ns, reported µs).
 * Owned by bench/.
 */
import { Agent, request } from "node:http";

export interface Target {
  method: "GET" | "POST";
  path: string;
  body?: string;
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
  p50_us: number;
  p99_us: number;
  mean_us: number;
  errors: number;
  samples: Sample[];
}

export function quantile(xs: number[], p: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  // Nearest rank: the smallest value with at least p of the samples at or below it.
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(p * s.length) - 1))];
}

function once(agent: Agent, port: number, t: Target, keepBody: boolean): Promise<Sample> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = {};
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

/** Runs `warmup` requests (discarded) then `requests` measured ones over `conns` connections. */
export async function runLoad(port: number, t: Target, conns: number, requests: number, warmup: number, keepBodies = false): Promise<RunResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: conns, maxFreeSockets: conns });
  try {
    const phase = async (n: number, keep: boolean) => {
      let issued = 0;
      const samples: Sample[] = [];
      const worker = async () => {
        while (issued < n) {
          issued++;
          samples.push(await once(agent, port, t, keep));
        }
      };
      const t0 = process.hrtime.bigint();
      await Promise.all(Array.from({ length: conns }, worker));
      return { samples, wall_s: Number(process.hrtime.bigint() - t0) / 1e9 };
    };
    await phase(warmup, false);
    const { samples, wall_s } = await phase(requests, keepBodies);
    const us = samples.map((s) => s.us);
    return {
      conns,
      requests,
      wall_s,
      rps: requests / wall_s,
      p50_us: quantile(us, 0.5),
      p99_us: quantile(us, 0.99),
      mean_us: us.reduce((a, b) => a + b, 0) / us.length,
      errors: samples.filter((s) => s.status !== 200).length,
      samples,
    };
  } finally {
    agent.destroy();
  }
}
