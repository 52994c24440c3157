/**
 * The learning loop on a world with known truth (issue 19 item 6,
 * docs/loop-simulation.md): `npx tsx scripts/simulate/loop.ts --seeds 3
 * --rounds 3`. Per seed: a round-0 bundle trained on the base data and an
 * oracle retrain (base + every outcome of the traffic prompts); per round:
 * serve traffic with ε-greedy through the current bundle, pull the log,
 * train a candidate on base + logged rows (IPS-weighted; also unweighted, and
 * one on inverted labels that must be refused), gate it on log rows whose prompts no
 * bundle trains on, canary it, promote if both agree, and measure every
 * bundle's true value on fresh held-out traffic. Owns the round order and
 * the records; routing, building and reporting live in the sibling files.
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { defineCommand, runMain } from "citty";
import type { Policy } from "../../src/core/policy.js";
import { mulberry32 } from "../../src/core/random.js";
import { diffWelch, meanInterval, type Interval } from "../../src/core/report/stats.js";
import { OutcomeRow, PoolConfig } from "../formats/outcomes.js";
import { readJsonFile, readJsonl, writeJsonl } from "../lib/jsonl.js";
import { DEFAULT_IPS_CLIP } from "../stages/build-config.js";
import { runGate, type GateReport } from "../stages/gate.js";
import { SIM_FEATURIZER, simBuild, writeRows } from "./bundles.js";
import { summarise, writeLoopReport, type LoopResult, type RoundRecord, type SeedRecord, type Value } from "./report.js";
import { serve, trueValue, type SimBundle } from "./traffic.js";
import { buildWorld, DEFAULT_MIX, drawTraffic, mixOf, splitWorld, type MixSpec, type WorldPrompt } from "./world.js";

export interface LoopOptions {
  seeds: number[];
  rounds: number;
  /** Requests served per round by the current bundle (exploring). */
  requests: number;
  /** Requests of the canary experiment after a gate says promote, and the candidate arm's weight. */
  canaryRequests: number;
  canaryWeight: number;
  epsilon: number;
  lambda: number;
  feedbackRate: number;
  clip: number;
  data: string;
  pool: string;
  mix: MixSpec;
  dir: string;
  /** Keep about this many world prompts (smoke tests); all when absent. */
  worldLimit?: number;
  log?: (m: string) => void;
}

export const DEFAULT_LOOP: Omit<LoopOptions, "seeds" | "rounds" | "dir"> = {
  requests: 20000,
  canaryRequests: 5000,
  canaryWeight: 0.1,
  epsilon: 0.2,
  lambda: 200,
  feedbackRate: 0.9,
  clip: DEFAULT_IPS_CLIP,
  data: "data/derived/llmrouter.jsonl",
  pool: "data/pools/llmrouter.json",
  mix: DEFAULT_MIX,
};

/** Deliberately worse candidate's data: every outcome inverted (k → n − k), base and logged rows alike. */
function invertLabels(rows: OutcomeRow[]): OutcomeRow[] {
  return rows.map((r) => ({ ...r, outcomes: Object.fromEntries(Object.entries(r.outcomes).map(([m, o]) => [m, { ...o, k: o.n - o.k }])) }));
}

function covers(e: { lo: number | null; hi: number | null }, truth: number): boolean {
  return e.lo !== null && e.hi !== null && e.lo <= truth && truth <= e.hi;
}

/** The gate's numbers next to the truth: the value on the gate's own prompt population (its estimand) and on the held-out evaluation traffic. */
function gateSummary(g: GateReport, truth: { gatePop: Value; gatePopCurrent: Value; evaluation: Value }): RoundRecord["gate"]["candidate"] {
  return {
    promote: g.promote,
    reasons: g.reasons,
    n: g.n,
    dr_utility: g.candidate.dr.utility,
    ips_utility: g.candidate.ips.utility,
    dr_success: g.candidate.dr.success,
    dr_difference_utility: g.difference.dr.utility,
    ips_difference_utility: g.difference.ips.utility,
    current_dr_utility: g.current.dr.utility,
    realised_current_utility: g.realised_current.utility,
    disagree_rate: g.difference.disagree_rate,
    true_utility: truth.gatePop.utility,
    true_difference: truth.gatePop.utility - truth.gatePopCurrent.utility,
    covers_true: { dr: covers(g.candidate.dr.utility, truth.gatePop.utility), ips: covers(g.candidate.ips.utility, truth.gatePop.utility) },
    covers_difference: { dr: covers(g.difference.dr.utility, truth.gatePop.utility - truth.gatePopCurrent.utility) },
    covers_evaluation: { dr: covers(g.candidate.dr.utility, truth.evaluation.utility) },
  };
}

