/**
 * Loads the probes stage's input: dataset.jsonl (outcome rows with a split)
 * joined by id to the activation store, one dense matrix per candidate layer.
 * Must not fit anything (scripts/commands/probes.ts does).
 */
import { formatMessages } from "../../src/core/messages.js";
import type { ProbesInput } from "../commands/probes.js";
import { OutcomeRow, majorityLabel, successRate } from "../formats/outcomes.js";
import { streamActivations } from "./activations/store.js";
import { sharedFloat32 } from "./linear/parallel.js";
import { readJsonl } from "./jsonl.js";

/**
 * Command-side loader: dataset.jsonl (outcome rows with a split) joined by id
 * to the activation store. Matrices keep dataset order; rows without
 * activations are dropped from every split (and reported), never zero-filled.
 */
export async function loadProbesInput(a: { dataset: string; activations: string; teacher: string; layers: number[] }): Promise<ProbesInput & { ids: string[] }> {
  const rows: OutcomeRow[] = [];
  for await (const { value } of readJsonl(a.dataset, OutcomeRow)) rows.push(value);
  const at = new Map(rows.map((r, i) => [r.id, i]));
  const mats = new Map<number, Float32Array>();
  const seen = new Uint8Array(rows.length);
  let d = 0;
  for await (const batch of streamActivations({ dir: a.activations, model: a.teacher, layers: a.layers, batchRows: 1024 })) {
    d = batch.d;
    for (const l of a.layers) if (!mats.has(l)) mats.set(l, sharedFloat32(rows.length * d)); // shared: worker threads read it in place
    batch.ids.forEach((id, k) => {
      const i = at.get(id);
      if (i === undefined) return; // activations for prompts outside this dataset are irrelevant here
      seen[i] = 1;
      for (const l of a.layers) mats.get(l)!.set(batch.layers[l].subarray(k * d, (k + 1) * d), i * d);
    });
  }
  const missing = rows.length - seen.reduce((s, v) => s + v, 0);
  if (missing > 0) console.error(`probes: ${missing} dataset rows have no activations and are excluded`);
  const bySplit = (s: string) => rows.flatMap((r, i) => (r.split === s && seen[i] ? [i] : []));
  const ids = [...new Set(rows.flatMap((r) => Object.keys(r.outcomes)))].sort();
  return {
    ids: rows.map((r) => r.id),
    layers: a.layers.map((l) => ({ layer: l, features: { data: mats.get(l) ?? new Float32Array(0), rows: rows.length, cols: d } })),
    splits: { train: bySplit("train"), val: bySplit("val"), test: bySplit("test") },
    models: ids.map((id) => ({
      id,
      majority: rows.map((r) => (r.outcomes[id] ? majorityLabel(r.outcomes[id]) : 0)),
      rate: rows.map((r) => (r.outcomes[id] ? successRate(r.outcomes[id]) : 0)),
      mask: rows.map((r) => (r.outcomes[id] ? 1 : 0)),
    })),
    texts: rows.map((r) => r.prompt ?? formatMessages(r.messages ?? [])),
    humanDifficulty: rows.map((r) => r.human_difficulty),
    groups: rows.some((r) => (r.task ?? r.source) !== undefined) ? rows.map((r) => r.task ?? r.source ?? "") : undefined,
  };
}

