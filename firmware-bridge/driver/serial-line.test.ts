import { test } from 'uvu';
import { closeSync, readSync, writeSync } from 'node:fs';
import * as assert from 'uvu/assert';
import { openPty } from '../emulator/pty.js';
import { MasterPort } from '../emulator/master-port.js';
import { openLine } from './serial-line.js';

test('a line whose device hung up (pty master closed) fails its read with EOF instead of spinning', async () => {
  const pty = openPty();
  const board = new MasterPort(pty, () => {}, () => {});
  const line = await openLine(pty.slavePath);
  try {
    board.write(Uint8Array.of(1, 2, 3));
    const buf = Buffer.alloc(64);
    assert.is((await line.read(buf, 0, 64)).bytesRead, 3);
    board.close();
    await new Promise((r) => setTimeout(r, 50)); // the read below starts on an already hung-up tty
    const cpu0 = process.cpuUsage();
    const err = await line.read(buf, 0, 64).then(
      () => undefined,
      (e: unknown) => e as Error & { code?: string; disconnect?: boolean },
    );
    assert.ok(err, 'the read failed');
    assert.is(err!.code, 'EOF');
    assert.is(err!.disconnect, true);
    const cpu = process.cpuUsage(cpu0);
    assert.ok(cpu.user + cpu.system < 200_000, `read spent ${(cpu.user + cpu.system) / 1000} ms of CPU`);
  } finally {
    await line.close().catch(() => {});
    board.close();
  }
});

test('a write waiting for room and a read waiting for data both complete, whichever waited last', async () => {
  const pty = openPty();
  const line = await openLine(pty.slavePath);
  const board = { got: [] as Buffer[], sent: 0 };
  // The board side: drains the pty slowly (the host's write must wait for room) and, in the first
  // half only, answers a few bytes now and then (the host's read wakes and waits again meanwhile).
  const master = setInterval(() => {
    const b = Buffer.alloc(16384);
    try {
      const n = readSync(pty.master, b, 0, b.length, null);
      board.got.push(b.subarray(0, n));
    } catch {
      // EAGAIN: nothing written yet
    }
    if (board.sent < 8) board.sent += writeSync(pty.master, Buffer.from([board.sent + 1]));
  }, 4);
  try {
    const out = Buffer.alloc(512 * 1024);
    for (let i = 0; i < out.length; i++) out[i] = (i * 7919) % 251;
    const received: number[] = [];
    const reading = (async () => {
      const buf = Buffer.alloc(64);
      while (received.length < 8) {
        const { bytesRead } = await line.read(buf, 0, buf.length);
        received.push(...buf.subarray(0, bytesRead));
      }
    })();
    const deadline = new Promise((_, reject) => setTimeout(() => reject(new Error('stuck')), 10_000).unref());
    await Promise.race([Promise.all([line.write(out), reading]), deadline]);
    assert.equal(received, [1, 2, 3, 4, 5, 6, 7, 8]);
    const t0 = Date.now();
    while (Buffer.concat(board.got).length < out.length && Date.now() - t0 < 10_000) await new Promise((r) => setTimeout(r, 5));
    assert.ok(Buffer.concat(board.got).equals(out), 'every byte written arrived, in order');
  } finally {
    clearInterval(master);
    await line.close().catch(() => {});
    closeSync(pty.master);
    closeSync(pty.slaveHold);
  }
});

test.run();
