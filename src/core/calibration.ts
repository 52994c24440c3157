/**
 * Calibration maps a raw student logit to P(success). Pure math; the pipeline
 * fits the parameters, the worker and the pipeline both apply them from here.
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
