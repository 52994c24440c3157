/**
 * Fits per-model calibration for a trained student on the calibration split
 * (rows with split "cal"), which neither trained the student nor selected its
 * early-stopping epoch. Pure apart from the fitting libraries.
 */
import type { Calibration } from "../../src/core/calibration.js";
import { featurize, type FeaturizerSpec } from "../../src/core/featurizer.js";
import { formatMessages } from "../../src/core/messages.js";
import { forward, type StudentWeights } from "../../src/core/student.js";
import { fitIsotonic, fitPlatt } from "../lib/calibration-fit.js";
import { majorityLabel, type OutcomeRow } from "../formats/outcomes.js";

export const promptText = (r: OutcomeRow): string => r.prompt ?? formatMessages(r.messages ?? []);

export function calibrateStudent(
  weights: StudentWeights,
  spec: FeaturizerSpec,
  models: string[],
  calRows: OutcomeRow[],
  kind: "platt" | "isotonic",
): { calibration: Record<string, Calibration>; counts: Record<string, number> } {
  const logits = calRows.map((r) => {
    const f = featurize(promptText(r), spec);
    return forward(weights, f.ids, f.dense).logits;
  });
  const calibration: Record<string, Calibration> = {};
  const counts: Record<string, number> = {};
  models.forEach((m, j) => {
    const s: number[] = [];
    const y: number[] = [];
    calRows.forEach((r, i) => {
      const o = r.outcomes[m];
      if (!o) return; // masked, not a failure
      s.push(logits[i][j]);
      y.push(majorityLabel(o));
    });
    counts[m] = s.length;
    if (s.length < 10) throw new Error(`calibration: only ${s.length} cal rows for ${m}; need at least 10`);
    calibration[m] = kind === "platt" ? fitPlatt(s, y) : fitIsotonic(s, y);
  });
  return { calibration, counts };
}
