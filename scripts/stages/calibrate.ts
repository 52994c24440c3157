/**
 * Stage 5, calibrate: fits per-model calibration for a trained student on the calibration split
 * (rows with split "cal"), which neither trained the student nor selected its
 * early-stopping epoch, and decides per model on the validation split alone
 * whether the student's score carries signal at all. Maps are monotone
 * (scripts/lib/calibration-fit.ts); a model without signal is served its
 * constant base rate (src/core/calibration.ts servedCalibration). Never looks
 * at test rows. Pure apart from the fitting libraries (no I/O).
 */
import { calibrate, isConstant, servedCalibration, type Calibration, type CalibrationStats } from "../../src/core/calibration.js";
import { featurize, type FeaturizerSpec } from "../../src/core/featurizer.js";
import { formatMessages } from "../../src/core/messages.js";
import { forward, type StudentWeights } from "../../src/core/student.js";
import { fitMonotoneCalibration } from "../lib/calibration-fit.js";
import { bootstrapCI } from "../lib/stats/bootstrap.js";
import { aurocCounts, countsOf, TieGroups } from "../lib/stats/resample.js";
import { majorityLabel, type OutcomeRow } from "../formats/outcomes.js";

export const promptText = (r: OutcomeRow): string => r.prompt ?? formatMessages(r.messages ?? []);

/** Fewer cal outcomes than this for a model is a data error, not something to calibrate around. */
export const MIN_CAL_ROWS = 10;

/** Default two-sided level of the val AUROC interval behind `signal` (docs/pipeline.md, Calibration). */
export const SIGNAL_ALPHA = 0.2;

export interface CalibrateOptions {
  /** Validation rows: the only evidence for `signal`. */
  valRows: OutcomeRow[];
  seed: number;
  reps?: number;
  /** signal "ok" iff the lower end of the (1 − alpha) CI of val AUROC exceeds 0.5. */
  alpha?: number;
}

export interface StudentCalibration {
  /** The map each model is served (constant for signal "none"). */
  calibration: Record<string, Calibration>;
  stats: Record<string, CalibrationStats>;
}

/** Per model column: the student's logit and the majority label on rows where that model has an outcome. */
function scoredColumns(weights: StudentWeights, spec: FeaturizerSpec, models: string[], rows: OutcomeRow[]): { s: number[]; y: number[] }[] {
  const logits = rows.map((r) => {
    const f = featurize(promptText(r), spec);
    return forward(weights, f.ids, f.dense).logits;
  });
  return models.map((m, j) => {
    const s: number[] = [];
    const y: number[] = [];
    rows.forEach((r, i) => {
      const o = r.outcomes[m];
      if (!o) return; // masked, not a failure
      s.push(logits[i][j]);
      y.push(majorityLabel(o));
    });
    return { s, y };
  });
}

/** AUROC of the score on validation with its seeded bootstrap 95% CI (null when one class is missing). */
export function validationAuroc(s: number[], y: number[], seed: number, reps = 1000, alpha = 0.05): { auroc: number | null; lo: number | null } {
  const groups = new TieGroups(s);
  const ci = bootstrapCI(s.length, (idx) => aurocCounts(groups, y, countsOf(idx, s.length)), { seed, reps, alpha });
  return { auroc: ci.estimate, lo: ci.lo };
}

export function calibrateStudent(
  weights: StudentWeights,
  spec: FeaturizerSpec,
  models: string[],
  calRows: OutcomeRow[],
  kind: "platt" | "isotonic",
  opts: CalibrateOptions,
): StudentCalibration {
  const cal = scoredColumns(weights, spec, models, calRows);
  const val = scoredColumns(weights, spec, models, opts.valRows);
  const calibration: Record<string, Calibration> = {};
  const stats: Record<string, CalibrationStats> = {};
  models.forEach((m, j) => {
    const { s, y } = cal[j];
    if (s.length < MIN_CAL_ROWS) throw new Error(`calibration: only ${s.length} cal rows for ${m}; need at least ${MIN_CAL_ROWS}`);
    const positives = y.reduce((a, b) => a + b, 0);
    const fit = fitMonotoneCalibration(s, y, kind);
    const alpha = opts.alpha ?? SIGNAL_ALPHA;
    const v = validationAuroc(val[j].s, val[j].y, opts.seed, opts.reps, alpha);
    // Signal only when validation says so with confidence: a chance-level score must not be ranked on.
    const signal = v.lo !== null && v.lo > 0.5 ? "ok" : "none";
    const base = { n: s.length, positives, val_n: val[j].s.length, val_auroc: v.auroc, val_auroc_lo: v.lo, val_alpha: alpha, signal } as const;
    calibration[m] = servedCalibration(fit.calibration, base);
    stats[m] = signal === "ok" ? { ...base, method: fit.method } : { ...base, method: "base-rate", fitted: fit.calibration };
  });
  return { calibration, stats };
}

/** Models that need a word in the build log: no validated signal, or a map flattened to a constant. An aligned table. */
export function calibrationWarnings(c: StudentCalibration): string[] {
  const fmt = (v: number | null) => (v === null ? "n/a" : v.toFixed(3));
  const rows = Object.entries(c.stats).flatMap(([m, st]) => {
    const served = c.calibration[m];
    if (st.signal === "ok" && !isConstant(served)) return [];
    const p = calibrate(0, served).toFixed(3);
    const action = st.signal === "none" ? `served constant base rate P=${p}` : `calibration flat on cal (slope clamped to 0): constant P=${p}`;
    return [[m, String(st.n), String(st.positives), `${fmt(st.val_auroc)} [${fmt(st.val_auroc_lo)}]`, action]];
  });
  if (rows.length === 0) return [];
  const table = [["model", "n cal", "positives", "val AUROC [CI lo]", "action"], ...rows];
  const width = table[0].map((_, k) => Math.max(...table.map((r) => r[k].length)));
  return [
    `[build] WARNING: ${rows.length} of ${Object.keys(c.stats).length} models have no validated signal (lower end of the val AUROC CI not above 0.5) or a flat calibration:`,
    ...table.map((r) => r.map((v, k) => (k === r.length - 1 ? v : v.padEnd(width[k]))).join(" | ")),
  ];
}
