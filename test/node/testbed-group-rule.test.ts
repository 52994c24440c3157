import { describe, expect, it } from "vitest";
import { groupRuleSection } from "../../scripts/testbed/group-rule.js";

// One model, two groups: g1 (20 rows, one success) and g2 (10 rows, 5 successes).
// The probe ranks g2 perfectly and g1's lone success last; TF-IDF the reverse of
// g1 and nothing in g2. Under the headline rule g1's size outweighs g2.
const y = [1, ...Array(19).fill(0), 1, 1, 1, 1, 1, 0, 0, 0, 0, 0];
const groups = [...Array(20).fill("g1"), ...Array(10).fill("g2")];
const probe = [0, ...Array(19).fill(0.5), 0.9, 0.9, 0.9, 0.9, 0.9, 0.1, 0.1, 0.1, 0.1, 0.1];
const tfidf = [1, ...Array(19).fill(0.5), ...Array(10).fill(0.5)];
const flat = Array(30).fill(0.5);
const test = y.map((_, i) => i);
const lines = groupRuleSection({
  models: ["A"], test, groups,
  labels: { A: { y, rate: y, has: y.map(() => true) } },
  scores: { A: { probe, tfidf, length: flat, student: probe } },
  cross: [[probe]],
}).join("\n");

describe("testbed group-rule sensitivity section", () => {
  it("reports the sparse share of the headline weight", () => {
    expect(lines).toContain("| weight in groups with < 5 of a class | 67% |");
  });
  it("gives each rule's verdicts from the same scores", () => {
    // headline: probe (20·0 + 10·1)/30 = 0.333 < TF-IDF (20·1 + 10·0.5)/30 = 0.833
    expect(lines).toMatch(/\| headline: [^|]+\| 0\/1 \| 1\/1 \(A\) \| 0\/1 \|/);
    // ≥ 5 per class drops g1: probe 1.0 > TF-IDF 0.5, student = probe keeps all the lift
    expect(lines).toMatch(/\| ≥ 5 of each class[^|]+\| 1\/1 \(A\) \| 1\/1 \(A\) \| 1\/1 \(A\) \|/);
    expect(lines).toContain("| A | 0.333 / 0.833 / 0.333 | 1.000 / 0.500 / 1.000 |");
  });
});
