/**
 * Student settings for the testbed, chosen on val: builds one probe-distilled
 * student per candidate setting with the pipeline's `build` (teacher logits
 * from <world>/teacher.jsonl, written by report.ts) and prints each member's
 * within-group AUROC on val, and their mean, which is the selection score.
 * Test figures are printed for the record only; they choose nothing.
 * Usage: npx tsx scripts/testbed/student-sweep.ts [--world .cache/testbed] [--only base,alpha-1]
 * Must not: change report.ts's settings itself (a person reads the table and edits them).
 */
import { readFileSync } from "node:fs";
import type { FeaturizerSpec } from "../../src/core/featurizer.js";
import type { ProbeLayer } from "../../src/core/manifest.js";
import { join } from "node:path";
import { runBuild } from "../stages/build.js";
import { OutcomeRow } from "../formats/outcomes.js";
import { readJsonl } from "../lib/jsonl.js";
import { mdTable, fmtNum } from "../lib/report/markdown.js";
import { labelsOf, splitsOf, studentScores, withinGroupOn } from "./evaluate.js";
import { arg } from "./gen-data.js";
import { studentConfig } from "./student-config.js";

/**
 * Each candidate overrides the report's student (STUDENT_TRAIN, STUDENT_FEATURIZER, α 0.8).
 * Featurizer candidates name both settings they touch, so a name means the same
 * student whatever the base is.
 */
export const CANDIDATES: Record<string, { train?: { dim?: number; hidden?: number }; alpha?: number; featurizer?: Partial<FeaturizerSpec> }> = {
  base: {},
  "alpha-1": { alpha: 1 },
  "dim64-hidden128": { train: { dim: 64, hidden: 128 } },
  // World 1's base, and its wider cap.
  "piece-mf96": { featurizer: { char_scope: "piece", max_features: 96 } },
  "piece-mf256": { featurizer: { char_scope: "piece", max_features: 256 } },
  // Char n-grams that span pieces see operand digits side by side ("2+_5"), as the TF-IDF baseline does.
  "text-mf96": { featurizer: { char_scope: "text", max_features: 96 } },
  "text-mf192": { featurizer: { char_scope: "text", max_features: 192 } },
};

if (import.meta.url === `file://${process.argv[1]}`) {
  const world = arg("world", ".cache/testbed");
  const only = arg("only", Object.keys(CANDIDATES).join(",")).split(",");
  const rows: OutcomeRow[] = [];
  for await (const { value } of readJsonl(join(world, "outcomes.jsonl"), OutcomeRow)) rows.push(value);
  const s = splitsOf(rows);
  const groups = rows.map((r) => r.task ?? "");
  const layers: { model: string; layer: ProbeLayer }[] = JSON.parse(readFileSync(join(world, "layers.json"), "utf8"));
  const labels = Object.fromEntries(layers.map((x) => [x.model, labelsOf(rows, x.model)]));
  const table: (string | number)[][] = [];
  for (const name of only) {
    const c = CANDIDATES[name];
    if (!c) throw new Error(`student-sweep: no candidate "${name}" (have: ${Object.keys(CANDIDATES).join(", ")})`);
    const base = studentConfig(world, join(world, "outcomes.jsonl"), join(world, "pool.json"), join(world, "teacher.jsonl"), layers, join(world, "sweep", name));
    const cfg = { ...base, featurizer: { ...base.featurizer, ...c.featurizer }, train: { ...base.train, ...c.train }, teacher: { ...base.teacher!, alpha: c.alpha ?? base.teacher!.alpha } };
    const t0 = performance.now();
    const built = await runBuild(cfg, { createdAt: "2026-11-29T00:00:00.000Z", progress: "none" });
    const st = await studentScores(built.dir, rows);
    const wg = (p: number[], lab: ReturnType<typeof labelsOf>, idx: number[]) => withinGroupOn(p, lab, idx, groups) ?? NaN;
    const per = st.models.map((m, j) => {
      const lab = labels[m];
      const p = st.p.map((r) => r[j]);
      return { m, val: wg(p, lab, s.val), test: wg(p, lab, s.test) };
    });
    const mean = per.reduce((a, x) => a + x.val, 0) / per.length;
    table.push([name, fmtNum(mean, 4), ...per.map((x) => `${fmtNum(x.val)} (${fmtNum(x.test)})`), Math.round((performance.now() - t0) / 1000)]);
    console.error(`student-sweep: ${name} done`);
  }
  console.log(mdTable(["candidate", "mean val within-group AUROC (selects)", ...layers.map((x) => `${x.model} val (test)`), "build s"], table));
}
