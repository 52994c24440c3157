/**
 * Live ORT sessions of one isolate and the one loader that makes them.
 *
 * - LRU: at most `max` bundles hold a session (MAX_LIVE_SESSIONS, the default
 *   included; the pinned default is never evicted). An evicted session is
 *   released, so WASM memory stays bounded however many bundles exist; the
 *   bundle stays verified and is loaded again on its next use.
 * - One loader ("pump"), off the request path: a request that needs a bundle
 *   without a session queues it and gets 503 + Retry-After (runtime.ts); the
 *   pump runs in that request's `waitUntil`, fetches (R2), verifies and
 *   creates sessions one at a time, so ORT's WASM start-up happens once and
 *   never concurrently. Requests never await the pump: a promise created in
 *   one request and awaited by another is what workerd cancels with its
 *   request, so state is checked and set synchronously instead.
 * - Release is deferred past a macrotask and until no run is in flight: a
 *   request uses a bundle from its lookup to the end of `run` without any I/O
 *   in between (featurize is synchronous), so it cannot straddle one.
 * Must not know about HTTP, aliases or D1 (runtime.ts resolves names).
 */
import type { PriceOverride } from "../core/config.js";
import { startSession, verifyBundle, type BundleBytes, type LoadedBundle, type VerifiedBundle } from "./bundle-loader.js";
import type { Engine } from "./ort-engine.js";

/** Keeps work alive past the response (the request's `ctx.waitUntil`). */
export type Background = (work: Promise<unknown>) => void;

/** Bytes of a published bundle by manifest digest (the R2 port), or why they cannot be read. */
export type FetchBundle = (digest: string) => Promise<{ ok: true; bytes: BundleBytes } | { ok: false; reason: string }>;

/** What the pump does with a queued bundle: check it only, create a session only if one is free, or create one (evicting). */
export type LoadMode = "verify" | "warm" | "session";

interface Held {
  engine: Engine;
  inFlight: number;
  retired: boolean;
  released: boolean;
}

export interface Slot {
  /** Embedded: the bundle id; R2: the manifest digest. */
  key: string;
  /** bundle_id (from the registry or alias record until verified). */
  id: string;
  origin: "embedded" | "r2";
  /** The sha256 manifest.json must have. */
  digest: string;
  /** Embedded: the module's bytes; R2: fetched per load, dropped once the session exists. */
  bytes?: BundleBytes;
  verified?: VerifiedBundle;
  failure?: { reason: string; at: number };
  live?: LoadedBundle;
  held?: Held;
  queued?: LoadMode;
}

export interface PoolOptions {
  max: number;
  overrides: PriceOverride;
  fetch?: FetchBundle;
  now: () => number;
  /** After this long a failed R2 bundle is tried again (a re-upload under the same digest is picked up). */
  retryFailedMs: number;
}

/**
 * A pump that has worked on one bundle this long is presumed dead (its invocation was cancelled, e.g. over
 * its CPU limit) and a new one takes over: one bundle's fetch, checks and session take well under a second.
 */
const STALE_PUMP_MS = 15_000;
const RANK: Record<LoadMode, number> = { verify: 0, warm: 1, session: 2 };

const macrotask = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

export class SessionPool {
  /** Slots with a session, least recently used first. */
  readonly live: Slot[] = [];
  private queue: Slot[] = [];
  private running: { gen: number; since: number; current?: Slot } | null = null;
  private gen = 0;
  pinned: Slot | undefined;
  readonly stats = { createdAtLoad: 0, created: 0, evicted: 0 };

  constructor(readonly opts: PoolOptions) {}

  /** The failure that still stands (an R2 one expires after `retryFailedMs`). */
  failure(slot: Slot): string | undefined {
    if (slot.failure && slot.origin === "r2" && this.opts.now() - slot.failure.at > this.opts.retryFailedMs) slot.failure = undefined;
    return slot.failure?.reason;
  }

  /** Verifies an embedded bundle in the calling request (hashes and schema, no I/O, no session). */
  async verifyEmbedded(slot: Slot): Promise<void> {
    if (slot.origin !== "embedded" || slot.verified || slot.failure || !slot.bytes) return;
    const v = await verifyBundle(slot.bytes, this.opts.overrides);
    if (slot.verified || slot.failure) return; // another request finished first
    if (v.ok) slot.verified = v.bundle;
    else this.fail(slot, v.reason);
  }

  /** Module load: verify and start the default's session (the only one created before a request). */
  async startAtLoad(slot: Slot): Promise<void> {
    this.pinned = slot;
    await this.verifyEmbedded(slot);
    if (!slot.verified || !slot.bytes) return;
    const s = await startSession(slot.verified, slot.bytes);
    if (!s.ok) return this.fail(slot, s.reason);
    this.attach(slot, s.engine);
    this.stats.createdAtLoad++;
  }

