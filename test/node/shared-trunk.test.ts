/**
 * The shared-trunk ablation's data rule (scripts/experiments/shared-trunk.ts):
 * other sources' rows enter as train only, a text that is one of the pool's
 * rows never enters, and exact-text duplicates across sources merge their labels.
 */
import { describe, expect, it } from "vitest";
import { extraRows } from "../../scripts/experiments/shared-trunk.js";
import type { OutcomeRow } from "../../scripts/formats/outcomes.js";

const row = (id: string, prompt: string, split: OutcomeRow["split"], outcomes: OutcomeRow["outcomes"]): OutcomeRow => ({ id, prompt, split, outcomes });

describe("shared-trunk extraRows", () => {
  const wrapped = "Answer briefly. Q: A robe takes 2 bolts of blue fiber and half that much white fiber. How many bolts in total?";
  const pool = [
    row("p1", "pool test question", "test", { a: { n: 1, k: 1 } }),
    row("p2", "pool val question", "val", { a: { n: 1, k: 0 } }),
    row("p3", wrapped, "test", { a: { n: 1, k: 0 } }),
  ];
  const srcA = [
    row("x1", "pool test question", "train", { b: { n: 1, k: 1 } }),
    row("x2", "shared gsm8k question", "val", { b: { n: 1, k: 0 } }),
    row("x3", "no labels", "train", {}),
    row("x4", "A robe takes 2 bolts of blue fiber and half that much white fiber. How many bolts in total?", "train", { b: { n: 1, k: 1 } }),
  ];
  const srcB = [row("y1", "shared gsm8k question", "test", { c: { n: 2, k: 2 }, b: { n: 1, k: 1 } })];
  const { rows, stats } = extraRows(pool, [srcA, srcB]);

  it("drops pool texts near-duplicates of held-out pool rows and unlabelled rows, and puts every kept row in train", () => {
    expect(rows.map((r) => r.text)).toEqual(["shared gsm8k question"]);
    expect(rows.every((r) => r.split === "train")).toBe(true);
    expect(stats).toEqual({ read: 5, no_outcomes: 1, pool_overlap: 1, held_out_near_duplicate: 1, merged_duplicates: 1, kept: 1 });
  });

  it("merges duplicate texts' labels, the first source winning a clash", () => {
    expect(rows[0].labels).toEqual({ b: 0, c: 1 });
  });
});
