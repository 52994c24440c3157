/**
 * The alias table's TTL (src/infer/alias-cache.ts), on a fake clock: the copy
 * is stamped with the time its read started, so a change written at F
 * reaches every resolution that starts at F + TTL or later; a failed read
 * keeps the last table and is retried by the next call.
 */
import { describe, expect, it } from "vitest";
import type { AliasRecord } from "../../src/core/bundle-ref.js";
import { AliasCache } from "../../src/infer/alias-cache.js";

const rec = (digit: string): AliasRecord => ({ alias: "candidate", manifest_sha256: digit.repeat(64), bundle_id: "b", updated_at: 0, updated_by: "t" });

describe("AliasCache", () => {
  it("a change is seen by every resolution starting TTL after it, measured from the read's start", async () => {
    let t = 0;
    let table = [rec("a")];
    let reads = 0;
    // The read takes 40 ms: the copy must be stamped 0, not 40.
    const cache = new AliasCache(async () => {
      reads++;
      const rows = table;
      t += 40;
      return rows;
    }, 100, () => t);
    expect((await cache.current()).get("candidate")?.manifest_sha256).toBe("a".repeat(64));
    table = [rec("b")]; // written at t = 40
    t = 99;
    expect((await cache.current()).get("candidate")?.manifest_sha256).toBe("a".repeat(64)); // cached
    expect(reads).toBe(1);
    t = 100; // 100 after the read started (only 60 after it ended): read again
    expect((await cache.current()).get("candidate")?.manifest_sha256).toBe("b".repeat(64));
    expect(reads).toBe(2);
  });

  it("a failed read keeps the last table, reports the error, and the next call reads again", async () => {
    let t = 0;
    let fail = false;
    const cache = new AliasCache(async () => {
      if (fail) throw new Error("D1 down");
      return [rec("a")];
    }, 0, () => t);
    await cache.current();
    fail = true;
    t = 1;
    expect((await cache.current()).size).toBe(1);
    expect(cache.error).toBe("D1 down");
    fail = false;
    await cache.current();
    expect(cache.error).toBeUndefined();
  });

  it("without a D1 binding there are no aliases and nothing is read", async () => {
    const cache = new AliasCache(undefined, 0, () => 0);
    expect(cache.enabled).toBe(false);
    expect((await cache.current()).size).toBe(0);
  });
});
