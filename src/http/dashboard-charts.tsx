/**
 * Inline-SVG charts for the dashboard (src/http/dashboard.tsx): a shared
 * axis frame, reliability plot, success-vs-cost scatter and OPE curves with CI
 * bands. Pure view code: props in, markup out; no data fetching, no assets.
 */
/** @jsxImportSource hono/jsx */
import type { Child } from "hono/jsx";
import type { GridPoint } from "../core/report/ope.js";
import type { Calibration } from "../core/report/variant-stats.js";

export const PALETTE = ["#2563eb", "#dc2626", "#16a34a", "#9333ea", "#ea580c", "#0891b2", "#be185d", "#4d7c0f"];
export const colourOf = (i: number) => PALETTE[i % PALETTE.length];

export type Scale = (v: number) => number;
export const linear = (d0: number, d1: number, r0: number, r1: number): Scale => (v) => (d1 === d0 ? (r0 + r1) / 2 : r0 + ((v - d0) / (d1 - d0)) * (r1 - r0));

/** About `count` round tick values covering [lo, hi]. */
export function niceTicks(lo: number, hi: number, count = 5): number[] {
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) return [];
  if (hi === lo) return [lo];
  const raw = (hi - lo) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(Number(v.toPrecision(12)));
  return out;
}

export const fmtPct = (v: number | null, digits = 1) => (v === null ? "—" : `${(v * 100).toFixed(digits)}%`);
export const fmtUsd = (v: number | null): string =>
  v === null ? "—" : v === 0 ? "$0" : v < 0 ? `−${fmtUsd(-v)}` : `$${v >= 1 ? v.toFixed(2) : v.toPrecision(3)}`;
/** Short USD for axis ticks: no trailing zeros ($0.005, not $0.00500). */
const fmtUsdTick = (v: number) => (v === 0 ? "$0" : `$${Number(v.toPrecision(3))}`);
export const fmtNum = (v: number) => (v === 0 ? "0" : Math.abs(v) >= 1000 || Math.abs(v) < 0.01 ? v.toExponential(0).replace("e+", "e") : String(Number(v.toPrecision(3))));

export const W = 300;
export const H = 220;
const M = { l: 56, r: 14, t: 26, b: 38 };

interface FrameProps {
  title: string;
  xLabel: string;
  yLabel: string;
  x: Scale;
  y: Scale;
  xTicks: { v: number; label: string }[];
  yTicks: { v: number; label: string }[];
  children?: Child;
}

/** Axes, grid lines, tick labels and titles around the plotted children. */
function Frame(p: FrameProps) {
  return (
    <svg class="chart" viewBox={`0 0 ${W} ${H}`} width={W} height={H} role="img" aria-label={p.title}>
      <text x={W / 2} y={15} class="ct">{p.title}</text>
      {p.yTicks.map((t) => (
        <g>
          <line x1={M.l} x2={W - M.r} y1={p.y(t.v)} y2={p.y(t.v)} class="grid" />
          <text x={M.l - 4} y={p.y(t.v) + 3} class="tk" text-anchor="end">{t.label}</text>
        </g>
      ))}
      {p.xTicks.map((t) => (
        <text x={p.x(t.v)} y={H - M.b + 13} class="tk" text-anchor="middle">{t.label}</text>
      ))}
      <line x1={M.l} x2={W - M.r} y1={H - M.b} y2={H - M.b} class="axis" />
      <line x1={M.l} x2={M.l} y1={M.t} y2={H - M.b} class="axis" />
      <text x={(M.l + W - M.r) / 2} y={H - 6} class="al" text-anchor="middle">{p.xLabel}</text>
      <text x={12} y={(M.t + H - M.b) / 2} class="al" text-anchor="middle" transform={`rotate(-90 12 ${(M.t + H - M.b) / 2})`}>{p.yLabel}</text>
      {p.children}
    </svg>
  );
}

const X0 = M.l;
const X1 = W - M.r;
const Y0 = H - M.b;
const Y1 = M.t;
const pctTicks = (lo: number, hi: number) => niceTicks(lo, hi, 4).map((v) => ({ v, label: `${Math.round(v * 100)}%` }));

