import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type Socket } from 'node:net';
import { open } from 'lmdb';
import { AuthenticatedChannel } from './channel.js';
import { AuthenticatedListener } from './listener.js';
import { AuthPadLedger } from './ledger.js';
import { Direction, FrameType, encodeHeader } from './frame.js';
import { PolyMac } from './mac.js';

const mac = new PolyMac(2);
const psk = Uint8Array.from({ length: 8192 }, (_, i) => (i * 131 + 7) & 0xff);
const opts = { linkId: 'A~B', keyBytes: mac.keyBytes, tagBytes: mac.tagBytes, framesPerKey: 4, psk, window: 8 };

async function setup() {
  const dirA = mkdtempSync(join(tmpdir(), 'qkdn-listen-a-'));
  const dirB = mkdtempSync(join(tmpdir(), 'qkdn-listen-b-'));
  const rootA = open({ path: dirA });
  const rootB = open({ path: dirB });
  const aliceLedger = await AuthPadLedger.open(rootA, { ...opts, sendDirection: Direction.AliceToBob });
  const bobLedger = await AuthPadLedger.open(rootB, { ...opts, sendDirection: Direction.BobToAlice });
  const listener = new AuthenticatedListener({ linkId: 'A~B', role: 'alice', ledger: aliceLedger, hash: mac, handshakeTimeoutMs: 400, maxPending: 2 });
  const sessions: AuthenticatedChannel[] = [];
  listener.on('session', (c) => sessions.push(c));
  const port = await listener.listen(0, '127.0.0.1');
  const dial = async (): Promise<Socket> => {
    const s = connect(port, '127.0.0.1');
    s.on('error', () => undefined);
    await new Promise((r) => s.once('connect', r));
    return s;
  };
  const bob = async (): Promise<AuthenticatedChannel> => {
    const c = new AuthenticatedChannel(await dial(), { linkId: 'A~B', role: 'bob', ledger: bobLedger, hash: mac });
    c.on('error', () => undefined);
    await c.handshake(2000);
    return c;
  };
  return {
    listener, sessions, dial, bob, aliceLedger, bobLedger,
    async close() {
      await listener.close();
      await rootA.close();
      await rootB.close();
      rmSync(dirA, { recursive: true, force: true });
      rmSync(dirB, { recursive: true, force: true });
    },
  };
}

async function until(cond: () => boolean, what: string): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > 5000) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

test('a stranger on the port neither displaces the authenticated peer nor costs a pad', async () => {
  const x = await setup();
  const bob = await x.bob();
  await until(() => x.sessions.length === 1, 'the session');
  const session = x.sessions[0]!;
  const alicePadsBefore = x.aliceLedger.stats().nextSend;
  const floor = x.aliceLedger.floor;
  // A stranger connects and sends a frame with a garbage tag at the last pad Bob has.
  const stranger = await x.dial();
  const payload = Buffer.from('x');
  const last = floor + x.bobLedger.stats().remainingSendPads - 1;
  stranger.write(Buffer.concat([encodeHeader({ type: FrameType.Hello, direction: Direction.BobToAlice, padIndex: BigInt(last), payloadLength: 1 }), payload, Buffer.alloc(mac.tagBytes, 7)]));
  await until(() => x.listener.counters.unauthenticated === 1, 'the stranger refused');
  assert.not.ok(session.isClosed, 'the session goes on');
  assert.is(x.aliceLedger.floor, floor, 'the floor did not move');
  assert.is(x.aliceLedger.stats().nextSend, alicePadsBefore, 'Alice spent no pad on the stranger');
  const got = new Promise<string>((r) => session.once('message', (p) => r(Buffer.from(p).toString())));
  await bob.send(Buffer.from('still here'));
  assert.is(await got, 'still here');
  // The honest peer on a new connection does replace the session.
  const bob2 = await x.bob();
  await until(() => x.sessions.length === 2 && session.isClosed, 'the new session');
  const got2 = new Promise<string>((r) => x.sessions[1]!.once('message', (p) => r(Buffer.from(p).toString())));
  await bob2.send(Buffer.from('again'));
  assert.is(await got2, 'again');
  assert.ok(bob.isClosed || (await new Promise((r) => bob.once('close', r)), true));
  await x.close();
});

test('candidates beyond maxPending are closed at once', async () => {
  const x = await setup();
  const socks = await Promise.all([x.dial(), x.dial(), x.dial(), x.dial()]);
  await until(() => x.listener.counters.overflow === 2, 'two overflows');
  await until(() => x.listener.counters.unauthenticated === 2, 'two timeouts');
  for (const s of socks) s.destroy();
  await x.close();
});

test.run();
