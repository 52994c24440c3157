/**
 * Form (b) teacher activations: runs an ONNX decoder that exposes per-layer
 * hidden states as outputs (default names hidden_<n>, each [B, T, d]) over
 * chat-templated prompts in padded mini-batches, and writes the hidden state
 * at each prompt's end-of-input position to the same shard+index layout as
 * form (a) (store.ts). Must not: import onnxruntime directly (ort-node.ts
 * does), hold more than one batch of activations in memory, or know about
 * probes or outcomes.
 *
 * End-of-input position = the last non-pad token: len-1 with right padding,
 * T-1 with left padding. If the graph has a position_ids input it is fed
 * cumsum(mask)-1 (0 on pads), so left padding does not shift positions.
 */
import { z } from "zod";
import { closeSession, loadSession, runSession, sessionIO, type Feed } from "../ort-node.js";
import { ActivationWriter } from "./store.js";
import { ChatTemplate, applyTemplate, loadVocabTokenizer, type Tokenizer } from "./tokenizer.js";

export const TeacherConfig = z.object({
  /** Name of the teacher in the activation layout (activations/<model>/). */
  model: z.string().min(1),
  onnx: z.string().min(1),
  /** Vocab JSON path (tokenizer.ts); ignored when a Tokenizer is passed in. */
  tokenizer: z.string().min(1).optional(),
  template: ChatTemplate.default("{prompt}"),
  padSide: z.enum(["left", "right"]).default("right"),
  batchSize: z.number().int().min(1).default(8),
  /** Longer prompts keep their last maxTokens tokens (and BOS): the end is what we read. */
  maxTokens: z.number().int().min(1).default(512),
  /** Layers to keep; default every output matching outputPattern. */
  layers: z.array(z.number().int().min(0)).min(1).optional(),
  outputPattern: z.string().includes("{layer}").default("hidden_{layer}"),
  inputs: z
    .object({ ids: z.string(), mask: z.string(), positions: z.string() })
    .default({ ids: "input_ids", mask: "attention_mask", positions: "position_ids" }),
  dtype: z.enum(["F16", "F32"]).default("F16"),
  shardRows: z.number().int().min(1).default(65536),
  threads: z.number().int().min(1).default(1),
});
export type TeacherConfig = z.infer<typeof TeacherConfig>;
export type TeacherConfigInput = z.input<typeof TeacherConfig>;

export interface TeacherPrompt {
  id: string;
  text: string;
}

export interface PaddedBatch {
  ids: number[]; // B×T
  mask: number[]; // B×T, 1 = real token
  positions: number[]; // B×T
  T: number;
  /** Per row: index of the last real token. */
  ends: number[];
}

/** Pads token sequences to a common length on the given side. Pure. */
export function padBatch(seqs: number[][], padId: number, side: "left" | "right"): PaddedBatch {
  const T = Math.max(...seqs.map((s) => s.length));
  const ids: number[] = [];
  const mask: number[] = [];
  const positions: number[] = [];
  const ends: number[] = [];
  for (const s of seqs) {
    if (s.length === 0) throw new Error("padBatch: empty token sequence");
    const pad = T - s.length;
    const padIds = new Array<number>(pad).fill(padId);
    const zeros = new Array<number>(pad).fill(0);
    const pos = s.map((_, i) => i);
    if (side === "right") {
      ids.push(...s, ...padIds);
      mask.push(...s.map(() => 1), ...zeros);
      positions.push(...pos, ...zeros);
      ends.push(s.length - 1);
    } else {
      ids.push(...padIds, ...s);
      mask.push(...zeros, ...s.map(() => 1));
      positions.push(...zeros, ...pos);
      ends.push(T - 1);
    }
  }
  return { ids, mask, positions, T, ends };
}

/** Keeps the last `max` tokens, preserving a leading BOS. Pure. */
export function truncateLeft(ids: number[], max: number, bosId?: number): number[] {
  if (ids.length <= max) return ids;
  if (bosId !== undefined && ids[0] === bosId && max >= 2) return [bosId, ...ids.slice(ids.length - (max - 1))];
  return ids.slice(ids.length - max);
}

export interface TeacherRunOptions {
  config: TeacherConfigInput;
  prompts: TeacherPrompt[];
  /** Root of the activation layout (the directory that holds <model>/). */
  outDir: string;
  /** Overrides config.tokenizer (any Tokenizer implementation). */
  tokenizer?: Tokenizer;
  /** Model bytes instead of reading config.onnx (tests). */
  modelBytes?: Uint8Array;
  onProgress?: (done: number, total: number) => void;
}

export interface TeacherRunResult {
  rows: number;
  shards: number;
  d: number;
  layers: number[];
  truncated: number;
}

