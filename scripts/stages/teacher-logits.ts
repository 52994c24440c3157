/**
 * Stage 3, teacher-logits: joins each pool model's own probe (fitted on
 * that model's activations) into one teacher file {id, teacher: {model:
 * logit}} for distillation. Every row with activations gets a logit, labelled or not: that is what lets
 * unlabelled prompts teach the student. Each row also carries `p: {model:
 * P(success)}`, the logit through that probe's own Platt calibration (fitted
 * on its held-out calibration split), which `evaluate --teacher` uses for
 * the teacher-probe router; readers that only want `teacher` ignore it.
 * The CLI shell (scripts/commands/teacher-logits.ts) reads probes.json files
 * and writes the rows as JSONL. Must not fit anything.
 */
import { calibrate } from "../../src/core/calibration.js";
import { z } from "zod";
import type { ProbesResult } from "./probes.js";

/** One row of the teacher JSONL as the distill stage reads it (`p` is ignored there). */
export const TeacherLogitRow = z.object({ id: z.string(), teacher: z.record(z.string(), z.number().finite().nullable()) });
export type TeacherLogitRow = z.infer<typeof TeacherLogitRow>;

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
