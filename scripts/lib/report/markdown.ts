/**
 * Generic report writing: number/CI/USD formatting, markdown tables and
 * sections, and `writeReport` which writes report.md, metrics.json and the
 * SVG figures into one directory. Knows nothing about what the metrics mean
 * (the evaluate command decides the content); must not compute statistics.
 */
import { mkdir, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";

export type Cell = string | number | null | undefined;

const DASH = "—";
const missing = (x: number | null | undefined): x is null | undefined => x === null || x === undefined || !Number.isFinite(x);

/** Fixed decimals; "—" for null/undefined/NaN/±Infinity. */
export function fmtNum(x: number | null | undefined, digits = 3): string {
  return missing(x) ? DASH : x.toFixed(digits);
}

/** A fraction as a percentage (0.1234 → "12.3%"); pass `isPercent` for values already in %. */
export function fmtPct(x: number | null | undefined, digits = 1, isPercent = false): string {
  return missing(x) ? DASH : `${(isPercent ? x : x * 100).toFixed(digits)}%`;
}

/** USD with 3 significant digits: $0.00123, $1.23e-6 below $0.0001, $12.3. */
export function fmtUsd(x: number | null | undefined, sig = 3): string {
  if (missing(x)) return DASH;
  if (x === 0) return "$0";
  const a = Math.abs(x);
  if (a < 1e-4) return `$${x.toExponential(sig - 1)}`;
  return `$${Number(x.toPrecision(sig))}`;
}

export interface IntervalLike {
  estimate: number | null;
  lo: number | null;
  hi: number | null;
}

/** "0.812 [0.790, 0.834]"; just the estimate when a bound is missing. */
export function fmtCI(ci: IntervalLike | null | undefined, digits = 3): string {
  if (!ci || missing(ci.estimate)) return DASH;
  const est = fmtNum(ci.estimate, digits);
  return missing(ci.lo) || missing(ci.hi) ? est : `${est} [${fmtNum(ci.lo, digits)}, ${fmtNum(ci.hi, digits)}]`;
}

/** Makes text safe inside a table cell (pipes escaped, newlines flattened). */
export function mdCell(c: Cell, digits = 3): string {
  if (typeof c === "number") return fmtNum(c, Number.isInteger(c) ? 0 : digits);
  if (c === null || c === undefined) return DASH;
  return c.replace(/\|/g, "\\|").replace(/\r?\n/g, " ");
}

export type Align = "left" | "right" | "center";

/** GitHub-flavoured table; numbers are formatted with `digits`, missing values as "—". */
export function mdTable(headers: string[], rows: Cell[][], align?: Align[], digits = 3): string {
  const rule = headers.map((_, k) => {
    const a = align?.[k] ?? "left";
    return a === "right" ? "---:" : a === "center" ? ":---:" : "---";
  });
  const line = (cells: string[]) => `| ${cells.join(" | ")} |`;
  const out = [line(headers.map((h) => mdCell(h))), line(rule)];
  for (const r of rows) {
    if (r.length !== headers.length) throw new Error(`mdTable: row has ${r.length} cells, expected ${headers.length}`);
    out.push(line(r.map((c) => mdCell(c, digits))));
  }
  return out.join("\n");
}

export interface Column<T> {
  header: string;
  /** Cell value; strings pass through, numbers use the table's `digits`. */
  value: (row: T) => Cell;
  align?: Align;
}

/** Table from objects with per-column accessors (use the fmt* helpers inside `value`). */
export function mdTableOf<T>(rows: T[], columns: Column<T>[], digits = 3): string {
  return mdTable(
    columns.map((c) => c.header),
    rows.map((r) => columns.map((c) => c.value(r))),
    columns.map((c) => c.align ?? "left"),
    digits,
  );
}

export interface ReportSection {
  title: string;
  body: string;
  /** Heading level, 2 by default (the report title is level 1). */
  level?: number;
}

export function section(s: ReportSection): string {
  return `${"#".repeat(s.level ?? 2)} ${s.title}\n\n${s.body.trim()}\n`;
}

export interface ReportDoc {
  title: string;
  intro?: string;
  sections: ReportSection[];
}

export function assembleReport(doc: ReportDoc): string {
  const parts = [`# ${doc.title}\n`];
  if (doc.intro) parts.push(`${doc.intro.trim()}\n`);
  for (const s of doc.sections) parts.push(section(s));
  return parts.join("\n");
}

/** Lower-case file stem made of [a-z0-9._-]; other runs of characters become "-". */
export function slug(name: string): string {
  const s = name.toLowerCase().replace(/[^a-z0-9._-]+/g, "-").replace(/^-+|-+$/g, "");
  return s || "figure";
}

/** JSON with NaN/±Infinity written as null (JSON has no such numbers), 2-space indent. */
export function toJson(value: unknown): string {
  return JSON.stringify(value, (_k, v) => (typeof v === "number" && !Number.isFinite(v) ? null : v), 2) + "\n";
}

export interface Figure {
  svg: string;
  /** Caption under the image in report.md; defaults to the figure name. */
  caption?: string;
}

export interface WriteReportInput {
  /** Anything JSON-serialisable; written verbatim (non-finite numbers → null) to metrics.json. */
  metrics: unknown;
  /** Figure name → SVG (or SVG with caption); written as <slug(name)>.svg. */
  plots: Record<string, string | Figure>;
  title?: string;
  intro?: string;
  /** Report body; the figures and a pointer to metrics.json are appended after it. */
  sections?: ReportSection[];
}

export interface WrittenReport {
  dir: string;
  /** Paths written, report.md first. */
  files: string[];
}

async function atomicWrite(file: string, text: string): Promise<void> {
  const tmp = `${file}.tmp-${process.pid}`;
  await writeFile(tmp, text, "utf8");
  await rename(tmp, file);
}

/**
 * Writes `dir`/report.md, `dir`/metrics.json and one SVG per plot (creating
 * `dir`). Each file is written to a temporary name and renamed, so a reader
 * never sees half a file. Two plot names with the same slug are an error.
 */
export async function writeReport(dir: string, input: WriteReportInput): Promise<WrittenReport> {
  await mkdir(dir, { recursive: true });
  const figures = Object.entries(input.plots).map(([name, f]) => {
    const fig: Figure = typeof f === "string" ? { svg: f } : f;
    return { name, file: `${slug(name)}.svg`, svg: fig.svg, caption: fig.caption ?? name };
  });
  const seen = new Set<string>();
  for (const f of figures) {
    if (seen.has(f.file)) throw new Error(`writeReport: two plots map to ${f.file}`);
    seen.add(f.file);
  }
  const sections = [...(input.sections ?? [])];
  if (figures.length > 0) {
    sections.push({
      title: "Figures",
      body: figures.map((f) => `![${mdCell(f.caption)}](${f.file})\n\n*${mdCell(f.caption)}*`).join("\n\n"),
    });
  }
  sections.push({ title: "Metrics", body: "All figures in this report, with full precision, are in [metrics.json](metrics.json)." });
  const md = assembleReport({ title: input.title ?? "Evaluation report", intro: input.intro, sections });

  const files: string[] = [];
  const put = async (name: string, text: string) => {
    const path = join(dir, name);
    await atomicWrite(path, text);
    files.push(path);
  };
  await put("report.md", md);
  await put("metrics.json", toJson(input.metrics));
  for (const f of figures) await put(f.file, f.svg);
  return { dir, files };
}
