// A self-contained HTML report of one walk-forward (inline SVG, no script, no external asset), so it
// reads offline and can travel as evidence. Pure: result in, string out.
import type { StrategyResult, WalkForwardResult } from "./walk-forward.ts";

const W = 960;
const H = 220;
const PAD = { l: 64, r: 12, t: 14, b: 26 };

function esc(s: string): string {
  return s.replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]!);
}

function fmt(x: number, d = 0): string {
  return Number.isFinite(x) ? x.toFixed(d) : String(x);
}

function isoDay(t: number): string {
  return new Date(t * 1000).toISOString().slice(0, 10);
}

interface Line { xs: ArrayLike<number>; ys: ArrayLike<number>; color: string; label: string; step?: boolean; width?: number }
interface Dots { xs: number[]; ys: number[]; color: string; label: string }

/** One SVG chart: lines (downsampled to at most ~2 points per pixel), dots, y optionally on a log scale. */
function chart(title: string, lines: Line[], dots: Dots[] = [], opts: { log?: boolean; unit?: string } = {}): string {
  let x0 = Infinity, x1 = -Infinity, y0 = Infinity, y1 = -Infinity;
  const f = (y: number) => (opts.log ? Math.log10(y) : y);
  for (const s of [...lines, ...dots]) {
    for (let i = 0; i < s.xs.length; i++) {
      const y = f(s.ys[i]);
      if (!Number.isFinite(y)) continue;
      x0 = Math.min(x0, s.xs[i]); x1 = Math.max(x1, s.xs[i]); y0 = Math.min(y0, y); y1 = Math.max(y1, y);
    }
  }
  if (!(x1 > x0)) { x1 = x0 + 1; }
  if (!(y1 > y0)) { y1 = y0 + 1; }
  const px = (x: number) => PAD.l + ((x - x0) / (x1 - x0)) * (W - PAD.l - PAD.r);
  const py = (y: number) => H - PAD.b - ((f(y) - y0) / (y1 - y0)) * (H - PAD.t - PAD.b);
  const parts: string[] = [];
  for (let k = 0; k <= 4; k++) {
    const yv = y0 + ((y1 - y0) * k) / 4;
    const y = H - PAD.b - ((yv - y0) / (y1 - y0)) * (H - PAD.t - PAD.b);
    const label = opts.log ? Math.pow(10, yv) : yv;
    parts.push(`<line x1="${PAD.l}" x2="${W - PAD.r}" y1="${y.toFixed(1)}" y2="${y.toFixed(1)}" stroke="#e5e5e5"/>`);
    parts.push(`<text x="${PAD.l - 6}" y="${(y + 4).toFixed(1)}" text-anchor="end" font-size="11">${fmt(label, label < 10 ? 2 : 0)}</text>`);
  }
  for (let k = 0; k <= 6; k++) {
    const xv = x0 + ((x1 - x0) * k) / 6;
    const anchor = k === 0 ? "start" : k === 6 ? "end" : "middle";
    parts.push(`<text x="${px(xv).toFixed(1)}" y="${H - 8}" text-anchor="${anchor}" font-size="11">${isoDay(xv)}</text>`);
  }
  for (const s of lines) {
    const n = s.xs.length;
    const stride = Math.max(1, Math.floor(n / (2 * W)));
    const pts: string[] = [];
    let prevY: number | undefined;
    for (let i = 0; i < n; i += stride) {
      // Within a stride keep the extreme so spikes survive the downsampling.
      let y = s.ys[i];
      for (let j = i + 1; j < Math.min(n, i + stride); j++) if (s.ys[j] > y) y = s.ys[j];
      const X = px(s.xs[i]).toFixed(1);
      const Y = py(y).toFixed(1);
      if (s.step && prevY !== undefined) pts.push(`${X},${prevY.toFixed(1)}`);
      pts.push(`${X},${Y}`);
      prevY = py(y);
    }
    parts.push(`<polyline fill="none" stroke="${s.color}" stroke-width="${s.width ?? 1.2}" points="${pts.join(" ")}"/>`);
  }
  for (const d of dots) {
    for (let i = 0; i < d.xs.length; i++) {
      parts.push(`<circle cx="${px(d.xs[i]).toFixed(1)}" cy="${py(d.ys[i]).toFixed(1)}" r="2.4" fill="${d.color}"/>`);
    }
  }
  const legend = [...lines.map((l) => [l.color, l.label]), ...dots.map((d) => [d.color, d.label])]
    .map(([c, l], i) => `<rect x="${PAD.l + 8 + i * 190}" y="2" width="10" height="10" fill="${c}"/><text x="${PAD.l + 22 + i * 190}" y="11" font-size="11">${esc(l)}</text>`)
    .join("");
  return `<h3>${esc(title)}${opts.unit ? ` <small>(${esc(opts.unit)})</small>` : ""}</h3>
<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="100%" role="img" aria-label="${esc(title)}">${legend}${parts.join("")}</svg>`;
}

