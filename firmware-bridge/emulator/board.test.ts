import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TransmitterBoard } from './transmitter.js';
import { ChannelModel, DEFAULT_DETECTOR, DEFAULT_FIBRE, DEFAULT_SOURCE, NO_EVE, type ChannelParams, type EmissionInterval } from './channel-model.js';
import { BoardDriver, settingsFromBytes } from '../driver/board-driver.js';
import { boardSlotDeltas, MAX_QUERY_SLOTS, SETTING_DARK, SETTING_EXPIRED, SETTING_FUTURE } from '../protocol/messages.js';
import { BridgeArgumentError } from '../errors.js';

const CHANNEL: ChannelParams = { seed: 5, source: DEFAULT_SOURCE, fibre: DEFAULT_FIBRE, detector: DEFAULT_DETECTOR, eve: NO_EVE };

test('transmitter settings: known, dark, expired and future slots across emissions of two sources, beyond 2^32', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'qkdn-board-test-'));
  // A shared epoch 100 s ago at 1 GHz: slots near 1e11, past 2^32, and the ring (2^36 slots) has expired the first 31 s.
  const board = new TransmitterBoard({ role: 'tx', serial: 'T1', link: join(dir, 'tx'), channel: CHANNEL, epochMs: Date.now() - 100_000 });
  let emissions: readonly EmissionInterval[] = [];
  board.onEmission = (e) => (emissions = e.map((x) => ({ ...x })));
  board.plugIn();
  const tx = await BoardDriver.open({ port: { path: join(dir, 'tx') } });
  try {
    await tx.configure({ clockHz: 1e9 });
    const a = await tx.start();
    assert.ok(a.firstSlot > 2 ** 36, `START reports the first slot ${a.firstSlot} (above 2^32: a CBOR uint64)`);
    await new Promise((r) => setTimeout(r, 20));
    // Another source while emitting: a new emission interval; then a pause and a third interval.
    await tx.configure({ pZ: 0.6, pMu: [0.4, 0.4, 0.2] });
    await new Promise((r) => setTimeout(r, 20));
    const stopped = await tx.stop();
    assert.ok(stopped.lastSlot > a.firstSlot, 'STOP reports the last slot');
    await new Promise((r) => setTimeout(r, 10));
    await tx.start();
    await new Promise((r) => setTimeout(r, 20));
    assert.is(emissions.length, 3);
    const [e0, e1, e2] = emissions as [EmissionInterval, EmissionInterval, EmissionInterval];
    assert.is(e0.to, e1.from);
    assert.ok(e1.to! < e2.from, 'a dark pause between the second and third interval');
    const now = e2.from + 15e6;
    const want: number[] = [];
    const slots: number[] = [];
    const add = (s: number, status: number) => {
      slots.push(s);
      want.push(status);
    };
    // Deltas stay below 2^32 (the protocol's limit): walk up to the first emission in 4e9 steps.
    // The ring's edge moves while the test runs: slots within 10 s of it may be either.
    const edge = e0.from - 2 ** 36;
    for (let s = edge - 12e9; s < e0.from - 1000; s += 4e9) add(s, s < edge ? SETTING_EXPIRED : s > edge + 10e9 ? SETTING_DARK : -1);
    add(e0.from - 1000, SETTING_DARK);
    for (const e of [e0, e1]) for (let s = e.from; s < e.to!; s += Math.floor((e.to! - e.from) / 2000)) add(s, 0);
    add(e1.to!, SETTING_DARK);
    add(e2.from - 1, SETTING_DARK);
    for (let s = e2.from; s < now; s += 7919) add(s, 0);
    add(now + 4.2e9, SETTING_FUTURE);
    add(now + 8.4e9, SETTING_FUTURE);
    const got = await tx.querySettings(slots);
    const models = emissions.map((e) => new ChannelModel({ ...CHANNEL, source: e.source }));
    let checked = 0;
    slots.forEach((s, i) => {
      if (want[i] === -1) assert.ok(got.status[i] === SETTING_EXPIRED || got.status[i] === SETTING_DARK, `status of slot ${s}`);
      else assert.is(got.status[i], want[i], `status of slot ${s}`);
      if (want[i] !== 0) return;
      const k = emissions.findIndex((e) => s >= e.from && s < (e.to ?? Infinity));
      const b = models[k]!.txSetting(s);
      assert.equal([got.value[i], got.basis[i], got.intensity[i]], [b & 1, (b >> 1) & 1, (b >> 2) & 3], `settings of slot ${s}`);
      checked++;
    });
    assert.ok(checked > 4000);
    // The second source (pZ 0.6) really is the one answered in its interval: about 40 % X.
    const inE1 = slots.map((s, i) => (s >= e1.from && s < e1.to! ? got.basis[i]! : -1)).filter((b) => b >= 0);
    const x = inE1.reduce((n, b) => n + b, 0) / inE1.length;
    assert.ok(x > 0.3 && x < 0.5, `X fraction ${x} in the pZ 0.6 interval`);
  } finally {
    await tx.close();
    board.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('settings for slots given as LEB128 deltas: the same answers as for the slots, malformed lists refused before sending', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'qkdn-board-test-'));
  const board = new TransmitterBoard({ role: 'tx', serial: 'T2', link: join(dir, 'tx'), channel: CHANNEL, epochMs: Date.now() - 10_000 });
  board.plugIn();
  const tx = await BoardDriver.open({ port: { path: join(dir, 'tx') } });
  try {
    await tx.configure({ clockHz: 1e9 });
    const a = await tx.start();
    // 30,000 slots (three queries), gaps of 1 to 5 varint bytes, some slots dark before START,
    // all in the past when asked (0.4 s of slots), so both queries get the same answers.
    const slots = new Float64Array(30_000);
    let s = a.firstSlot - 2_000_000;
    for (let i = 0; i < slots.length; i++) slots[i] = s += (i === 100 ? 300_000_000 : [0, 1, 57, 200, 20_000][i % 5]!) + (i % 3);
    await new Promise((r) => setTimeout(r, Math.ceil((s - a.firstSlot) / 1e6) + 50));
    const start = a.firstSlot - 2_000_123;
    const deltas = boardSlotDeltas('test').encode(start, slots);
    const want = await tx.querySettings(slots);
    const got = await tx.querySettingsDeltas(start, slots.length, deltas);
    assert.equal(got, want);
    // The same answer as wire bytes, written where asked in a caller's buffer.
    const raw = new Uint8Array(slots.length + 7).fill(0xff);
    assert.is(await tx.querySettingsBytes(start, slots.length, deltas, raw, 3), raw);
    assert.equal(settingsFromBytes(raw.subarray(3, 3 + slots.length)), want);
    assert.equal([...raw.subarray(0, 3), ...raw.subarray(3 + slots.length)], [255, 255, 255, 255, 255, 255, 255], 'nothing written outside its range');
    // A list the caller has checked goes out as one query, not walked again: same answer; more than
    // one query's worth is refused, and what the board cannot parse it refuses itself.
    const first = slots.subarray(0, MAX_QUERY_SLOTS);
    const one = new Uint8Array(first.length);
    await tx.querySettingsRun(start, first.length, boardSlotDeltas('test').encode(start, first), one, 0);
    assert.equal(settingsFromBytes(one), settingsFromBytes(raw.subarray(3, 3 + first.length)));
    const tooMany = await tx.querySettingsRun(start, slots.length, deltas, new Uint8Array(slots.length), 0).then(() => undefined, (x: unknown) => x);
    assert.ok(tooMany instanceof BridgeArgumentError && tooMany.argument === 'n', String(tooMany));
    const boardRefused = await tx.querySettingsRun(start, 2, Uint8Array.of(0x80), new Uint8Array(2), 0).then(() => undefined, (x: unknown) => x);
    assert.ok(boardRefused instanceof Error && !(boardRefused instanceof BridgeArgumentError), `the board's refusal: ${String(boardRefused)}`);
    assert.ok(want.status.includes(SETTING_DARK) && want.status.includes(0), 'dark and known slots both asked');
    const out0 = tx.stats.link.framesOut;
    const refused = async (st: number, n: number, d: Uint8Array, arg: string) => {
      const e = await tx.querySettingsDeltas(st, n, d).then(
        () => undefined,
        (x: unknown) => x,
      );
      assert.ok(e instanceof BridgeArgumentError && e.argument === arg, `${arg}: ${String(e)}`);
    };
    await refused(start, slots.length + 1, deltas, 'deltas'); // fewer deltas than slots
    await refused(start, slots.length - 1, deltas, 'deltas'); // bytes left over
    await refused(start, 2, Uint8Array.of(0x81, 0x00, 0x01), 'deltas'); // not minimal
    await refused(start, 1, Uint8Array.of(0x80), 'deltas'); // truncated
    await refused(-1, 1, Uint8Array.of(1), 'start');
    await refused(start, 1.5, Uint8Array.of(1), 'n');
    assert.is(tx.stats.link.framesOut, out0, 'nothing sent for a malformed list');
    assert.equal(await tx.querySettingsDeltas(start, 0, new Uint8Array(0)), await tx.querySettings([]));
  } finally {
    await tx.close();
    board.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
