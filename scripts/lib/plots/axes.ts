/**
 * SVG building blocks shared by the charts in svg.ts: escaping, number
 * formatting for ticks, linear/log scales with "nice" ticks, the plot frame
 * (grid, axes, tick labels, titles), legends and the document wrapper.
 * Dependency-free string building; must not do I/O or know about routing.
 */

export const PALETTE = ["#4e79a7", "#f28e2b", "#e15759", "#59a14f", "#b07aa1", "#76b7b2", "#edc948", "#9c755f", "#ff9da7", "#bab0ac"];
export const FONT = "DejaVu Sans, Helvetica, Arial, sans-serif";
export const INK = "#222";
export const MUTED = "#666";
export const GRID = "#e3e3e3";

export function colour(k: number): string {
  return PALETTE[k % PALETTE.length];
}

export function esc(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;").replace(/'/g, "&#39;");
}

/** Rounds pixel coordinates so the markup stays short and stable. */
export function px(v: number): string {
  return String(Math.round(v * 10) / 10);
}

/** Compact tick label: 0.25, 1.5, 250, 1e-5, 2e5 (exponent below 1e-3 and from 1e5). */
export function fmtTick(v: number): string {
  if (v === 0) return "0";
  const a = Math.abs(v);
  if (a < 1e-3 || a >= 1e5) {
    const [m, e] = v.toExponential().split("e");
    return `${Number(Number(m).toPrecision(3))}e${Number(e)}`;
  }
  return String(Number(v.toPrecision(4)));
}

function niceStep(raw: number): number {
  const mag = 10 ** Math.floor(Math.log10(raw));
  const f = raw / mag;
  return (f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10) * mag;
}

/** Ticks at multiples of 1, 2 or 5 × 10^k covering [lo, hi], about `count` of them. */
export function niceTicks(lo: number, hi: number, count = 5): number[] {
  if (!(hi > lo)) return [lo];
  const step = niceStep((hi - lo) / Math.max(1, count));
  const out: number[] = [];
  for (let v = Math.ceil(lo / step - 1e-9) * step; v <= hi + step * 1e-9; v += step) {
    out.push(Number((Math.round(v / step) * step).toPrecision(12)));
  }
  return out;
}

/** Powers of ten in [lo, hi]; when that spans fewer than three decades, 2× and 5× too. */
export function logTicks(lo: number, hi: number): number[] {
  const a = Math.floor(Math.log10(lo));
  const b = Math.ceil(Math.log10(hi));
  const mults = b - a < 3 ? [1, 2, 5] : [1];
  const out: number[] = [];
  for (let e = a; e <= b; e++) {
    for (const m of mults) {
      const v = Number((m * 10 ** e).toPrecision(12));
      if (v >= lo * (1 - 1e-9) && v <= hi * (1 + 1e-9)) out.push(v);
    }
  }
  return out;
}

export interface Scale {
  map(v: number): number;
  ticks: number[];
  domain: [number, number];
  log: boolean;
}

/** Linear scale; the domain is widened to the outer ticks when `nice`. */
export function linearScale(domain: [number, number], range: [number, number], nice = true, count = 5): Scale {
  let [lo, hi] = domain;
  if (!(hi > lo)) {
    const pad = lo === 0 ? 1 : Math.abs(lo) * 0.1;
    lo -= pad;
    hi += pad;
  }
  let ticks = niceTicks(lo, hi, count);
  if (nice && ticks.length > 1) {
    const step = ticks[1] - ticks[0];
    if (ticks[0] > lo + 1e-12) ticks = [ticks[0] - step, ...ticks];
    if (ticks[ticks.length - 1] < hi - 1e-12) ticks.push(ticks[ticks.length - 1] + step);
    lo = ticks[0];
    hi = ticks[ticks.length - 1];
  }
  const [r0, r1] = range;
  return { map: (v) => r0 + ((v - lo) / (hi - lo)) * (r1 - r0), ticks, domain: [lo, hi], log: false };
}

/** Log10 scale over positive values; the domain is widened to whole decades. */
export function logScale(domain: [number, number], range: [number, number]): Scale {
  if (!(domain[0] > 0 && domain[1] > 0)) throw new Error("logScale: domain must be positive");
  let lo = 10 ** Math.floor(Math.log10(domain[0]) + 1e-9);
  let hi = 10 ** Math.ceil(Math.log10(domain[1]) - 1e-9);
  if (!(hi > lo)) hi = lo * 10;
  lo = Number(lo.toPrecision(12));
  hi = Number(hi.toPrecision(12));
  const [r0, r1] = range;
  const l0 = Math.log10(lo);
  const l1 = Math.log10(hi);
  return { map: (v) => r0 + ((Math.log10(v) - l0) / (l1 - l0)) * (r1 - r0), ticks: logTicks(lo, hi), domain: [lo, hi], log: true };
}

export interface Box {
  left: number;
  top: number;
  width: number;
  height: number;
}

export interface FrameOpts {
  box: Box;
  x: Scale;
  y: Scale;
  title?: string;
  xLabel?: string;
  yLabel?: string;
  /** Category labels instead of numeric x ticks (bar charts): [centre px, text]. */
  xCategories?: [number, string][];
  yFormat?: (v: number) => string;
  xFormat?: (v: number) => string;
}