async function runSeed(o: LoopOptions, world: WorldPrompt[], seed: number): Promise<SeedRecord> {
  const log = o.log ?? (() => {});
  const split = splitWorld(world, seed, o.mix);
  const traffic = [...split.trafficTrain, ...split.trafficGate];
  const gateTexts = new Set(split.trafficGate.map((w) => w.text));
  const dir = join(o.dir, `seed-${seed}`);
  mkdirSync(dir, { recursive: true });
  const rng = mulberry32((seed * 2654435761) >>> 0);
  const policy: Policy = { type: "utility", lambda: o.lambda };
  const spec = (id: string, data: string, logged: string[], weighting: "ips" | "none" = "ips") => ({ id: `s${seed}-${id}`, data, logged, weighting, clip: o.clip, pool: o.pool, seed });
  const baseFile = await writeRows(dir, "base.jsonl", split.base);
  const baseRows = split.base.map((w) => w.row);
  const oracleFile = join(dir, "oracle.jsonl");
  await writeJsonl(oracleFile, [...baseRows, ...split.trafficTrain.map((w) => ({ ...w.row, split: "train" }))]);
  const worseBase = join(dir, "base-inverted.jsonl");
  await writeJsonl(worseBase, invertLabels(baseRows));
  log(`[sim] seed ${seed}: base ${split.base.length}, traffic ${split.trafficTrain.length} train + ${split.trafficGate.length} gate prompts, evaluation ${split.evaluation.length}`);
  const round0 = await simBuild(spec("r0", baseFile, []));
  const oracle = await simBuild(spec("oracle", oracleFile, []));
  const value = (b: SimBundle) => trueValue(b, split.evaluation, policy, o.lambda);
  const v0 = await value(round0);
  const vOracle = await value(oracle);
  log(`[sim] seed ${seed}: true utility round-0 ${v0.utility.toFixed(4)}, oracle ${vOracle.utility.toFixed(4)}`);
  let current = round0;
  const trainLogs: string[] = [];
  const worseLogs: string[] = [];
  const gateRows: OutcomeRow[] = [];
  const rounds: RoundRecord[] = [];
  const addLog = async (rows: OutcomeRow[], name: string) => {
    const train = rows.filter((r) => !gateTexts.has(r.prompt ?? ""));
    gateRows.push(...rows.filter((r) => gateTexts.has(r.prompt ?? "")));
    trainLogs.push(join(dir, `${name}.train.jsonl`));
    await writeJsonl(trainLogs[trainLogs.length - 1], train);
    worseLogs.push(join(dir, `${name}.train-inverted.jsonl`));
    await writeJsonl(worseLogs[worseLogs.length - 1], invertLabels(train));
    return train.length;
  };
  for (let r = 1; r <= o.rounds; r++) {
    const before = await value(current);
    const served = await serve({
      requests: drawTraffic(traffic, o.requests, rng),
      experiment: "explore",
      arms: [{ name: "default", weight: 1, bundle: current, epsilon: o.epsilon }],
      policy,
      lambda: o.lambda,
      rng,
      feedbackRate: o.feedbackRate,
      idPrefix: `s${seed}-r${r}`,
      ts0: r * 1e7,
      out: join(dir, `log-r${r}.jsonl`),
    });
    const trained = await addLog(served.rows, `log-r${r}`);
    const cand = await simBuild(spec(`r${r}-candidate`, baseFile, trainLogs));
    const unweighted = await simBuild(spec(`r${r}-unweighted`, baseFile, trainLogs, "none"));
    const worse = await simBuild(spec(`r${r}-inverted`, worseBase, worseLogs));
    const [vC, vU, vW] = [await value(cand), await value(unweighted), await value(worse)];
    const gate = (c: SimBundle) => runGate({ candidate: c.files, current: current.files, rows: gateRows, replayers: { candidate: c.replayer, current: current.replayer } });
    const [gC, gW] = [await gate(cand), await gate(worse)];
    const onGate = (b: SimBundle) => trueValue(b, split.trafficGate, policy, o.lambda);
    const gateCur = await onGate(current);
    let canary: RoundRecord["canary"] = null;
    let promoted = false;
    if (gC.promote) {
      const c = await serve({
        requests: drawTraffic(traffic, o.canaryRequests, rng),
        experiment: `canary-r${r}`,
        arms: [
          { name: "control", weight: 1 - o.canaryWeight, bundle: current, epsilon: o.epsilon },
          { name: "candidate", weight: o.canaryWeight, bundle: cand, epsilon: o.epsilon },
        ],
        policy,
        lambda: o.lambda,
        rng,
        feedbackRate: o.feedbackRate,
        idPrefix: `s${seed}-r${r}-canary`,
        ts0: r * 1e7 + 5e6,
        out: join(dir, `canary-r${r}.jsonl`),
      });
      await addLog(c.rows, `canary-r${r}`);
      const arm = (a: string) => ({ n: c.arms[a].feedback, utility: meanInterval(c.arms[a].utility) as Interval });
      const diff = diffWelch(c.arms.control.utility, c.arms.candidate.utility);
      // The canary stops a promotion only when the candidate arm is clearly worse (its CI for the difference lies below 0).
      const harmful = diff.hi !== null && diff.hi < 0;
      canary = { requests: o.canaryRequests, weight: o.canaryWeight, control: arm("control"), candidate: arm("candidate"), difference: diff, harmful };
      promoted = !harmful;
    }
    if (promoted) current = cand;
    const after = await value(current);
    rounds.push({
      seed,
      round: r,
      sent: { decisions: o.requests, feedback: served.feedbackSent },
      stored: { pulled: served.pull.written, no_feedback: served.pull.no_feedback, train_rows: trained, gate_rows_total: gateRows.length, train_logs: trainLogs.length },
      true: { current_before: before, candidate: vC, candidate_unweighted: vU, inverted: vW, round0: v0, oracle: vOracle, current_after: after },
      gate: {
        candidate: gateSummary(gC, { gatePop: await onGate(cand), gatePopCurrent: gateCur, evaluation: vC }),
        inverted: gateSummary(gW, { gatePop: await onGate(worse), gatePopCurrent: gateCur, evaluation: vW }),
      },
      canary,
      promoted,
    });
    log(`[sim] seed ${seed} round ${r}: candidate true ${vC.utility.toFixed(4)} (unweighted ${vU.utility.toFixed(4)}, inverted ${vW.utility.toFixed(4)}), gate DR ${gC.candidate.dr.utility.value?.toFixed(4)} diff lo ${gC.difference.dr.utility.lo?.toFixed(4)} → ${gC.promote ? "promote" : "refuse"}; inverted → ${gW.promote ? "PROMOTE" : "refuse"}; current now ${after.utility.toFixed(4)}`);
  }
  const final = await value(current);
  const gap = vOracle.utility - v0.utility;
  return {
    seed,
    prompts: { base: split.base.length, traffic_train: split.trafficTrain.length, traffic_gate: split.trafficGate.length, evaluation: split.evaluation.length },
    mix: { base: mixOf(split.base, o.mix), traffic: mixOf(traffic, o.mix), evaluation: mixOf(split.evaluation, o.mix) },
    round0: v0,
    oracle: vOracle,
    final,
    final_bundle: current.id,
    recovery: gap > 0 ? (final.utility - v0.utility) / gap : null,
    rounds,
  };
}

