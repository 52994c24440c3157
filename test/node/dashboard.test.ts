// Dashboard view: renders DashboardPage (hono/jsx) from reports built by the
// real report code over a simulated three-variant experiment, checks the HTML,
// and screenshots it with headless Chromium (skipped, loudly, where
// /usr/bin/chromium is absent) to prove the page actually paints charts.
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { inflateSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import type { JoinedDecision } from "../../src/core/decision-record.js";
import { choose, type Policy } from "../../src/core/policy.js";
import { mulberry32 } from "../../src/core/random.js";
import { experimentReport } from "../../src/core/report/experiment-report.js";
import { DashboardPage } from "../../src/http/dashboard.js";

const MODELS = [
  { model: "small", cost: 0.001, p: (d: number) => 0.9 - 0.7 * d },
  { model: "mid", cost: 0.004, p: (d: number) => 0.95 - 0.45 * d },
  { model: "big", cost: 0.01, p: (d: number) => 0.97 - 0.25 * d },
];
const VARIANTS: { name: string; policy: Policy; eps: number }[] = [
  { name: "control", policy: { type: "fixed", model: "big" }, eps: 0 },
  { name: "threshold", policy: { type: "threshold", min_p: 0.75 }, eps: 0 },
  { name: "explore", policy: { type: "utility", lambda: 30 }, eps: 0.2 },
];

function simulate(n: number, seed: number, experiment = "checkout-router"): JoinedDecision[] {
  const rng = mulberry32(seed);
  const rows: JoinedDecision[] = [];
  for (let i = 0; i < n; i++) {
    const v = VARIANTS[i % VARIANTS.length];
    const d = rng();
    // the logged p is a slightly over-confident version of the truth, so calibration has something to show
    const cs = MODELS.map((m) => ({ model: m.model, p: Math.min(0.99, m.p(d) + 0.06), cost: m.cost }));
    const greedy = (choose(cs, v.policy) as { model: string }).model;
    const explored = v.eps > 0 && rng() < v.eps;
    const action = explored ? cs[Math.floor(rng() * cs.length)].model : greedy;
    const propensity = (1 - v.eps) * (action === greedy ? 1 : 0) + v.eps / cs.length;
    const m = MODELS.find((x) => x.model === action)!;
    const hasFeedback = rng() < 0.8;
    rows.push({
      decision_id: `${experiment}-${i}`,
      ts: i,
      key_id: "team-a",
      experiment,
      variant: v.name,
      bundle_id: "llmrouter-v1",
      policy: v.policy,
      candidates: cs.map((c) => ({ ...c, utility: null })),
      chosen: action,
      propensity,
      explored,
      prompt_hmac: "h",
      input_tokens: 30,
      prompt_text: null,
      reward: hasFeedback ? (rng() < m.p(d) ? 1 : 0) : null,
      realised_cost: m.cost * (0.6 + 0.8 * rng()),
    });
  }
  return rows;
}

const reports = [
  experimentReport("checkout-router", simulate(3000, 5), { seed: 1 }),
  experimentReport("no-exploration", simulate(600, 6, "no-exploration").filter((r) => r.variant !== "explore"), { seed: 2 }),
];
const render = () => String(DashboardPage({ reports, generatedAt: "2026-05-01T12:00:00Z" }));

describe("DashboardPage HTML", () => {
  const html = render();

  it("is a self-contained document", () => {
    expect(html.startsWith("<!doctype html><html")).toBe(true);
    expect(html).toContain("<title>Preflight · experiments</title>");
    expect(html).toContain("2026-05-01T12:00:00Z");
    expect(html).not.toMatch(/<script|<link|src="http|href="http|@import/);
  });

  it("shows each experiment's variants, differences, charts and OPE", () => {
    for (const name of ["checkout-router", "no-exploration", "control", "threshold", "explore", "fixed(big)", "threshold(min_p=0.75)", "utility(λ=30)"]) {
      expect(html).toContain(name);
    }
    expect(html).toContain("Difference vs control");
    // per experiment: 1 scatter + one reliability plot per variant; OPE: 4 curves for the exploring experiment
    const svgs = html.match(/<svg /g) ?? [];
    expect(svgs.length).toBe(1 + 3 + 4 + 1 + 2);
    expect(html).toContain("Success vs λ (utility)");
    expect(html).toContain("Cost vs min_p (threshold)");
    expect(html).toContain("no variant logged exploration");
    // the formatted control success appears with its interval
    const c = reports[0].variants[0];
    expect(html).toContain(`${(c.success.value! * 100).toFixed(1)}%`);
  });

  it("escapes names that come from configuration", () => {
    const evil = experimentReport("<img src=x onerror=alert(1)>", simulate(30, 1, "<img src=x onerror=alert(1)>"), { seed: 0 });
    const out = String(DashboardPage({ reports: [evil], generatedAt: "t" }));
    expect(out).not.toContain("<img src=x");
    expect(out).toContain("&lt;img src=x");
  });

  it("says when OPE ran on a subsample, and of how many usable rows", () => {
    expect(html).not.toContain("hash subsample");
    const r = reports[0];
    const sampled = { ...r, ope: { ...r.ope!, grid: { ...r.ope!.grid, sample: { ...r.ope!.grid.sample, rows_usable: 40_000, sampling_rate: 0.25 } } } };
    const out = String(DashboardPage({ reports: [sampled], generatedAt: "t" }));
    expect(out).toContain("a fixed hash subsample of the 40000 usable, rate 0.250");
  });

  it("renders an empty state", () => {
    const out = String(DashboardPage({ reports: [], generatedAt: "t" }));
    expect(out).toContain("No experiments have logged decisions yet.");
  });

  it("produces finite SVG coordinates only", () => {
    expect(html).not.toMatch(/NaN|Infinity/);
  });
});

/** Minimal PNG decoder (8-bit RGB/RGBA, non-interlaced): returns RGBA pixels. */
function decodePng(buf: Buffer): { width: number; height: number; rgba: Uint8Array } {
  expect(buf.subarray(0, 8).toString("hex")).toBe("89504e470d0a1a0a");
  let off = 8;
  let width = 0;
  let height = 0;
  let colourType = 0;
  const idat: Buffer[] = [];
  while (off < buf.length) {
    const len = buf.readUInt32BE(off);
    const type = buf.subarray(off + 4, off + 8).toString("latin1");
    const data = buf.subarray(off + 8, off + 8 + len);
    if (type === "IHDR") {
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
      expect(data[8]).toBe(8); // bit depth
      colourType = data[9];
      expect(data[12]).toBe(0); // no interlace
    } else if (type === "IDAT") idat.push(data);
    else if (type === "IEND") break;
    off += 12 + len;
  }
  const bpp = colourType === 6 ? 4 : colourType === 2 ? 3 : 0;
  expect(bpp).toBeGreaterThan(0);
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * bpp;
  const out = new Uint8Array(height * stride);
  for (let y = 0; y < height; y++) {
    const f = raw[y * (stride + 1)];
    const line = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    for (let x = 0; x < stride; x++) {
      const a = x >= bpp ? out[y * stride + x - bpp] : 0;
      const b = y > 0 ? out[(y - 1) * stride + x] : 0;
      const c = x >= bpp && y > 0 ? out[(y - 1) * stride + x - bpp] : 0;
      let v = line[x];
      if (f === 1) v += a;
      else if (f === 2) v += b;
      else if (f === 3) v += (a + b) >> 1;
      else if (f === 4) {
        const p = a + b - c;
        const pa = Math.abs(p - a);
        const pb = Math.abs(p - b);
        const pc = Math.abs(p - c);
        v += pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
      }
      out[y * stride + x] = v & 0xff;
    }
  }
  const rgba = new Uint8Array(width * height * 4);
  for (let i = 0; i < width * height; i++) {
    rgba[i * 4] = out[i * bpp];
    rgba[i * 4 + 1] = out[i * bpp + 1];
    rgba[i * 4 + 2] = out[i * bpp + 2];
    rgba[i * 4 + 3] = bpp === 4 ? out[i * bpp + 3] : 255;
  }
  return { width, height, rgba };
}

// PREFLIGHT_CHROMIUM overrides the path (e.g. to check the skip path); CI should `apt-get install -y chromium`.
const CHROMIUM = process.env.PREFLIGHT_CHROMIUM ?? "/usr/bin/chromium";
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium) {
  console.warn(`[dashboard.test] SKIPPING the screenshot check: ${CHROMIUM} is missing (apt-get install -y chromium to run it).`);
}

