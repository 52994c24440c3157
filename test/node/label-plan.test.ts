/**
 * `label-plan` (scripts/stages/label-plan.ts): the order is a permutation,
 * every prefix is balanced over tasks as far as their sizes allow, the seed
 * alone decides it, test rows are never planned, rows without a task form one
 * group, and bad N is refused. The CLI writes the plan as outcome rows that
 * add-model reads back.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { mulberry32 } from "../../src/core/random.js";
import { OutcomeRow } from "../../scripts/formats/outcomes.js";
import { labelPlan, NO_TASK, taskBalancedOrder } from "../../scripts/stages/label-plan.js";

const sizes: Record<string, number> = { big: 60, mid: 20, small: 4, tiny: 1 };
const tasks = Object.entries(sizes).flatMap(([t, k]) => Array.from({ length: k }, () => t));
const rowsOf = (ts: Array<string | undefined>, split?: (i: number) => OutcomeRow["split"]): OutcomeRow[] =>
  ts.map((task, i) => ({ id: `r${i}`, prompt: `prompt ${i}`, task, split: split?.(i), outcomes: { a: { n: 1, k: i % 2 } } }));

describe("taskBalancedOrder", () => {
  const order = taskBalancedOrder(tasks, mulberry32(7));

  it("is a permutation of the rows", () => {
    expect([...order].sort((a, b) => a - b)).toEqual(tasks.map((_, i) => i));
  });

  it("keeps every prefix balanced: no task is two ahead of one that still has rows", () => {
    for (let n = 1; n <= order.length; n++) {
      const count: Record<string, number> = {};
      for (const i of order.slice(0, n)) count[tasks[i]] = (count[tasks[i]] ?? 0) + 1;
      const open = Object.keys(sizes).filter((t) => (count[t] ?? 0) < sizes[t]);
      const least = Math.min(...open.map((t) => count[t] ?? 0));
      for (const t of Object.keys(sizes)) expect(count[t] ?? 0).toBeLessThanOrEqual(Math.min(sizes[t], least + 1));
    }
  });

  it("gives the small tasks their share early, unlike a uniform draw", () => {
    const first = order.slice(0, 12).map((i) => tasks[i]);
    expect(first.filter((t) => t === "tiny")).toHaveLength(1);
    expect(first.filter((t) => t === "small")).toHaveLength(4);
  });

  it("depends on the seed alone", () => {
    expect(taskBalancedOrder(tasks, mulberry32(7))).toEqual(order);
    expect(taskBalancedOrder(tasks, mulberry32(8))).not.toEqual(order);
  });

  it("treats rows without a task as one group (a pool without tasks gets a shuffle)", () => {
    const none = taskBalancedOrder([undefined, undefined, undefined, "x"], mulberry32(1));
    expect(none.slice(0, 2).map((i) => (i === 3 ? "x" : NO_TASK)).sort()).toEqual([NO_TASK, "x"].sort());
  });
});

describe("labelPlan", () => {
  it("never plans test rows and counts planned and eligible rows per task", () => {
    const rows = rowsOf(tasks, (i) => (i % 5 === 0 ? "test" : "train"));
    const plan = labelPlan({ rows, n: 30, seed: 3 });
    expect(plan.rows).toHaveLength(30);
    expect(plan.rows.every((r) => r.split !== "test")).toBe(true);
    expect(plan.eligible).toBe(rows.filter((r) => r.split !== "test").length);
    expect(Object.values(plan.byTask).reduce((a, c) => a + c.planned, 0)).toBe(30);
    expect(plan.byTask.big.eligible).toBe(48);
  });

  it("caps N at the eligible rows", () => {
    expect(labelPlan({ rows: rowsOf(["a", "b"]), n: 10, seed: 1 }).rows).toHaveLength(2);
  });

  it("refuses an N that is not a positive integer", () => {
    expect(() => labelPlan({ rows: rowsOf(["a"]), n: 0, seed: 1 })).toThrow(/positive integer/);
    expect(() => labelPlan({ rows: rowsOf(["a"]), n: 2.5, seed: 1 })).toThrow(/positive integer/);
  });
});

describe("label-plan CLI", () => {
  const dir = mkdtempSync(join(tmpdir(), "label-plan-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("writes the plan as outcome rows, balanced over tasks", () => {
    const data = join(dir, "rows.jsonl");
    writeFileSync(data, rowsOf(tasks).map((r) => JSON.stringify(r)).join("\n") + "\n");
    const out = join(dir, "plan.jsonl");
    const stdout = execFileSync("npx", ["tsx", "scripts/cli.ts", "label-plan", "--data", data, "--n", "8", "--seed", "2", "--out", out], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
    expect(JSON.parse(stdout.slice(stdout.indexOf("{")))).toMatchObject({ planned: 8, eligible: tasks.length, tasks: 4 });
    const plan = readFileSync(out, "utf8").trim().split("\n").map((l) => OutcomeRow.parse(JSON.parse(l)));
    const count = (t: string) => plan.filter((r) => r.task === t).length;
    // Rounds of one per task: tiny runs out after the first, so 8 = 4 + 3 + 1 leaves the others at 2, 2 and 3.
    expect(count("tiny")).toBe(1);
    expect([count("big"), count("mid"), count("small")].sort()).toEqual([2, 2, 3]);
  });

  it("refuses a bad --n or --seed with the flag named, and writes nothing", () => {
    const data = join(dir, "rows.jsonl");
    writeFileSync(data, rowsOf(tasks).map((r) => JSON.stringify(r)).join("\n") + "\n");
    for (const [flag, value] of [["--n", "0"], ["--seed", "x"]]) {
      const out = join(dir, `bad${flag}.jsonl`);
      const args = ["tsx", "scripts/cli.ts", "label-plan", "--data", data, "--out", out, flag, value];
      let stderr = "";
      try {
        execFileSync("npx", args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
      } catch (e) {
        stderr = String((e as { stderr?: string }).stderr);
      }
      expect(stderr).toContain(`${flag} must be`);
      expect(existsSync(out)).toBe(false);
    }
  });
});
