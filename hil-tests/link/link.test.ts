/**
 * The QKD link end to end: two module processes, each on its own emulated board over a real pty,
 * distilling keys over the authenticated TCP channel into their own LMDB stores. Every scenario
 * ends by comparing both stores unit by unit: no unit may be held by one end only or differ.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { BlockReport } from '../../host/qkd-link/module/diagnostics.js';
import { LinkPair, type StoreComparison } from './link-pair.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function keyed(blocks: readonly BlockReport[]): BlockReport[] {
  return blocks.filter((b) => b.outcome === 'key');
}

function storesAgree(c: StoreComparison): void {
  assert.equal({ differing: c.differing, onlyAlice: c.onlyAlice, onlyBob: c.onlyBob }, { differing: 0, onlyAlice: 0, onlyBob: 0 }, `stores: ${JSON.stringify(c)}`);
}

test('two module processes on emulated boards distil identical keys, block after block, into their stores', async () => {
  const pair = await LinkPair.start();
  try {
    await pair.startBoth();
    await pair.bob!.keyBlocks(3, 90_000);
    await pair.alice!.keyBlocks(3, 20_000);
    const ran = await pair.settle();
    const bob = keyed(ran.bob.blocks());
    const alice = keyed(ran.alice.blocks());
    for (const b of bob.slice(0, 3)) {
      const a = alice.find((x) => x.block === b.block)!;
      assert.ok(a, `alice reports block ${b.block}`);
      assert.is(a.finalBits, b.finalBits, 'both ends compute the same finite-key length');
      assert.is(a.firstUnit, b.firstUnit);
      assert.ok(b.qber!.X.all < 0.05 && b.qber!.Z!.all < 0.05, `QBER ${b.qber!.X.all} / ${b.qber!.Z!.all}`);
      assert.is(b.ec!.failedFrames, 0, 'every LDPC frame decodes');
      // f depends on the block's QBER: up to 1.48 at 0.5 % (`npm run bench -- ldpc`), so a block of a quiet link may exceed 1.3.
      assert.ok(b.ec!.efficiency > 1 && b.ec!.efficiency < 1.5, `f = ${b.ec!.efficiency} at QBER ${b.qber!.Z!.all}`);
      assert.ok(b.decoy!.s1 > 0 && b.decoy!.phaseErrorRate < 0.11);
      assert.ok(b.authConsumedBits! > 0, 'the channel accounts the authentication key it used');
    }
    const c = await pair.storesCompared();
    assert.ok(c.identical >= 3 * 100, `${c.identical} identical units`);
    storesAgree(c);
  } finally {
    await pair.close();
  }
});

test('a module killed mid-block (SIGKILL) restarts, resynchronises, and both stores still hold exactly the same keys', async () => {
  const pair = await LinkPair.start({ seed: 12 });
  try {
    await pair.startBoth();
    await pair.bob!.keyBlocks(1, 60_000);
    // Blocks overlap (two in flight), so a block is always under way: Bob dies in it.
    await sleep(700);
    await pair.bob!.kill();
    // Alice sees the peer go: a block in flight is abandoned for it (when the kill lands between
    // blocks, there is only the disconnection to see).
    const lost = await pair.alice!.waitFor((e) => (e.event === 'block' && e.outcome === 'aborted') || (e.event === 'state' && e.state === 'disconnected'), 30_000, 'the peer lost');
    if (lost.event === 'block') assert.is(lost.code, 'ERR_LINK_PEER_LOST');
    await pair.startEnd('bob');
    await pair.bob!.keyBlocks(1, 60_000);
    // Then Alice, at some point of a later block (possibly between storing a block and committing it).
    await sleep(1300);
    await pair.alice!.kill();
    await pair.startEnd('alice');
    await pair.alice!.keyBlocks(1, 60_000);
    await pair.bob!.waitFor((e) => e.event === 'state' && e.state === 'synchronised', 1000, 'resynchronisation');
    await pair.settle();
    const c = await pair.storesCompared();
    assert.ok(c.identical > 0, 'key after the restarts');
    storesAgree(c);
  } finally {
    await pair.close();
  }
});

test('an intercept-resend eavesdropper raises the QBER over the threshold: no key is output and the link says why', async () => {
  const pair = await LinkPair.start({ seed: 13, interceptFraction: 1 });
  try {
    await pair.startBoth();
    for (const end of [pair.bob!, pair.alice!]) {
      const report = (await end.waitFor((e) => e.event === 'block', 60_000, 'a block report')) as unknown as BlockReport;
      assert.is(report.outcome, 'no-key');
      assert.is(report.code, 'ERR_LINK_QBER');
      assert.match(report.reason!, /QBER 2\d\.\d\d % is above the 11\.00 % limit/);
      assert.ok(report.qber!.X.all > 0.2);
      assert.is(report.units, undefined, 'no unit was assigned');
    }
    await pair.stopEnds();
    const c = await pair.storesCompared();
    assert.equal([c.alice, c.bob], [0, 0]);
  } finally {
    await pair.close();
  }
});

test('a board alarm, a frame with a bad tag and a replayed frame each abort their blocks cleanly; the link goes on and the stores agree', async () => {
  const pair = await LinkPair.start({ seed: 14, proxy: true });
  try {
    await pair.startBoth();
    await pair.bob!.keyBlocks(1, 60_000);
    // A critical alarm of the transmitter: the blocks in flight are abandoned at both ends.
    await pair.boards.tx.alarm('laser-interlock', 'critical', 'interlock opened');
    const fault = await pair.alice!.waitFor((e) => e.event === 'block' && e.code === 'ERR_LINK_BOARD_FAULT', 30_000, 'a board-fault abort');
    assert.is(fault.outcome, 'aborted');
    await pair.boards.tx.alarm('laser-interlock', 'info', 'interlock closed', true);
    await pair.bob!.keyBlocks(keyed(pair.bob!.blocks()).length + 1, 60_000);

    // A flipped bit in one of Bob's frames: Alice refuses it, raises a security event, the blocks are abandoned.
    const abortsBefore = pair.bob!.blocks().filter((b) => b.outcome === 'aborted').length;
    pair.proxy!.corruptNext = true;
    const auth = await pair.alice!.waitFor((e) => e.event === 'security' && e.code === 'ERR_CHANNEL_AUTH', 30_000, 'an authentication failure');
    assert.match(String(auth.message), /failed authentication/);
    await pair.bob!.waitFor((e) => e.event === 'block' && e.outcome === 'aborted' && pair.bob!.blocks().filter((b) => b.outcome === 'aborted').length > abortsBefore, 30_000, 'an abandoned block');
    await pair.bob!.keyBlocks(keyed(pair.bob!.blocks()).length + 1, 60_000);

    // An earlier frame of Bob's sent again (valid tag, old pad index): refused as a replay.
    pair.proxy!.replayNext = true;
    await pair.alice!.waitFor((e) => e.event === 'security' && e.code === 'ERR_CHANNEL_REPLAY', 30_000, 'a refused replay');
    await pair.alice!.waitFor((e) => e.event === 'block' && e.code === 'ERR_LINK_CHANNEL', 30_000, 'a block abandoned for the channel');
    // And the link recovers.
    await pair.bob!.keyBlocks(keyed(pair.bob!.blocks()).length + 1, 60_000);
    const ran = await pair.settle();
    const c = await pair.storesCompared();
    assert.ok(c.identical > 0);
    storesAgree(c);
    // Every aborted block left nothing: the units in the stores are exactly those of the blocks the
    // receiver keyed (it commits a block only once the transmitter holds it).
    const units = keyed(ran.bob.blocks()).reduce((s, b) => s + (b.units ?? 0), 0);
    assert.is(c.alice, units, 'the stores hold only the units of keyed blocks');
  } finally {
    await pair.close();
  }
});

test.run();