describe("DashboardPage in a real browser", () => {
  it.skipIf(!hasChromium)("paints a non-trivial page (headless Chromium screenshot)", () => {
    const dir = mkdtempSync(join(tmpdir(), "pf-dash-"));
    try {
      const htmlPath = join(dir, "dashboard.html");
      const png = join(dir, "dashboard.png");
      writeFileSync(htmlPath, render());
      execFileSync(
        CHROMIUM,
        [
          "--headless",
          "--no-sandbox",
          "--disable-gpu",
          "--disable-background-networking",
          "--disable-component-update",
          "--disable-sync",
          "--no-first-run",
          `--user-data-dir=${join(dir, "profile")}`,
          `--screenshot=${png}`,
          "--window-size=1200,1600",
          `file://${htmlPath}`,
        ],
        { stdio: "pipe", timeout: 60_000 },
      );
      if (process.env.DASHBOARD_PNG) writeFileSync(process.env.DASHBOARD_PNG, readFileSync(png));
      expect(statSync(png).size).toBeGreaterThan(20_000);
      const img = decodePng(readFileSync(png));
      expect([img.width, img.height]).toEqual([1200, 1600]);
      const colours = new Map<number, number>();
      for (let i = 0; i < img.rgba.length; i += 4) {
        const k = (img.rgba[i] << 16) | (img.rgba[i + 1] << 8) | img.rgba[i + 2];
        colours.set(k, (colours.get(k) ?? 0) + 1);
      }
      const dominant = Math.max(...colours.values()) / (img.width * img.height);
      expect(colours.size).toBeGreaterThan(50); // text antialiasing, palette, bands
      expect(dominant).toBeLessThan(0.9); // not a blank page
      // the dark header and the variant palette (blue control swatch / points) are painted
      const has = (r: number, g: number, b: number) => colours.has((r << 16) | (g << 8) | b);
      expect(has(0x0f, 0x17, 0x2a)).toBe(true);
      expect(has(0x25, 0x63, 0xeb)).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
