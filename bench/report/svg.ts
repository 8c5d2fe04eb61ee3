// Hand-rolled SVG bar charts for the Markdown report: grouped bars with optional
// min–max whiskers, linear or log y axis. No dependencies, no scripts, fixed size.

export interface Bar {
  series: string;
  value: number;
  min?: number;
  max?: number;
}

export interface BarGroup {
  label: string;
  bars: Bar[];
}

export interface BarChart {
  title: string;
  yLabel: string;
  groups: BarGroup[];
  series: { name: string; color: string }[];
  log?: boolean;
}

const W = 720;
const H = 320;
const M = { top: 40, right: 20, bottom: 62, left: 70 };

function esc(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

function niceStep(max: number): number {
  const raw = max / 5;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const n = raw / mag;
  return (n <= 1 ? 1 : n <= 2 ? 2 : n <= 5 ? 5 : 10) * mag;
}

function tickLabel(v: number): string {
  if (v >= 1_000_000) return `${+(v / 1_000_000).toPrecision(3)}M`;
  if (v >= 1000) return `${+(v / 1000).toPrecision(3)}k`;
  return `${+v.toPrecision(3)}`;
}

export function renderBarChart(chart: BarChart): string {
  const plotW = W - M.left - M.right;
  const plotH = H - M.top - M.bottom;
  const values = chart.groups.flatMap((g) => g.bars.flatMap((b) => [b.value, b.max ?? b.value])).filter((v) => Number.isFinite(v) && v > 0);
  const top = values.length === 0 ? 1 : Math.max(...values);
  let y: (v: number) => number;
  const ticks: number[] = [];
  if (chart.log === true) {
    const lo = Math.floor(Math.log10(Math.max(1e-3, Math.min(...(values.length === 0 ? [1] : values)))));
    const hi = Math.max(lo + 1, Math.ceil(Math.log10(top)));
    y = (v) => M.top + plotH - ((Math.log10(Math.max(v, 10 ** lo)) - lo) / (hi - lo)) * plotH;
    for (let e = lo; e <= hi; e++) ticks.push(10 ** e);
  } else {
    const step = niceStep(top);
    const max = Math.ceil(top / step) * step;
    y = (v) => M.top + plotH - (v / max) * plotH;
    for (let v = 0; v <= max + step / 2; v += step) ticks.push(v);
  }
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="11">`);
  out.push(`<rect width="${W}" height="${H}" fill="white"/>`);
  out.push(`<text x="${W / 2}" y="20" text-anchor="middle" font-size="14" font-weight="bold">${esc(chart.title)}</text>`);
  out.push(`<text transform="translate(16 ${M.top + plotH / 2}) rotate(-90)" text-anchor="middle">${esc(chart.yLabel)}</text>`);
  for (const t of ticks) {
    const ty = y(t).toFixed(1);
    out.push(`<line x1="${M.left}" x2="${W - M.right}" y1="${ty}" y2="${ty}" stroke="#ddd"/>`);
    out.push(`<text x="${M.left - 6}" y="${ty}" text-anchor="end" dominant-baseline="middle">${tickLabel(t)}</text>`);
  }
  out.push(`<line x1="${M.left}" x2="${M.left}" y1="${M.top}" y2="${M.top + plotH}" stroke="#333"/>`);
  out.push(`<line x1="${M.left}" x2="${W - M.right}" y1="${M.top + plotH}" y2="${M.top + plotH}" stroke="#333"/>`);
  const groupW = plotW / Math.max(1, chart.groups.length);
  chart.groups.forEach((g, gi) => {
    const gx = M.left + gi * groupW;
    const barW = Math.min(40, (groupW * 0.8) / Math.max(1, g.bars.length));
    const start = gx + (groupW - barW * g.bars.length) / 2;
    g.bars.forEach((b, bi) => {
      if (!Number.isFinite(b.value)) return;
      const color = chart.series.find((s) => s.name === b.series)?.color ?? "#888";
      const x = start + bi * barW;
      const yTop = y(Math.max(b.value, chart.log === true ? 0 : 0));
      const yBase = M.top + plotH;
      out.push(`<rect x="${(x + 1).toFixed(1)}" y="${yTop.toFixed(1)}" width="${(barW - 2).toFixed(1)}" height="${Math.max(0, yBase - yTop).toFixed(1)}" fill="${color}"><title>${esc(`${g.label} ${b.series}: ${tickLabel(b.value)}`)}</title></rect>`);
      if (b.min !== undefined && b.max !== undefined && b.max > b.min) {
        const cx = (x + barW / 2).toFixed(1);
        out.push(`<line x1="${cx}" x2="${cx}" y1="${y(b.min).toFixed(1)}" y2="${y(b.max).toFixed(1)}" stroke="#000"/>`);
        for (const v of [b.min, b.max]) out.push(`<line x1="${(x + barW / 2 - 4).toFixed(1)}" x2="${(x + barW / 2 + 4).toFixed(1)}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}" stroke="#000"/>`);
      }
    });
    out.push(`<text x="${(gx + groupW / 2).toFixed(1)}" y="${M.top + plotH + 16}" text-anchor="middle">${esc(g.label)}</text>`);
  });
  let lx = M.left;
  for (const s of chart.series) {
    out.push(`<rect x="${lx}" y="${H - 20}" width="12" height="12" fill="${s.color}"/>`);
    out.push(`<text x="${lx + 16}" y="${H - 10}">${esc(s.name)}</text>`);
    lx += 24 + s.name.length * 7;
  }
  out.push("</svg>");
  return out.join("\n") + "\n";
}
