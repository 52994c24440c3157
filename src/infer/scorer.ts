/**
 * Scores prompts with a loaded bundle through the one core scoring path
 * (src/core/scoring.ts: featurize → pack → run → slice), with the bundle's
 * onnxruntime-web engine as the run. Must not apply calibration or policy
 * (core's decide does that).
 */
import { scorePrompts, type ScoredPrompt } from "../core/scoring.js";
import type { LoadedBundle } from "./bundle-loader.js";

export type Scored = ScoredPrompt;

export function scoreTexts(bundle: LoadedBundle, texts: string[]): Promise<Scored[]> {
  return scorePrompts(bundle.engine.run, bundle.manifest.featurizer, texts);
}