  /** Marks a use, for the LRU order. */
  touch(slot: Slot): void {
    const i = this.live.indexOf(slot);
    if (i >= 0 && i !== this.live.length - 1) {
      this.live.splice(i, 1);
      this.live.push(slot);
    }
  }

  /** Queues `slot` and starts the pump in `bg` if none runs. Never waits. */
  request(slot: Slot, mode: LoadMode, bg: Background): void {
    if (this.failure(slot) !== undefined) return;
    if (slot.live || (mode === "verify" && slot.verified)) return;
    if (slot.queued) {
      if (RANK[mode] > RANK[slot.queued]) slot.queued = mode;
    } else {
      slot.queued = mode;
      this.queue.push(slot);
    }
    const r = this.running;
    if (r && this.opts.now() - r.since < STALE_PUMP_MS) return;
    if (r?.current && !this.queue.includes(r.current)) {
      r.current.queued ??= "session";
      this.queue.unshift(r.current);
    }
    const gen = ++this.gen;
    this.running = { gen, since: this.opts.now() };
    bg(this.pump(gen));
  }

  /** Bundles queued or being loaded. */
  pending(): Slot[] {
    const cur = this.running?.current;
    return cur && !this.queue.includes(cur) ? [cur, ...this.queue] : [...this.queue];
  }

  private async pump(gen: number): Promise<void> {
    try {
      for (let slot = this.queue.shift(); slot !== undefined && this.gen === gen; slot = this.queue.shift()) {
        this.running = { gen, since: this.opts.now(), current: slot };
        const mode = slot.queued ?? "session";
        try {
          await this.load(slot, mode);
        } catch (e) {
          this.fail(slot, `load failed: ${(e as Error).message}`);
        }
        if (this.gen !== gen) break;
        // Asked for more while it loaded (a request wants a session of a bundle being warmed): go again.
        const wanted = slot.queued;
        slot.queued = undefined;
        if (wanted && RANK[wanted] > RANK[mode] && !slot.live && slot.failure === undefined) {
          slot.queued = wanted;
          this.queue.push(slot);
        }
      }
    } finally {
      if (this.gen === gen) this.running = null;
    }
  }

  private async load(slot: Slot, mode: LoadMode): Promise<void> {
    if (this.failure(slot) !== undefined || slot.live) return;
    let bytes = slot.bytes;
    if (!bytes) {
      if (!this.opts.fetch) return this.fail(slot, "no R2 binding (BUNDLES) is configured, so published bundles cannot be read");
      const got = await this.opts.fetch(slot.digest);
      if (!got.ok) return this.fail(slot, got.reason);
      bytes = got.bytes;
    }
    if (!slot.verified || slot.origin === "r2") {
      // R2 bytes are fresh on every load: check them again.
      const v = await verifyBundle(bytes, this.opts.overrides);
      if (!v.ok) return this.fail(slot, v.reason);
      slot.verified = v.bundle;
      slot.id = v.bundle.id;
    }
    if (mode === "verify") return;
    if (this.live.length >= this.opts.max) {
      if (mode === "warm") return; // warm-up only fills free places
      await this.evictOne();
    }
    const s = await startSession(slot.verified, bytes);
    if (!s.ok) return this.fail(slot, s.reason);
    this.attach(slot, s.engine);
  }

  /** Releases the least recently used session but the pinned default's. */
  private async evictOne(): Promise<void> {
    const victim = this.live.find((s) => s !== this.pinned);
    if (!victim?.held) return;
    const held = victim.held;
    this.live.splice(this.live.indexOf(victim), 1);
    victim.live = undefined;
    victim.held = undefined;
    held.retired = true;
    this.stats.evicted++;
    await macrotask();
    if (held.inFlight === 0) await this.release(held);
  }

  private async release(held: Held): Promise<void> {
    if (held.released) return;
    held.released = true;
    try {
      await held.engine.release();
    } catch (e) {
      console.error(`[preflight] releasing an evicted session failed: ${(e as Error).message}`);
    }
  }

  private attach(slot: Slot, engine: Engine): void {
    const held: Held = { engine, inFlight: 0, retired: false, released: false };
    const run: Engine["run"] = async (batch) => {
      held.inFlight++;
      try {
        return await engine.run(batch);
      } finally {
        held.inFlight--;
        if (held.retired && held.inFlight === 0) void this.release(held);
      }
    };
    slot.held = held;
    slot.live = { ...slot.verified!, engine: { run, release: engine.release } };
    if (slot.origin === "r2") slot.bytes = undefined; // the session holds its own copy in WASM memory
    this.live.push(slot);
    this.stats.created++;
  }

  private fail(slot: Slot, reason: string): void {
    slot.failure = { reason, at: this.opts.now() };
    if (slot.origin === "r2") slot.verified = undefined;
    console.error(`[preflight] bundle ${slot.id}${slot.origin === "r2" ? ` (R2 ${slot.digest.slice(0, 12)}…)` : ""} failed to load: ${reason}`);
  }
}
