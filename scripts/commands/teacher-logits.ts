/**
 * `teacher-logits --probe <model>=<probes.json> ... --out teacher.jsonl`: CLI
 * shell over the teacher-logits stage (scripts/stages/teacher-logits.ts):
 * read each model's probes.json, join, write JSONL. Holds no stage logic.
 */
import { defineCommand } from "citty";
import { readFileSync } from "node:fs";
import { writeJsonl } from "../lib/jsonl.js";
import type { ProbesResult } from "../stages/probes.js";
import { teacherRows } from "../stages/teacher-logits.js";

export default defineCommand({
  meta: { name: "teacher-logits", description: "Join per-model probes into one teacher-logit JSONL for distillation" },
  args: {
    probe: { type: "string", required: true, description: "model=probes.json, comma-separated for several models" },
    out: { type: "string", required: true, description: "output JSONL" },
  },
  async run({ args }) {
    const probes: Record<string, ProbesResult> = {};
    for (const pair of args.probe.split(",")) {
      const [model, file] = pair.split("=");
      if (!model || !file) throw new Error(`--probe: expected model=file, got ${pair}`);
      probes[model] = JSON.parse(readFileSync(file, "utf8")) as ProbesResult;
    }
    const rows = teacherRows(probes);
    await writeJsonl(args.out, rows);
    console.log(`wrote ${rows.length} teacher rows for ${Object.keys(probes).join(", ")} → ${args.out}`);
  },
});
