/**
 * `npm start`'s interworking part as a user runs it (`qkdn-edge demo`, the CLI in a child
 * process), once per model: what it prints must show the same key at both SAEs
 * (by a short hash, the key itself never printed), the second fetch refused, the link failure
 * rerouted (gateway nodes) or the transfer suspended and resumed (interworking node), and no key
 * lost.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const CLI = fileURLToPath(new URL('../../../host/cli/qkdn-edge.mjs', import.meta.url));

function demo(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, 'demo', '--no-pipeline', '--no-link', ...args], { timeout: 300_000, maxBuffer: 16 << 20 }, (e, stdout, stderr) =>
      resolve({ code: e ? ((e as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

/** The key lines: ID, then each SAE's name and hash. */
function keyLines(text: string): { id: string; hashes: [string, string] }[] {
  return [...text.matchAll(/key ([0-9a-f-]{36})\s+\w+ sha256 ([0-9a-f]{12})…\s+\w+ sha256 ([0-9a-f-]{1,12})…/g)].map((m) => ({ id: m[1]!, hashes: [m[2]!, m[3]!] }));
}

function common(text: string, what: string): void {
  const keys = keyLines(text);
  assert.ok(keys.length >= 2, `${what}: key lines printed:\n${text}`);
  for (const k of keys) assert.is(k.hashes[1], k.hashes[0], `${what}: key ${k.id} has the same hash at both SAEs`);
  assert.not.match(text, /DIFFERENT|NOT REFUSED|NOT THE SAME|FAILED/, `${what}:\n${text}`);
  assert.match(text, /a second time: refused, 4\d\d/, `${what}: the second fetch is refused`);
  assert.match(text, /keys lost 0\n/, `${what}: nothing lost`);
  // The keys themselves never appear: no base64 of a 256-bit key, no 64 hex digits.
  assert.not.match(text, /[A-Za-z0-9+/]{43}=|[0-9a-f]{64}/, `${what}: a key printed`);
  assert.match(text, /\nSummary \([\d.]+ s\)\n {2}\S/, `${what}: the closing summary`);
}

test('npm start (both models): the same key hash at both SAEs, the second fetch refused, the failure rerouted or ridden out, 0 keys lost', async () => {
  // One after the other: two networks of processes at once would double the load on a 2-core machine.
  const gwn = await demo();
  const iwn = await demo('--model', 'iwn');

  assert.is(gwn.code, 0, `gwn: ${gwn.stdout}\n${gwn.stderr.slice(-3000)}`);
  common(gwn.stdout, 'gwn');
  const cut = /cut {7}(a[23]) killed/.exec(gwn.stdout);
  assert.ok(cut, gwn.stdout);
  const reroute = /relays now go a1 → (a[23]) → gwn_a: (\d+) completed after the cut/.exec(gwn.stdout);
  assert.ok(reroute, gwn.stdout);
  assert.is.not(reroute[1], cut[1], 'the relays moved off the cut node');
  assert.ok(Number(reroute[2]) > 0, 'relays completed after the cut');
  assert.match(gwn.stdout, /gateway nodes: .* 0 lost\n/);

  assert.is(iwn.code, 0, `iwn: ${iwn.stdout}\n${iwn.stderr.slice(-3000)}`);
  common(iwn.stdout, 'iwn');
  assert.match(iwn.stdout, /controller-B suspended transfer towards bob, controller-A did the same/);
  assert.match(iwn.stdout, /both controllers resumed transfer towards bob/);
  assert.match(iwn.stdout, /interworking node: .* 0 lost\n/);
});

test('npm start -- --model with an unknown model is refused, naming the choices', async () => {
  const r = await demo('--model', 'mesh');
  assert.is.not(r.code, 0);
  assert.match(r.stderr, /gwn.*iwn/);
});

test.run();
