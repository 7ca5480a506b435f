/**
 * A log-scale line chart as standalone SVG 1.1, written by hand (no plotting dependency): the
 * secret key rate against distance. Curves are polylines with ids (`curve-<id>`), measured points
 * circles in `<g id="measured">`, so tests and other tools can read the figure back.
 */
export interface Curve {
  readonly id: string;
  readonly label: string;
  readonly color: string;
  readonly dash?: string;
  /** [distance km, rate bit/s]; non-positive or non-finite rates are left out (the curve ends). */
  readonly points: readonly (readonly [number, number])[];
}

export interface PlotData {
  readonly title: string;
  /** Lines under the title: the parameters. */
  readonly caption: readonly string[];
  readonly xMax: number;
  readonly curves: readonly Curve[];
  readonly measured: readonly (readonly [number, number])[];
  readonly measuredLabel: string;
}

const W = 820;
const H = 560;
const M = { left: 108, right: 24, top: 96, bottom: 60 };

export function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

const SI = ['', 'k', 'M', 'G', 'T'];

/** 10^d bit/s as "1 kbit/s", "10 Mbit/s". */
export function rateLabel(decade: number): string {
  const group = Math.max(0, Math.min(SI.length - 1, Math.floor(decade / 3)));
  return `${10 ** (decade - 3 * group)} ${SI[group]}bit/s`;
}

function usable(p: readonly [number, number]): boolean {
  return Number.isFinite(p[0]) && Number.isFinite(p[1]) && p[1] > 0;
}

export function renderSkrPlot(d: PlotData): string {
  const ys = [...d.curves.flatMap((c) => c.points.filter(usable).map((p) => p[1])), ...d.measured.filter(usable).map((p) => p[1])];
  const lo = ys.length ? Math.floor(Math.log10(Math.min(...ys))) : 0;
  const hi = ys.length ? Math.max(lo + 1, Math.ceil(Math.log10(Math.max(...ys)))) : 1;
  const pw = W - M.left - M.right;
  const ph = H - M.top - M.bottom;
  const x = (km: number) => M.left + (km / d.xMax) * pw;
  const y = (r: number) => M.top + ((hi - Math.log10(r)) / (hi - lo)) * ph;
  const f = (v: number) => v.toFixed(1);
  const out: string[] = [];
  out.push('<?xml version="1.0" encoding="UTF-8"?>');
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" version="1.1" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="Helvetica, Arial, sans-serif" font-size="12">`);
  out.push(`<title>${escapeXml(d.title)}</title>`);
  out.push(`<rect x="0" y="0" width="${W}" height="${H}" fill="#ffffff"/>`);
  out.push(`<text x="${W / 2}" y="24" text-anchor="middle" font-size="16" font-weight="bold">${escapeXml(d.title)}</text>`);
  d.caption.forEach((line, i) => out.push(`<text x="${W / 2}" y="${44 + 15 * i}" text-anchor="middle" fill="#444444">${escapeXml(line)}</text>`));
  // Grid: every decade (with minor lines at 2..9), every 10 km.
  out.push('<g id="grid" stroke-width="1">');
  for (let dec = lo; dec <= hi; dec++) {
    out.push(`<line x1="${M.left}" y1="${f(y(10 ** dec))}" x2="${W - M.right}" y2="${f(y(10 ** dec))}" stroke="#cccccc"/>`);
    if (dec < hi) for (let m = 2; m < 10; m++) out.push(`<line x1="${M.left}" y1="${f(y(m * 10 ** dec))}" x2="${W - M.right}" y2="${f(y(m * 10 ** dec))}" stroke="#eeeeee"/>`);
  }
  const step = d.xMax > 100 ? 10 : 5;
  for (let km = 0; km <= d.xMax + 1e-9; km += step) out.push(`<line x1="${f(x(km))}" y1="${M.top}" x2="${f(x(km))}" y2="${H - M.bottom}" stroke="#eeeeee"/>`);
  out.push('</g>');
  out.push('<g id="axes" stroke="#000000" stroke-width="1" fill="none">');
  out.push(`<rect x="${M.left}" y="${M.top}" width="${pw}" height="${ph}"/>`);
  out.push('</g>');
  out.push('<g id="tick-labels" fill="#000000">');
  for (let dec = lo; dec <= hi; dec++) out.push(`<text x="${M.left - 6}" y="${f(y(10 ** dec) + 4)}" text-anchor="end">${escapeXml(rateLabel(dec))}</text>`);
  for (let km = 0; km <= d.xMax + 1e-9; km += step * 2) out.push(`<text x="${f(x(km))}" y="${H - M.bottom + 18}" text-anchor="middle">${km}</text>`);
  out.push(`<text x="${M.left + pw / 2}" y="${H - 16}" text-anchor="middle" font-size="13">Fibre length (km), 0.2 dB/km</text>`);
  out.push(`<text transform="translate(20 ${M.top + ph / 2}) rotate(-90)" text-anchor="middle" font-size="13">Secret key rate (bit per second of source time)</text>`);
  out.push('</g>');
  // Curves, clipped to the plot area.
  out.push(`<clipPath id="plot-area"><rect x="${M.left}" y="${M.top}" width="${pw}" height="${ph}"/></clipPath>`);
  out.push('<g clip-path="url(#plot-area)" fill="none" stroke-width="2">');
  for (const c of d.curves) {
    const pts = c.points.filter(usable).map((p) => `${f(x(p[0]))},${f(y(p[1]))}`);
    if (pts.length === 0) continue;
    out.push(`<polyline id="curve-${escapeXml(c.id)}" stroke="${c.color}"${c.dash ? ` stroke-dasharray="${c.dash}"` : ''} points="${pts.join(' ')}"/>`);
  }
  out.push('</g>');
  out.push('<g id="measured" fill="#d62728" stroke="#000000" stroke-width="1">');
  for (const p of d.measured.filter(usable)) out.push(`<circle cx="${f(x(p[0]))}" cy="${f(y(p[1]))}" r="5"><title>${p[0]} km: ${p[1].toPrecision(4)} bit/s</title></circle>`);
  out.push('</g>');
  // Legend, top right inside the plot.
  const entries = [...d.curves.map((c) => ({ label: c.label, line: c })), ...(d.measured.length ? [{ label: d.measuredLabel, line: undefined }] : [])];
  const lx = W - M.right - 352;
  const ly = M.top + 12;
  out.push(`<g id="legend"><rect x="${lx - 8}" y="${ly - 10}" width="344" height="${entries.length * 18 + 8}" fill="#ffffff" fill-opacity="0.9" stroke="#999999"/>`);
  entries.forEach((e, i) => {
    const yy = ly + i * 18 + 4;
    if (e.line) out.push(`<line x1="${lx}" y1="${yy}" x2="${lx + 28}" y2="${yy}" stroke="${e.line.color}" stroke-width="2"${e.line.dash ? ` stroke-dasharray="${e.line.dash}"` : ''}/>`);
    else out.push(`<circle cx="${lx + 14}" cy="${yy}" r="5" fill="#d62728" stroke="#000000"/>`);
    out.push(`<text x="${lx + 36}" y="${yy + 4}">${escapeXml(e.label)}</text>`);
  });
  out.push('</g>');
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
