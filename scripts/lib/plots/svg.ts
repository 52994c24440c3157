/**
 * Dependency-free SVG charts for the evaluation report: the accuracy–cost
 * (Pareto) plot, the calibration reliability diagram and a grouped bar chart
 * with 95% CI error bars. Each returns a standalone SVG string; must not do
 * I/O (report/markdown.ts writes files) or compute statistics.
 */
import { colour, esc, frame, INK, legend, linearScale, logScale, MUTED, px, svgDoc, type Box, type LegendItem } from "./axes.js";

export interface NamedPoint {
  label: string;
  cost: number;
  accuracy: number;
  /** Marker: single model (circle), random (square), oracle (diamond). */
  kind?: "single" | "random" | "oracle";
}

export interface Curve {
  label: string;
  points: { cost: number; accuracy: number }[];
}

export interface ParetoPlotOpts {
  title?: string;
  points: NamedPoint[];
  curves: Curve[];
  /** Log10 cost axis; points with cost ≤ 0 are then left out. */
  logX?: boolean;
  xLabel?: string;
  yLabel?: string;
  width?: number;
  height?: number;
}

const finite = (...xs: number[]) => xs.every(Number.isFinite);

function marker(kind: NamedPoint["kind"], x: number, y: number): string {
  if (kind === "random") return `<rect x="${px(x - 4.5)}" y="${px(y - 4.5)}" width="9" height="9" fill="#888" stroke="#fff"/>`;
  if (kind === "oracle") return `<path d="M${px(x)} ${px(y - 6)} L${px(x + 6)} ${px(y)} L${px(x)} ${px(y + 6)} L${px(x - 6)} ${px(y)} Z" fill="#111" stroke="#fff"/>`;
  return `<circle cx="${px(x)}" cy="${px(y)}" r="5" fill="#333" stroke="#fff"/>`;
}

/** Accuracy (y) against mean USD per query (x): named points plus router curves. */
export function paretoPlot(o: ParetoPlotOpts): string {
  const W = o.width ?? 760;
  const H = o.height ?? 500;
  const box: Box = { left: 84, top: 48, width: W - 84 - 28, height: H - 48 - 64 };
  const keep = (q: { cost: number; accuracy: number }) => finite(q.cost, q.accuracy) && (!o.logX || q.cost > 0);
  const points = o.points.filter(keep);
  const curves = o.curves.map((c) => ({ label: c.label, points: c.points.filter(keep).sort((a, b) => a.cost - b.cost) }));
  const all = [...points, ...curves.flatMap((c) => c.points)];
  if (all.length === 0) throw new Error("paretoPlot: nothing to draw");
  const costs = all.map((q) => q.cost);
  const accs = all.map((q) => q.accuracy);
  const xDom: [number, number] = [o.logX ? Math.min(...costs) : 0, Math.max(...costs)];
  const x = o.logX ? logScale(xDom, [box.left, box.left + box.width]) : linearScale(xDom, [box.left, box.left + box.width]);
  const lo = Math.min(...accs);
  const hi = Math.max(...accs);
  const pad = Math.max(0.02, (hi - lo) * 0.08);
  const y = linearScale([Math.max(0, lo - pad), Math.min(1, hi + pad)], [box.top + box.height, box.top]);

  const body: string[] = [
    frame({ box, x, y, title: o.title, xLabel: o.xLabel ?? `cost (USD per query${o.logX ? ", log scale" : ""})`, yLabel: o.yLabel ?? "accuracy" }),
  ];
  curves.forEach((c, k) => {
    const pts = c.points.map((q) => `${px(x.map(q.cost))},${px(y.map(q.accuracy))}`).join(" ");
    body.push(`<g class="curve" data-label="${esc(c.label)}" stroke="${colour(k)}" fill="${colour(k)}">`);
    body.push(`<polyline points="${pts}" fill="none" stroke-width="2.2" stroke-linejoin="round"/>`);
    for (const q of c.points) body.push(`<circle cx="${px(x.map(q.cost))}" cy="${px(y.map(q.accuracy))}" r="2.4" stroke="none"/>`);
    body.push(`</g>`);
  });
  const placed: [number, number, number, number][] = [];
  for (const q of points) {
    const cx = x.map(q.cost);
    const cy = y.map(q.accuracy);
    const right = cx > box.left + box.width * 0.8;
    // Label above the marker, else below, else further out: avoid earlier labels.
    const w = q.label.length * 6.4;
    const x0 = right ? cx - 8 - w : cx + 8;
    const ty = [cy - 8, cy + 17, cy - 21, cy + 30].find((t) => !placed.some(([a, b, c, d]) => x0 < c && x0 + w > a && t - 11 < d && t > b)) ?? cy - 8;
    placed.push([x0, ty - 11, x0 + w, ty]);
    body.push(`<g class="point" data-kind="${q.kind ?? "single"}">${marker(q.kind, cx, cy)}`);
    body.push(`<text x="${px(right ? cx - 8 : cx + 8)}" y="${px(ty)}" font-size="11" fill="${INK}" text-anchor="${right ? "end" : "start"}" paint-order="stroke" stroke="#fff" stroke-width="3">${esc(q.label)}</text></g>`);
  }
  const items: LegendItem[] = curves.map((c, k) => ({ label: c.label, colour: colour(k), kind: "line" }));
  const kinds = new Set(points.map((q) => q.kind ?? "single"));
  if (kinds.has("single")) items.push({ label: "single model", colour: "#333", kind: "point" });
  if (kinds.has("random")) items.push({ label: "random (expected)", colour: "#888", kind: "square" });
  if (kinds.has("oracle")) items.push({ label: "oracle", colour: "#111", kind: "diamond" });
  const lw = 28 + Math.max(0, ...items.map((i) => i.label.length)) * 7.2;
  body.push(legend(items, box.left + box.width - lw - 10, box.top + box.height - (8 + items.length * 18) - 10));
  return svgDoc(W, H, body.join("\n"));
}

