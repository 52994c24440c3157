/**
 * A small many-model pool made from public outcomes, for checking that
 * calibration cannot invert (issue 17): a seeded subsample of prompts, and for
 * each source model three pool members — the original, a copy with a share of
 * labels flipped ("~noisy"), and a copy whose labels are permuted across
 * prompts ("~shuffled": same base rate, no signal). Pure: rows in, rows out;
 * the caller reads and writes files. Splits are kept as the source rows have
 * them (or left for ingest's rule).
 */
import { mulberry32, permutation } from "../../src/core/random.js";
import type { OutcomeRow, PoolConfig } from "../formats/outcomes.js";

export interface ManyModelPoolOptions {
  /** Prompts to keep (every kept row has an outcome for every source model). */
  prompts: number;
  seed: number;
  /** Share of labels flipped in each "~noisy" copy. */
  flip: number;
  /** Source models to copy (default: every model of the pool). */
  models?: string[];
}

export function manyModelPool(rows: OutcomeRow[], pool: PoolConfig, o: ManyModelPoolOptions): { rows: OutcomeRow[]; pool: PoolConfig } {
  const rng = mulberry32(o.seed);
  const sources = o.models ?? pool.models.map((m) => m.id);
  const full = rows.filter((r) => sources.every((m) => r.outcomes[m]));
  if (full.length < o.prompts) throw new Error(`many-model pool: only ${full.length} rows have every source model`);
  const order = permutation(full.length, rng);
  const kept = Array.from(order.subarray(0, o.prompts), (i) => full[i]);
  const out: OutcomeRow[] = kept.map((r) => ({ ...r, outcomes: {} }));
  const models: PoolConfig["models"] = [];
  for (const id of sources) {
    const base = pool.models.find((m) => m.id === id);
    if (!base) throw new Error(`many-model pool: ${id} is not in the pool`);
    const shuffled = permutation(kept.length, rng);
    kept.forEach((r, i) => {
      const oc = r.outcomes[id];
      out[i].outcomes[id] = oc;
      // A flipped label keeps n; k goes to its complement so the majority label flips (ties stay failures).
      out[i].outcomes[`${id}~noisy`] = rng() < o.flip ? { ...oc, k: oc.n - oc.k } : oc;
      out[i].outcomes[`${id}~shuffled`] = kept[shuffled[i]].outcomes[id];
    });
    models.push(base, { ...base, id: `${id}~noisy` }, { ...base, id: `${id}~shuffled` });
  }
  const pname = `${pool.name}-many-${o.prompts}`;
  return { rows: out, pool: { name: pname, models, source: `${pool.name}: ${o.prompts} prompts (seed ${o.seed}); per model: original, ~noisy (${o.flip} of labels flipped), ~shuffled (labels permuted)` } };
}
