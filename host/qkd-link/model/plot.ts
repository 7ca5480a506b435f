/**
 * Writes skr-vs-distance.svg: the model's finite-key rate for the link's block size, its
 * asymptotic rate and the repeaterless bound over 0-150 km, with the link bench's measured points
 * (measured-skr.json) when present.
 *
 *   node --import tsx host/qkd-link/model/plot.ts [--f 1.2] [--sifted-bits 2097152] [--points FILE] [--out FILE]
 *   node --import tsx host/qkd-link/model/plot.ts --table 10,50     (the model's figures, Markdown; writes nothing)
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { DEFAULT_PROTOCOL, DEFAULT_SECURITY } from '../module/config.js';
import { linkOverheadBits, physicsFromProtocol } from './link-physics.js';
import { MEASURED_POINTS_PATH, readMeasuredPoints, type MeasuredPoint } from './measured.js';
import type { LinkPhysics } from './physics.js';
import { linkBlock, predictSkr, type BlockSize, type SkrOptions } from './skr.js';
import { renderSkrPlot, type PlotData } from './svg.js';
import { ModelArgumentError } from './errors.js';

export const SVG_PATH = fileURLToPath(new URL('./skr-vs-distance.svg', import.meta.url));

/** Sifted bits per block of the link bench (`npm run bench -- link`), the plot's default. */
export const BENCH_SIFTED_BITS = 2 ** 21;

/** EC efficiency the plot assumes by default: the emulated link's 2^21-bit blocks reported f = 1.16-1.22 at 10 and 50 km. */
export const DEFAULT_F = 1.2;

export interface PlotOptions {
  readonly physics: LinkPhysics;
  readonly block: BlockSize;
  readonly skr: SkrOptions;
  /** Distance range and step, km. */
  readonly kmMax: number;
  readonly stepKm: number;
  readonly measured: readonly MeasuredPoint[];
  /** Words describing the block in the caption. */
  readonly blockLabel: string;
}

/** Short form of a parameter: 1e-6 rather than 0.000001. */
function num(v: number): string {
  return v !== 0 && Math.abs(v) < 1e-3 ? v.toExponential().replace('e-', 'e−') : String(v);
}

export function plotData(o: PlotOptions): PlotData {
  const finite: [number, number][] = [];
  const asymptotic: [number, number][] = [];
  const plob: [number, number][] = [];
  for (let i = 0; i * o.stepKm <= o.kmMax + 1e-9; i++) {
    const km = i * o.stepKm;
    const r = predictSkr(o.physics, km, o.block, o.skr);
    finite.push([km, r.skrBps]);
    asymptotic.push([km, r.asymptoticBps]);
    plob.push([km, r.plobBps]);
  }
  const s = o.physics.source;
  const d = o.physics.detector;
  return {
    title: 'Secret key rate against distance: decoy-state BB84 on the emulated link',
    caption: [
      `source: ${s.clockHz / 1e9} GHz, μ = ${s.mu.join(' / ')}, p_μ = ${s.pMu.join(' / ')}, pZ = ${s.pZ}`,
      `detectors: η = ${d.efficiency}, p_dc = ${num(d.darkCountProbability)}, p_ap = ${d.afterpulseProbability}, dead time ${d.deadNs} ns, e_mis = ${d.misalignment}, receiver pZ = ${d.pZ}`,
      `finite key: ${o.blockLabel}, f = ${o.skr.f}${o.skr.overheadBits ? ` + ${Math.round(o.skr.overheadBits)} bits` : ''}, ε_sec = ${o.skr.epsSec ?? 1e-10}, ε_cor = ${o.skr.epsCor ?? 1e-15} (Lim et al. 2014)`,
    ],
    xMax: o.kmMax,
    curves: [
      { id: 'plob', label: 'Repeaterless bound −log2(1−η) × clock (PLOB)', color: '#000000', dash: '6 4', points: plob },
      { id: 'asymptotic', label: 'Model, asymptotic (infinite block and decoys)', color: '#2ca02c', dash: '2 3', points: asymptotic },
      { id: 'finite', label: `Model, finite key (${o.blockLabel})`, color: '#1f77b4', points: finite },
    ],
    measured: o.measured.map((p) => [p.distance_km, p.skr_bps] as const),
    measuredLabel: 'Measured: emulated link (both modules)',
  };
}

/** The model's figures at some distances, as a Markdown table (`--table 10,50`). */
export function modelTable(physics: LinkPhysics, block: BlockSize, skr: SkrOptions, distances: readonly number[]): string {
  const rows = ['| km | sifted Mbit/s | QBER Z % | QBER X % | pulses per block | sifted bits | ℓ per block | SKR kbit/s | asymptotic kbit/s | PLOB Mbit/s |', '|---|---|---|---|---|---|---|---|---|---|'];
  for (const km of distances) {
    const r = predictSkr(physics, km, block, skr);
    const b = r.block;
    rows.push(
      `| ${km} | ${(r.siftedBps / 1e6).toFixed(2)} | ${(100 * r.qberZ).toFixed(2)} | ${(100 * r.qberX).toFixed(2)} | ${b.pulses.toExponential(3)} | ${b.siftedBits} | ${b.secretBits} | ` +
        `${(r.skrBps / 1e3).toFixed(1)} | ${(r.asymptoticBps / 1e3).toFixed(1)} | ${(r.plobBps / 1e6).toFixed(1)} |`,
    );
  }
  return `${rows.join('\n')}\n`;
}

function main(argv: string[]): void {
  const { values } = parseArgs({
    args: argv,
    options: { f: { type: 'string' }, 'sifted-bits': { type: 'string' }, points: { type: 'string' }, out: { type: 'string' }, table: { type: 'string' } },
  });
  const f = values.f !== undefined ? Number(values.f) : DEFAULT_F;
  const sifted = values['sifted-bits'] !== undefined ? Number(values['sifted-bits']) : BENCH_SIFTED_BITS;
  if (!Number.isSafeInteger(sifted) || sifted < 1) throw new ModelArgumentError('--sifted-bits', values['sifted-bits'], 'a positive integer');
  const physics = physicsFromProtocol(DEFAULT_PROTOCOL);
  const skr = { f, epsSec: DEFAULT_SECURITY.epsSec, epsCor: DEFAULT_SECURITY.epsCor, overheadBits: linkOverheadBits(sifted) };
  const block = linkBlock(sifted, DEFAULT_PROTOCOL.pZ);
  if (values.table !== undefined) {
    process.stdout.write(modelTable(physics, block, skr, values.table.split(',').map(Number)));
    return;
  }
  const measured = readMeasuredPoints(values.points ?? MEASURED_POINTS_PATH);
  const data = plotData({
    physics,
    block,
    skr,
    kmMax: 150,
    stepKm: 1,
    measured,
    blockLabel: sifted === 2 ** Math.round(Math.log2(sifted)) ? `blocks of 2^${Math.round(Math.log2(sifted))} sifted bits` : `blocks of ${sifted} sifted bits`,
  });
  const out = values.out ?? SVG_PATH;
  writeFileSync(out, renderSkrPlot(data));
  process.stdout.write(`wrote ${out} (${measured.length} measured point(s))\n`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) main(process.argv.slice(2));
