/**
 * Calibration maps a raw student logit to P(success). Pure math; the pipeline
 * fits the parameters, the worker and the pipeline both apply them from here.
 * Also owns the per-model calibration record (cal-split counts, validation
 * evidence, `signal`) and the rule that a model without validated signal is
 * served the constant base-rate map, so nobody can serve an inverted score.
 */
import { z } from "zod";

export const PlattCalibration = z.object({
  kind: z.literal("platt"),
  a: z.number().finite(),
  b: z.number().finite(),
});
export const IsotonicCalibration = z
  .object({
    kind: z.literal("isotonic"),
    x: z.array(z.number().finite()).min(2),
    y: z.array(z.number().min(0).max(1)).min(2),
  })
  .refine((c) => c.x.length === c.y.length, { message: "x and y must have the same length" })
  .refine((c) => c.x.every((v, i) => i === 0 || v >= c.x[i - 1]), { message: "x must be non-decreasing" })
  .refine((c) => c.y.every((v, i) => i === 0 || v >= c.y[i - 1]), { message: "y must be non-decreasing" });
export const Calibration = z.union([PlattCalibration, IsotonicCalibration]);
export type Calibration = z.infer<typeof Calibration>;

export function sigmoid(x: number): number {
  if (x >= 0) return 1 / (1 + Math.exp(-x));
  const e = Math.exp(x);
  return e / (1 + e);
}

export function logit(p: number, eps = 1e-7): number {
  const q = Math.min(1 - eps, Math.max(eps, p));
  return Math.log(q / (1 - q));
}

/** Piecewise-linear interpolation, clamped at both ends. */
function interpolate(x: number[], y: number[], v: number): number {
  if (v <= x[0]) return y[0];
  const last = x.length - 1;
  if (v >= x[last]) return y[last];
  let lo = 0;
  let hi = last;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (x[mid] <= v) lo = mid;
    else hi = mid;
  }
  const span = x[hi] - x[lo];
  const t = span === 0 ? 0 : (v - x[lo]) / span;
  return y[lo] + t * (y[hi] - y[lo]);
}

export function calibrate(raw: number, c: Calibration): number {
  if (c.kind === "platt") return sigmoid(c.a * raw + c.b);
  return interpolate(c.x, c.y, raw);
}

/** True when the map returns the same P for every logit (slope 0, or a flat table). */
export function isConstant(c: Calibration): boolean {
  return c.kind === "platt" ? c.a === 0 : c.y.every((v) => v === c.y[0]);
}

/**
 * The constant map served to a model without validated signal: the cal
 * split's base rate with one pseudo-success and one pseudo-failure (Laplace),
 * so 0 or n positives still give a finite logit.
 */
export function baseRateCalibration(n: number, positives: number): Calibration {
  return { kind: "platt", a: 0, b: logit((positives + 1) / (n + 2)) };
}

/**
 * Per model, what its calibration was fitted on and whether the student's
 * score carries signal for it. `signal` is decided on validation alone:
 * "ok" when the lower end of the seeded bootstrap (1 − val_alpha) CI of the
 * student's validation AUROC exceeds 0.5, "none" otherwise (no interval, or
 * one reaching 0.5).
 */
export const CalibrationStats = z.object({
  n: z.number().int().min(0).meta({ description: "cal-split outcomes the map was fitted on" }),
  positives: z.number().int().min(0).meta({ description: "of which successes (majority label 1)" }),
  method: z.enum(["platt", "isotonic", "base-rate"]).meta({ description: "map served; base-rate = constant (signal none)" }),
  val_n: z.number().int().min(0),
  val_auroc: z.number().min(0).max(1).nullable().meta({ description: "student logit vs outcome on the val split" }),
  val_auroc_lo: z.number().min(0).max(1).nullable().meta({ description: "lower end of its bootstrap (1 − val_alpha) CI" }),
  val_alpha: z.number().gt(0).max(1),
  signal: z.enum(["ok", "none"]),
  fitted: Calibration.optional().meta({ description: "the monotone map fitted on cal, kept for inspection when not served" }),
});
export type CalibrationStats = z.infer<typeof CalibrationStats>;

/** The map the bundle serves: the fitted one, or the constant base rate when there is no signal. */
export function servedCalibration(fitted: Calibration, stats: Pick<CalibrationStats, "n" | "positives" | "signal">): Calibration {
  return stats.signal === "none" ? baseRateCalibration(stats.n, stats.positives) : fitted;
}
