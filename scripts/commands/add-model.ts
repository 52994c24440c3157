/**
 * `add-model --bundle <dir> --data <outcomes.jsonl> --model <id> --out <dir>`:
 * onboards one model onto an existing bundle from its labelled prompts (the
 * stage is scripts/stages/add-model.ts). Reads the outcomes file, builds the
 * pool entry from the flags, writes the new bundle under --out/<id>. Does not
 * promote (that stays a separate, deliberate step).
 */
import { defineCommand } from "citty";
import type { PoolModel } from "../../src/core/manifest.js";
import type { OutcomeRow } from "../formats/outcomes.js";
import { addModel, MIN_TASK_OUTCOMES, readOutcomesFile, resolvePoolData } from "../stages/add-model.js";
import type { ImputedHead } from "../stages/impute-head.js";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { numberFlag } from "../lib/flags.js";

/** Median measured output tokens of the model's outcomes, or null when none carries them. */
function measuredTokens(rows: OutcomeRow[], id: string): number | null {
  const t = rows.flatMap((r) => (r.outcomes[id]?.output_tokens !== undefined ? [r.outcomes[id].output_tokens!] : [])).sort((a, b) => a - b);
  return t.length === 0 ? null : Math.round(t[Math.floor(t.length / 2)]);
}

export default defineCommand({
  meta: { name: "add-model", description: "Onboard a new model onto an existing bundle: fit only its head on the frozen student, write a new bundle" },
  args: {
    bundle: { type: "string", required: true, description: "source bundle directory (e.g. artifacts/llmrouter-v5)" },
    data: { type: "string", required: true, description: "outcomes JSONL with the new model's labelled prompts (rows split \"test\" are not used)" },
    model: { type: "string", required: true, description: "the new model's id" },
    out: { type: "string", default: "artifacts", description: "root directory for the new bundle" },
    id: { type: "string", description: "new bundle id (default: <source id>-plus-<model>)" },
    "price-in": { type: "string", default: "0", description: "USD per 1M input tokens" },
    "price-out": { type: "string", default: "0", description: "USD per 1M output tokens" },
    provider: { type: "string", default: "unknown", description: "provider name" },
    "output-tokens": { type: "string", description: "default output tokens when the outcomes carry none (default: the pool's mean)" },
    calibration: { type: "enum", options: ["platt", "isotonic"], default: "platt", description: "monotone map (isotonic only with enough outcomes)" },
    seed: { type: "string", default: "1", description: "seed of the cross-validation folds" },
    "pool-data": { type: "string", default: "auto", description: "the source bundle's own outcomes JSONL (its build data): the existing models' outcomes on the labelled prompts impute the new model's on every pool prompt (needs a task prior and labelled prompts from the pool, e.g. from label-plan). auto (default): the build data named in the bundle's manifest, when that file is here with the recorded sha256, else the plain head; none: the plain head" },
    "created-at": { type: "string", description: "ISO time to record (default: now)" },
  },
  async run({ args }) {
    // Flags first, so a typo fails before the outcomes and the bundle are read.
    const priceIn = numberFlag("price-in", args["price-in"], { min: 0 });
    const priceOut = numberFlag("price-out", args["price-out"], { min: 0 });
    const tokensFlag = args["output-tokens"] !== undefined ? numberFlag("output-tokens", args["output-tokens"], { integer: true, min: 1 }) : null;
    const seed = numberFlag("seed", args.seed, { integer: true });
    const labelled = await readOutcomesFile(args.data);
    const rows = labelled.rows;
    const src = JSON.parse(readFileSync(join(args.bundle, "manifest.json"), "utf8")) as { bundle_id: string; pool: PoolModel[]; provenance?: { data?: { name: string; sha256: string }[] } };
    const { pool, note } = await resolvePoolData(args["pool-data"], src.provenance?.data?.[0]);
    if (note) console.error(`[add-model] --pool-data ${args["pool-data"]}: ${note}`);
    const measured = measuredTokens(rows, args.model);
    const fallback = tokensFlag ?? Math.round(src.pool.reduce((a, p) => a + p.default_output_tokens, 0) / src.pool.length);
    const model: PoolModel = {
      id: args.model,
      provider: args.provider,
      input_per_mtok: priceIn,
      output_per_mtok: priceOut,
      default_output_tokens: measured ?? fallback,
      output_tokens_source: measured !== null ? "measured" : "estimate",
      price_source: `pipeline add-model --price-in ${args["price-in"]} --price-out ${args["price-out"]}`,
    };
    const res = await addModel({
      bundleDir: args.bundle,
      rows,
      model,
      out: args.out,
      id: args.id ?? `${src.bundle_id}-plus-${args.model}`.toLowerCase().replace(/[^a-z0-9._-]/g, "-").slice(0, 64),
      createdAt: args["created-at"] ?? new Date().toISOString(),
      data: labelled.data,
      calibration: args.calibration as "platt" | "isotonic",
      seed,
      pool,
    });
    const st = res.stats;
    const imp = (res.head as Partial<ImputedHead>).imputation;
    const imputed = imp ? ` with ${imp.imputed} pool prompts imputed (weight ${imp.weight}, imputer C ${imp.C})` : "";
    console.error(`[add-model] ${args.model}: ${res.n} outcomes (${res.positives} successes); head ${res.head.parts}, C ${res.head.C} (${res.head.selection.by})${imputed}; out-of-fold AUROC ${typeof st.val_auroc === "number" ? `${st.val_auroc.toFixed(3)} [lo ${st.val_auroc_lo?.toFixed(3) ?? "n/a"}]` : "n/a (the outcomes hold one class only)"}, signal ${st.signal}${st.signal === "none" ? " — WARNING: served its constant base rate" : ""}`);
    if (res.poolSkipped) console.error(`[add-model] --pool-data ${args["pool-data"]}: not used (${res.poolSkipped}); fitted the plain head`);
    const thin = Object.entries(res.coverage).filter(([, k]) => k < MIN_TASK_OUTCOMES);
    if (thin.length > 0) console.error(`[add-model] WARNING: fewer than ${MIN_TASK_OUTCOMES} outcomes on ${thin.length} of the bundle's ${Object.keys(res.coverage).length} tasks (${thin.map(([t, k]) => `${t} ${k}`).join(", ")}); their offsets lean on the other models. \`pipeline label-plan\` chooses prompts balanced over tasks.`);
    console.log(JSON.stringify({ bundle: res.manifest.bundle_id, dir: res.dir, model: args.model, n: res.n, signal: st.signal }, null, 2));
  },
});
