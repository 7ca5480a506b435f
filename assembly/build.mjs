#!/usr/bin/env node
// Compiles every kernel (assembly/<kernel>/index.ts) for every target in asconfig.json.
// Incremental: a kernel is rebuilt only when a source under assembly/ is newer than its outputs,
// so `npm test`, `npm start` and `npm run bench` can call it unconditionally.
import { readdirSync, statSync, mkdirSync, readFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import asc from 'assemblyscript/asc';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const asmDir = join(root, 'assembly');
const outDir = join(root, 'build', 'wasm');
const config = JSON.parse(readFileSync(join(root, 'asconfig.json'), 'utf8'));
const targets = Object.keys(config.targets);
const force = process.argv.includes('--force');

function newestSource(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestSource(p));
    else if (entry.name.endsWith('.ts')) newest = Math.max(newest, statSync(p).mtimeMs);
  }
  return newest;
}

function mtime(p) {
  try { return statSync(p).mtimeMs; } catch { return 0; }
}

const kernels = readdirSync(asmDir, { withFileTypes: true })
  .filter((d) => d.isDirectory() && mtime(join(asmDir, d.name, 'index.ts')) > 0)
  .map((d) => d.name)
  .sort();
// Shared AssemblyScript sources (assembly/*.ts) count for every kernel.
const sourceTime = Math.max(newestSource(asmDir), mtime(join(root, 'asconfig.json')));
mkdirSync(outDir, { recursive: true });

let built = 0;
for (const kernel of kernels) {
  for (const target of targets) {
    const out = join(outDir, `${kernel}.${target}.wasm`);
    if (!force && mtime(out) >= sourceTime) continue;
    const args = [
      join('assembly', kernel, 'index.ts'),
      '--config', 'asconfig.json',
      '--target', target,
      '--outFile', out,
    ];
    if (target === 'debug') args.push('--textFile', out.replace(/\.wasm$/, '.wat'));
    const { error, stderr } = await asc.main(args, { stdout: process.stdout, stderr: process.stderr });
    if (error) {
      process.stderr.write(`assembly: ${kernel} (${target}) failed: ${error.message}\n${stderr.toString()}`);
      process.exit(1);
    }
    built++;
  }
}
if (built > 0) process.stdout.write(`assembly: built ${built} module(s) for ${kernels.length} kernel(s)\n`);
