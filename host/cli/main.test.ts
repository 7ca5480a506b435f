import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { discoverSuites } from './bench.js';

const cli = fileURLToPath(new URL('./qkdn-edge.mjs', import.meta.url));

function run(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [cli, ...args], { timeout: 120_000 }, (e, stdout, stderr) => resolve({ code: e ? ((e as { code?: number }).code ?? 1) : 0, stdout, stderr }));
  });
}

test('qkdn-edge --version prints the package version and nothing else', async () => {
  const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  for (const flag of ['--version', '-V']) {
    const r = await run(flag);
    assert.is(r.code, 0, r.stderr);
    assert.is(r.stdout, `${version}\n`);
    assert.is(r.stderr, '');
  }
});

test('bench --help lists every suite with its description', async () => {
  const suites = await discoverSuites();
  assert.ok(suites.length > 0);
  for (const args of [['bench', '--help'], ['help', 'bench']]) {
    const r = await run(...args);
    assert.is(r.code, 0, r.stderr);
    const listed = r.stdout.slice(r.stdout.indexOf('Suites:'));
    for (const s of suites) assert.match(listed, `  ${s.name} `, `${args.join(' ')} names ${s.name}`);
  }
});

test.run();
