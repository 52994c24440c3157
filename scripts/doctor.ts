/**
 * `npm run doctor`: the pre-deploy check. Reads the vars and D1 bindings from
 * wrangler.toml (through wrangler's own config reader, so [env.<name>] and
 * inheritance resolve exactly as `wrangler deploy` resolves them), the
 * secrets from a .dev.vars-style file (--secrets) and from the environment,
 * and validates them with the worker's own code: loadConfig
 * and crossCheck (src/core/config.ts) against the
 * manifests of the bundles the worker embeds. Prints every problem, never a
 * secret's value; exit code 1 when anything is wrong. It cannot see secrets
 * already stored in Cloudflare (`wrangler secret list` shows their names).
 * Must not call process.exit (scripts/cli.ts is the only exit point).
 */
import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { MAX_BODY_LIMIT, MIN_HMAC_KEY_CHARS, configVariable, crossCheck, loadConfig } from "../src/core/config.js";

/** Placeholder database_id committed for local use; a deploy needs the id `wrangler d1 create` prints. */
export const LOCAL_D1_ID = "00000000-0000-4000-8000-000000000001";
/** Values that must be secrets: [vars] are committed and shown in the dashboard. */
const SECRET_ONLY = ["API_KEYS", "PROMPT_HMAC_KEY"];
/** Names read from the environment when set there (PRICE_OVERRIDES may be a var or a secret). */
const FROM_ENV = ["API_KEYS", "PROMPT_HMAC_KEY", "PRICE_OVERRIDES"];

/** Every setting the worker reads, with what a missing one means. */
const SETTINGS: { name: string; kind: "secret" | "var"; missing: string }[] = [
  { name: "AUTH", kind: "var", missing: "defaults to required" },
  { name: "API_KEYS", kind: "secret", missing: "required under AUTH=required" },
  { name: "PROMPT_HMAC_KEY", kind: "secret", missing: `required under AUTH=required (≥ ${MIN_HMAC_KEY_CHARS} characters)` },
  { name: "MAX_BODY_BYTES", kind: "var", missing: "defaults to 262144" },
  { name: "PRICE_OVERRIDES", kind: "var", missing: "optional: bundle prices apply" },
  { name: "EXPERIMENTS", kind: "var", missing: "optional: no experiments" },
  { name: "DEFAULT_BUNDLE", kind: "var", missing: "optional: the first built-in bundle" },
];

export interface DoctorInput {
  vars: Record<string, string>;
  secrets: Record<string, string>;
  d1: { binding: string; database_id?: string }[];
  /** Bundles the worker embeds, with their pool's model ids. */
  bundles: { id: string; models: string[] }[];
}

export interface Diagnosis {
  problems: string[];
  /** One line per setting and binding: ok, missing (and what that means) or invalid. */
  report: string[];
}

export function diagnose(input: DoctorInput): Diagnosis {
  const problems: string[] = [];
  for (const name of SECRET_ONLY) {
    if (input.vars[name] !== undefined) problems.push(`${name}: set in [vars] of wrangler.toml, which is committed; remove it and run \`wrangler secret put ${name}\``);
  }
  const env: Record<string, unknown> = { ...input.vars, ...input.secrets };
  const cfg = loadConfig(env);
  if (!cfg.ok) problems.push(...cfg.errors);
  const config = cfg.ok ? cfg.config : cfg.partial;
  if (config) problems.push(...crossCheck(config, input.bundles));
  if (config?.auth === "disabled") problems.push("AUTH: disabled serves without API keys (local use only); remove AUTH from [vars] or set it to required");
  const db = input.d1.find((d) => d.binding === "DB");
  if (!db) problems.push("D1 binding DB: missing; without it no decision is logged and feedback and reports answer 503 (add [[d1_databases]] binding = \"DB\")");
  else if (!db.database_id || db.database_id === LOCAL_D1_ID) {
    problems.push("D1 binding DB: database_id is the local placeholder; run `wrangler d1 create preflight` and put the id it prints into wrangler.toml");
  }

  const report = SETTINGS.map(({ name, kind, missing }) => {
    const bad = problems.filter((p) => configVariable(p) === name);
    const given = env[name] !== undefined && env[name] !== "";
    const where = input.secrets[name] !== undefined ? "secret" : input.vars[name] !== undefined ? "var" : kind;
    const state = bad.length ? `${given ? "INVALID" : "MISSING"}: see below` : given ? "ok" : `not set (${missing})`;
    return `${name.padEnd(16)} ${where.padEnd(6)} ${state}`;
  });
  report.push(`${"DB".padEnd(16)} d1     ${problems.some((p) => p.startsWith("D1 binding DB")) ? "INVALID: see below" : "ok"}`);
  return { problems, report };
}

