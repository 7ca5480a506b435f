import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { open, type RootDatabase } from 'lmdb';
import { AuthenticatedChannel, type SecurityEvent } from './channel.js';
import { AuthPadLedger } from './ledger.js';
import { Direction, HEADER_BYTES, FrameType, encodeHeader } from './frame.js';
import { PolyMac } from './mac.js';
import { ChannelAuthError, ChannelError, ChannelReplayError } from './errors.js';

const psk = Uint8Array.from({ length: 4096 }, (_, i) => (i * 73 + 5) & 0xff);
const mac = new PolyMac(2);

/** A frame-aware TCP relay between the two ends: each whole frame goes through `hook`. */
type Hook = (dir: 'a2b' | 'b2a', frame: Buffer, type: number) => Buffer[];

interface Rig {
  alice: AuthenticatedChannel;
  bob: AuthenticatedChannel;
  aliceLedger: AuthPadLedger;
  bobLedger: AuthPadLedger;
  close(): Promise<void>;
  setHook(h: Hook): void;
}

interface Stores {
  dirA: string;
  dirB: string;
  rootA: RootDatabase;
  rootB: RootDatabase;
}

function stores(): Stores {
  const dirA = mkdtempSync(join(tmpdir(), 'qkdn-chan-a-'));
  const dirB = mkdtempSync(join(tmpdir(), 'qkdn-chan-b-'));
  return { dirA, dirB, rootA: open({ path: dirA }), rootB: open({ path: dirB }) };
}

async function closeStores(s: Stores): Promise<void> {
  await s.rootA.close();
  await s.rootB.close();
  rmSync(s.dirA, { recursive: true, force: true });
  rmSync(s.dirB, { recursive: true, force: true });
}

function listen(server: Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port)));
}

function relay(from: Socket, to: Socket, dir: 'a2b' | 'b2a', hook: () => Hook): void {
  let buf = Buffer.alloc(0);
  from.on('data', (chunk: Buffer) => {
    buf = Buffer.concat([buf, chunk]);
    while (buf.length >= HEADER_BYTES) {
      const len = HEADER_BYTES + buf.readUInt32BE(12) + mac.tagBytes;
      if (buf.length < len) break;
      const frame = buf.subarray(0, len);
      buf = buf.subarray(len);
      for (const out of hook()(dir, Buffer.from(frame), frame[1]!)) to.write(out);
    }
  });
  from.on('close', () => to.destroy());
  from.on('error', () => to.destroy());
}

const ledgerOpts = { linkId: 'A~B', keyBytes: mac.keyBytes, tagBytes: mac.tagBytes, framesPerKey: 4, psk, window: 8 };
const openAlice = (root: RootDatabase) => AuthPadLedger.open(root, { ...ledgerOpts, sendDirection: Direction.AliceToBob });
const openBob = (root: RootDatabase) => AuthPadLedger.open(root, { ...ledgerOpts, sendDirection: Direction.BobToAlice });

async function rig(s: Stores, ledgers: { alice?: AuthPadLedger; bob?: AuthPadLedger; bobLinkId?: string } = {}): Promise<Rig> {
  const aliceLedger = ledgers.alice ?? (await openAlice(s.rootA));
  const bobLedger = ledgers.bob ?? (await openBob(s.rootB));
  let hook: Hook = (_d, f) => [f];
  // Alice listens; Bob reaches her through the relay.
  let gotAlice!: (s: Socket) => void;
  const aliceSide = new Promise<Socket>((resolve) => (gotAlice = resolve));
  const server = createServer((sock) => {
    server.close();
    gotAlice(sock);
  });
  const alicePort = await listen(server);
  const proxy = createServer((fromBob) => {
    proxy.close();
    const toAlice = connect(alicePort, '127.0.0.1');
    relay(fromBob, toAlice, 'b2a', () => hook);
    relay(toAlice, fromBob, 'a2b', () => hook);
  });
  const proxyPort = await listen(proxy);
  const bobSock = connect(proxyPort, '127.0.0.1');
  bobSock.on('error', () => undefined);
  await new Promise((r) => bobSock.once('connect', r));
  const aliceSock = await aliceSide;
  aliceSock.on('error', () => undefined);
  const alice = new AuthenticatedChannel(aliceSock, { linkId: 'A~B', role: 'alice', ledger: aliceLedger, hash: mac });
  const bob = new AuthenticatedChannel(bobSock, { linkId: ledgers.bobLinkId ?? 'A~B', role: 'bob', ledger: bobLedger, hash: mac });
  return {
    alice,
    bob,
    aliceLedger,
    bobLedger,
    setHook: (h) => {
      hook = h;
    },
    close: async () => {
      const closed = [alice, bob].map((c) => (c.isClosed ? Promise.resolve() : new Promise<void>((r) => c.once('close', () => r()))));
      aliceSock.destroy();
      bobSock.destroy();
      await Promise.all(closed);
    },
  };
}

