/**
 * `qkdn-edge bench [suite...] [--json] [--quick]`: runs the benchmark suites found in `*.bench.ts`
 * files under host/ and hil-tests/.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { BenchSuite, BenchContext } from '../bench/benchmark.js';

const root = fileURLToPath(new URL('../../', import.meta.url));

/** Files under `dir` (node_modules and dot folders left out) whose name ends with `suffix`. */
export function findTreeFiles(dir: string, suffix: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'node_modules' || entry.name.startsWith('.')) continue;
    const p = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...findTreeFiles(p, suffix));
    else if (entry.name.endsWith(suffix)) out.push(p);
  }
  return out;
}

export async function discoverSuites(): Promise<BenchSuite[]> {
  const files = ['host', 'hil-tests']
    .map((d) => join(root, d))
    .filter((d) => existsSync(d))
    .flatMap((d) => findTreeFiles(d, '.bench.ts'))
    .sort();
  const suites: BenchSuite[] = [];
  for (const file of files) {
    const mod = (await import(pathToFileURL(file).href)) as { suite?: BenchSuite };
    if (!mod.suite) throw new Error(`${relative(root, file)} exports no \`suite\``);
    suites.push(mod.suite);
  }
  return suites;
}

export async function runBench(names: readonly string[], opts: { json: boolean; quick: boolean }): Promise<number> {
  const suites = await discoverSuites();
  const unknown = names.filter((n) => !suites.some((s) => s.name === n));
  if (unknown.length > 0) {
    process.stderr.write(`unknown suite(s): ${unknown.join(', ')}; known: ${suites.map((s) => s.name).join(', ')}\n`);
    return 2;
  }
  const selected = names.length > 0 ? suites.filter((s) => names.includes(s.name)) : suites;
  const ctx: BenchContext = {
    quick: opts.quick,
    progress: (m) => {
      if (!opts.json) process.stderr.write(`  … ${m}\n`);
    },
  };
  for (const suite of selected) {
    if (!opts.json) process.stdout.write(`\n${suite.name}: ${suite.description}\n`);
    for await (const record of suite.run(ctx)) {
      if (opts.json) process.stdout.write(`${JSON.stringify(record)}\n`);
      else {
        const fields = Object.entries(record)
          .filter(([k]) => k !== 'suite')
          .map(([k, v]) => `${k}=${v}`)
          .join('  ');
        process.stdout.write(`  ${fields}\n`);
      }
    }
  }
  return 0;
}
