/**
 * Loopback HTTP driver for the decision log load check: keep-alive Node
 * `http` requests with hrtime latencies (send to last body byte), a closed
 * loop over N connections for /v1/route, and a bounded-concurrency pool for
 * feedback posts. Owned by bench/loop.
 */
import { Agent, request } from "node:http";

export interface Reply {
  us: number;
  status: number;
  body: string;
  /** Transport error code (ECONNRESET, …) when status is 0. */
  error?: string;
}

export function post(agent: Agent, base: URL, path: string, body: string, headers: Record<string, string> = {}): Promise<Reply> {
  return new Promise((resolve) => {
    const t0 = process.hrtime.bigint();
    const req = request(
      {
        host: base.hostname,
        port: Number(base.port),
        path,
        method: "POST",
        agent,
        headers: { ...headers, "content-type": "application/json", "content-length": Buffer.byteLength(body) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () =>
          resolve({ us: Number(process.hrtime.bigint() - t0) / 1000, status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }),
        );
        res.on("error", (e: NodeJS.ErrnoException) => resolve({ us: Number(process.hrtime.bigint() - t0) / 1000, status: 0, body: "", error: e.code ?? e.message }));
      },
    );
    // status 0 = transport error (connection reset, refused): counted as lost, never retried.
    req.on("error", (e: NodeJS.ErrnoException) => resolve({ us: Number(process.hrtime.bigint() - t0) / 1000, status: 0, body: "", error: e.code ?? e.message }));
    req.end(body);
  });
}

/**
 * Runs `n` jobs with at most `limit` in flight; job i is started by the first
 * free slot. Each slot keeps its own keep-alive connection busy (closed loop).
 */
export async function pool<T>(n: number, limit: number, job: (i: number) => Promise<T>): Promise<{ results: T[]; wall_s: number }> {
  const results: T[] = new Array(n);
  let next = 0;
  const t0 = process.hrtime.bigint();
  const slot = async () => {
    while (next < n) {
      const i = next++;
      results[i] = await job(i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, n) }, slot));
  return { results, wall_s: Number(process.hrtime.bigint() - t0) / 1e9 };
}

export function agent(conns: number): Agent {
  return new Agent({ keepAlive: true, maxSockets: conns, maxFreeSockets: conns });
}

export const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/** Short, distinct English-like prompts (6–12 tokens). */
export function prompt(i: number): string {
  const subjects = ["the capital of France", "17 * 23", "a haiku about rain", "the boiling point of water", "a SQL join", "photosynthesis", "the GDP of Peru", "a regex for emails"];
  const verbs = ["What is", "Explain", "Write", "Summarise", "Describe"];
  return `${verbs[i % verbs.length]} ${subjects[(i >> 3) % subjects.length]}, case ${i}?`;
}
