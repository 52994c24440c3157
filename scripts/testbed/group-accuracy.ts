/**
 * Majority-of-5 success rate of each specialist on every 2- and 3-digit group,
 * on the **train split** only: the figures the specialists' step counts were
 * chosen by (docs/testbed.md, "How this pool was reached"). Reads a world's
 * outcomes.jsonl; fits nothing and never looks at val, cal or test rows.
 * Usage: npx tsx scripts/testbed/group-accuracy.ts [--world .cache/testbed]
 */
import { join } from "node:path";
import { OutcomeRow } from "../formats/outcomes.js";
import { readJsonl } from "../lib/jsonl.js";
import { labelsOf } from "./evaluate.js";
import { arg } from "./gen-data.js";

const SPECIALISTS = { "tb-add": ["add", "sub"], "tb-mul": ["mul", "eq"], "tb-word": ["word"] } as const;
const GROUPS = ["add:2", "add:3", "sub:2", "sub:3", "mul:2", "mul:3", "eq:2", "eq:3", "word:2"];

if (import.meta.url === `file://${process.argv[1]}`) {
  const world = arg("world", ".cache/testbed");
  const rows: OutcomeRow[] = [];
  for await (const { value } of readJsonl(join(world, "outcomes.jsonl"), OutcomeRow)) rows.push(value);
  const train = rows.flatMap((r, i) => (r.split === "train" ? [i] : []));
  for (const [m, ops] of Object.entries(SPECIALISTS)) {
    const y = labelsOf(rows, m).y;
    const rate = (g: string) => { const r = train.filter((i) => rows[i].task === g); return r.reduce((a, i) => a + y[i], 0) / r.length; };
    const own = GROUPS.filter((g) => (ops as readonly string[]).includes(g.split(":")[0]));
    const mean = own.reduce((a, g) => a + rate(g), 0) / own.length;
    console.log(`${m}  ${GROUPS.map((g) => `${g} ${rate(g).toFixed(2)}`).join("  ")}  | own-group mean ${mean.toFixed(2)}`);
  }
}
