/**
 * Training weights of logged rows (issue 19 item 4, docs/loop.md "Retrain on
 * logged outcomes"): a logged row observed only the model the logging policy
 * chose, with probability `propensity`. Weighing it by 1/propensity makes each
 * model's head see the traffic's prompt mix instead of the prompts the old
 * policy happened to send to that model; the clip bounds the variance a few
 * explored rows would otherwise add. Weights are then scaled so the logged
 * rows of one file average the file's `weight`. Pure; no I/O.
 */
import type { OutcomeRow } from "../../formats/outcomes.js";

export type LoggedWeighting = "ips" | "none";

export interface LoggedWeightOptions {
  /** Largest 1/propensity used (≥ 1). */
  clip: number;
  /** Mean weight of this file's rows after normalisation (its share of the mix). */
  scale: number;
  /** "none" gives every row `scale`: the unweighted comparison in docs/loop-simulation.md. */
  mode: LoggedWeighting;
}

/** Checks that a row is a logged row whose only outcome is the chosen model's; throws naming the row. */
export function checkLoggedRow(r: OutcomeRow, where: string): asserts r is OutcomeRow & { logged: NonNullable<OutcomeRow["logged"]> } {
  if (!r.logged) throw new Error(`${where}: row ${r.id} has no "logged" block (a logged file holds pipeline pull output)`);
  const models = Object.keys(r.outcomes);
  if (models.length !== 1 || models[0] !== r.logged.chosen) {
    throw new Error(`${where}: row ${r.id} must have exactly one outcome, for the chosen model ${r.logged.chosen} (has ${models.join(", ") || "none"})`);
  }
}

/** min(1/propensity, clip) per row (or 1 with mode "none"), scaled to mean `scale`. */
export function loggedWeights(propensities: number[], o: LoggedWeightOptions): number[] {
  if (!(o.clip >= 1)) throw new Error(`ips clip ${o.clip} must be ≥ 1`);
  const raw = propensities.map((p) => {
    if (!(p > 0 && p <= 1)) throw new Error(`propensity ${p} not in (0, 1]`);
    return o.mode === "ips" ? Math.min(1 / p, o.clip) : 1;
  });
  const mean = raw.reduce((a, b) => a + b, 0) / Math.max(raw.length, 1);
  return raw.map((w) => (w / mean) * o.scale);
}

/** A distill row with one observed model (a logged row after toDistillRow). */
interface OneLabelRow {
  id?: string;
  text: string;
  split?: string;
  labels: Record<string, number | null>;
  weight?: number;
}

/**
 * Merges logged rows with the same text and the same single observed model
 * into one row: weight Σw, label Σw·y / Σw. The weighted loss over the merged
 * row equals the sum over the originals up to a constant (BCE is linear in y),
 * so the gradient is the same, while the rows per epoch stop growing with
 * traffic once prompts recur. Rows with several labels pass through unchanged.
 */
export function mergeLoggedRows<R extends OneLabelRow>(rows: R[]): R[] {
  const out: R[] = [];
  const byKey = new Map<string, { row: R; w: number; wy: number; model: string }>();
  for (const r of rows) {
    const observed = Object.entries(r.labels).filter(([, y]) => y !== null);
    if (observed.length !== 1) {
      out.push(r);
      continue;
    }
    const [model, y] = observed[0] as [string, number];
    const w = r.weight ?? 1;
    const key = `${model}\u0000${r.split ?? ""}\u0000${r.text}`;
    const g = byKey.get(key);
    if (g) {
      g.w += w;
      g.wy += w * y;
    } else byKey.set(key, { row: r, w, wy: w * y, model });
  }
  for (const g of byKey.values()) out.push({ ...g.row, labels: { [g.model]: g.wy / g.w }, weight: g.w });
  return out;
}
