/**
 * Training progress for the distill stage: a cli-progress bar with ETA and
 * throughput when stderr is a TTY, otherwise plain log lines at most every
 * `intervalMs` (plus one per epoch from the trainer). Owns presentation only;
 * the trainer calls start/tick/stop and never formats output itself.
 */
import cliProgress from "cli-progress";

export type ProgressMode = "auto" | "bar" | "lines" | "none";

export interface TickInfo {
  epoch: number;
  loss: number;
  promptsPerSec: number;
}

export interface Progress {
  /** total = upper bound on prompts to process (max epochs × train size). */
  start(total: number): void;
  tick(done: number, info: TickInfo): void;
  /** A line that must survive the bar (epoch summaries). */
  log(line: string): void;
  stop(): void;
}

export interface ProgressOptions {
  mode?: ProgressMode;
  log?: (line: string) => void;
  intervalMs?: number;
  now?: () => number;
}

const fmt = (x: number, d = 4) => (Number.isFinite(x) ? x.toFixed(d) : String(x));

export function createProgress(opts: ProgressOptions = {}): Progress {
  const log = opts.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const mode = opts.mode ?? "auto";
  const resolved = mode === "auto" ? (process.stderr.isTTY ? "bar" : "lines") : mode;
  if (resolved === "none") return { start() {}, tick() {}, log() {}, stop() {} };
  if (resolved === "bar") return barProgress();
  return lineProgress(log, opts.intervalMs ?? 10_000, opts.now ?? (() => performance.now()));
}

function barProgress(): Progress {
  const bar = new cliProgress.SingleBar(
    {
      format: "distill [{bar}] {percentage}% | ETA {eta_formatted} (upper bound) | epoch {epoch} | loss {loss} | {pps} prompts/s",
      hideCursor: true,
      etaBuffer: 50,
      stream: process.stderr,
    },
    cliProgress.Presets.shades_classic,
  );
  return {
    start(total) {
      bar.start(total, 0, { epoch: 0, loss: "-", pps: "-" });
    },
    tick(done, info) {
      bar.update(done, { epoch: info.epoch, loss: fmt(info.loss), pps: Math.round(info.promptsPerSec) });
    },
    log(line) {
      // Clear the bar line, print, and let the next update redraw it.
      process.stderr.write(`\r\x1b[K${line}\n`);
    },
    stop() {
      bar.stop();
    },
  };
}

function lineProgress(log: (line: string) => void, intervalMs: number, now: () => number): Progress {
  let total = 0;
  let t0 = 0;
  let last = 0;
  return {
    start(n) {
      total = n;
      t0 = now();
      last = t0;
    },
    tick(done, info) {
      const t = now();
      if (t - last < intervalMs) return;
      last = t;
      const rate = (done / Math.max(t - t0, 1e-9)) * 1000;
      const etaS = rate > 0 ? (total - done) / rate : NaN;
      log(
        `distill: ${done}/${total} prompts (${((100 * done) / Math.max(total, 1)).toFixed(1)}%), epoch ${info.epoch}, ` +
          `batch loss ${fmt(info.loss)}, ${Math.round(info.promptsPerSec)} prompts/s, ETA ≤ ${fmt(etaS, 0)} s`,
      );
    },
    log,
    stop() {},
  };
}
