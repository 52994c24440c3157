/**
 * Expected-output-length comparison (issue 17 item 5): on one outcomes file
 * with measured output_tokens, prints a markdown table of per-model test
 * MdAPE (cost, and output tokens in brackets) for the rule before issue 17
 * (per-model mean over every row, test included, as `build` used to write),
 * for each candidate refitted on non-test rows, and the validation scores
 * behind the build's choice. An experiment: reads files, prints, writes
 * nothing; the build itself uses only scripts/stages/output-length.ts.
 *
 * Usage: tsx scripts/experiments/output-length-compare.ts --data data/derived/arena-hard.jsonl
 *          --pool data/pools/arena-hard.json [--config configs/routellm.json (for the featurizer)]
 */
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { expectedOutputTokens } from "../../src/core/output-length.js";
import { BuildConfig } from "../stages/build-config.js";
import { CANDIDATES, chooseOutputLength, fitOutputLength, type OutputLengthKind } from "../stages/output-length.js";
import { costErrorByModel, lengthObservations, meanOver, type CostError } from "../evaluate/cost-error.js";
import { OutcomeRow, PoolConfig } from "../formats/outcomes.js";

const { values } = parseArgs({ options: { data: { type: "string" }, pool: { type: "string" }, config: { type: "string", default: "configs/routellm.json" } } });
if (!values.data || !values.pool) throw new Error("usage: --data <outcomes.jsonl> --pool <pool.json> [--config <build config for the featurizer>]");
const featurizer = BuildConfig.parse(JSON.parse(readFileSync(values.config!, "utf8"))).featurizer;
const rows = readFileSync(values.data, "utf8")
  .split("\n")
  .filter((l) => l.trim() !== "")
  .map((l) => OutcomeRow.parse(JSON.parse(l)));
const pool = PoolConfig.parse(JSON.parse(readFileSync(values.pool, "utf8"))).models;
const obs = lengthObservations(rows, pool, featurizer).filter((o) => o.outputTokens !== undefined);
const test = obs.filter((o) => o.split === "test");
const errsOf = (fitRows: typeof obs, kind: OutputLengthKind) => {
  const table = fitOutputLength(fitRows, kind);
  return costErrorByModel(test, (o) => expectedOutputTokens(table, o.model, o.family, o.inputTokens, 0));
};
const choice = chooseOutputLength(rows, pool, featurizer, values.data);
const columns: [string, Record<string, CostError>][] = [
  ["before: per-model mean, all rows", errsOf(obs, "per-model-mean")],
  ...CANDIDATES.map((k): [string, Record<string, CostError>] => [k === choice.chosen ? `**${k}** (chosen)` : k, errsOf(obs.filter((o) => o.split !== "test"), k)]),
];
const cell = (e: CostError | undefined) => (e?.cost_mdape == null ? "—" : `${e.cost_mdape.toFixed(1)} (${e.output_tokens_mdape?.toFixed(1) ?? "—"})`);
const models = Object.keys(columns[0][1]);
console.log(`Test MdAPE % of expected vs realised cost (output tokens in brackets), ${values.data}, ${test.length} test pairs.\n`);
console.log(`| model | n | ${columns.map(([h]) => h).join(" | ")} |`);
console.log(`|---|---:|${columns.map(() => "---:").join("|")}|`);
for (const m of models) console.log(`| ${m} | ${columns[0][1][m].n} | ${columns.map(([, e]) => cell(e[m])).join(" | ")} |`);
const mean = (e: Record<string, CostError>) => `${meanOver(e, "cost_mdape")?.toFixed(1)} (${meanOver(e, "output_tokens_mdape")?.toFixed(1)})`;
console.log(`| **mean over models** | | ${columns.map(([, e]) => mean(e)).join(" | ")} |`);
console.log(`\nValidation (fit on train; mean-over-models cost MdAPE): ${CANDIDATES.map((k) => `${k} ${choice.val[k]?.toFixed(1) ?? "n/a"}`).join(", ")}; chosen ${choice.chosen}.`);