function layerOutputs(outputNames: string[], pattern: string): Map<number, string> {
  const [pre, post] = pattern.split("{layer}");
  const found = new Map<number, string>();
  for (const name of outputNames) {
    if (!name.startsWith(pre) || !name.endsWith(post)) continue;
    const mid = name.slice(pre.length, name.length - post.length);
    if (/^\d+$/.test(mid)) found.set(Number(mid), name);
  }
  return found;
}

export async function runOnnxTeacher(opts: TeacherRunOptions): Promise<TeacherRunResult> {
  const cfg = TeacherConfig.parse(opts.config);
  const tok = opts.tokenizer ?? (cfg.tokenizer ? await loadVocabTokenizer(cfg.tokenizer) : undefined);
  if (!tok) throw new Error(`teacher ${cfg.model}: no tokenizer (set config.tokenizer or pass one)`);
  const ids = new Set<string>();
  for (const p of opts.prompts) {
    if (ids.has(p.id)) throw new Error(`teacher ${cfg.model}: duplicate prompt id ${p.id}`);
    ids.add(p.id);
  }

  const session = await loadSession(opts.modelBytes ?? cfg.onnx, { threads: cfg.threads });
  const writerRef: { w?: ActivationWriter } = {};
  try {
    const io = sessionIO(session);
    const available = layerOutputs(io.outputs.map((o) => o.name), cfg.outputPattern);
    const layers = cfg.layers ?? [...available.keys()].sort((a, b) => a - b);
    if (layers.length === 0) throw new Error(`teacher ${cfg.model}: no outputs match ${cfg.outputPattern}`);
    for (const l of layers) {
      if (!available.has(l)) throw new Error(`teacher ${cfg.model}: no output for layer ${l} (has ${[...available.keys()].join(", ")})`);
    }
    const inputType = (name: string) => io.inputs.find((i) => i.name === name);
    for (const name of [cfg.inputs.ids, cfg.inputs.mask]) {
      if (!inputType(name)) throw new Error(`teacher ${cfg.model}: graph has no input ${name}`);
    }
    const maskType = inputType(cfg.inputs.mask)!.type === "float32" ? "float32" : "int64";
    const hasPositions = inputType(cfg.inputs.positions) !== undefined;
    const outNames = layers.map((l) => available.get(l)!);

    writerRef.w = await ActivationWriter.create({
      dir: opts.outDir,
      model: cfg.model,
      layers,
      totalRows: opts.prompts.length,
      shardRows: cfg.shardRows,
      dtype: cfg.dtype,
      metadata: { source: "onnx-teacher", template: cfg.template, pad_side: cfg.padSide, tokenizer: tok.name },
    });
    let truncated = 0;
    for (let start = 0; start < opts.prompts.length; start += cfg.batchSize) {
      const batch = opts.prompts.slice(start, start + cfg.batchSize);
      const seqs = batch.map((p) => {
        const full = tok.encode(applyTemplate(cfg.template, p.text));
        if (full.length === 0) throw new Error(`teacher ${cfg.model}: prompt ${p.id} has no tokens after templating`);
        const kept = truncateLeft(full, cfg.maxTokens, tok.bosId);
        if (kept.length < full.length) truncated++;
        return kept;
      });
      const pb = padBatch(seqs, tok.padId, cfg.padSide);
      const B = batch.length;
      const feeds: Record<string, Feed> = {
        [cfg.inputs.ids]: { type: "int64", data: pb.ids, dims: [B, pb.T] },
        [cfg.inputs.mask]: { type: maskType, data: pb.mask, dims: [B, pb.T] },
      };
      if (hasPositions) feeds[cfg.inputs.positions] = { type: "int64", data: pb.positions, dims: [B, pb.T] };
      const out = await runSession(session, feeds, outNames);
      const picked: Record<number, Float32Array> = {};
      for (const [k, l] of layers.entries()) {
        const o = out[outNames[k]];
        const [ob, ot, d] = o.dims;
        if (o.dims.length !== 3 || ob !== B || ot !== pb.T) {
          throw new Error(`teacher ${cfg.model}: output ${outNames[k]} has dims [${o.dims}], expected [${B}, ${pb.T}, d]`);
        }
        const rows = new Float32Array(B * d);
        for (let b = 0; b < B; b++) rows.set(o.data.subarray((b * pb.T + pb.ends[b]) * d, (b * pb.T + pb.ends[b] + 1) * d), b * d);
        picked[l] = rows;
      }
      await writerRef.w.append(batch.map((p) => p.id), picked);
      opts.onProgress?.(start + B, opts.prompts.length);
    }
    const done = await writerRef.w.close();
    writerRef.w = undefined;
    return { rows: done.rows, shards: done.shards, d: done.d, layers, truncated };
  } catch (e) {
    await writerRef.w?.abort();
    throw e;
  } finally {
    await closeSession(session);
  }
}
