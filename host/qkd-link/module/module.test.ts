import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { CodeFamily } from '../reconciliation/codebook.js';
import { agreementDigest, parseLinkConfig } from './config.js';
import { LinkConfigError } from './errors.js';
import { BlockMailbox, CommitGate } from './block/block.js';
import { reconcileLocal } from '../reconciliation/reconcile.js';
import { binaryEntropy } from '../estimation/statistics.js';
import { blockSecurity, correctionsPerClass, decoySource, efficiency, frameKey, frameOrder, keyIndex, keptLeak, packKept, paddedKey, realBits, secretLength, splitFinalKey, unitsFor } from './block/postprocess.js';
import { finiteKeyLength } from '../estimation/finite-key.js';

const family = CodeFamily.load();
const base = { linkId: 'A~B', role: 'alice', node: 'A', peer: 'B', dataDir: '/tmp/x', board: { port: '/dev/null' }, psk: { hex: '00'.repeat(1024) } };

test('interleaved framing: every key bit lands in exactly one frame position and comes back in frame order', () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 200_000 }), fc.integer({ min: 0, max: 1000 }), (keyBits, seed) => {
      const fr = frameKey(family, 0.02, keyBits);
      const key = new Uint8Array(keyBits).map((_, i) => (Math.imul(i + seed, 2654435761) >>> 31) & 1);
      const padded = paddedKey(key, fr);
      let total = 0;
      for (let f = 0; f < fr.frames; f++) {
        const r = realBits(fr, f);
        total += r;
        for (let i = 0; i < r; i++) if (padded[f * fr.k + fr.order[i]!] !== key[keyIndex(fr, f, i)]) return false;
        for (let i = r; i < fr.k; i++) if (padded[f * fr.k + fr.order[i]!] !== 0) return false;
      }
      return total === keyBits;
    }),
    { numRuns: 30, seed: 7 },
  );
});

test('corrections per class: every corrected bit of a decoded frame counted once, in the class its key index falls in', () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 200_000 }), fc.integer({ min: 0, max: 1000 }), fc.double({ min: 0, max: 1, noNaN: true }), fc.double({ min: 0, max: 1, noNaN: true }), (keyBits, seed, a, b) => {
      const fr = frameKey(family, 0.02, keyBits);
      const bounds: [number, number] = [Math.floor(Math.min(a, b) * keyBits), Math.floor(Math.max(a, b) * keyBits)];
      const reference = paddedKey(new Uint8Array(keyBits).map((_, i) => (Math.imul(i + seed, 2654435761) >>> 31) & 1), fr);
      const corrected = reference.map((v, i) => (Math.imul(i ^ seed, 40503) % 37 === 0 ? v ^ 1 : v));
      const ok = Uint8Array.from({ length: fr.frames }, (_, f) => ((f + seed) % 3 === 0 ? 0 : 1));
      // Bit by bit: the key index of each real bit says its class.
      const want = [0, 0, 0];
      for (let f = 0; f < fr.frames; f++) {
        if (!ok[f]) continue;
        for (let i = 0; i < realBits(fr, f); i++) {
          const at = f * fr.k + fr.order[i]!;
          if (reference[at] === corrected[at]) continue;
          const j = keyIndex(fr, f, i);
          want[j < bounds[0] ? 0 : j < bounds[1] ? 1 : 2]!++;
        }
      }
      assert.equal(correctionsPerClass(fr, ok, reference, corrected, bounds), want);
    }),
    { numRuns: 30, seed: 9 },
  );
});

test('frame scatter order: a permutation of the key positions, the same at both ends', () => {
  for (const k of [1, 2, 1000, 60_975]) {
    const o = frameOrder(k);
    const seen = new Uint8Array(k);
    for (const v of o) seen[v]!++;
    assert.ok(seen.every((c) => c === 1), `order over ${k} positions`);
  }
  assert.equal(Array.from(frameOrder(10)), [6, 2, 4, 8, 9, 5, 0, 1, 7, 3], 'test vector: wire layout');
});