/** Predicted p vs observed success per bin; circle area ∝ count; diagonal = perfect calibration. */
export function ReliabilityPlot(p: { title: string; cal: Calibration; colour: string }) {
  const x = linear(0, 1, X0, X1);
  const y = linear(0, 1, Y0, Y1);
  const bins = p.cal.bins.filter((b) => b.count > 0 && b.mean_p !== null && b.observed !== null);
  const maxCount = Math.max(1, ...bins.map((b) => b.count));
  const path = bins.map((b, i) => `${i === 0 ? "M" : "L"}${x(b.mean_p!).toFixed(1)},${y(b.observed!).toFixed(1)}`).join(" ");
  return (
    <Frame title={p.title} xLabel="predicted p (chosen model)" yLabel="observed success" x={x} y={y} xTicks={pctTicks(0, 1)} yTicks={pctTicks(0, 1)}>
      <line x1={x(0)} y1={y(0)} x2={x(1)} y2={y(1)} class="diag" />
      {bins.length > 1 ? <path d={path} fill="none" stroke={p.colour} stroke-width={1.5} /> : null}
      {bins.map((b) => (
        <circle cx={x(b.mean_p!)} cy={y(b.observed!)} r={2.5 + 6 * Math.sqrt(b.count / maxCount)} fill={p.colour} fill-opacity={0.55} stroke={p.colour}>
          <title>{`p ${b.bin_lo.toFixed(1)}–${b.bin_hi.toFixed(1)}: mean p ${fmtPct(b.mean_p)}, observed ${fmtPct(b.observed)}, n=${b.count}`}</title>
        </circle>
      ))}
      {bins.length === 0 ? <text x={(X0 + X1) / 2} y={(Y0 + Y1) / 2} class="empty" text-anchor="middle">no feedback yet</text> : null}
    </Frame>
  );
}

export interface ScatterPoint {
  label: string;
  colour: string;
  cost: number | null;
  costLo: number | null;
  costHi: number | null;
  success: number | null;
  successLo: number | null;
  successHi: number | null;
}

/** Success vs mean cost, one point per variant with 95% whiskers, plus an optional OPE frontier. */
export function SuccessCostScatter(p: { title: string; points: ScatterPoint[]; frontier?: { cost: number; success: number }[] }) {
  const pts = p.points.filter((q) => q.cost !== null && q.success !== null);
  const front = p.frontier ?? [];
  const costs = [...pts.flatMap((q) => [q.costLo ?? q.cost!, q.costHi ?? q.cost!]), ...front.map((f) => f.cost)];
  const succ = [...pts.flatMap((q) => [q.successLo ?? q.success!, q.successHi ?? q.success!]), ...front.map((f) => f.success)];
  const cMax = costs.length > 0 ? Math.max(...costs) * 1.08 : 1;
  const sLo = succ.length > 0 ? Math.max(0, Math.min(...succ) - 0.05) : 0;
  const sHi = succ.length > 0 ? Math.min(1, Math.max(...succ) + 0.05) : 1;
  const x = linear(0, cMax || 1, X0, X1);
  const y = linear(sLo, sHi, Y0, Y1);
  const xTicks = niceTicks(0, cMax || 1, 4).map((v) => ({ v, label: fmtUsdTick(v) }));
  return (
    <Frame title={p.title} xLabel="mean cost per request (USD)" yLabel="success rate" x={x} y={y} xTicks={xTicks} yTicks={pctTicks(sLo, sHi)}>
      {front.length > 1 ? (
        <path d={front.map((f, i) => `${i === 0 ? "M" : "L"}${x(f.cost).toFixed(1)},${y(f.success).toFixed(1)}`).join(" ")} class="frontier" />
      ) : null}
      {pts.map((q, i) => (
        <g>
          <line x1={x(q.costLo ?? q.cost!)} x2={x(q.costHi ?? q.cost!)} y1={y(q.success!)} y2={y(q.success!)} stroke={q.colour} stroke-width={1.5} />
          <line x1={x(q.cost!)} x2={x(q.cost!)} y1={y(q.successLo ?? q.success!)} y2={y(q.successHi ?? q.success!)} stroke={q.colour} stroke-width={1.5} />
          <circle cx={x(q.cost!)} cy={y(q.success!)} r={5} fill={q.colour} />
          {/* labels alternate above/below and flip left near the right edge, so neighbours do not collide */}
          <text
            x={x(q.cost!) > X1 - 60 ? x(q.cost!) - 7 : x(q.cost!) + 7}
            y={y(q.success!) + (i % 2 === 0 ? -7 : 15)}
            class="pl"
            fill={q.colour}
            text-anchor={x(q.cost!) > X1 - 60 ? "end" : "start"}
          >
            {q.label}
          </text>
        </g>
      ))}
      {pts.length === 0 ? <text x={(X0 + X1) / 2} y={(Y0 + Y1) / 2} class="empty" text-anchor="middle">no data</text> : null}
    </Frame>
  );
}

