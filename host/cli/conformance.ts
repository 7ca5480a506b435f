/**
 * `qkdn-edge conformance` (`npm run conformance`): runs every Y.3818 configuration × procedure
 * case the tree defines (files named `conformance-cases.ts` under host/ and hil-tests/, each
 * exporting arrays of ConformanceCase, host/interworking/conformance/cases.ts), one after the
 * other, and prints one line each: JSON with `--json`, else a table. `ok` is true only when every
 * check of the case passed; the exit code is 1 when any case failed.
 */
import { existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { ConformanceCase } from '../interworking/conformance/cases.js';
import { findTreeFiles } from './bench.js';

const root = fileURLToPath(new URL('../../', import.meta.url));

const isCase = (x: unknown): x is ConformanceCase => typeof x === 'object' && x !== null && typeof (x as ConformanceCase).run === 'function' && typeof (x as ConformanceCase).model === 'string';

export async function discoverCases(): Promise<ConformanceCase[]> {
  const files = ['host', 'hil-tests']
    .map((d) => join(root, d))
    .filter((d) => existsSync(d))
    .flatMap((d) => findTreeFiles(d, 'conformance-cases.ts'))
    .sort();
  const out: ConformanceCase[] = [];
  for (const file of files) {
    const mod = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
    const found = Object.values(mod).flatMap((v) => (Array.isArray(v) ? v.filter(isCase) : []));
    if (found.length === 0) throw new Error(`${relative(root, file)} exports no conformance cases`);
    out.push(...found);
  }
  // by model, then configuration figure, then procedure figure (numerically: 9 before 10)
  return out.sort((x, y) => (x.model < y.model ? -1 : x.model > y.model ? 1 : x.figure - y.figure || x.procedure_figure - y.procedure_figure));
}

export async function runConformance(opts: { json: boolean }): Promise<number> {
  const cases = await discoverCases();
  let failed = 0;
  if (!opts.json) process.stdout.write(`${'model'.padEnd(6)}${'configuration'.padEnd(26)}fig  ${'procedure'.padEnd(26)}fig  result    ms  checks\n`);
  for (const c of cases) {
    const t0 = performance.now();
    let ok = false;
    let checks = 0;
    let error: string | undefined;
    try {
      checks = (await c.run()).checks;
      ok = checks > 0;
      if (!ok) error = 'no checks made';
    } catch (e) {
      error = (e as Error).message.split('\n')[0];
    }
    const ms = Math.round(performance.now() - t0);
    if (!ok) failed++;
    const head = { model: c.model, configuration: c.configuration, figure: c.figure, procedure: c.procedure, procedure_figure: c.procedure_figure };
    if (opts.json) process.stdout.write(`${JSON.stringify({ ...head, ok, ms, checks, ...(error ? { error } : {}) })}\n`);
    else
      process.stdout.write(
        `${c.model.padEnd(6)}${c.configuration.padEnd(26)}${String(c.figure).padEnd(5)}${c.procedure.padEnd(26)}${String(c.procedure_figure).padEnd(5)}${(ok ? 'ok' : 'FAILED').padEnd(7)}${String(ms).padStart(6)}  ${checks}${error ? `  ${error}` : ''}\n`,
      );
  }
  if (cases.length === 0) process.stderr.write('no conformance cases found\n');
  return failed > 0 || cases.length === 0 ? 1 : 0;
}
