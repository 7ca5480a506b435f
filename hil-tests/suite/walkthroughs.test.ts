/**
 * Every README walkthrough (a fenced block opened with ```sh walkthrough) runs as written, from
 * the repository root, under `bash -e -o pipefail`: a step that fails fails the test. Run as root
 * with unshare and ip at hand (CI), each block gets its own network namespace, so its fixed ports
 * cannot meet another program's.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));

function markdown(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    if (e.name === 'node_modules' || e.name === 'build' || e.name.startsWith('.')) return [];
    const p = join(dir, e.name);
    return e.isDirectory() ? markdown(p) : e.name.endsWith('.md') ? [p] : [];
  });
}

/** The walkthrough blocks of a Markdown text, with the line each starts on. */
export function walkthroughs(text: string): { line: number; script: string }[] {
  const out: { line: number; script: string }[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    if (!/^```sh walkthrough\s*$/.test(lines[i]!)) continue;
    const end = lines.findIndex((l, j) => j > i && l.startsWith('```'));
    if (end < 0) throw new Error(`line ${i + 1}: an unclosed walkthrough block`);
    out.push({ line: i + 1, script: lines.slice(i + 1, end).join('\n') + '\n' });
    i = end;
  }
  return out;
}

const have = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
const isolated = process.getuid?.() === 0 && have('unshare') && have('ip') && spawnSync('unshare', ['-n', 'true']).status === 0;

function run(script: string, tmp: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const file = join(tmp, 'walkthrough.sh');
  writeFileSync(file, script);
  const [cmd, args] = isolated ? ['unshare', ['-n', 'sh', '-c', 'ip link set lo up && exec bash -e -o pipefail "$0"', file]] : ['bash', ['-e', '-o', 'pipefail', file]];
  return new Promise((resolve) => {
    const child = spawn(cmd, args as string[], { cwd: root, env: { ...process.env, TMPDIR: tmp }, detached: true });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d));
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    // Generous: two nodes start on a loaded machine. Then the whole group goes, nodes included.
    const timer = setTimeout(() => process.kill(-child.pid!, 'SIGKILL'), 300_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

const blocks = markdown(root).flatMap((f) => walkthroughs(readFileSync(f, 'utf8')).map((b) => ({ ...b, file: relative(root, f) })));

test('the README walkthroughs are found (host/api/README.md has one)', () => {
  assert.ok(blocks.some((b) => b.file === join('host', 'api', 'README.md')), blocks.map((b) => b.file).join(', '));
});

for (const b of blocks) {
  if (!have('curl')) {
    test.skip(`walkthrough ${b.file}:${b.line} (needs curl; .ci/run installs it)`, () => {});
    continue;
  }
  test(`walkthrough ${b.file}:${b.line} runs as written`, async () => {
    const tmp = mkdtempSync(join(tmpdir(), 'qkdn-walkthrough-'));
    try {
      const r = await run(b.script, tmp);
      assert.is(r.code, 0, `exit ${r.code}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`);
      assert.not.match(r.stderr, /^\s+at .*\(.*:\d+:\d+\)$/m, `a stack trace: ${r.stderr}`);
      if (b.file === join('host', 'api', 'README.md')) {
        // What the reader is told to see: the two keys alice got are the ones bob fetches, once.
        const keys = [...r.stdout.matchAll(/"key":"([A-Za-z0-9+/=]+)"/g)].map((m) => m[1]);
        assert.is(keys.length, 4, r.stdout);
        assert.equal(keys.slice(2), keys.slice(0, 2));
        assert.match(r.stdout, '"code":"ERR_API_KEY_NOT_AVAILABLE"');
        assert.match(r.stdout, '"tls_alert":"certificate_required"');
      }
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });
}

test.run();