/** Background, grid, axes, tick labels, axis titles and chart title. */
export function frame(o: FrameOpts): string {
  const { box: b, x, y } = o;
  const right = b.left + b.width;
  const bottom = b.top + b.height;
  const yf = o.yFormat ?? fmtTick;
  const xf = o.xFormat ?? fmtTick;
  const parts: string[] = [`<rect class="plot-area" x="${px(b.left)}" y="${px(b.top)}" width="${px(b.width)}" height="${px(b.height)}" fill="#fff"/>`];
  parts.push(`<g class="grid" stroke="${GRID}" stroke-width="1">`);
  for (const t of y.ticks) parts.push(`<line x1="${px(b.left)}" x2="${px(right)}" y1="${px(y.map(t))}" y2="${px(y.map(t))}"/>`);
  if (!o.xCategories) for (const t of x.ticks) parts.push(`<line x1="${px(x.map(t))}" x2="${px(x.map(t))}" y1="${px(b.top)}" y2="${px(bottom)}"/>`);
  parts.push(`</g>`);
  parts.push(`<g class="axes" stroke="${INK}" stroke-width="1"><line x1="${px(b.left)}" x2="${px(right)}" y1="${px(bottom)}" y2="${px(bottom)}"/><line x1="${px(b.left)}" x2="${px(b.left)}" y1="${px(b.top)}" y2="${px(bottom)}"/></g>`);
  parts.push(`<g class="y-ticks" font-size="12" fill="${MUTED}" text-anchor="end">`);
  for (const t of y.ticks) parts.push(`<text x="${px(b.left - 8)}" y="${px(y.map(t) + 4)}">${esc(yf(t))}</text>`);
  parts.push(`</g><g class="x-ticks" font-size="12" fill="${MUTED}" text-anchor="middle">`);
  const xt: [number, string][] = o.xCategories ?? x.ticks.map((t) => [x.map(t), xf(t)]);
  for (const [cx, label] of xt) parts.push(`<text x="${px(cx)}" y="${px(bottom + 18)}">${esc(label)}</text>`);
  parts.push(`</g>`);
  if (o.xLabel) parts.push(`<text class="x-label" x="${px(b.left + b.width / 2)}" y="${px(bottom + 42)}" font-size="13" fill="${INK}" text-anchor="middle">${esc(o.xLabel)}</text>`);
  if (o.yLabel) {
    const cy = b.top + b.height / 2;
    const cxl = b.left - 52;
    parts.push(`<text class="y-label" x="${px(cxl)}" y="${px(cy)}" font-size="13" fill="${INK}" text-anchor="middle" transform="rotate(-90 ${px(cxl)} ${px(cy)})">${esc(o.yLabel)}</text>`);
  }
  if (o.title) parts.push(`<text class="title" x="${px(b.left)}" y="${px(b.top - 14)}" font-size="15" font-weight="bold" fill="${INK}">${esc(o.title)}</text>`);
  return parts.join("\n");
}

export interface LegendItem {
  label: string;
  colour: string;
  kind: "line" | "point" | "square" | "diamond" | "bar";
}

/** Legend block with a white backing, anchored at its top-left corner. */
export function legend(items: LegendItem[], left: number, top: number): string {
  if (items.length === 0) return "";
  const w = 28 + Math.max(...items.map((i) => i.label.length)) * 7.2;
  const h = 8 + items.length * 18;
  const parts = [`<g class="legend" font-size="12" fill="${INK}">`, `<rect x="${px(left)}" y="${px(top)}" width="${px(w)}" height="${px(h)}" fill="#fff" fill-opacity="0.9" stroke="${GRID}"/>`];
  items.forEach((it, k) => {
    const cy = top + 13 + k * 18;
    const sx = left + 8;
    if (it.kind === "line") parts.push(`<line x1="${px(sx)}" x2="${px(sx + 14)}" y1="${px(cy)}" y2="${px(cy)}" stroke="${it.colour}" stroke-width="2.5"/>`);
    else if (it.kind === "bar" || it.kind === "square") parts.push(`<rect x="${px(sx + 2)}" y="${px(cy - 5)}" width="10" height="10" fill="${it.colour}"/>`);
    else if (it.kind === "diamond") parts.push(`<path d="M${px(sx + 7)} ${px(cy - 6)} l6 6 l-6 6 l-6 -6 Z" fill="${it.colour}"/>`);
    else parts.push(`<circle cx="${px(sx + 7)}" cy="${px(cy)}" r="4" fill="${it.colour}"/>`);
    parts.push(`<text class="legend-item" x="${px(sx + 20)}" y="${px(cy + 4)}">${esc(it.label)}</text>`);
  });
  parts.push(`</g>`);
  return parts.join("\n");
}

/** Wraps chart markup into a standalone SVG document. */
export function svgDoc(width: number, height: number, body: string): string {
  return [
    `<?xml version="1.0" encoding="UTF-8"?>`,
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="${FONT}">`,
    `<rect width="100%" height="100%" fill="#fafafa"/>`,
    body,
    `</svg>`,
    "",
  ].join("\n");
}
