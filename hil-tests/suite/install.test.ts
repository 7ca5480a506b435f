/**
 * What `npm ci` says on a fresh machine with the Node the README names: no engine warnings, no
 * unreviewed install scripts, and no dependency that nothing uses.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
interface LockEntry {
  version?: string;
  engines?: Record<string, string> | string[];
  hasInstallScript?: boolean;
}
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  engines: { node: string };
  dependencies: Record<string, string>;
  allowScripts?: Record<string, boolean>;
};
const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8')) as { packages: Record<string, LockEntry> };

type V = [number, number, number];
const version = (s: string): V => {
  const [a = 0, b = 0, c = 0] = s.replace(/^v/, '').split('.').map((x) => (/^\d+$/.test(x) ? Number(x) : 0));
  return [a, b, c];
};
const cmp = (a: V, b: V) => a[0] - b[0] || a[1] - b[1] || a[2] - b[2];

/** Whether Node `v` satisfies an npm engines range (the comparator forms packages use). */
function satisfies(v: V, range: string): boolean {
  return range.split('||').some((alt) => {
    const parts = alt.trim().replace(/([<>=^~]+)\s+/g, '$1').split(/\s+/).filter(Boolean);
    return parts.every((p) => {
      const m = /^(>=|<=|>|<|\^|~|=)?v?([\dx*.]+)$/.exec(p);
      if (!m) throw new Error(`engine range ${JSON.stringify(range)}: cannot read ${p}`);
      const op = m[1] ?? '';
      const fields = m[2]!.split('.');
      const w = version(m[2]!);
      const wild = fields.findIndex((f) => f === 'x' || f === '*');
      const given = wild === -1 ? fields.length : wild;
      if (op === '>=') return cmp(v, w) >= 0;
      if (op === '>') return cmp(v, w) > 0;
      if (op === '<=') return cmp(v, w) <= 0;
      if (op === '<') return cmp(v, w) < 0;
      if (op === '^') return cmp(v, w) >= 0 && (w[0] > 0 ? v[0] === w[0] : v[0] === 0 && v[1] === w[1]);
      if (op === '~') return cmp(v, w) >= 0 && v[0] === w[0] && (given < 2 || v[1] === w[1]);
      // a bare version or a wildcard: every field given must match
      return given === 0 || (v[0] === w[0] && (given < 2 || v[1] === w[1]) && (given < 3 || v[2] === w[2]));
    });
  });
}

test('the engines reader reads the ranges packages use', () => {
  const v = version('20.19.0');
  for (const r of ['*', '>=20', '>= 18', '20 || >=22', '^20.19.0 || ^22.13.0 || >=24', '^18 || ^20 || >= 21', '>= 10.x', '>=12.22']) assert.ok(satisfies(v, r), r);
  for (const r of ['>=22', '^18.18.0 || ^21.1.0', '18', '>=20.20', '<20']) assert.not.ok(satisfies(v, r), r);
});

test('every installed package runs on the oldest Node that package.json admits (npm ci: no EBADENGINE)', () => {
  const oldest = /^>=\s*([\d.]+)$/.exec(pkg.engines.node);
  assert.ok(oldest, `engines.node is a lower bound: ${pkg.engines.node}`);
  const v = version(oldest[1]!);
  const bad = Object.entries(lock.packages)
    .filter(([, e]) => e.engines && !Array.isArray(e.engines) && e.engines.node && !satisfies(v, e.engines.node))
    .map(([p, e]) => `${p.replace(/^.*node_modules\//, '')}@${e.version} wants node ${(e.engines as Record<string, string>).node}`);
  assert.equal(bad, [], `Node ${oldest[1]}`);
});

test('every package with an install script is reviewed in allowScripts (npm ci prints no install-scripts block)', () => {
  const allow = pkg.allowScripts ?? {};
  const unreviewed = Object.entries(lock.packages)
    .filter(([p, e]) => p !== '' && e.hasInstallScript)
    .map(([p]) => p.replace(/^.*node_modules\//, ''))
    .filter((name) => !(name in allow));
  assert.equal(unreviewed, []);
});

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    if (e.name === 'node_modules' || e.name.startsWith('.') || e.name === 'build') return [];
    const p = join(dir, e.name);
    return e.isDirectory() ? sources(p) : /\.(ts|mjs|js)$/.test(e.name) ? [p] : [];
  });
}

test('every runtime dependency is imported by the code (dev tools are devDependencies)', () => {
  // Listed ahead of the code that uses them (the management layer, host/manager).
  const planned = new Set(['pino', 'prom-client']);
  const text = ['host', 'firmware-bridge', 'hil-tests', 'assembly'].flatMap((d) => sources(join(root, d))).map((f) => readFileSync(f, 'utf8'));
  const unused = Object.keys(pkg.dependencies).filter((d) => {
    if (planned.has(d)) return false;
    const used = new RegExp(`(from |import\\(|require\\()'${d.replace(/[/.]/g, '\\$&')}(/[^']*)?'`);
    return !text.some((t) => used.test(t));
  });
  assert.equal(unused, []);
});

test.run();
