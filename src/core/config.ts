/**
 * Worker configuration from wrangler vars and secrets, validated once at
 * start-up. A bad value yields a ConfigError that /healthz reports and that
 * turns every scoring request into a 503, and it is logged at start-up: loud,
 * never a silent fallback. Must not read the bundle or do I/O.
 * `npm run doctor` (scripts/doctor.ts) runs this same function on wrangler.toml
 * plus the secrets before deploy, so the two can never disagree.
 *
 * Error texts name the variable and the rule, never the value: they reach the
 * logs and authenticated callers, and a JSON parser's message would quote the
 * start of a secret (API_KEYS), so parse errors keep only the position.
 */
import { z } from "zod";
import { AliasName } from "./bundle-ref.js";
import { Experiments, type Experiment } from "./experiment.js";

/**
 * Highest accepted price, USD per 1M tokens (100× today's dearest models). With
 * at most 1M expected output tokens a decision costs ≤ 2e4 USD, so sums over any
 * log stay finite; 1e308 used to reach Infinity and turn reports into 500s.
 */
const MAX_PRICE_PER_MTOK = 10_000;
const Price = z.number().min(0).max(MAX_PRICE_PER_MTOK);

export const PriceOverride = z.record(
  z.string().min(1),
  z.object({ input_per_mtok: Price, output_per_mtok: Price }).strict(),
);
export type PriceOverride = z.infer<typeof PriceOverride>;

// admin widens the feedback scope to every key's decisions (a key may otherwise write feedback only on
// its own); it grants nothing by itself, so an admin key lists both "feedback" and "admin".
// export reads the decision log with feedback (GET /v1/export); alias changes which bundle an alias
// names (issue 19). Neither is in the default scopes: a key gets them only when listed.
export const ApiKeyScope = z.enum(["route", "feedback", "report", "admin", "export", "alias"]);
export const ApiKeyEntry = z.strictObject({
  id: z.string().min(1),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  scopes: z.array(ApiKeyScope).min(1).default(["route", "feedback", "report"]),
  store_prompts: z.boolean().default(false).meta({ description: "Opt in to storing prompt text in the decision log." }),
});
export type ApiKeyEntry = z.infer<typeof ApiKeyEntry>;

/** Largest MAX_BODY_BYTES: a body this size peaks well under 64 MB of isolate memory (test/worker/trust-input.test.ts). */
export const MAX_BODY_LIMIT = 1_048_576;
/**
 * Most MAX_LIVE_SESSIONS: 8 sessions of today's largest student (llmrouter-v5: ≈ 2.8 MiB of WASM each over
 * ORT's ≈ 19 MiB with the first) are ≈ 39 MiB of WASM, and with the worst-case request's JS heap (≈ 21 MiB)
 * ≈ 60 MiB: within 64 MB, with little room (artifacts/README.md, "Sessions and memory").
 */
export const MAX_LIVE_SESSIONS_LIMIT = 8;
/** Shortest PROMPT_HMAC_KEY under AUTH=required: 32 characters, 128 bits when hex (`openssl rand -hex 32` gives 64). */
export const MIN_HMAC_KEY_CHARS = 32;