export async function runLoop(o: LoopOptions): Promise<LoopResult> {
  const rows: OutcomeRow[] = [];
  for await (const { value } of readJsonl(o.data, OutcomeRow)) rows.push(value);
  const pool = await readJsonFile(o.pool, PoolConfig);
  let world = buildWorld(rows, pool, SIM_FEATURIZER);
  // Every k-th prompt, so a small world keeps every task (the file is ordered by task).
  if (o.worldLimit !== undefined) {
    const k = Math.ceil(world.length / o.worldLimit);
    world = world.filter((_, i) => i % k === 0);
  }
  const seeds: SeedRecord[] = [];
  for (const s of o.seeds) seeds.push(await runSeed(o, world, s));
  const { log: _l, ...opts } = o;
  return { options: opts, seeds, summary: summarise(seeds) };
}

const command = defineCommand({
  meta: { name: "simulate-loop", description: "Prove the learning loop on a world with known truth (docs/loop-simulation.md)" },
  args: {
    seeds: { type: "string", default: "3", description: "number of seeds (1..n)" },
    rounds: { type: "string", default: "3" },
    requests: { type: "string", default: String(DEFAULT_LOOP.requests) },
    epsilon: { type: "string", default: String(DEFAULT_LOOP.epsilon) },
    lambda: { type: "string", default: String(DEFAULT_LOOP.lambda) },
    dir: { type: "string", default: ".cache/simulate", description: "work files (rows, logs)" },
    out: { type: "string", default: "docs/loop-simulation", description: "writes <out>.md, <out>.json, <out>.svg" },
  },
  async run({ args }) {
    const n = Number(args.seeds);
    const o: LoopOptions = {
      ...DEFAULT_LOOP,
      seeds: Array.from({ length: n }, (_, i) => i + 1),
      rounds: Number(args.rounds),
      requests: Number(args.requests),
      epsilon: Number(args.epsilon),
      lambda: Number(args.lambda),
      dir: args.dir,
      log: (m) => console.error(m),
    };
    const res = await runLoop(o);
    const cmd = `npx tsx scripts/simulate/loop.ts --seeds ${args.seeds} --rounds ${args.rounds} --requests ${args.requests} --epsilon ${args.epsilon} --lambda ${args.lambda}`;
    const written = await writeLoopReport(args.out, res, cmd);
    console.log(`wrote ${written.join(", ")}`);
  },
});

if (process.argv[1]?.endsWith("loop.ts")) void runMain(command);
