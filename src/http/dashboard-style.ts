/**
 * The dashboard page's stylesheet, inlined into its <style> element so the
 * page stays one self-contained document (no external assets).
 * Must not: hold markup or data; dashboard.tsx owns those.
 */
export const DASHBOARD_CSS = `
*{box-sizing:border-box}
body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1f2937;background:#f8fafc}
header{background:#0f172a;color:#f8fafc;padding:14px 28px}
header h1{margin:0;font-size:20px}
header p{margin:2px 0 0;color:#cbd5e1;font-size:12px}
main{padding:16px 28px;max-width:1400px}
section.exp{background:#fff;border:1px solid #e2e8f0;border-radius:8px;padding:16px 20px;margin:0 0 24px}
h2{margin:0 0 4px;font-size:18px}
h3{margin:18px 0 6px;font-size:15px;color:#334155}
.meta{color:#64748b;font-size:12px;margin:0 0 8px}
.note{background:#fef9c3;border:1px solid #fde68a;border-radius:6px;padding:6px 10px;font-size:12px;margin:8px 0}
table{border-collapse:collapse;width:100%;font-size:13px}
th,td{padding:5px 6px;border-bottom:1px solid #e2e8f0;text-align:right;white-space:nowrap;vertical-align:middle}
th{background:#f1f5f9;font-weight:600;color:#334155;white-space:normal}
td.w{white-space:normal;min-width:110px}
th:first-child,td:first-child,td.l,th.l{text-align:left}
td .ci{color:#64748b;font-size:11px}
td.n .ci{display:block}
.tw{overflow-x:auto}
.sw{display:inline-block;width:10px;height:10px;border-radius:2px;margin-right:6px;vertical-align:-1px}
.pos{color:#15803d}.neg{color:#b91c1c}.ns{color:#64748b}
.charts{display:flex;flex-wrap:wrap;gap:12px}
svg.chart{background:#fff;border:1px solid #e2e8f0;border-radius:6px}
svg .ct{font-size:12px;font-weight:600;fill:#1f2937;text-anchor:middle}
svg .tk{font-size:9px;fill:#64748b}
svg .al{font-size:10px;fill:#475569}
svg .pl{font-size:10px;font-weight:600}
svg .grid{stroke:#f1f5f9;stroke-width:1}
svg .axis{stroke:#94a3b8;stroke-width:1}
svg .diag{stroke:#94a3b8;stroke-dasharray:3 3}
svg .frontier{fill:none;stroke:#64748b;stroke-width:1.5;stroke-dasharray:5 3}
svg .empty{font-size:11px;fill:#94a3b8}
.mix{display:flex;height:10px;width:120px;border-radius:3px;overflow:hidden;background:#e2e8f0}
.mi{margin-right:8px;white-space:nowrap;display:inline-block}
.dot{display:inline-block;width:7px;height:7px;border-radius:50%;margin-right:3px}
.mixlbl{font-size:11px;color:#475569;white-space:normal;max-width:170px;text-align:left}
footer{color:#64748b;font-size:12px;padding:0 28px 24px;max-width:1100px}
`;