/** Resolves once `cond` holds (checked every 5 ms), or fails after 3 s. */
async function until(cond: () => boolean, what: string): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > 3000) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

function nextMessage(c: AuthenticatedChannel): Promise<string> {
  return new Promise((resolve) => c.once('message', (p) => resolve(Buffer.from(p).toString())));
}

function nextError(c: AuthenticatedChannel): Promise<ChannelError> {
  return new Promise((resolve) => c.once('error', resolve));
}

test('handshake, then messages both ways in order, each costing one pad of its direction', async () => {
  const s = stores();
  const r = await rig(s);
  await Promise.all([r.alice.handshake(), r.bob.handshake()]);
  const got: string[] = [];
  r.bob.on('message', (p) => got.push(Buffer.from(p).toString()));
  for (let i = 0; i < 10; i++) await r.alice.send(Buffer.from(`m${i}`));
  const back = nextMessage(r.alice);
  await r.bob.send(Buffer.from('ack'));
  assert.is(await back, 'ack');
  await until(() => got.length === 10, 'ten messages');
  assert.equal(got, Array.from({ length: 10 }, (_, i) => `m${i}`));
  // Hello + 10 data frames from Alice; Hello + 1 from Bob.
  assert.is(r.aliceLedger.stats().nextSend, 11);
  assert.is(r.bobLedger.stats().acceptFloor, 11);
  assert.is(r.bob.counters.framesReceived, 11);
  await r.close();
  await closeStores(s);
});

test('a large message (4 MiB) is authenticated and delivered whole', async () => {
  const s = stores();
  const r = await rig(s);
  await Promise.all([r.alice.handshake(), r.bob.handshake()]);
  const big = Buffer.alloc(4 << 20);
  for (let i = 0; i < big.length; i += 4) big.writeUInt32LE((i * 2654435761) >>> 0, i);
  const got = new Promise<Uint8Array>((resolve) => r.bob.once('message', resolve));
  await r.alice.send(big);
  assert.ok(Buffer.from(await got).equals(big));
  await r.close();
  await closeStores(s);
});

test('a tampered frame is refused with ChannelAuthError and a security event; the channel goes on', async () => {
  const s = stores();
  const r = await rig(s);
  await Promise.all([r.alice.handshake(), r.bob.handshake()]);
  const events: SecurityEvent[] = [];
  const onEvent = (e: unknown) => events.push(e as SecurityEvent);
  subscribe('qkdn:qkd-link:security', onEvent);
  let flip = true;
  r.setHook((dir, f, type) => {
    if (dir === 'a2b' && type === FrameType.Data && flip) {
      flip = false;
      f[HEADER_BYTES + 1]! ^= 0x04; // one bit of the payload
    }
    return [f];
  });
  const delivered: string[] = [];
  r.bob.on('message', (p) => delivered.push(Buffer.from(p).toString()));
  const err = nextError(r.bob);
  await r.alice.send(Buffer.from('transfer 100'));
  const e = await err;
  assert.ok(e instanceof ChannelAuthError);
  assert.is(e.code, 'ERR_CHANNEL_AUTH');
  assert.ok(e.security);
  await r.alice.send(Buffer.from('after'));
  await until(() => delivered.length > 0, 'the next message');
  assert.equal(delivered, ['after']);
  assert.is(r.bob.counters.authFailures, 1);
  assert.equal(events.map((x) => [x.linkId, x.code]), [['A~B', 'ERR_CHANNEL_AUTH']]);
  unsubscribe('qkdn:qkd-link:security', onEvent);
  await r.close();
  await closeStores(s);
});