/** Same shape as stats/metrics.ts `ece().bins` (null = empty bin). */
export interface ReliabilityBin {
  mean_p: number | null;
  frac_pos: number | null;
  count: number;
}

export interface ReliabilityOpts {
  title?: string;
  series: { label: string; bins: ReliabilityBin[] }[];
  width?: number;
}

/**
 * Reliability diagram: observed success rate against mean predicted p per
 * bin, with the diagonal of perfect calibration. Marker area ∝ bin count
 * (relative to the largest bin across all series); empty bins are skipped.
 */
export function reliabilityDiagram(o: ReliabilityOpts): string {
  const side = (o.width ?? 540) - 70 - 30;
  const W = 70 + side + 30;
  const H = 48 + side + 64;
  const box: Box = { left: 70, top: 48, width: side, height: side };
  const x = linearScale([0, 1], [box.left, box.left + box.width], true, 5);
  const y = linearScale([0, 1], [box.top + box.height, box.top], true, 5);
  const maxCount = Math.max(1, ...o.series.flatMap((s) => s.bins.map((b) => (Number.isFinite(b.count) ? b.count : 0))));
  const body: string[] = [
    frame({ box, x, y, title: o.title, xLabel: "mean predicted P(success)", yLabel: "observed success rate" }),
    `<line class="diagonal" x1="${px(x.map(0))}" y1="${px(y.map(0))}" x2="${px(x.map(1))}" y2="${px(y.map(1))}" stroke="${MUTED}" stroke-dasharray="5 4" stroke-width="1.2"/>`,
  ];
  o.series.forEach((s, k) => {
    const bins = s.bins
      .filter((b): b is { mean_p: number; frac_pos: number; count: number } => b.count > 0 && b.mean_p !== null && b.frac_pos !== null && finite(b.mean_p, b.frac_pos))
      .sort((a, b) => a.mean_p - b.mean_p);
    const pts = bins.map((b) => `${px(x.map(b.mean_p))},${px(y.map(b.frac_pos))}`).join(" ");
    body.push(`<g class="series" data-label="${esc(s.label)}" stroke="${colour(k)}" fill="${colour(k)}">`);
    body.push(`<polyline points="${pts}" fill="none" stroke-width="1.8"/>`);
    for (const b of bins) {
      const r = 2 + 9 * Math.sqrt(b.count / maxCount);
      body.push(`<circle cx="${px(x.map(b.mean_p))}" cy="${px(y.map(b.frac_pos))}" r="${px(r)}" fill-opacity="0.55" stroke-width="1"><title>${esc(`${s.label}: n=${b.count}`)}</title></circle>`);
    }
    body.push(`</g>`);
  });
  body.push(legend(o.series.map((s, k) => ({ label: s.label, colour: colour(k), kind: "line" as const })), box.left + 10, box.top + 10));
  return svgDoc(W, H, body.join("\n"));
}

/** Same shape as stats/bootstrap.ts `Interval`; null/NaN estimate = no bar. */
export interface BarValue {
  estimate: number | null;
  /** 95% CI bounds; the error bar is omitted when either is missing. */
  lo?: number | null;
  hi?: number | null;
}