test('a block whose key classes differ in error rate (signal, decoy, vacuum in that order) decodes in every frame', () => {
  // The key string of a decoy-state block at ~1.9 % average QBER: signal bits at 1.66 %, then
  // decoy at 4 %, then vacuum at 50 %. Laid out without the scatter order, the decoy and vacuum
  // errors crowd the end of every frame and most frames exhaust their blind rounds.
  let x = 7;
  const rnd = () => ((x = (Math.imul(x, 1103515245) + 12345) >>> 0), x / 2 ** 32);
  // Three full frames of whatever key length the family plans at this QBER.
  const fr = frameKey(family, 0.019, 3 * frameKey(family, 0.019, 1).k);
  assert.is(fr.frames, 3);
  const n = fr.keyBits;
  const alice = new Uint8Array(n).map(() => (rnd() < 0.5 ? 1 : 0));
  const bob = alice.map((b, j) => (rnd() < (j < 0.938 * n ? 0.0166 : j < 0.998 * n ? 0.04 : 0.5) ? b ^ 1 : b));
  const pa = paddedKey(alice, fr);
  const pb = paddedKey(bob, fr);
  const frames = (p: Uint8Array) => Array.from({ length: fr.frames }, (_, f) => p.subarray(f * fr.k, (f + 1) * fr.k));
  const reports = reconcileLocal(family, 0.019, frames(pa), frames(pb), rnd);
  assert.equal(reports.map((r) => r.ok), [true, true, true], `rounds ${reports.map((r) => r.rounds)}`);
  const corrected = new Uint8Array(fr.frames * fr.k);
  reports.forEach((r, f) => corrected.set(r.key!, f * fr.k));
  const ok = new Uint8Array(fr.frames).fill(1);
  assert.equal(packKept(corrected, fr, ok, n), packKept(pa, fr, ok, n), 'both ends pack the same kept key');
  assert.ok(reports.every((r) => r.efficiency < 1.45), `f ${reports.map((r) => r.efficiency.toFixed(3))}`);
});

test('a failed frame costs all its real bits; kept bits are packed from decoded frames only', () => {
  const fr = frameKey(family, 0.02, 3 * 60_000);
  const ok = Uint8Array.of(1, 0, 1, 1).subarray(0, fr.frames);
  const leak = new Array(fr.frames).fill(1000);
  const nZ = { signal: 170_000, decoy: 9_000, vacuum: 1_000 };
  const none = new Array(fr.frames).fill(0);
  const acc = keptLeak(fr, leak, none, 0, ok, nZ);
  const dropped = realBits(fr, 1);
  assert.is(acc.dropped, dropped);
  assert.is(acc.kept, fr.keyBits - dropped);
  assert.ok(acc.leak > acc.ecLeak + dropped, 'class counts are charged too');
  // Bob's requests and flags are charged for every frame, the failed one too, and the end once.
  const bob = Array.from({ length: fr.frames }, (_, f) => 10 + f);
  const withBob = keptLeak(fr, leak, bob, 9, ok, nZ);
  assert.is(withBob.leak - acc.leak, 9 + bob.reduce((x, y) => x + y, 0));
  assert.is(withBob.kept, acc.kept);
  const bits = new Uint8Array(fr.frames * fr.k).fill(1);
  const packed = packKept(bits, fr, ok, acc.kept);
  assert.is(packed.length, Math.ceil(acc.kept / 8));
});

test('f counts the real key bits of the decoded frames, not the zeros that pad them', () => {
  // Two frames, each some 1000 bits short of the family's frame key length at this QBER.
  const real = frameKey(family, 0.02, 1).k - 1000;
  const fr = frameKey(family, 0.02, 2 * real);
  assert.is(fr.frames, 2);
  assert.ok(fr.k > real, 'frames are padded');
  const f = efficiency(fr, [5000, 5000], Uint8Array.of(1, 1), 0.02);
  assert.ok(Math.abs(f - 10_000 / (2 * real * binaryEntropy(0.02))) < 1e-9, `f ${f}`);
  assert.ok(Math.abs(efficiency(fr, [5000, 9999], Uint8Array.of(1, 0), 0.02) - 5000 / (real * binaryEntropy(0.02))) < 1e-9);
});