test('a forged tag for a changed header (another pad index) is refused too', async () => {
  const s = stores();
  const r = await rig(s);
  await Promise.all([r.alice.handshake(), r.bob.handshake()]);
  r.setHook((dir, f, type) => {
    if (dir === 'a2b' && type === FrameType.Data) f.writeUInt32BE(f.readUInt32BE(8) + 1, 8); // pad index + 1
    return [f];
  });
  const err = nextError(r.bob);
  await r.alice.send(Buffer.from('x'));
  assert.ok((await err) instanceof ChannelAuthError);
  await r.close();
  await closeStores(s);
});

test('a replayed frame and a reordered frame are refused, and nothing is delivered twice', async () => {
  const s = stores();
  const r = await rig(s);
  await Promise.all([r.alice.handshake(), r.bob.handshake()]);
  let held: Buffer | undefined;
  let n = 0;
  r.setHook((dir, f, type) => {
    if (dir !== 'a2b' || type !== FrameType.Data) return [f];
    n++;
    if (n === 1) return [f, Buffer.from(f)]; // replay at once
    if (n === 2) {
      held = f; // hold back: reorder
      return [];
    }
    if (n === 3) return [f, held!];
    return [f];
  });
  const delivered: string[] = [];
  const errors: ChannelError[] = [];
  r.bob.on('message', (p) => delivered.push(Buffer.from(p).toString()));
  r.bob.on('error', (e) => errors.push(e));
  for (const m of ['one', 'two', 'three', 'four']) await r.alice.send(Buffer.from(m));
  await until(() => delivered.length === 3 && errors.length === 2, 'three messages and two refusals');
  assert.equal(delivered, ['one', 'three', 'four']);
  assert.equal(errors.map((e) => e.constructor), [ChannelReplayError, ChannelReplayError]);
  assert.is(r.bob.counters.replays, 2);
  await r.close();
  await closeStores(s);
});

test('restarts resynchronise: a restarted receiver moves an honest sender above its durable floor; no pad is reused', async () => {
  const s = stores();
  let r = await rig(s);
  await Promise.all([r.alice.handshake(), r.bob.handshake()]);
  for (let i = 0; i < 3; i++) await r.alice.send(Buffer.from(`m${i}`));
  await new Promise((res) => setTimeout(res, 20));
  const aliceLedger = r.aliceLedger;
  const usedByAlice = aliceLedger.stats().nextSend;
  await r.close();
  // Bob's process restarts: his ledger comes back from disk with its floor a window ahead, while
  // Alice keeps running with her next index (in memory) below it.
  await s.rootB.close();
  s.rootB = open({ path: s.dirB });
  const bobLedger = await openBob(s.rootB);
  assert.ok(bobLedger.floor > usedByAlice, `floor ${bobLedger.floor} vs Alice's next ${usedByAlice}`);
  r = await rig(s, { alice: aliceLedger, bob: bobLedger });
  const stale: ChannelError[] = [];
  const errors: ChannelError[] = [];
  r.bob.on('stale-hello', (e: ChannelError) => stale.push(e));
  r.bob.on('error', (e) => errors.push(e));
  await Promise.all([r.alice.handshake(1000), r.bob.handshake(1000)]);
  const got = nextMessage(r.bob);
  await r.alice.send(Buffer.from('resumed'));
  assert.is(await got, 'resumed');
  assert.ok(stale.length >= 1 && stale.every((e) => e instanceof ChannelReplayError), 'the stale hello was refused first');
  assert.equal(errors, [], 'a restarted honest peer raises no security error');
  assert.is(r.bob.counters.replays, 0);
  assert.ok(aliceLedger.stats().nextSend > bobLedger.floor - 1);
  await r.close();
  // Now Alice restarts: she resumes at her durable reservation, beyond every pad she may have used.
  const before = aliceLedger.stats().nextSend;
  await s.rootA.close();
  s.rootA = open({ path: s.dirA });
  const alice2 = await openAlice(s.rootA);
  assert.ok(alice2.stats().nextSend >= before);
  r = await rig(s, { alice: alice2, bob: bobLedger });
  await Promise.all([r.alice.handshake(1000), r.bob.handshake(1000)]);
  const got2 = nextMessage(r.bob);
  await r.alice.send(Buffer.from('again'));
  assert.is(await got2, 'again');
  await r.close();
  await closeStores(s);
});