export interface BarChartOpts {
  title?: string;
  /** Category names along x (e.g. pool models). */
  groups: string[];
  /** One bar per group per series (e.g. probe / student / TF-IDF / length); NaN or null = no bar. */
  series: { label: string; values: (BarValue | null)[] }[];
  yLabel?: string;
  /** Fixed y range, e.g. [0.5, 1] for AUROC; bars start at its lower end. */
  yDomain?: [number, number];
  /** Dashed horizontal reference, e.g. chance AUROC 0.5. */
  refLine?: { value: number; label?: string };
  height?: number;
}

/** Grouped bars with 95% CI whiskers. */
export function barChart(o: BarChartOpts): string {
  const S = Math.max(1, o.series.length);
  const groupW = Math.max(70, S * 22 + 24);
  const rightPad = 28 + (o.refLine?.label ? o.refLine.label.length * 7 + 8 : 0);
  const W = Math.max(560, 84 + o.groups.length * groupW + rightPad);
  const H = o.height ?? 420;
  const box: Box = { left: 84, top: 48, width: W - 84 - rightPad, height: H - 48 - 64 - Math.ceil(S / 4) * 18 };
  const vals = o.series.flatMap((s) => s.values.flatMap((v) => (v ? [v.estimate ?? NaN, v.lo ?? NaN, v.hi ?? NaN] : []))).filter(Number.isFinite);
  const dom: [number, number] = o.yDomain ?? [Math.min(0, ...vals), Math.max(0, ...vals, o.refLine?.value ?? 0)];
  const y = linearScale(dom, [box.top + box.height, box.top], !o.yDomain);
  const gw = box.width / Math.max(1, o.groups.length);
  const bw = (gw * 0.78) / S;
  const base = y.map(Math.max(y.domain[0], Math.min(y.domain[1], 0)));
  const clampY = (v: number) => y.map(Math.max(y.domain[0], Math.min(y.domain[1], v)));
  const cats: [number, string][] = o.groups.map((g, j) => [box.left + gw * (j + 0.5), g]);
  const body: string[] = [frame({ box, x: linearScale([0, 1], [box.left, box.left + box.width]), y, title: o.title, yLabel: o.yLabel, xCategories: cats })];
  o.series.forEach((s, k) => {
    body.push(`<g class="series" data-label="${esc(s.label)}" fill="${colour(k)}">`);
    s.values.forEach((v, j) => {
      if (!v || v.estimate === null || !Number.isFinite(v.estimate)) return;
      const est = v.estimate;
      const x0 = box.left + gw * j + gw * 0.11 + k * bw;
      const top = Math.min(clampY(est), base);
      const h = Math.abs(clampY(est) - base);
      body.push(`<rect class="bar" x="${px(x0 + 1)}" y="${px(top)}" width="${px(bw - 2)}" height="${px(h)}"><title>${esc(`${s.label} · ${o.groups[j]}: ${est}`)}</title></rect>`);
      if (typeof v.lo === "number" && typeof v.hi === "number" && finite(v.lo, v.hi)) {
        const cx = x0 + bw / 2;
        const cap = Math.min(5, bw / 3);
        const [ylo, yhi] = [clampY(v.lo), clampY(v.hi)];
        body.push(`<path class="ci" d="M${px(cx)} ${px(ylo)} V${px(yhi)} M${px(cx - cap)} ${px(ylo)} H${px(cx + cap)} M${px(cx - cap)} ${px(yhi)} H${px(cx + cap)}" stroke="${INK}" stroke-width="1.3" fill="none"/>`);
      }
    });
    body.push(`</g>`);
  });
  if (o.refLine) {
    const ry = clampY(o.refLine.value);
    body.push(`<line class="ref" x1="${px(box.left)}" x2="${px(box.left + box.width)}" y1="${px(ry)}" y2="${px(ry)}" stroke="${MUTED}" stroke-dasharray="5 4"/>`);
    if (o.refLine.label) body.push(`<text x="${px(box.left + box.width + 6)}" y="${px(ry + 4)}" font-size="11" fill="${MUTED}">${esc(o.refLine.label)}</text>`);
  }
  // Legend in a row under the x axis so it never hides a bar.
  const items = o.series.map((s, k) => ({ label: s.label, colour: colour(k) }));
  const ly = box.top + box.height + 40;
  body.push(`<g class="legend" font-size="12" fill="${INK}">`);
  let lx = box.left;
  items.forEach((it, k) => {
    if (k > 0 && k % 4 === 0) lx = box.left;
    const row = Math.floor(k / 4);
    body.push(`<rect x="${px(lx)}" y="${px(ly + row * 18 - 9)}" width="10" height="10" fill="${it.colour}"/><text class="legend-item" x="${px(lx + 15)}" y="${px(ly + row * 18)}">${esc(it.label)}</text>`);
    lx += 30 + it.label.length * 7.2;
  });
  body.push(`</g>`);
  return svgDoc(W, H, body.join("\n"));
}
