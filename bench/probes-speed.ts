/**
 * Bench: wall time and peak RSS of runProbes (scripts/stages/probes.ts) on
 * synthetic float32 activations shaped like the real target (10k rows ×
 * 4096 dims × 4 layers). Owns only the bench; must not be imported by src/
 * or scripts/. Prints a summary and a JSON line; bench/probes-speed.md holds
 * the recorded numbers.
 *
 *   npx tsx bench/probes-speed.ts [rows] [d] [layers] [models] [reps] [threads]
 *
 * Data: X_l = U·V_l + E with 16 shared latent factors U, per-layer loadings
 * V_l whose signal grows with depth, and isotropic noise E; each model's
 * success rate is σ of a fixed linear function of two factors plus noise,
 * observed through 4 samples (k/4), with 10% of rows masked for model 2+.
 * Texts are synthetic word strings whose length weakly tracks the label, so
 * the TF-IDF and length baselines have real work to do.
 */
import { runProbesParallel } from "../scripts/stages/probes.js";
import { sharedFloat32 } from "../scripts/lib/linear/parallel.js";
import { gaussian, mulberry32 } from "../src/core/random.js";

const [rows = 10_000, d = 4096, nLayers = 4, nModels = 1, reps = 1000, threads = 1] = process.argv.slice(2).map(Number);
const K = 16;
const rng = mulberry32(12345);

const tGen = performance.now();
const U = Float64Array.from({ length: rows * K }, () => gaussian(rng));
const layers = Array.from({ length: nLayers }, (_, li) => {
  const strength = 0.3 + (0.7 * (li + 1)) / nLayers; // deeper layers carry more signal
  const V = Float64Array.from({ length: K * d }, () => gaussian(rng) * strength * 0.25);
  const data = sharedFloat32(rows * d); // worker threads read it without a copy
  const row = new Float64Array(d);
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < d; j++) row[j] = gaussian(rng);
    for (let k = 0; k < K; k++) {
      const u = U[i * K + k];
      const vo = k * d;
      for (let j = 0; j < d; j++) row[j] += u * V[vo + j];
    }
    data.set(row, i * d);
  }
  return { layer: 8 * (li + 1), features: { data, rows, cols: d } };
});
const sig = (x: number) => 1 / (1 + Math.exp(-x));
const models = Array.from({ length: nModels }, (_, m) => {
  const rate = new Float64Array(rows);
  const majority = new Float64Array(rows);
  const mask = new Float64Array(rows);
  for (let i = 0; i < rows; i++) {
    const lat = 0.9 * U[i * K + m % K] - 0.6 * U[i * K + ((m + 1) % K)] + 0.3 + 0.8 * gaussian(rng);
    let k = 0;
    for (let s = 0; s < 4; s++) k += rng() < sig(2 * lat) ? 1 : 0;
    rate[i] = k / 4;
    majority[i] = k / 4 > 0.5 ? 1 : 0;
    mask[i] = m > 0 && rng() < 0.1 ? 0 : 1;
  }
  return { id: `model-${m}`, rate, majority, mask };
});
const words = ["prove", "write", "code", "explain", "the", "a", "function", "integral", "story", "list", "sort", "why", "how", "data", "graph"];
const texts = Array.from({ length: rows }, (_, i) => {
  const n = 8 + Math.floor(rng() * 40) + (models[0].majority[i] ? 0 : 10);
  return Array.from({ length: n }, () => words[Math.floor(rng() * words.length)]).join(" ");
});
const idx = Array.from({ length: rows }, (_, i) => i);
const splits = { train: idx.filter((i) => i % 20 < 14), val: idx.filter((i) => i % 20 === 14 || i % 20 === 15 || i % 20 === 16), test: idx.filter((i) => i % 20 >= 17) };
const genS = (performance.now() - tGen) / 1000;

const rssBefore = process.memoryUsage().rss;
const cpu0 = process.cpuUsage();
const t0 = performance.now();
let selectS = 0;
let pairS = 0;
const result = await runProbesParallel({
  layers,
  splits,
  models,
  texts,
  options: { bootstrapReps: reps },
  now: () => performance.now(),
  onProgress: (m) => {
    const s = /^layer .*: ([\d.]+) s$/.exec(m);
    if (s) {
      pairS += Number(s[1]);
      selectS = (performance.now() - t0) / 1000; // selection ends with its last (layer, model) pair
    }
    console.error(`[${((performance.now() - t0) / 1000).toFixed(1)} s] ${m}`);
  },
}, threads);
const wallS = (performance.now() - t0) / 1000;
const cpu = process.cpuUsage(cpu0);
const cpuS = (cpu.user + cpu.system) / 1e6; // all threads of this process: workers and GC helpers included
const peakMiB = process.resourceUsage().maxRSS / 1024;

const summary = {
  rows, d, layers: nLayers, models: nModels, bootstrap_reps: reps, threads,
  generate_s: +genS.toFixed(1),
  run_probes_s: +wallS.toFixed(1),
  run_probes_cpu_s: +cpuS.toFixed(1),
  selection_wall_s: +selectS.toFixed(1),
  layer_model_pairs_sum_s: +pairS.toFixed(1),
  rest_s: +(wallS - selectS).toFixed(1),
  rss_before_mib: Math.round(rssBefore / 2 ** 20),
  peak_rss_mib: Math.round(peakMiB),
  node: process.version,
  loadavg_1m_after: +(await import("node:os")).loadavg()[0].toFixed(1),
  per_model: Object.fromEntries(
    Object.entries(result.models).map(([id, m]) => [id, {
      layer: m.probe.layer, lambda: m.probe.lambda, ridge_layer: m.ridge.layer, ridge_lambda: m.ridge.lambda,
      test_auroc: m.test.probe.auroc.estimate, tfidf_auroc: m.test.baselines.tfidf?.auroc.estimate,
      fits: m.probe.selection.length + m.ridge.selection.length,
      iterations: m.probe.selection.reduce((s, r) => s + r.iterations, 0) + m.ridge.selection.reduce((s, r) => s + r.iterations, 0),
    }]),
  ),
};
console.log(`runProbes: ${wallS.toFixed(1)} s wall, ${cpuS.toFixed(1)} s CPU (selection ends at ${selectS.toFixed(1)} s), peak RSS ${Math.round(peakMiB)} MiB`);
console.log(JSON.stringify(summary));
