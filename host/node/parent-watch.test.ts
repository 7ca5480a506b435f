import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { initPki, pkiPaths } from '../pki/pki.js';

const dir = mkdtempSync(join(tmpdir(), 'qkdn-parent-'));
const cli = fileURLToPath(new URL('../cli/qkdn-edge.mjs', import.meta.url));
test.after(() => rmSync(dir, { recursive: true, force: true }));

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

async function until(cond: () => boolean, ms: number): Promise<boolean> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) return false;
    await new Promise((r) => setTimeout(r, 50));
  }
  return true;
}

test('a node started through wrappers (as npx does: npm exec -> sh -> node) stops when the command that started it is killed, and frees its data directory', async () => {
  const pki = join(dir, 'pki');
  await initPki(pki, { nodes: ['A'], saes: [] });
  const p = pkiPaths(pki);
  const config = join(dir, 'A.yaml');
  writeFileSync(config, [`node: A`, `dataDir: ${join(dir, 'data')}`, `tls: { ca: ${p.ca}, cert: ${p.cert('KME', 'A')}, key: ${p.key('KME', 'A')} }`, 'api: { host: 127.0.0.1, port: 0 }', 'kx: { host: 127.0.0.1, port: 0 }', 'network:', '  nodes: [{ id: A, kx: "127.0.0.1:1" }]', '  links: []', '  saes: []', ''].join('\n'));
  // Two shells that stay (`; :` keeps each from exec-ing its command): the outer one stands for
  // npm exec, which `kill %1` ends; the inner one lives on, so the node's own parent does not change.
  const inner = `'${process.execPath}' '${cli}' node --config '${config}'; :`;
  const outer = spawn('sh', ['-c', `sh -c "${inner}"; :`], { stdio: ['ignore', 'pipe', 'inherit'] });
  let pid = 0;
  const lines: string[] = [];
  try {
    const rl = createInterface({ input: outer.stdout! });
    rl.on('line', (l) => lines.push(l));
    assert.ok(await until(() => lines.some((l) => l.includes('"ready"')), 120_000), `the node did not start: ${lines.join('\n')}`);
    pid = (JSON.parse(lines.find((l) => l.includes('"ready"'))!) as { pid: number }).pid;
    outer.kill('SIGKILL');
    assert.ok(await until(() => !alive(pid), 60_000), `the node outlived the command that started it: ${lines.join('\n')}`);
    assert.ok(lines.some((l) => l.includes('"parent-gone"')), lines.join('\n'));
    assert.ok(lines.some((l) => l.includes('"stopped"')), 'stopped cleanly (its lock released)');
  } finally {
    if (pid && alive(pid)) process.kill(pid, 'SIGKILL');
    outer.kill('SIGKILL');
  }
});

test.run();
