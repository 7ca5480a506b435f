import { test } from 'uvu';
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

test.run();
