/**
 * `teacher-logits --probe <model>=<probes.json> ... --out teacher.jsonl`:
 * joins each pool model's own probe (fitted on that model's activations) into
 * one teacher file {id, teacher: {model: logit}} for distillation. Every row
 * with activations gets a logit, labelled or not: that is what lets
 * unlabelled prompts teach the student. Each row also carries `p: {model:
 * P(success)}`, the logit through that probe's own Platt calibration (fitted
 * on its held-out calibration split), which `evaluate --teacher` uses for
 * the teacher-probe router; readers that only want `teacher` ignore it.
 */
import { defineCommand } from "citty";
import { readFileSync } from "node:fs";
import { calibrate } from "../../src/core/calibration.js";
import type { ProbesResult } from "./probes.js";
import { writeJsonl } from "../lib/jsonl.js";

export function teacherRows(probes: Record<string, ProbesResult>): { id: string; teacher: Record<string, number>; p?: Record<string, number> }[] {
  const byId = new Map<string, Record<string, number>>();
  const pById = new Map<string, Record<string, number>>();
  for (const [model, res] of Object.entries(probes)) {
    const mp = res.models[model];
    if (!mp) throw new Error(`probes for ${model} hold no probe for that model (have: ${Object.keys(res.models).join(", ")})`);
    if (!res.ids) throw new Error(`probes for ${model} carry no row ids`);
    res.ids.forEach((id, i) => {
      const v = mp.logits[i];
      if (!Number.isFinite(v)) return;
      const t = byId.get(id) ?? {};
      t[model] = v;
      byId.set(id, t);
      if (!mp.probe.calibration) return; // older probes files: logits only
      const p = pById.get(id) ?? {};
      p[model] = calibrate(v, mp.probe.calibration);
      pById.set(id, p);
    });
  }
  return [...byId.entries()].map(([id, teacher]) => {
    const p = pById.get(id);
    return p ? { id, teacher, p } : { id, teacher };
  });
}

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