/**
 * One OPE curve: DR estimate with its 95% band, IPS dashed. For λ the x axis
 * is log-spaced with λ = 0 drawn one step left of the smallest positive λ.
 */
export function OpeCurve(p: { title: string; points: GridPoint[]; metric: "success" | "cost"; xKind: "lambda" | "threshold" }) {
  const pts = p.points.filter((q) => q[p.metric].dr.value !== null);
  if (pts.length === 0) return <Frame title={p.title} xLabel="" yLabel="" x={linear(0, 1, X0, X1)} y={linear(0, 1, Y0, Y1)} xTicks={[]} yTicks={[]} />;
  const positive = pts.filter((q) => q.x > 0).map((q) => q.x);
  const minPos = positive.length > 0 ? Math.min(...positive) : 1;
  const pos = (v: number) => (p.xKind === "lambda" ? (v > 0 ? Math.log10(v) : Math.log10(minPos) - 1) : v);
  const xs = pts.map((q) => pos(q.x));
  const x = linear(Math.min(...xs), Math.max(...xs), X0 + 4, X1 - 4);
  const X = (v: number) => x(pos(v));
  const vals = pts.flatMap((q) => [q[p.metric].dr.lo!, q[p.metric].dr.hi!, q[p.metric].ips.value ?? q[p.metric].dr.value!]);
  let lo = Math.min(...vals);
  let hi = Math.max(...vals);
  const pad = (hi - lo) * 0.08 || Math.abs(hi) * 0.1 || 0.01;
  lo = Math.max(0, lo - pad);
  hi = p.metric === "success" ? Math.min(1.05, hi + pad) : hi + pad;
  const y = linear(lo, hi, Y0, Y1);
  const yTicks = p.metric === "success" ? pctTicks(lo, hi) : niceTicks(lo, hi, 4).map((v) => ({ v, label: fmtUsdTick(v) }));
  const step = Math.max(1, Math.ceil(pts.length / 6));
  const last = pts.length - 1;
  const xTicks = pts.filter((_, i) => i % step === 0 || (i === last && last % step >= step / 2)).map((q) => ({ v: pos(q.x), label: p.xKind === "lambda" ? fmtNum(q.x) : q.x.toFixed(2) }));
  const band =
    pts.map((q, i) => `${i === 0 ? "M" : "L"}${X(q.x).toFixed(1)},${y(q[p.metric].dr.hi!).toFixed(1)}`).join(" ") +
    " " +
    [...pts].reverse().map((q) => `L${X(q.x).toFixed(1)},${y(q[p.metric].dr.lo!).toFixed(1)}`).join(" ") +
    " Z";
  const line = (k: "dr" | "ips") =>
    pts
      .filter((q) => q[p.metric][k].value !== null)
      .map((q, i) => `${i === 0 ? "M" : "L"}${X(q.x).toFixed(1)},${y(q[p.metric][k].value!).toFixed(1)}`)
      .join(" ");
  const colour = p.metric === "success" ? "#2563eb" : "#ea580c";
  return (
    <Frame
      title={p.title}
      xLabel={p.xKind === "lambda" ? "λ (P(success) per USD, log scale)" : "min_p"}
      yLabel={p.metric === "success" ? "estimated success" : "estimated cost (USD)"}
      x={x}
      y={y}
      xTicks={xTicks}
      yTicks={yTicks}
    >
      <path d={band} fill={colour} fill-opacity={0.15} stroke="none" />
      <path d={line("ips")} fill="none" stroke={colour} stroke-width={1.2} stroke-dasharray="4 3" opacity={0.7} />
      <path d={line("dr")} fill="none" stroke={colour} stroke-width={2} />
      {pts.map((q) => (
        <circle cx={X(q.x)} cy={y(q[p.metric].dr.value!)} r={2.5} fill={colour}>
          <title>{`${p.xKind === "lambda" ? "λ" : "min_p"}=${q.x}: DR ${q[p.metric].dr.value} [${q[p.metric].dr.lo}, ${q[p.metric].dr.hi}], IPS ${q[p.metric].ips.value}, match ${fmtPct(q.match_rate)}`}</title>
        </circle>
      ))}
    </Frame>
  );
}