test('final key split: whole units first, the rest to the authentication ledger', () => {
  assert.is(unitsFor(10_000, 256, 2048), 31);
  const key = new Uint8Array(1250).map((_, i) => i & 255);
  const { unitBytes, auth } = splitFinalKey(key, 10_000, 31, 256);
  assert.is(unitBytes.length, 31 * 32);
  assert.is(auth.length, 1250 - 992);
  assert.is(auth[0], 992 & 255);
  assert.throws(() => splitFinalKey(key, 10_000, 40, 256), /do not fit/);
});

test('configuration: defaults, a bad value names its key, and the agreement digest ignores local settings', () => {
  const a = parseLinkConfig(base, '/tmp');
  assert.is(a.protocol.clockHz, 1e9);
  assert.is(a.security.epsSec, 1e-10);
  const b = parseLinkConfig({ ...base, role: 'bob', node: 'B', peer: 'A', board: { port: '/dev/ttyUSB1' }, address: { port: 7400 } }, '/tmp');
  assert.is(agreementDigest(a), agreementDigest(b));
  const c = parseLinkConfig({ ...base, security: { epsSec: 1e-9 } }, '/tmp');
  assert.is.not(agreementDigest(a), agreementDigest(c));
  const bad = (raw: object, key: string) => {
    try {
      parseLinkConfig({ ...base, ...raw }, '/tmp');
    } catch (e) {
      assert.instance(e, LinkConfigError);
      assert.is((e as LinkConfigError).key, key);
      return;
    }
    assert.unreachable(`accepted ${JSON.stringify(raw)}`);
  };
  bad({ role: 'eve' }, 'role');
  bad({ protocol: { mu: [0.1, 0.2, 0] } }, 'protocol.mu');
  bad({ psk: { hex: 'abcd' } }, 'psk');
  bad({ peer: 'A' }, 'peer');
  bad({ unitBits: 100 }, 'unitBits');
  bad({ psk: { hex: 'abc' } }, 'psk.hex');
  bad({ psk: {} }, 'psk');
  bad({ psk: undefined }, 'psk');
  bad({ role: undefined }, 'role');
  bad({ protocol: { clockHz: 1.5e6 + 0.5 } }, 'protocol.clockHz');
  bad({ protocol: { mu: [0.5, 0.2] } }, 'protocol.mu');
  bad({ security: { vacuumBound: 'loose' } }, 'security.vacuumBound');
  bad({ block: { siftedBits: 10 } }, 'block.siftedBits');
  bad({ address: { port: 70_000 } }, 'address.port');
  bad({ board: { serial: 'X' } }, 'board.port');
  bad({ security: { qberMax: Number.NaN } }, 'security.qberMax');
  bad({ protocol: { pMu: [Number.NaN, 0.5, 0.5] } }, 'protocol.pMu');
  // Keys the schema does not name pass through, as the node's link options carry their own.
  assert.is(parseLinkConfig({ ...base, type: 'qkd' }, '/tmp').role, 'alice');
  assert.equal(parseLinkConfig({ ...base, protocol: { mu: [0.5, 0.1, 0] } }, '/tmp').protocol.mu, [0.5, 0.1, 0]);
});

