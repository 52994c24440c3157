/**
 * Worker configuration from wrangler vars and secrets, validated once at
 * start-up. A bad value yields a ConfigError that /healthz reports and that
 * turns every scoring request into a 503, and it is logged at start-up: loud,
 * never a silent fallback. Must not read the bundle or do I/O.
 */
import { z } from "zod";
import { Experiments, type Experiment } from "../core/experiment.js";

export const PriceOverride = z.record(
  z.string().min(1),
  z.object({
    input_per_mtok: z.number().min(0).finite(),
    output_per_mtok: z.number().min(0).finite(),
  }).strict(),
);
export type PriceOverride = z.infer<typeof PriceOverride>;

// admin widens the feedback scope to every key's decisions (a key may otherwise write feedback only on
// its own); it grants nothing by itself, so an admin key lists both "feedback" and "admin".
export const ApiKeyScope = z.enum(["route", "feedback", "report", "admin"]);
export const ApiKeyEntry = z.object({
  id: z.string().min(1),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  scopes: z.array(ApiKeyScope).min(1).default(["route", "feedback", "report"]),
  store_prompts: z.boolean().default(false).meta({ description: "Opt in to storing prompt text in the decision log." }),
});
export type ApiKeyEntry = z.infer<typeof ApiKeyEntry>;

export const WorkerEnv = z.object({
  AUTH: z.enum(["required", "disabled"]).default("required"),
  API_KEYS: z.string().optional(),
  PRICE_OVERRIDES: z.string().optional(),
  EXPERIMENTS: z.string().optional(),
  MAX_BODY_BYTES: z.coerce.number().int().min(1024).max(10_000_000).default(262_144),
  DEFAULT_BUNDLE: z.string().optional(),
  PROMPT_HMAC_KEY: z.string().min(16).optional(),
});

export interface Config {
  auth: "required" | "disabled";
  keys: ApiKeyEntry[];
  priceOverrides: PriceOverride;
  experiments: Experiment[];
  maxBodyBytes: number;
  defaultBundle: string | undefined;
  /** Secret for the prompt HMAC in the decision log; a fixed dev key when AUTH=disabled. */
  promptHmacKey: string | undefined;
}

export type ConfigResult = { ok: true; config: Config } | { ok: false; errors: string[] };

function parseJson<T>(name: string, text: string | undefined, schema: z.ZodType<T>, fallback: T, errors: string[]): T {
  if (text === undefined || text.trim() === "") return fallback;
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    errors.push(`${name}: not valid JSON (${(e as Error).message})`);
    return fallback;
  }
  const r = schema.safeParse(raw);
  if (!r.success) {
    for (const i of r.error.issues) errors.push(`${name}.${i.path.join(".") || "(root)"}: ${i.message}`);
    return fallback;
  }
  return r.data;
}

export function loadConfig(env: Record<string, unknown>): ConfigResult {
  const errors: string[] = [];
  const base = WorkerEnv.safeParse(env);
  if (!base.success) {
    return { ok: false, errors: base.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`) };
  }
  const e = base.data;
  const keys = parseJson("API_KEYS", e.API_KEYS, z.array(ApiKeyEntry), [], errors);
  const priceOverrides = parseJson("PRICE_OVERRIDES", e.PRICE_OVERRIDES, PriceOverride, {}, errors);
  const experiments = parseJson("EXPERIMENTS", e.EXPERIMENTS, Experiments, [], errors);
  const names = experiments.map((x) => x.name);
  if (new Set(names).size !== names.length) errors.push("EXPERIMENTS: duplicate experiment name");
  if (e.AUTH === "required" && keys.length === 0 && errors.length === 0) {
    errors.push("API_KEYS: AUTH is required but no keys are configured (set AUTH=disabled for local use)");
  }
  if (errors.length > 0) return { ok: false, errors };
  return {
    ok: true,
    config: {
      auth: e.AUTH,
      keys,
      priceOverrides,
      experiments,
      maxBodyBytes: e.MAX_BODY_BYTES,
      defaultBundle: e.DEFAULT_BUNDLE,
      promptHmacKey: e.PROMPT_HMAC_KEY ?? (e.AUTH === "disabled" ? "preflight-local-dev-only-key" : undefined),
    },
  };
}
