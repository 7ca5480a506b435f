/**
 * Measured key rates for the SKR-vs-distance plot: the link bench records one point per distance.
 *
 * File (JSON, UTF-8), format version 1:
 *   { "version": 1,
 *     "points": [ { "distance_km": 10, "skr_bps": 123456.7, "skr_model_bps": 130000, "blocks": 12 }, ... ] }
 * `distance_km` (>= 0) and `skr_bps` (>= 0, secret bits per second of source time) are required;
 * `skr_model_bps` (the model's finite-key prediction for the same run) and `blocks` are optional.
 * Points are kept sorted by distance, one per distance (a new one replaces the old).
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { MeasuredPointsError } from './errors.js';

export const MEASURED_FORMAT_VERSION = 1;

/** Where the link bench writes its points and plot.ts reads them. */
export const MEASURED_POINTS_PATH = fileURLToPath(new URL('./measured-skr.json', import.meta.url));

export interface MeasuredPoint {
  readonly distance_km: number;
  readonly skr_bps: number;
  readonly skr_model_bps?: number;
  readonly blocks?: number;
}

function isNonNegative(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v) && v >= 0;
}

/** Parses and checks a points document; throws MeasuredPointsError naming what is wrong. */
export function parseMeasuredPoints(text: string, path = '<input>'): MeasuredPoint[] {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new MeasuredPointsError(path, `not JSON: ${(e as Error).message}`, { cause: e });
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw new MeasuredPointsError(path, 'expected an object { version, points }');
  const o = doc as Record<string, unknown>;
  if (o.version !== MEASURED_FORMAT_VERSION) throw new MeasuredPointsError(path, `format version ${JSON.stringify(o.version)}, expected ${MEASURED_FORMAT_VERSION}`);
  if (!Array.isArray(o.points)) throw new MeasuredPointsError(path, 'points: expected an array');
  return sortPoints(
    o.points.map((p: unknown, i) => {
      if (typeof p !== 'object' || p === null) throw new MeasuredPointsError(path, `points[${i}]: expected an object`);
      const r = p as Record<string, unknown>;
      if (!isNonNegative(r.distance_km)) throw new MeasuredPointsError(path, `points[${i}].distance_km = ${JSON.stringify(r.distance_km)}: expected a number >= 0`);
      if (!isNonNegative(r.skr_bps)) throw new MeasuredPointsError(path, `points[${i}].skr_bps = ${JSON.stringify(r.skr_bps)}: expected a number >= 0`);
      if (r.skr_model_bps !== undefined && !isNonNegative(r.skr_model_bps)) throw new MeasuredPointsError(path, `points[${i}].skr_model_bps: expected a number >= 0`);
      if (r.blocks !== undefined && !(Number.isSafeInteger(r.blocks) && (r.blocks as number) >= 0)) throw new MeasuredPointsError(path, `points[${i}].blocks: expected an integer >= 0`);
      return {
        distance_km: r.distance_km,
        skr_bps: r.skr_bps,
        ...(r.skr_model_bps !== undefined ? { skr_model_bps: r.skr_model_bps as number } : {}),
        ...(r.blocks !== undefined ? { blocks: r.blocks as number } : {}),
      };
    }),
  );
}

function sortPoints(points: MeasuredPoint[]): MeasuredPoint[] {
  const byDistance = new Map<number, MeasuredPoint>();
  for (const p of points) byDistance.set(p.distance_km, p);
  return [...byDistance.values()].sort((a, b) => a.distance_km - b.distance_km);
}

export function formatMeasuredPoints(points: readonly MeasuredPoint[]): string {
  return `${JSON.stringify({ version: MEASURED_FORMAT_VERSION, points: sortPoints([...points]) }, null, 2)}\n`;
}

/** The points in `path`, or none when the file does not exist. */
export function readMeasuredPoints(path = MEASURED_POINTS_PATH): MeasuredPoint[] {
  if (!existsSync(path)) return [];
  return parseMeasuredPoints(readFileSync(path, 'utf8'), path);
}

/** Adds (or replaces, at the same distance) points in `path`, atomically (write then rename). */
export function recordMeasuredPoints(points: readonly MeasuredPoint[], path = MEASURED_POINTS_PATH): MeasuredPoint[] {
  const checked = parseMeasuredPoints(JSON.stringify({ version: MEASURED_FORMAT_VERSION, points }), '<new points>');
  const all = sortPoints([...readMeasuredPoints(path), ...checked]);
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, formatMeasuredPoints(all));
  renameSync(tmp, path);
  return all;
}
