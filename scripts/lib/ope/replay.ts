/**
 * Replays prompts through a bundle exactly as the worker routes them: the one
 * scoring path (src/core/scoring.ts, onnxruntime-node behind core's RunModel
 * port) and core's decide() with the bundle's runtime pool, giving per prompt
 * the greedy (pre-exploration) model and every candidate's calibrated p and
 * expected cost, shaped like the decision log's candidates. Used by the gate
 * (scripts/stages/gate.ts) and the simulator (scripts/simulate). Must not
 * estimate values or explore (callers do, with core's explore.ts).
 */
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { RouteRequest } from "../../../src/core/api-schemas.js";
import { decide, type RuntimeModel } from "../../../src/core/decide.js";
import type { LoggedCandidate } from "../../../src/core/decision-record.js";
import { Manifest } from "../../../src/core/manifest.js";
import { modelLengthOf } from "../../../src/core/output-length.js";
import type { Policy } from "../../../src/core/policy.js";
import { nodeScorer, type NodeScorer } from "../../bundle/score-node.js";
import { readJsonFile } from "../jsonl.js";

/** A bundle as files: its validated manifest and the student it names. */
export interface BundleFiles {
  manifest: Manifest;
  onnx: Uint8Array;
  /** sha256 of manifest.json when read from a directory (the worker's artifact digest). */
  sha256?: string;
}

/** Reads <dir>/manifest.json (schema) and its student, checking the student's sha256. */
export async function readBundleDir(dir: string): Promise<BundleFiles> {
  const manifest = await readJsonFile(join(dir, "manifest.json"), Manifest);
  const onnx = new Uint8Array(await readFile(join(dir, manifest.onnx.file)));
  const sha = createHash("sha256").update(onnx).digest("hex");
  if (sha !== manifest.onnx.sha256) throw new Error(`${dir}: ${manifest.onnx.file} sha256 ${sha.slice(0, 12)}… does not match its manifest`);
  const text = await readFile(join(dir, "manifest.json"));
  return { manifest, onnx, sha256: createHash("sha256").update(text).digest("hex") };
}

/**
 * The bundle's pool as decide() sees it, bundle prices (no overrides): the
 * worker's runtime pool (src/infer/bundle-loader.ts) with an empty override map.
 */
export function runtimeModels(manifest: Manifest): RuntimeModel[] {
  return manifest.pool.map((m) => ({
    id: m.id,
    provider: m.provider,
    price: { input_per_mtok: m.input_per_mtok, output_per_mtok: m.output_per_mtok },
    price_source: "bundle",
    default_output_tokens: manifest.output_length?.tokens[m.id] ?? m.default_output_tokens,
    output_length: modelLengthOf(manifest.output_length, m.id),
    output_index: manifest.outputs.find((x) => x.model === m.id)!.index,
    calibration: manifest.calibration[m.id],
  }));
}

/** One prompt routed by a bundle under a policy, before exploration. */
export interface Routed {
  /** The policy's pick; null when the decision abstained. */
  greedy: string | null;
  /** Every pool model with its calibrated p and expected cost (the log's candidate shape). */
  cands: LoggedCandidate[];
  inputTokens: number;
}

const BATCH = 256;

export class Replayer {
  private constructor(
    readonly bundle: BundleFiles,
    private readonly scorer: NodeScorer,
    private readonly pool: RuntimeModel[],
  ) {}

  static async open(bundle: BundleFiles): Promise<Replayer> {
    const m = bundle.manifest;
    const scorer = await nodeScorer(bundle.onnx, m.featurizer, { ...m.onnx.inputs, output: m.onnx.output });
    return new Replayer(bundle, scorer, runtimeModels(m));
  }

  get id(): string {
    return this.bundle.manifest.bundle_id;
  }

  /** Routes each text under its policy (one per text, or one for all; default: the bundle's default policy); repeats are scored once. */
  async route(texts: string[], policy?: Policy | Policy[]): Promise<Routed[]> {
    const pols = texts.map((_, i) => (Array.isArray(policy) ? policy[i] : policy) ?? this.bundle.manifest.default_policy);
    const slot = new Map<string, number>();
    const unique: number[] = [];
    const which = texts.map((t, i) => {
      const key = `${JSON.stringify(pols[i])}\u0000${t}`;
      let k = slot.get(key);
      if (k === undefined) {
        k = unique.length;
        slot.set(key, k);
        unique.push(i);
      }
      return k;
    });
    const routed: Routed[] = [];
    for (let from = 0; from < unique.length; from += BATCH) {
      const idx = unique.slice(from, from + BATCH);
      const scored = await this.scorer.score(idx.map((i) => texts[i]));
      for (const [k, s] of scored.entries()) {
        const text = texts[idx[k]];
        const pol = pols[idx[k]];
        const request = RouteRequest.parse({ prompt: text, policy: pol });
        const { decision, candidates } = decide({ candidates: this.pool, logits: s.logits, inputTokens: s.features.inputTokens, request, text, policy: pol });
        routed.push({
          greedy: decision.type === "route" ? decision.model : null,
          cands: candidates.map((c) => ({ model: c.model, p: c.p_success, cost: c.expected_cost_usd, utility: c.utility })),
          inputTokens: s.features.inputTokens,
        });
      }
    }
    return which.map((k) => routed[k]);
  }
}