test('a peer configured for another link is refused at the handshake', async () => {
  const s = stores();
  const r = await rig(s, { bobLinkId: 'A~C' });
  const errors: ChannelError[] = [];
  r.alice.on('error', (e) => errors.push(e));
  r.bob.on('error', (e) => errors.push(e));
  const results = await Promise.allSettled([r.alice.handshake(1000), r.bob.handshake(1000)]);
  assert.ok(results.every((x) => x.status === 'rejected'));
  assert.ok(errors.some((e) => e.code === 'ERR_CHANNEL_PEER' && /does not match link/.test(e.message)));
  await r.close();
  await closeStores(s);
});

/** A frame of Bob's direction with a tag that cannot verify, naming pad `index`. */
function forged(index: number, type: FrameType = FrameType.Data): Buffer {
  const payload = Buffer.from('pay me');
  const header = Buffer.from(encodeHeader({ type, direction: Direction.BobToAlice, padIndex: BigInt(index), payloadLength: payload.length }));
  return Buffer.concat([header, payload, Buffer.alloc(mac.tagBytes, 0xa5)]);
}

test('a forged frame naming a far pad costs no pad: the floor stays, and the honest frames after it are accepted', async () => {
  const s = stores();
  const r = await rig(s);
  await Promise.all([r.alice.handshake(), r.bob.handshake()]);
  const floor = r.aliceLedger.floor;
  const bobPads = r.bobLedger.stats().remainingSendPads;
  let injected = false;
  r.setHook((dir, f, type) => {
    if (dir === 'b2a' && type === FrameType.Data && !injected) {
      injected = true;
      return [forged(floor + 40), f];
    }
    return [f];
  });
  const errors: ChannelError[] = [];
  r.alice.on('error', (e) => errors.push(e));
  const got: string[] = [];
  r.alice.on('message', (p) => got.push(Buffer.from(p).toString()));
  for (const m of ['one', 'two', 'three']) await r.bob.send(Buffer.from(m));
  await until(() => got.length === 3, 'three honest messages');
  assert.equal(got, ['one', 'two', 'three']);
  assert.equal(errors.map((e) => e.code), ['ERR_CHANNEL_AUTH']);
  assert.is(r.aliceLedger.floor, floor + 3, 'the floor moved by the honest frames only');
  assert.is(r.alice.counters.replays, 0);
  assert.is(r.bobLedger.stats().remainingSendPads, bobPads - 3, 'Bob spent one pad per message and none on resyncs');
  assert.is(r.aliceLedger.rejectedAttempts(floor + 40), 1);
  await r.close();
  await closeStores(s);
});

test('replayed frames are refused and cost the receiver nothing: no Resync answers them', async () => {
  const s = stores();
  const r = await rig(s);
  await Promise.all([r.alice.handshake(), r.bob.handshake()]);
  let first: Buffer | undefined;
  r.setHook((dir, f, type) => {
    if (dir === 'a2b' && type === FrameType.Data) {
      if (!first) first = Buffer.from(f);
      else return [f, ...Array.from({ length: 10 }, () => Buffer.from(first!))];
    }
    return [f];
  });
  const bobNext = r.bobLedger.stats().nextSend;
  const got: string[] = [];
  r.bob.on('message', (p) => got.push(Buffer.from(p).toString()));
  r.bob.on('error', () => undefined);
  await r.alice.send(Buffer.from('a'));
  await r.alice.send(Buffer.from('b'));
  await until(() => got.length === 2 && r.bob.counters.replays === 10, 'two messages and ten refused replays');
  assert.equal(got, ['a', 'b']);
  assert.is(r.bobLedger.stats().nextSend, bobNext, 'Bob sent nothing in answer');
  await r.close();
  await closeStores(s);
});

test.run();
