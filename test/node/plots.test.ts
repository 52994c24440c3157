// SVG charts: structure (well-formed tags, expected series/labels/counts),
// tick arithmetic, escaping, and — when a renderer happens to be installed
// (sharp/librsvg, never installed for this test) — an actual render to /tmp.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createRequire } from "node:module";
import { describe, expect, it } from "vitest";
import { fmtTick, logTicks, niceTicks } from "../../scripts/lib/plots/axes.js";
import { barChart, paretoPlot, reliabilityDiagram } from "../../scripts/lib/plots/svg.js";
import { fmtCI, fmtNum, fmtPct, fmtUsd, mdTable, slug, toJson, writeReport } from "../../scripts/lib/report/markdown.js";
import { pointsTable, routingFigure } from "../../scripts/lib/report/routing.js";
import { simulate } from "../../scripts/lib/routing/simulate.js";
import { ece } from "../../scripts/lib/stats/metrics.js";
import { onboardingPlot } from "../../scripts/experiments/onboarding-plot.js";
import { curveMeans, type CurveReport } from "../../scripts/experiments/onboarding-table.js";

/** Throws unless every element is closed in order; returns the element count. */
function checkWellFormed(svg: string): number {
  const body = svg.replace(/<\?xml[^>]*\?>/, "");
  const stack: string[] = [];
  let n = 0;
  for (const m of body.matchAll(/<(\/?)([a-zA-Z][\w-]*)((?:[^>"]|"[^"]*")*?)(\/?)>/g)) {
    const [, close, name, , self] = m;
    if (close) {
      const open = stack.pop();
      if (open !== name) throw new Error(`</${name}> closes <${open}>`);
    } else {
      n++;
      if (!self) stack.push(name);
    }
  }
  if (stack.length) throw new Error(`unclosed: ${stack.join(",")}`);
  if (/&(?!amp;|lt;|gt;|quot;|#39;)/.test(body)) throw new Error("unescaped &");
  return n;
}

const count = (s: string, needle: string) => s.split(needle).length - 1;

const pareto = paretoPlot({
  title: "Accuracy vs cost",
  logX: true,
  points: [
    { label: "small", cost: 0.0002, accuracy: 0.5 },
    { label: "large", cost: 0.004, accuracy: 0.8 },
    { label: "random", cost: 0.0021, accuracy: 0.65, kind: "random" },
    { label: "oracle", cost: 0.0006, accuracy: 0.95, kind: "oracle" },
  ],
  curves: [
    { label: "probe", points: [{ cost: 0.0002, accuracy: 0.5 }, { cost: 0.001, accuracy: 0.75 }, { cost: 0.003, accuracy: 0.82 }] },
    { label: "student", points: [{ cost: 0.0002, accuracy: 0.5 }, { cost: 0.0012, accuracy: 0.7 }] },
    { label: "R&D <x>", points: [{ cost: 0.0003, accuracy: 0.55 }, { cost: 0, accuracy: 0.1 }] },
  ],
});

const reliability = reliabilityDiagram({
  title: "Reliability",
  series: [
    { label: "probe", bins: [{ mean_p: 0.1, frac_pos: 0.12, count: 40 }, { mean_p: 0.5, frac_pos: 0.45, count: 100 }, { mean_p: 0.9, frac_pos: 0.93, count: 60 }] },
    { label: "student", bins: [{ mean_p: 0.2, frac_pos: 0.3, count: 10 }, { mean_p: null, frac_pos: null, count: 0 }, { mean_p: 0.8, frac_pos: 0.7, count: 30 }] },
  ],
});

const bars = barChart({
  title: "Per-model AUROC",
  groups: ["m1", "m2", "m3"],
  yLabel: "AUROC",
  yDomain: [0.4, 1],
  refLine: { value: 0.5, label: "chance" },
  series: [
    { label: "probe", values: [{ estimate: 0.8, lo: 0.76, hi: 0.84 }, { estimate: 0.7, lo: 0.65, hi: 0.75 }, { estimate: 0.9, lo: 0.87, hi: 0.93 }] },
    { label: "length", values: [{ estimate: 0.55 }, null, { estimate: NaN }] },
  ],
});

describe("ticks", () => {
  it("nice linear ticks are 1/2/5 × 10^k multiples", () => {
    expect(niceTicks(0, 1, 5)).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
    expect(niceTicks(0.43, 0.87, 4)).toEqual([0.5, 0.6, 0.7, 0.8]);
    expect(niceTicks(0, 4.2, 4)).toEqual([0, 1, 2, 3, 4]);
  });

  it("log ticks add 2× and 5× when the range spans under three decades", () => {
    expect(logTicks(1e-4, 1e-2)).toEqual([1e-4, 2e-4, 5e-4, 1e-3, 2e-3, 5e-3, 1e-2]);
    expect(logTicks(1e-6, 1e-2)).toEqual([1e-6, 1e-5, 1e-4, 1e-3, 1e-2]);
  });

  it("tick labels are compact", () => {
    expect([0, 0.25, 0.001, 0.0005, 250, 2e5].map(fmtTick)).toEqual(["0", "0.25", "0.001", "5e-4", "250", "2e5"]);
  });
});

describe("pareto plot", () => {
  it("is well formed, with one polyline per router and a labelled marker per point", () => {
    expect(pareto.startsWith("<?xml")).toBe(true);
    expect(checkWellFormed(pareto)).toBeGreaterThan(20);
    expect(count(pareto, 'class="curve"')).toBe(3);
    expect(count(pareto, "<polyline")).toBe(3);
    expect(count(pareto, 'class="point"')).toBe(4);
    expect(count(pareto, 'data-kind="oracle"')).toBe(1);
    for (const s of ["small", "large", "probe", "student", "oracle", "random (expected)", "cost (USD per query, log scale)", "accuracy"]) {
      expect(pareto).toContain(`>${s}<`);
    }
  });

  it("escapes labels and drops zero costs on a log axis", () => {
    expect(pareto).toContain("R&amp;D &lt;x&gt;");
    const curve = pareto.split('data-label="R&amp;D &lt;x&gt;"')[1].split("</g>")[0];
    expect(count(curve, "<circle")).toBe(1);
  });

  it("legend lists 3 routers + 3 marker kinds", () => {
    expect(count(pareto, 'class="legend-item"')).toBe(6);
  });

  it("linear axis starts at 0 and keeps zero-cost points", () => {
    const lin = paretoPlot({ points: [{ label: "free", cost: 0, accuracy: 0.3 }], curves: [] });
    checkWellFormed(lin);
    expect(lin).toContain("cost (USD per query)<");
    expect(count(lin, 'class="point"')).toBe(1);
  });
});

describe("reliability diagram", () => {
  it("draws the diagonal, one series per scorer and one marker per non-empty bin", () => {
    checkWellFormed(reliability);
    expect(count(reliability, 'class="diagonal"')).toBe(1);
    expect(count(reliability, 'class="series"')).toBe(2);
    expect(count(reliability, "<circle")).toBe(3 + 2);
    expect(reliability).toContain("mean predicted P(success)");
  });

  it("marker area grows with bin count (largest bin gets the largest radius)", () => {
    const radii = [...reliability.matchAll(/<circle [^>]*r="([\d.]+)"/g)].map((m) => Number(m[1]));
    expect(Math.max(...radii)).toBe(11); // 2 + 9·sqrt(100/100)
    expect(Math.min(...radii)).toBeCloseTo(2 + 9 * Math.sqrt(0.1), 1);
  });
});

describe("bar chart", () => {
  it("has a bar per finite value and CI whiskers only where bounds exist", () => {
    checkWellFormed(bars);
    expect(count(bars, 'class="bar"')).toBe(4);
    expect(count(bars, 'class="ci"')).toBe(3);
    expect(count(bars, 'class="series"')).toBe(2);
    expect(count(bars, 'class="ref"')).toBe(1);
    for (const s of ["m1", "m2", "m3", "probe", "length", "chance", "AUROC"]) expect(bars).toContain(`>${s}<`);
  });
});

describe("rendering (optional)", () => {
  it("renders each chart to PNG under /tmp when sharp is present", async () => {
    let sharp: ((b: Buffer) => { png(): { toBuffer(): Promise<Buffer> } }) | null = null;
    try {
      sharp = createRequire(import.meta.url)("sharp");
    } catch {
      sharp = null;
    }
    const dir = "/tmp/preflight-plots";
    mkdirSync(dir, { recursive: true });
    const charts = { pareto, reliability, bars };
    for (const [name, svg] of Object.entries(charts)) {
      writeFileSync(`${dir}/${name}.svg`, svg);
      if (!sharp) continue;
      const png = await sharp(Buffer.from(svg)).png().toBuffer();
      expect(png.subarray(1, 4).toString()).toBe("PNG");
      writeFileSync(`${dir}/${name}.png`, png);
    }
  });
});

describe("reliability diagram from stats/metrics ece()", () => {
  it("accepts ece().bins directly (empty bins skipped)", () => {
    // p .1,.15 → bin 0 (2 rows); .9 → bin 4 with 5 bins; the other 3 bins are empty.
    const { bins } = ece([0.1, 0.15, 0.9], [0, 1, 1], 5);
    const svg = reliabilityDiagram({ series: [{ label: "probe", bins }] });
    checkWellFormed(svg);
    expect(count(svg, "<circle")).toBe(2);
  });
});

describe("markdown helpers", () => {
  it("formats numbers, percentages, USD and CIs; missing values as a dash", () => {
    expect([fmtNum(0.81234), fmtNum(NaN), fmtNum(null)]).toEqual(["0.812", "—", "—"]);
    expect([fmtPct(0.1234), fmtPct(68.75, 1, true), fmtPct(Infinity)]).toEqual(["12.3%", "68.8%", "—"]);
    expect([fmtUsd(0.0012345), fmtUsd(0.00001234), fmtUsd(12.34), fmtUsd(0)]).toEqual(["$0.00123", "$1.23e-5", "$12.3", "$0"]);
    expect(fmtCI({ estimate: 0.8123, lo: 0.79, hi: 0.834 })).toBe("0.812 [0.790, 0.834]");
    expect(fmtCI({ estimate: 0.8123, lo: null, hi: null })).toBe("0.812");
  });

  it("writes a GitHub table with alignment, escaped pipes and formatted numbers", () => {
    const t = mdTable(["model", "acc", "n"], [["a|b", 0.5, 12], ["c", null, 3]], ["left", "right", "right"]);
    expect(t).toBe(["| model | acc | n |", "| --- | ---: | ---: |", "| a\\|b | 0.500 | 12 |", "| c | — | 3 |"].join("\n"));
    expect(() => mdTable(["a", "b"], [["x"]])).toThrow();
  });

  it("slugs and JSON with non-finite numbers", () => {
    expect(slug("Pareto: probe / utility")).toBe("pareto-probe-utility");
    expect(JSON.parse(toJson({ a: NaN, b: [1, Infinity], c: "x" }))).toEqual({ a: null, b: [1, null], c: "x" });
  });
});

describe("writeReport", () => {
  it("writes report.md, metrics.json and one SVG per plot", async () => {
    const data = {
      models: ["A", "B"],
      p: [[0.9, 0.95], [0.2, 0.8]],
      success: [[1, 1], [0, 1]],
      cost: [[1, 2], [1, 2]],
    };
    const sim = simulate(data, { grids: { utility: [0, 0.1], threshold: [0.5, 0.95], budget: [1, 2] } });
    const dir = mkdtempSync(join(tmpdir(), "preflight-report-"));
    const out = await writeReport(dir, {
      title: "Test report",
      metrics: { sim, nan: NaN },
      plots: { "Pareto (threshold)": routingFigure({ probe: sim }, "threshold"), reliability: { svg: reliability, caption: "Calibration" } },
      sections: [{ title: "Baselines", body: pointsTable([...sim.singles, sim.oracle], sim.singles[1].cost) }],
    });
    expect(out.files.map((f) => f.slice(dir.length + 1))).toEqual(["report.md", "metrics.json", "pareto-threshold.svg", "reliability.svg"]);
    const md = readFileSync(join(dir, "report.md"), "utf8");
    expect(md.startsWith("# Test report\n")).toBe(true);
    expect(md).toContain("## Baselines");
    // oracle: row 0 → A ✓ $1, row 1 → B ✓ $2 → 100 % at $1.5 = 75 % of B's $2
    expect(md).toContain("| oracle | 100.0% | $1.5 | 75.0% |");
    expect(md).toContain("![Calibration](reliability.svg)");
    const metrics = JSON.parse(readFileSync(join(dir, "metrics.json"), "utf8"));
    expect(metrics.nan).toBeNull();
    expect(metrics.sim.rows).toBe(2);
    checkWellFormed(readFileSync(join(dir, "pareto-threshold.svg"), "utf8"));
    rmSync(dir, { recursive: true, force: true });
  });
});

describe("onboarding learning-curve plot", () => {
  const cell = (n: number, seed: number, head: number, scratch: number | null, tfidf: number) => ({ n, seed, head, head_parts: "rate+heads", head_C: 1, tfidf, scratch, positives: 10 });
  const report: CurveReport = {
    config: "x.json",
    eval: "test",
    parts: ["rate+heads"],
    ns: [100, 25],
    seeds: [1, 2],
    folds: 5,
    Cs: [1],
    models: {
      a: { train_rows: 10, val_rows: 5, test_rows: 5, full_head: 0.8, full_parts: "task+heads", full_C: 1, cells: [cell(25, 1, 0.7, 0.6, 0.6), cell(25, 2, 0.72, 0.62, 0.64), cell(100, 1, 0.78, 0.7, 0.7)] },
      b: { train_rows: 10, val_rows: 5, test_rows: 5, full_head: 0.7, full_parts: "task+heads", full_C: 1, cells: [cell(25, 1, 0.6, null, 0.55), cell(100, 1, 0.66, 0.6, 0.62)] },
    },
  };

  it("averages each model's draws first, then the models, per N in increasing order", () => {
    const head = curveMeans(report, "head");
    expect(head.map((p) => p.n)).toEqual([25, 100]);
    expect(head[0].auroc).toBeCloseTo((0.71 + 0.6) / 2, 12);
    expect(head[1].auroc).toBeCloseTo((0.78 + 0.66) / 2, 12);
    // A model without a value at N (b's scratch at 25) is left out of that N's mean, not counted as 0.
    expect(curveMeans(report, "scratch")[0].auroc).toBeCloseTo(0.61, 12);
  });

  it("draws the three learners, the full-data head and the 90% target line", () => {
    const svg = onboardingPlot(report);
    checkWellFormed(svg);
    const labels = [...svg.matchAll(/class="curve" data-label="([^"]*)"/g)].map((m) => m[1]);
    expect(labels).toEqual(["new head on the frozen trunk", "student from scratch", "TF-IDF", "full-data head (0.750)", "target: 90% of its lift over 0.5"]);
    // Learners have one vertex per N; the flat lines span the Ns.
    const polylines = [...svg.matchAll(/<polyline points="([^"]*)"/g)].map((m) => m[1].split(" ").length);
    expect(polylines).toEqual([2, 2, 2, 2, 2]);
    expect(svg).toContain("labelled outcomes of the new model, N (log scale)");
  });
});