test('block mailbox: messages in order, a wrong type or a peer abort fails the block, a silent peer times out', async () => {
  const mb = new BlockMailbox(4, 50);
  mb.push({ t: 'sift.reply', b: 4, keep: new Uint8Array(0), cls: new Uint8Array(0) });
  const m = await mb.next(['sift.reply']);
  assert.is(m.t, 'sift.reply');
  const late = mb.next(['pe.result']);
  mb.push({ t: 'abort', b: 4, code: 'ERR_LINK_QBER', why: 'too noisy' });
  const err = await late.catch((e: Error & { code: string; fromPeer: boolean }) => e);
  assert.is((err as { code: string }).code, 'ERR_LINK_QBER');
  assert.ok((err as { fromPeer: boolean }).fromPeer);
  const silent = new BlockMailbox(5, 30);
  const e2 = await silent.next(['ec.done']).catch((e: { code: string }) => e);
  assert.is((e2 as { code: string }).code, 'ERR_LINK_TIMEOUT');
  const wrong = new BlockMailbox(6, 1000);
  const w = wrong.next(['ver.tag']);
  wrong.push({ t: 'ver.result', b: 6, ok: true });
  assert.is(((await w.catch((e: { code: string }) => e)) as { code: string }).code, 'ERR_LINK_PROTOCOL');
});

test('commit gate: blocks commit strictly in block order; a block that leaves early unblocks the next', async () => {
  const g = new CommitGate();
  const order: number[] = [];
  for (const b of [1, 2, 3]) g.enter(b);
  const t3 = g.turn(3).then(() => order.push(3));
  const t2 = g.turn(2).then(() => order.push(2));
  await new Promise((r) => setTimeout(r, 5));
  assert.equal(order, []);
  g.leave(1);
  await t2;
  assert.equal(order, [2]);
  g.leave(2);
  await t3;
  assert.equal(order, [2, 3]);
});

test('the key length subtracts the whole verification tag Alice discloses (64 bits per key), the same at both ends', () => {
  const c = parseLinkConfig(base, '/tmp');
  // A 10 km block of 2^21 sifted key bits (ε_cor = 1e-15: two 64-bit keys once more than ~1.18 Mbit are kept).
  const nZ = { signal: 1_200_000, decoy: 897_000, vacuum: 152 };
  const nX = { signal: 120_000, decoy: 89_700, vacuum: 15 };
  const eX = { signal: 1_200, decoy: 1_500, vacuum: 8 };
  const paper = (leakEC: number) => finiteKeyLength({ source: decoySource(c), key: { detections: nZ }, test: { detections: nX, errors: eX }, epsSec: c.security.epsSec, epsCor: c.security.epsCor, leakEC });
  const big = secretLength(c, nZ, nX, eX, 200_000, 2 ** 21);
  assert.is(big.terms.correctness, 128, 'a 128-bit tag for 2^21 kept bits');
  assert.ok(Math.abs(paper(200_000).length - big.length - (128 - Math.log2(2 / c.security.epsCor))) <= 1, `${paper(200_000).length} - ${big.length}: about 77.2 bits per block`);
  const small = secretLength(c, nZ, nX, eX, 200_000, 2 ** 20);
  assert.is(small.terms.correctness, 64, 'one key below ~1.18 Mbit kept');
  assert.ok(Math.abs(paper(200_000).length - small.length - (64 - Math.log2(2 / c.security.epsCor))) <= 1, 'about 13.2 bits');
});

test('a key block’s ε: ε_sec + ε_cor + ε_auth, ε_auth counting its frames and the forgeries the ledger allows', () => {
  const c = parseLinkConfig(base, '/tmp');
  const tagBits = 64 * c.security.macKeys;
  const b = blockSecurity(c, 100 * tagBits);
  // 100 frames, epochs ⌈100/64⌉ + 2 = 4, 64 allowed rejections each; one attempt ≈ ((2^23 + 3) / 2^64)^2 ≈ 2^-82.
  const one = ((Math.ceil((16 + 64 * 1024 * 1024) / 8) + 1) / 2 ** 64) ** 2;
  assert.ok(Math.abs(b.epsAuth - (100 + 64 * 4) * one) <= 1e-6 * b.epsAuth, String(b.epsAuth));
  assert.ok(Math.log2(one) < -81 && Math.log2(one) > -83);
  assert.is(b.epsPA, c.security.epsSec / 21);
  assert.is(b.total, c.security.epsSec + c.security.epsCor + b.epsAuth);
});

test.run();
