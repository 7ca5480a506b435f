/**
 * The bridge's hardware-in-the-loop scenarios. Each is a function of a board factory: the tests
 * run every scenario on the emulated boards, and on real boards when the environment names them.
 * A scenario that needs the emulator's knobs (faults, unplugging, physics) says so and is skipped
 * on hardware.
 */
import * as assert from 'uvu/assert';
import { BoardDriver, DetectionGap, type AcquisitionItem, type BoardDriverOptions } from '../../firmware-bridge/driver/board-driver.js';
import { DetectionBatch } from '../../firmware-bridge/protocol/detections.js';
import { BoardError, PortBusyError, ProtocolVersionError, WrongBoardError } from '../../firmware-bridge/errors.js';
import { encodeFrame, rawFrame } from '../../firmware-bridge/protocol/frame.js';
import { cobsEncode } from '../../firmware-bridge/protocol/cobs.js';
import { MessageType, SETTING_DARK, type Telemetry } from '../../firmware-bridge/protocol/messages.js';
import type { SourceSettings } from '../../firmware-bridge/emulator/channel-model.js';
import type { EmulatedLinkOptions, EmulatorProcess } from '../../firmware-bridge/emulator/spawn.js';
import type { FaultCounts, FaultSettings } from '../../firmware-bridge/emulator/faults.js';
import type { BoardFactory, BoardSetup } from './board-factory.js';
import { setTimeout as sleep } from 'node:timers/promises';

export interface Scenario {
  readonly name: string;
  /** What the scenario needs beyond two boards; 'emulator' = fault knobs or physics control. */
  readonly needs?: 'emulator';
  run(factory: BoardFactory): Promise<void>;
}

/** 10 MHz keeps count rates (about 0.5 M/s at 10 km) easy for a loaded 2-core machine. */
export const SOURCE: SourceSettings = { clockHz: 10_000_000, mu: [0.5, 0.1, 0], pMu: [0.7, 0.2, 0.1], pZ: 0.9 };
const RX_CONFIG = { clockHz: SOURCE.clockHz, pZ: 0.9, gateNs: 0.5, biasV: 48, deadNs: 100, batchSlots: 1 << 15 };

interface Boards {
  readonly setup: BoardSetup;
  readonly tx: BoardDriver;
  readonly rx: BoardDriver;
}

async function withBoards(factory: BoardFactory, options: EmulatedLinkOptions, driver: Partial<BoardDriverOptions>, fn: (b: Boards) => Promise<void>): Promise<void> {
  const setup = await factory(options);
  let tx: BoardDriver | undefined;
  let rx: BoardDriver | undefined;
  try {
    tx = await BoardDriver.open({ port: setup.tx, role: 'tx', ...driver });
    rx = await BoardDriver.open({ port: setup.rx, role: 'rx', ...driver });
    await tx.configure({ clockHz: SOURCE.clockHz, mu: SOURCE.mu, pMu: SOURCE.pMu, pZ: SOURCE.pZ });
    await rx.configure(RX_CONFIG);
    await fn({ setup, tx, rx });
  } finally {
    await rx?.close();
    await tx?.close();
    await setup.close();
  }
}

interface Run {
  readonly batches: DetectionBatch[];
  readonly gaps: DetectionGap[];
  readonly events: number;
  readonly total: number;
  /** The transmitter's emission, [txFirst, txLast): outside it the receiver sees only dark counts. */
  readonly txFirst: number;
  readonly txLast: number;
}

/** Acquires for `ms` (tx first, as a link does), then stops both and drains the stream. */
async function acquire(b: Boards, ms: number, during?: (elapsedMs: number) => Promise<void> | void, consume?: (item: AcquisitionItem) => Promise<void>): Promise<Run> {
  const txFirst = (await b.tx.start()).firstSlot;
  const acq = await b.rx.start();
  let txLast = Infinity;
  const batches: DetectionBatch[] = [];
  const gaps: DetectionGap[] = [];
  let events = 0;
  const control = (async () => {
    const t0 = Date.now();
    if (during) await during(0);
    await sleep(Math.max(0, ms - (Date.now() - t0)));
  })();
  let total = -1;
  let failure: unknown;
  const stopper = control
    .then(async () => {
      total = (await b.rx.stop()).batches;
      txLast = (await b.tx.stop()).lastSlot;
    })
    .catch(async (e: unknown) => {
      // Keep what the driver saw: a failure here is only diagnosable from its log.
      const tail = b.rx.recentLog().slice(-15).map((l) => `  ${l.time % 100000} ${l.event}: ${l.message}`);
      failure = new Error(`${e instanceof Error ? e.message : String(e)}\nrx driver log:\n${tail.join('\n')}`, { cause: e });
      await b.rx.close(); // ends the stream below
    });
  for await (const item of acq) {
    if (consume) await consume(item);
    if (item.kind === 'batch') {
      batches.push(item);
      events += item.length;
    } else gaps.push(item);
  }
  await stopper;
  if (failure) throw failure;
  return { batches, gaps, events, total, txFirst, txLast };
}