/** Parses a .dev.vars-style file: NAME=value lines, # comments, optional single or double quotes. */
export function parseDotVars(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    const m = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$/.exec(line);
    if (!m || line.trimStart().startsWith("#")) continue;
    const v = m[2];
    out[m[1]] = /^(["']).*\1$/.test(v) ? v.slice(1, -1) : v;
  }
  return out;
}

/** The bundles src/worker/embedded-bundles.ts embeds, read from their manifests on disk. */
export function embeddedBundles(root: string): { id: string; models: string[] }[] {
  const registry = readFileSync(resolve(root, "src/worker/embedded-bundles.ts"), "utf8");
  return [...registry.matchAll(/from "\.\.\/\.\.\/(artifacts\/[^"]+)\/manifest\.json"/g)].map((m) => {
    const manifest = JSON.parse(readFileSync(resolve(root, m[1], "manifest.json"), "utf8")) as { bundle_id: string; pool: { id: string }[] };
    return { id: manifest.bundle_id, models: manifest.pool.map((p) => p.id) };
  });
}

/** Runs the check for `argv`; returns the exit code and writes the report through `print`. */
export async function runDoctor(argv: string[], print: (line: string) => void = console.log, envVars: NodeJS.ProcessEnv = process.env): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { config: { type: "string", default: "wrangler.toml" }, env: { type: "string" }, secrets: { type: "string" } },
  });
  const configPath = resolve(values.config!);
  // wrangler's reader, imported lazily: it is large, and only this command needs it.
  const { unstable_readConfig } = await import("wrangler");
  const wr = unstable_readConfig({ config: configPath, env: values.env });
  const vars = Object.fromEntries(Object.entries(wr.vars ?? {}).map(([k, v]) => [k, typeof v === "string" ? v : JSON.stringify(v)]));
  const secrets: Record<string, string> = {};
  for (const name of FROM_ENV) if (envVars[name] !== undefined) secrets[name] = envVars[name]!;
  if (values.secrets) Object.assign(secrets, parseDotVars(readFileSync(values.secrets, "utf8")));
  const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
  const d = diagnose({ vars, secrets, d1: wr.d1_databases ?? [], bundles: embeddedBundles(root) });

  print(`preflight doctor: ${configPath}${values.env ? ` [env.${values.env}]` : ""}; secrets from ${values.secrets ?? "(none)"} and the environment (${FROM_ENV.join(", ")})`);
  for (const line of d.report) print(`  ${line}`);
  if (d.problems.length === 0) {
    print(`OK: nothing missing or invalid (MAX_BODY_BYTES ≤ ${MAX_BODY_LIMIT}). Deploy with \`wrangler deploy\`, then check GET /healthz.`);
    return 0;
  }
  print(`${d.problems.length} problem(s):`);
  for (const p of d.problems) print(`  ✗ ${p}`);
  return 1;
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  runDoctor(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (e: unknown) => {
      console.error(`preflight doctor: ${e instanceof Error ? e.message : String(e)}`);
      process.exitCode = 2;
    },
  );
}