function row(s: StrategyResult, label: string, extra = ""): string {
  const p = s.procyclicality;
  return `<tr><th>${esc(label)}</th><td>${s.observations}</td><td>${s.breaches}</td><td>${fmt(100 * s.breachRate, 2)}%</td>
<td>${fmt(s.kupiec.pValue, 3)}</td><td>${fmt(s.christoffersen.pValue, 3)}</td><td class="${s.trafficLight.overall}">${s.trafficLight.overall}</td>
<td>${s.trafficLight.windows.green}/${s.trafficLight.windows.yellow}/${s.trafficLight.windows.red}</td><td>${fmt(s.z2.z2, 3)} (p ${s.z2.pValue === undefined ? "-" : fmt(s.z2.pValue, 3)})</td>
<td>${fmt(s.meanBufferBps, 0)}${extra}</td><td>${fmt(s.maxBufferBps, 0)}</td><td>${fmt(p.peakToTrough, 2)}</td>
<td>${fmt(p.largestIncreaseBps.d1)} / ${fmt(p.largestIncreaseBps.d5)} / ${fmt(p.largestIncreaseBps.d10)} / ${fmt(p.largestIncreaseBps.d30)}</td><td>${s.updates}</td></tr>`;
}

/** The report for one result, with a title (e.g. the input file name). */
export function renderHtmlReport(result: WalkForwardResult, title: string): string {
  const ws = result.series;
  const rs = result.refits;
  const t = ws.map((w) => w.t);
  const breaches = ws.filter((w) => w.breach === 1);
  const price = chart("Price at each window start", [{ xs: t, ys: ws.map((w) => w.close), color: "#333", label: "close" }], [], { log: true });
  const buffer = chart(
    "Buffer in force and realised loss at breaches",
    [
      { xs: rs.map((r) => r.t), ys: rs.map((r) => r.unboundedBps), color: "#9ecae1", label: "unbounded model", step: true },
      { xs: rs.map((r) => r.t), ys: rs.map((r) => r.bufferBps), color: "#08519c", label: "bounded policy", step: true, width: 1.6 },
      { xs: [t[0], t[t.length - 1]], ys: [result.static.bufferBps, result.static.bufferBps], color: "#888", label: `static ${result.static.bufferBps} bps` },
    ],
    [{ xs: breaches.map((b) => b.t), ys: breaches.map((b) => Math.max(b.lossLongBps, b.lossShortBps)), color: "#d7301f", label: "breach (loss)" }],
    { unit: "bps" },
  );
  const vol = chart("Annualised volatility forecast", [{ xs: rs.map((r) => r.t), ys: rs.map((r) => 100 * r.volAnnual), color: "#54278f", label: "vol" }], [], { unit: "%" });
  const stressCounts = rs.reduce<Record<string, number>>((a, r) => ((a[r.stress] = (a[r.stress] ?? 0) + 1), a), {});
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>riskkeeper backtest: ${esc(title)}</title>
<style>
body{font:14px/1.45 system-ui,sans-serif;margin:24px;max-width:1000px;color:#222}
table{border-collapse:collapse;font-size:13px}td,th{border:1px solid #ccc;padding:3px 6px;text-align:right}
th{background:#f4f4f4}.green{background:#c7e9c0}.yellow{background:#fee391}.red{background:#fcbba1}
small{color:#666}code{background:#f4f4f4;padding:0 3px}
</style></head><body>
<h1>Walk-forward backtest: ${esc(title)}</h1>
<p>Policy <code>${esc(result.policy)}</code>, model <code>${esc(result.model)}</code>, confidence ${result.confidence},
horizon ${result.horizon.seconds}s = ${result.horizon.steps} data intervals (oracle tolerance add-on ${result.horizon.oracleToleranceBps} bps, not in the tested buffer).
${esc(result.windows.note)}, from ${isoDay(result.windows.first)} to ${isoDay(result.windows.last)}.
${result.governanceEscalations} recalibrations needed governance (target beyond the bounds). Stress at recalibrations: ${Object.entries(stressCounts).map(([k, v]) => `${k} ${v}`).join(", ")}.</p>
<table><tr><th></th><th>obs</th><th>breaches</th><th>rate</th><th>Kupiec p</th><th>Christoffersen cc p</th><th>zone (whole sample)</th><th>rolling 250: g/y/r</th><th>Z2</th><th>mean bps</th><th>max bps</th><th>peak/trough</th><th>largest rise 1/5/10/30 d (bps)</th><th>updates</th></tr>
${row(result, "bounded policy")}
${row(result.unbounded, "unbounded model")}
${row(result.static, "static (same coverage)")}
</table>
<p><small>Long side: ${result.sides.long.breaches}/${result.sides.long.observations} breaches (Kupiec p ${fmt(result.sides.long.kupiecPValue, 3)});
short side: ${result.sides.short.breaches}/${result.sides.short.observations} (Kupiec p ${fmt(result.sides.short.kupiecPValue, 3)}).
Zones: green while the binomial probability of at most that many breaches is under 95%, red from 99.99%.</small></p>
${result.governance.length > 0 ? `<h3>Governance escalations</h3>
<table><tr><th>time</th><th>buffer in force</th><th>target</th><th>bound in the way</th><th>bound would have to be</th></tr>
${result.governance.slice(0, 40).map((g) => `<tr><td>${new Date(g.t * 1000).toISOString().slice(0, 16).replace("T", " ")}</td><td>${g.currentBps}</td><td>${g.value}</td><td>${esc(g.bound)}</td><td>${g.required}</td></tr>`).join("\n")}
</table>${result.governance.length > 40 ? `<p><small>${result.governance.length - 40} more in result.json</small></p>` : ""}` : ""}
${price}
${buffer}
${vol}
</body></html>
`;
}