export const WorkerEnv = z.object({
  AUTH: z.enum(["required", "disabled"]).default("required"),
  API_KEYS: z.string().optional(),
  PRICE_OVERRIDES: z.string().optional(),
  EXPERIMENTS: z.string().optional(),
  MAX_BODY_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .max(MAX_BODY_LIMIT, `at most ${MAX_BODY_LIMIT} (1 MiB): the worst-case request must fit the isolate's memory`)
    .default(262_144),
  DEFAULT_BUNDLE: z.string().optional(),
  PROMPT_HMAC_KEY: z.string().optional(),
  // Live ORT sessions per isolate, the default's included (an LRU; artifacts/README.md, "Sessions and memory").
  MAX_LIVE_SESSIONS: z.coerce.number().int().min(2, "at least 2: the default plus one other bundle").max(MAX_LIVE_SESSIONS_LIMIT).default(4),
  // How long an isolate keeps the alias table read from D1: the bound for an alias change to reach new requests.
  ALIAS_TTL_MS: z.coerce.number().int().min(0).max(3_600_000).default(5000),
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
  /** Cap on live ORT sessions per isolate, the default's included. */
  maxLiveSessions: number;
  /** How long the alias table read from D1 is kept per isolate (ms). */
  aliasTtlMs: number;
}

/** Who may read configuration details: the keys and auth mode, when those parsed even if something else did not. */
export type Access = Pick<Config, "auth" | "keys">;

/** On failure, `partial` is the configuration with every invalid value replaced by its default (for doctor's further checks). */
export type ConfigResult = { ok: true; config: Config } | { ok: false; errors: string[]; access: Access | null; partial: Config | null };

/** The variable an error is about ("PRICE_OVERRIDES.gpt-9: …" → "PRICE_OVERRIDES"): safe to show anyone. */
export function configVariable(error: string): string {
  return /^[A-Z][A-Z0-9_]*/.exec(error)?.[0] ?? "configuration";
}

function parseJson<T>(name: string, text: string | undefined, schema: z.ZodType<T>, fallback: T, errors: string[]): T {
  if (text === undefined || text.trim() === "") return fallback;
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    const at = /position (\d+)/.exec((e as Error).message);
    errors.push(`${name}: not valid JSON${at ? ` (at position ${at[1]})` : ""}`);
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
    return { ok: false, errors: base.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`), access: null, partial: null };
  }
  const e = base.data;
  const keys = parseJson("API_KEYS", e.API_KEYS, z.array(ApiKeyEntry), [], errors);
  const keysOk = errors.length === 0;
  const priceOverrides = parseJson("PRICE_OVERRIDES", e.PRICE_OVERRIDES, PriceOverride, {}, errors);
  const experiments = parseJson("EXPERIMENTS", e.EXPERIMENTS, Experiments, [], errors);
  const names = experiments.map((x) => x.name);
  if (new Set(names).size !== names.length) errors.push("EXPERIMENTS: duplicate experiment name");
  if (e.AUTH === "required" && keys.length === 0 && keysOk) {
    errors.push("API_KEYS: AUTH is required but no keys are configured (set AUTH=disabled for local use)");
  }
  if (e.AUTH === "required") {
    // Without it no decision can be logged (its prompt HMAC cannot be built): refuse to serve rather than half-work.
    const hmac = e.PROMPT_HMAC_KEY ?? "";
    if (hmac === "") errors.push("PROMPT_HMAC_KEY: required when AUTH=required (the decision log's prompt HMAC secret)");
    else if (hmac.length < MIN_HMAC_KEY_CHARS) errors.push(`PROMPT_HMAC_KEY: too short (${hmac.length} characters; at least ${MIN_HMAC_KEY_CHARS})`);
  }
  const config: Config = {
    auth: e.AUTH,
    keys,
    priceOverrides,
    experiments,
    maxBodyBytes: e.MAX_BODY_BYTES,
    defaultBundle: e.DEFAULT_BUNDLE,
    promptHmacKey: e.PROMPT_HMAC_KEY || (e.AUTH === "disabled" ? "preflight-local-dev-only-key" : undefined),
    maxLiveSessions: e.MAX_LIVE_SESSIONS,
    aliasTtlMs: e.ALIAS_TTL_MS,
  };
  if (errors.length > 0) return { ok: false, errors, access: keysOk ? { auth: e.AUTH, keys } : null, partial: config };
  return { ok: true, config };
}

/**
 * Checks that need the built-in bundles: DEFAULT_BUNDLE, price overrides and
 * experiment variants must name bundles and models that exist. A variant may
 * instead name an alias (issue 19): aliases live in D1 and can change without
 * a deploy, so only the name's form is checked here, and a variant whose alias
 * is unset answers 503 at request time. Shared with `npm run doctor`, which
 * reads the same bundles from their manifests on disk.
 */
export function crossCheck(config: Config, bundles: { id: string; models: string[] }[]): string[] {
  const errors: string[] = [];
  const ids = bundles.map((b) => b.id);
  const defaultId = config.defaultBundle ?? ids[0] ?? "none";
  if (!ids.includes(defaultId)) errors.push(`DEFAULT_BUNDLE: unknown bundle ${defaultId}; built in: ${ids.join(", ")}`);
  const poolIds = new Set(bundles.flatMap((b) => b.models));
  for (const id of Object.keys(config.priceOverrides)) {
    if (!poolIds.has(id)) errors.push(`PRICE_OVERRIDES.${id}: not a model of any built-in bundle`);
  }
  for (const x of config.experiments) {
    for (const v of x.variants) {
      if (v.bundle !== undefined && !ids.includes(v.bundle) && !AliasName.safeParse(v.bundle).success) {
        errors.push(`EXPERIMENTS.${x.name}.${v.name}: unknown bundle ${v.bundle} (neither built in nor an alias name)`);
      }
    }
  }
  return errors;
}
