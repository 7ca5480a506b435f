import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createServer } from 'node:net';
import { ephemeralRange, freePort } from './test-network.js';

test("ports for test nodes: distinct, free to listen on, and outside the range the kernel gives outgoing connections", async () => {
  const [low] = ephemeralRange();
  const ports = [];
  for (let i = 0; i < 40; i++) ports.push(await freePort());
  assert.is(new Set(ports).size, ports.length, 'no port handed out twice');
  if (low! > 11_000) assert.ok(ports.every((p) => p < low!), `all below ${low}: ${ports.join(' ')}`);
  for (const p of ports.slice(0, 5)) {
    await new Promise<void>((resolve, reject) => {
      const s = createServer();
      s.once('error', reject);
      s.listen(p, '127.0.0.1', () => s.close(() => resolve()));
    });
  }
});

test.run();
