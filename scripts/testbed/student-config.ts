/**
 * The testbed's student settings, shared by report.ts, student-sweep.ts and the
 * e2e test so the three build the same student: featurizer, trainer settings and
 * the pipeline BuildConfig (teacher logits at α 0.8, calibration on cal).
 * Must not: read or write files itself (it only assembles a config).
 */
import type { ProbeLayer } from "../../src/core/manifest.js";
import { BuildConfig } from "../stages/build-config.js";

// char_scope "text" and max_features 192: student-sweep.ts's best mean val within-group AUROC on world 3 (docs/testbed.md).
export const STUDENT_FEATURIZER = { kind: "hashed-ngram-v1" as const, buckets: 8192, word_ngrams: [1, 2], char_ngrams: [2, 3, 4, 5], char_scope: "text" as const, max_features: 192, lowercase: true, seed: 5 };
export const STUDENT_TRAIN = { dim: 32, hidden: 64, maxEpochs: 30, patience: 4, lr: 0.005 };

export function studentConfig(world: string, data: string, pool: string, teacher: string, layers: { model: string; layer: ProbeLayer }[], out: string) {
  return BuildConfig.parse({
    bundle_id: "testbed-v1",
    description: "testbed: student distilled from probes on small char LMs trained here (scripts/testbed)",
    data, pool,
    teacher: { logits: teacher, layers, alpha: 0.8 },
    featurizer: STUDENT_FEATURIZER,
    train: STUDENT_TRAIN,
    dtype: "float32",
    out,
    golden_extra: 10,
  });
}