/** Blocks this thread (no timers, no reads) for ms milliseconds, as a host busy elsewhere does. */
function blockThread(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** Batches are delivered once each, in order, and together with the gaps tile the slot axis. */
function assertTiling(r: Run, allowGaps: boolean): void {
  const items: Array<{ from: number; to: number; s: number; e: number }> = [
    ...r.batches.map((b) => ({ from: b.index, to: b.index + 1, s: b.slotStart, e: b.slotEnd })),
    ...r.gaps.map((g) => ({ from: g.fromBatch, to: g.toBatch, s: g.slotStart, e: g.slotEnd })),
  ].sort((a, b) => a.from - b.from);
  let next = 0;
  let slot = items[0]?.s ?? 0;
  for (const it of items) {
    assert.is(it.from, next, `batch ${next} is missing or repeated (found ${it.from})`);
    assert.is(it.s, slot, `slot range of batch ${it.from} starts at ${it.s}, previous ended at ${slot}`);
    next = it.to;
    slot = it.e;
  }
  assert.is(next, r.total, `delivered ${next} batches, the board produced ${r.total}`);
  if (!allowGaps) assert.is(r.gaps.length, 0, 'no gaps');
  for (const b of r.batches) for (let i = 1; i < b.length; i++) assert.ok(b.slots[i]! > b.slots[i - 1]!, 'slots increase');
}

/**
 * Turns a fault knob on until enough faults were injected (at least 700 ms), then off: on a
 * loaded machine the board sends fewer frames per second, so a fixed window could inject too few.
 */
async function faultsUntil(em: EmulatorProcess, faults: FaultSettings, enough: (c: FaultCounts) => boolean, maxMs = 8000): Promise<void> {
  const t0 = Date.now();
  await em.setFaults(faults);
  await sleep(700);
  while (!enough((await em.stats()).faults) && Date.now() - t0 < maxMs) await sleep(50);
  await em.setFaults({});
}

/** A consumer that stops pulling for `ms` at batch `index`; `over` resolves when it pulls again. */
function pauseAtBatch(index: number, ms: number): { consume: (item: AcquisitionItem) => Promise<void>; over: Promise<void> } {
  let done!: () => void;
  const over = new Promise<void>((r) => (done = r));
  let paused = false;
  return {
    over,
    async consume(item) {
      if (!paused && item.kind === 'batch' && item.index === index) {
        paused = true;
        await sleep(ms);
        done();
      }
    },
  };
}

async function waitFor(cond: () => boolean, maxMs: number): Promise<void> {
  const t0 = Date.now();
  while (!cond() && Date.now() - t0 < maxMs) await sleep(20);
}

async function expectReject(p: Promise<unknown>, check: (e: unknown) => boolean, what: string): Promise<unknown> {
  try {
    await p;
  } catch (e) {
    assert.ok(check(e), `${what}: got ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`);
    return e;
  }
  assert.unreachable(`${what}: no error`);
  return undefined;
}

export const scenarios: Scenario[] = [
  {
    name: 'handshake: identity, role and serial checks, refusals of bad requests',
    async run(factory) {
      await withBoards(factory, { seed: 11 }, {}, async ({ setup, tx, rx }) => {
        assert.is(tx.identity.role, 'tx');
        assert.is(rx.identity.role, 'rx');
        assert.equal(rx.identity.v, [1, 0]);
        assert.ok(rx.identity.caps.detectors === 4 && rx.identity.caps.maxBatchEvents > 0);
        assert.ok(tx.identity.caps.ringSlots > 0);
        await expectReject(BoardDriver.open({ port: setup.tx, role: 'tx' }), (e) => e instanceof PortBusyError, 'a second driver on the same port');
        await tx.close();
        await expectReject(BoardDriver.open({ port: setup.tx, role: 'rx', requestTimeoutMs: 300 }), (e) => e instanceof WrongBoardError, 'a tx opened as rx');
        await expectReject(BoardDriver.open({ port: setup.tx, serial: 'SOMEONE-ELSE', requestTimeoutMs: 300 }), (e) => e instanceof WrongBoardError, 'a tx with another serial');
        const tx2 = await BoardDriver.open({ port: setup.tx, role: 'tx', serial: tx.identity.serial });
        await expectReject(rx.querySettings([1, 2, 3]), (e) => e instanceof BoardError && e.boardCode === 'wrong-role', 'settings from a receiver');
        await expectReject(rx.configure({ clockHz: 5_000_000_000 }), (e) => e instanceof BoardError && e.boardCode === 'out-of-range' && /clockHz/.test(e.message), 'a 5 GHz clock');
        await expectReject(tx2.configure({ mu: [0.5, 0.1], pMu: [0.5, 0.2] }), (e) => e instanceof BoardError && e.boardCode === 'out-of-range', 'pMu not summing to 1');
        await tx2.close();
        const t = await rx.telemetry();
        assert.is(t.acquiring, false);
        assert.ok(t.temps.detector! < -30, 'detector is cold');
      });
    },
  },
  {
    name: 'version mismatch: a board speaking protocol 2.0 is refused with a clear message',
    needs: 'emulator',
    async run(factory) {
      const setup = await factory({ seed: 12, rxProtocol: [2, 0] });
      try {
        const e = (await expectReject(BoardDriver.open({ port: setup.rx, requestTimeoutMs: 300, retries: 1 }), (x) => x instanceof ProtocolVersionError, 'a 2.0 board')) as ProtocolVersionError;
        assert.match(e.message, /protocol 2/);
        assert.match(e.message, /major version\(s\) 1/);
        assert.is(e.code, 'ERR_BRIDGE_PROTOCOL_VERSION');
        // The board, for its part, answered our 1.x HELLO with ERROR unsupported-version in its own envelope.
        const stats = await setup.emulated!.rx.stats();
        assert.ok(stats.rejectedIn.version! >= 1, 'the 2.0 board rejected our version-1 frames');
      } finally {
        await setup.close();
      }
    },
  },
  {
    name: 'acquisition at 10, 50 and 100 km: counts per intensity class within statistical bounds of the model',
    async run(factory) {
      await withBoards(factory, { seed: 13 }, {}, async (b) => {
        for (const km of [10, 50, 100]) {
          if (b.setup.emulated) await b.setup.emulated.setChannel({ distanceKm: km });
          const ms = km === 100 ? 1200 : 500;
          const rates = [0, 0, 0, 0];
          const onTelemetry = (t: Telemetry) => t.acquiring && t.rates.forEach((x, j) => (rates[j]! += x));
          b.rx.on('telemetry', onTelemetry);
          // A loaded machine may deliver the periodic TELEMETRY late: acquire until rates worth some
          // thousands of clicks came (20 k/s over intervals of at least 250 ms).
          const r = await acquire(b, ms, async () => {
            for (let waited = 0; km === 10 && rates[0]! + rates[1]! + rates[2]! + rates[3]! < 20_000 && waited < 20_000; waited += 20) await sleep(20);
          });
          b.rx.off('telemetry', onTelemetry);
          assertTiling(r, false);
          // TELEMETRY's click rates per detector split like the delivered clicks.
          const clicks = [0, 0, 0, 0];
          for (const x of r.batches) for (let i = 0; i < x.length; i++) for (let j = 0; j < 4; j++) if (x.masks[i]! & (1 << j)) clicks[j]!++;
          const share = (v: number[]) => v.map((x) => x / v.reduce((a, y) => a + y, 0));
          if (km === 10) share(rates).forEach((f, j) => assert.ok(Math.abs(f - share(clicks)[j]!) < 0.03, `detector ${j}: ${(100 * f).toFixed(1)} % of the telemetry rate, ${(100 * share(clicks)[j]!).toFixed(1)} % of the clicks`));
          // Slots of the delivered batches while the transmitter emitted: the model's expectation is per slot.
          const slotsCovered = r.batches.reduce((a, x) => a + Math.max(0, Math.min(x.slotEnd, r.txLast) - Math.max(x.slotStart, r.txFirst)), 0);
          const detected = new Float64Array(r.events);
          let k = 0;
          for (const x of r.batches) for (let i = 0; i < x.length; i++) detected[k++] = x.slots[i]!;
          const settings = await b.tx.querySettings(detected);
          const perClass = [0, 0, 0];
          let zSignal = 0;
          let zErrors = 0;
          let i = 0;
          for (const x of r.batches) {
            for (let j = 0; j < x.length; j++, i++) {
              const s = detected[i]!;
              if (s < r.txFirst || s >= r.txLast) {
                // A dark count while the transmitter was not emitting (the receiver may start first).
                assert.is(settings.status[i], SETTING_DARK, `slot ${s} outside the emission [${r.txFirst}, ${r.txLast})`);
                continue;
              }
              assert.is(settings.status[i], 0, `the transmitter knows slot ${s}`);
              perClass[settings.intensity[i]!]!++;
              const ev = x.event(j);
              if (!ev.flags && ev.basis === 0 && settings.basis[i] === 0 && settings.intensity[i] === 0) {
                zSignal++;
                if (ev.value !== settings.value[i]) zErrors++;
              }
            }
          }
          const qber = zErrors / zSignal;
          const model = b.setup.channelModel(SOURCE, { distanceKm: km, deadNs: RX_CONFIG.deadNs, pZ: RX_CONFIG.pZ });
          if (model) {
            const exp = model.expectedEvents(slotsCovered, SOURCE.clockHz);
            exp.perClass.forEach((e, c) => {
              // 5 sigma of Poisson counting plus 2 % for the first-order dead-time and after-pulse terms.
              const tol = 5 * Math.sqrt(e) + 0.02 * e + 2;
              assert.ok(Math.abs(perClass[c]! - e) <= tol, `${km} km, class ${c}: ${perClass[c]} events, model ${e.toFixed(1)} +- ${tol.toFixed(1)}`);
            });
            const q = model.expectedQberZ();
            assert.ok(Math.abs(qber - q) < 0.01 + 5 * Math.sqrt((q * (1 - q)) / zSignal), `${km} km: QBER ${qber.toFixed(4)}, model ${q.toFixed(4)}`);
          } else {
            // Hardware without a model: decoys and vacuum must detect less than the signal.
            assert.ok(perClass[0]! > perClass[1]! && perClass[1]! > perClass[2]!);
            assert.ok(qber < 0.11, `QBER ${qber}`);
          }
        }
      });
    },
  },
  {
    name: 'fault knob corrupt: every corrupted frame rejected and counted exactly, nothing else lost',
    needs: 'emulator',
    async run(factory) {
      await withBoards(factory, { seed: 14 }, {}, async (b) => {
        const em = b.setup.emulated!;
        const r = await acquire(b, 900, async () => {
          await faultsUntil(em.rx, { corrupt: 0.05, seed: 3 }, (f) => f.corrupted >= 10);
        });
        const st = await em.rx.stats();
        assert.ok(st.faults.corrupted > 5, `only ${st.faults.corrupted} frames corrupted`);
        assert.is(b.rx.stats.link.rejected.crc, st.faults.corrupted, 'one CRC rejection per corrupted frame');
        const others = Object.entries(b.rx.stats.link.rejected).filter(([k, v]) => k !== 'crc' && v > 0);
        assert.equal(others, [], 'no other rejections');
        assertTiling(r, false);
        assert.is(r.events, st.eventsProduced, 'every event the board produced arrived once');
        assert.ok(b.rx.recentLog().some((l) => l.reason === 'crc'), 'rejections are logged');
      });
    },
  },
  {
    name: 'fault knob drop: lost frames are asked for again, nothing lost',
    needs: 'emulator',
    async run(factory) {
      await withBoards(factory, { seed: 15 }, {}, async (b) => {
        const em = b.setup.emulated!;
        const r = await acquire(b, 900, async () => {
          await faultsUntil(em.rx, { drop: 0.05, seed: 4 }, (f) => f.dropped >= 10);
        });
        const st = await em.rx.stats();
        assert.ok(st.faults.dropped > 5, `only ${st.faults.dropped} frames dropped`);
        const diag = `dropped ${st.faults.dropped} of ${st.framesOut} frames, ${st.batchesSent} batches sent; host asked ${b.rx.stats.resendRequests} times, board resent ${st.resentBatches}`;
        assert.ok(b.rx.stats.resendRequests > 0 && st.resentBatches > 0, diag);
        assertTiling(r, false);
        assert.is(r.events, st.eventsProduced);
      });
    },
  },
  {
    name: 'fault knobs duplicate and reorder: out-of-sequence frames rejected and counted exactly, no event twice',
    needs: 'emulator',
    async run(factory) {
      await withBoards(factory, { seed: 16 }, {}, async (b) => {
        const em = b.setup.emulated!;
        const r = await acquire(b, 900, async () => {
          await faultsUntil(em.rx, { duplicate: 0.04, reorder: 0.04, seed: 5 }, (f) => f.duplicated >= 6 && f.reordered >= 6);
        });
        await sleep(400); // a frame held back at the end goes out with the next telemetry
        const st = await em.rx.stats();
        assert.ok(st.faults.duplicated > 3 && st.faults.reordered > 3);
        assert.is(b.rx.stats.link.rejected.sequence, st.faults.duplicated + st.faults.reordered);
        assertTiling(r, false);
        assert.is(r.events, st.eventsProduced);
      });
    },
  },
  {
    name: 'fault knob stall: the driver reports the silence and the stream resumes intact',
    needs: 'emulator',
    async run(factory) {
      await withBoards(factory, { seed: 17 }, { stallTimeoutMs: 300 }, async (b) => {
        const em = b.setup.emulated!;
        const stalls: number[] = [];
        let ended = 0;
        b.rx.on('stall', (s) => stalls.push(s.silentMs));
        b.rx.on('stall-end', () => ended++);
        const r = await acquire(b, 1300, async () => {
          await sleep(200);
          await em.rx.stall(700);
        });
        assert.is(stalls.length, 1);
        assert.is(ended, 1);
        assertTiling(r, false);
        assert.is(r.events, (await em.rx.stats()).eventsProduced);
      });
    },
  },
  {
    name: 'fault knob disconnect and reappear: reconnected and resynchronised, no event twice, no gap',
    needs: 'emulator',
    async run(factory) {
      await withBoards(factory, { seed: 18 }, {}, async (b) => {
        const em = b.setup.emulated!;
        const seen: string[] = [];
        b.rx.on('disconnect', () => seen.push('disconnect'));
        b.rx.on('reconnect', (x) => seen.push(`reconnect resumed=${x.resumed}`));
        const r = await acquire(b, 1500, async () => {
          await sleep(300);
          await em.rx.unplug(400);
        });
        assert.equal(seen, ['disconnect', 'reconnect resumed=true']);
        assertTiling(r, false);
        assert.is(r.events, (await em.rx.stats()).eventsProduced);
        assert.is(b.rx.stats.reconnects, 1);
      });
    },
  },
  {
    name: 'batches the board no longer holds are reported as gaps with their slot ranges',
    needs: 'emulator',
    async run(factory) {
      await withBoards(factory, { seed: 19, replayBatches: 4 }, {}, async (b) => {
        const em = b.setup.emulated!;
        const gapEvents: DetectionGap[] = [];
        b.rx.on('gap', (g) => gapEvents.push(g));
        const r = await acquire(b, 900, async () => {
          await sleep(100);
          // The host stops reading for a while (busy elsewhere): the board keeps sending what the
          // credit allows into its queue and the pty. Then the cable goes with that backlog in
          // flight, far more than the 4 batches the board replays. (A host that keeps up has next to
          // nothing in flight when the cable goes, and loses nothing.)
          blockThread(200);
          const unplugged = em.rx.unplug(500);
          blockThread(150); // the board acts on the unplug while this side still reads nothing
          await unplugged;
        });
        assert.ok(r.gaps.length > 0, 'a gap was reported');
        assert.equal(gapEvents.map((g) => g.fromBatch), r.gaps.map((g) => g.fromBatch));
        assert.ok(r.gaps.every((g) => g.reason === 'lost' && g.slotEnd > g.slotStart));
        assertTiling(r, true);
      });
    },
  },
  {
    name: 'back-pressure: a consumer that stops pulling stops the stream; past the FIFO the board counts lost events and raises an alarm',
    needs: 'emulator',
    async run(factory) {
      await withBoards(factory, { seed: 20, fifoBatches: 16 }, { creditWindow: 8 }, async (b) => {
        const alarms: string[] = [];
        b.rx.on('alarm', (a) => alarms.push(`${a.code}${a.clear ? ' clear' : ''}`));
        const pause = pauseAtBatch(2, 400); // 400 ms of 3.3 ms batches: far past 8 of credit and 16 in the FIFO
        const r = await acquire(
          b,
          800,
          async () => {
            // Run on until the pause is over and the board has drained its FIFO (slow on a loaded machine).
            await pause.over;
            await waitFor(() => alarms.includes('fifo-overflow clear'), 8000);
          },
          pause.consume,
        );
        const st = await b.setup.emulated!.rx.stats();
        assert.ok(st.eventsOverflowed > 0, 'the board lost events to overflow');
        assert.is(b.rx.stats.eventsOverflowed, st.eventsOverflowed, 'the batches report every lost event');
        assert.ok(alarms.includes('fifo-overflow') && alarms.includes('fifo-overflow clear'), alarms.join());
        assertTiling(r, false);
      });
    },
  },
  {
    name: "back-pressure with the emulator's 'stretch' option: a stalled consumer stretches the board's time, no event lost",
    needs: 'emulator',
    async run(factory) {
      await withBoards(factory, { seed: 23, fifoBatches: 16, backpressure: 'stretch' }, { creditWindow: 8 }, async (b) => {
        const alarms: string[] = [];
        b.rx.on('alarm', (a) => alarms.push(a.code));
        const pause = pauseAtBatch(2, 400);
        const r = await acquire(
          b,
          800,
          async () => {
            await pause.over;
            await sleep(200);
          },
          pause.consume,
        );
        const st = await b.setup.emulated!.rx.stats();
        assert.is(st.eventsOverflowed, 0, 'no event lost to overflow');
        assert.equal(alarms, [], 'no fifo-overflow alarm');
        assert.ok(st.dilationSlots > 0, 'the board stretched its time');
        assertTiling(r, false);
        assert.is(r.events, st.eventsProduced);
      });
    },
  },
  {
    name: 'bad input: truncated, oversized, unknown, out-of-sequence and malformed frames are counted, logged and never become events',
    needs: 'emulator',
    async run(factory) {
      await withBoards(factory, { seed: 21 }, {}, async (b) => {
        const em = b.setup.emulated!;
        const before = { ...b.rx.stats.link.rejected };
        const delivered = b.rx.stats.eventsDelivered;
        const stale = cobsEncode(rawFrame(MessageType.DETECTIONS, 0x80000000 + b.rx.stats.link.framesIn, new Uint8Array([0xa0])));
        // Framing-level garbage straight onto the line.
        for (const x of [
          Uint8Array.of(0x03, 1, 2, 0), // truncated
          new Uint8Array(70_000).fill(0x41), // oversized ...
          Uint8Array.of(0), // ... until this delimiter
          encodeFrame(0x55, 1, Uint8Array.of(0xa0)), // unknown type
          stale, // a sequence number half the number space behind: out of sequence
        ])
          await em.rx.inject(x);
        // Malformed messages in correct frames, in sequence (a firmware bug).
        await em.rx.sendMessage(MessageType.DETECTIONS, Uint8Array.of(0xa1, 0x61, 0x69, 0x05)); // fields missing
        await em.rx.sendMessage(MessageType.ALARM, Uint8Array.of(0xc1, 0x00)); // a tag: refused by the CBOR limits
        await em.rx.sendMessage(MessageType.DETECTIONS, new Uint8Array(0)); // empty payload
        await sleep(300);
        const after = b.rx.stats.link.rejected;
        assert.is(after.truncated - before.truncated, 1);
        assert.is(after.oversized - before.oversized, 1);
        assert.is(after['unknown-type'] - before['unknown-type'], 1);
        assert.is(after['bad-payload'] - before['bad-payload'], 3);
        assert.is(after.sequence - before.sequence, 1);
        assert.is(b.rx.stats.eventsDelivered, delivered);
        // The driver still works.
        const t = await b.rx.telemetry();
        assert.is(t.acquiring, false);
      });
    },
  },
  {
    name: 'alarms from the board arrive as typed events',
    needs: 'emulator',
    async run(factory) {
      await withBoards(factory, { seed: 22 }, {}, async (b) => {
        const got: Array<{ code: string; sev: string; clear?: boolean }> = [];
        b.tx.on('alarm', (a) => got.push({ code: a.code, sev: a.sev, ...(a.clear ? { clear: true } : {}) }));
        await b.setup.emulated!.tx.alarm('laser-interlock', 'critical', 'interlock open');
        await b.setup.emulated!.tx.alarm('laser-interlock', 'info', 'interlock closed', true);
        const t0 = Date.now();
        while (got.length < 2 && Date.now() - t0 < 2000) await sleep(10);
        assert.equal(got, [
          { code: 'laser-interlock', sev: 'critical' },
          { code: 'laser-interlock', sev: 'info', clear: true },
        ]);
      });
    },
  },
];
