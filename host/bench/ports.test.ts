import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createServer } from 'node:net';
import { LOWEST_PORT, ephemeralRange, freePort } from './ports.js';

async function listenable(p: number): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(p, '127.0.0.1', () => s.close(() => resolve()));
  });
}

// Both branches are tested on every machine: the range is given, not read from this one.
test('ports for test nodes: distinct, free to listen on, and below the range the kernel gives outgoing connections', async () => {
  const low = LOWEST_PORT + 20_000;
  const ports = [];
  for (let i = 0; i < 40; i++) ports.push(await freePort([low, 60999]));
  assert.is(new Set(ports).size, ports.length, 'no port handed out twice');
  assert.ok(
    ports.every((p) => p >= LOWEST_PORT && p < low),
    `all in [${LOWEST_PORT}, ${low}): ${ports.join(' ')}`,
  );
  for (const p of ports.slice(0, 5)) await listenable(p);
});

test('ports when the ephemeral range leaves no room below it: the kernel chooses, still never twice', async () => {
  const ports = [];
  for (let i = 0; i < 20; i++) ports.push(await freePort([LOWEST_PORT + 500, 60999]));
  assert.is(new Set(ports).size, ports.length, 'no port handed out twice');
  for (const p of ports.slice(0, 5)) await listenable(p);
});

test("the kernel's range is read as two integers, low below high", () => {
  const [lo, hi] = ephemeralRange();
  assert.ok(Number.isInteger(lo) && Number.isInteger(hi) && lo < hi, `${lo}-${hi}`);
});

test.run();
