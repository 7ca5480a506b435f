/**
 * `npm run bench -- bridge`: detection events per second carried from the emulated receiver,
 * through a real pseudo-terminal, to decoded DetectionBatch objects in this process, and what it
 * costs in CPU on each side. The emulator runs a 1 GHz source at 10 km (about 45 M clicks per
 * second of emulated time): far more than one core can draw, so it stretches its time and the
 * figure is the pipeline's capacity. The receiver runs with backpressure 'stretch' (it waits for
 * credit rather than drop), so the rate is what is carried without loss; overflow_events, which
 * must stay 0, would show otherwise. CPU: host_* is this process (serialport read, COBS, CRC,
 * CBOR, batch objects; batches keep their wire deltas, and the bench, like the link, does not ask
 * for their slots), emulator_* the receiver process (drawing the physics, encoding, writing).
 * query_*: QUERY_SETTINGS (12,000-slot chunks, 4 streams in flight) to the emulated transmitter
 * over its pty, by slot numbers (querySettings): slots answered per second and the CPU per slot
 * of this process (driver) and of the transmitter process; query_deltas_*: the same slots asked
 * with querySettingsDeltas (LEB128 deltas as a sift announcement carries them, never decoded);
 * query_bytes_*: as the link asks them (one checked query per part, querySettingsRun, answers
 * kept as SETTINGS bytes), the path bridge_host_cpu_s_per_source_s counts.
 * mode 'link-boards': both boards at the QKD link's settings, every detection queried as the link
 * queries them; emulator_cores_real_time is their CPU per source-second (QKDN_BRIDGE_ONLY=boards
 * runs only this line).
 */
import type { BenchContext, BenchRecord, BenchSuite } from '../../host/bench/benchmark.js';
import { median, round } from '../../host/bench/benchmark.js';
import { BoardDriver, type TransmitterSettings } from '../../firmware-bridge/driver/board-driver.js';
import { EmulatedLink } from '../../firmware-bridge/emulator/spawn.js';
import { FrameDecoder, encodeFrame } from '../../firmware-bridge/protocol/frame.js';
import { decodeDetections, encodeDetections, DetectionBatch } from '../../firmware-bridge/protocol/detections.js';
import { ChannelModel, DetectionGenerator, DEFAULT_DETECTOR, DEFAULT_SOURCE, type SourceSettings } from '../../firmware-bridge/emulator/channel-model.js';
import { DetectionKernel } from '../../firmware-bridge/emulator/detection-kernel.js';
import { boardSlotDeltas, MAX_QUERY_SLOTS, MessageType } from '../../firmware-bridge/protocol/messages.js';
import { processCpuSeconds } from '../../host/bench/cpu-time.js';
import { DEFAULT_PROTOCOL as LINK_PROTOCOL } from '../../host/qkd-link/module/config.js';

interface Measure {
  events: number;
  seconds: number;
  hostCpu: number;
  emulatorCpu: number;
  bytes: number;
  overflow: number;
}

async function measure(link: EmulatedLink, tx: BoardDriver, rx: BoardDriver, seconds: number, warmup: number): Promise<Measure> {
  await tx.start();
  const acq = await rx.start();
  let events = 0;
  let t0 = 0;
  let cpu0 = process.cpuUsage();
  let emu0 = 0;
  let bytes0 = 0;
  let started = false;
  const tStart = performance.now();
  let result: Measure | undefined;
  let stopping: Promise<unknown> | undefined;
  for await (const item of acq) {
    if (item.kind !== 'batch') continue;
    const now = performance.now();
    if (!started && now - tStart >= warmup * 1000) {
      started = true;
      t0 = now;
      cpu0 = process.cpuUsage();
      emu0 = processCpuSeconds(link.rx.pid);
      bytes0 = rx.stats.link.bytesIn;
      events = 0;
      continue;
    }
    events += item.length;
    if (started && !result && now - t0 >= seconds * 1000) {
      const cpu = process.cpuUsage(cpu0);
      const dt = (now - t0) / 1000;
      result = {
        events,
        seconds: dt,
        hostCpu: (cpu.user + cpu.system) / 1e6,
        emulatorCpu: processCpuSeconds(link.rx.pid) - emu0,
        bytes: rx.stats.link.bytesIn - bytes0,
        overflow: 0,
      };
      stopping = rx.stop().then(() => tx.stop());
    }
  }
  await stopping;
  result!.overflow = (await link.rx.stats()).eventsOverflowed;
  return result!;
}

/** Settings queries in flight, as the link keeps them (host/qkd-link/module/block/alice.ts SETTINGS_STREAMS). */
const QUERY_STREAMS = 4;

interface QueryMeasure {
  slots: number;
  seconds: number;
  hostCpu: number;
  emulatorCpu: number;
  dark: number;
}

/**
 * Settings queries over a block of detection slots ~50 apart (10 km at 1 GHz) inside what the
 * transmitter has emitted since START, `streams` queries in flight:
 * - 'bytes', as the link asks them (host/qkd-link/module/block/alice.ts): the block's deltas cut into
 *   parts of one MAX_QUERY_SLOTS query each, the streams taking the next part as one finishes,
 *   querySettingsRun answering into one buffer of SETTINGS bytes;
 * - 'slots' and 'deltas': the block in `streams` contiguous parts, each a querySettings (slot
 *   numbers) or querySettingsDeltas call that sends its queries one after another and unpacks the
 *   answers per slot.
 */
async function measureQueries(link: EmulatedLink, tx: BoardDriver, firstSlot: number, blockSlots: number, streams: number, seconds: number, mode: 'slots' | 'deltas' | 'bytes'): Promise<QueryMeasure> {
  const block = new Float64Array(blockSlots);
  const spacing = 50;
  const size = Math.ceil(blockSlots / streams);
  const pattern = (i: number) => i * spacing + (i % 7);
  // 'deltas': each stream's slots as a peer's announcement carries them, LEB128 from the slot
  // before its first; the same bytes for every block (only the base moves), so encoded once here.
  const per = mode === 'bytes' ? MAX_QUERY_SLOTS : size;
  const parts = Array.from({ length: Math.ceil(blockSlots / per) }, (_, k) => {
    const from = k * per;
    const to = Math.min(blockSlots, from + per);
    const rel = Float64Array.from({ length: to - from }, (_, i) => pattern(from + i));
    return { from, n: to - from, deltas: boardSlotDeltas('bench').encode(pattern(from) - 1, rel) };
  });
  // The tx emits from firstSlot on its wall clock: wait until a whole block lies in the past.
  const clockHz = 1e9;
  await new Promise((r) => setTimeout(r, Math.ceil((blockSlots * spacing * 1000) / clockHz) + 20));
  let cursor = firstSlot;
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const emu0 = processCpuSeconds(link.tx.pid);
  let slots = 0;
  let dark = 0;
  while (performance.now() - t0 < seconds * 1000) {
    if (cursor + blockSlots * spacing > firstSlot + ((performance.now() - t0) * clockHz) / 1000) cursor = firstSlot;
    let answers: TransmitterSettings[];
    if (mode === 'bytes') {
      const out = new Uint8Array(blockSlots);
      let next = 0;
      const stream = async (): Promise<void> => {
        for (let i = next++; i < parts.length; i = next++) await tx.querySettingsRun(cursor + pattern(parts[i]!.from) - 1, parts[i]!.n, parts[i]!.deltas, out, parts[i]!.from);
      };
      await Promise.all(Array.from({ length: streams }, stream));
      for (let i = 0; i < out.length; i++) if (out[i]! & 0xe0) dark++;
      answers = [];
    } else if (mode === 'slots') {
      for (let i = 0; i < blockSlots; i++) block[i] = cursor + pattern(i);
      answers = await Promise.all(parts.map((p) => tx.querySettings(block.subarray(p.from, p.from + p.n))));
    } else {
      answers = await Promise.all(parts.map((p) => tx.querySettingsDeltas(cursor + pattern(p.from) - 1, p.n, p.deltas)));
    }
    cursor += blockSlots * spacing;
    for (const a of answers) for (let i = 0; i < a.status.length; i++) if (a.status[i] !== 0) dark++;
    slots += blockSlots;
  }
  const cpu = process.cpuUsage(cpu0);
  return { slots, seconds: (performance.now() - t0) / 1000, hostCpu: (cpu.user + cpu.system) / 1e6, emulatorCpu: processCpuSeconds(link.tx.pid) - emu0, dark };
}

interface BoardsMeasure {
  sourceS: number;
  seconds: number;
  events: number;
  queried: number;
  rxCpu: number;
  txCpu: number;
  dark: number;
  overflow: number;
}

/**
 * Both emulated boards as the QKD link drives them at 10 km (host/qkd-link/module DEFAULT_PROTOCOL:
 * its source, 2^22-slot batches, 50 ns dead time): the receiver streams its detections, and every
 * detected slot is asked of the transmitter as the link's Alice asks Bob's announced slots (the
 * batch's wire deltas as they are, querySettingsBytes, 4 queries in flight). The boards' CPU per
 * second of source time is what emulator_cores_real_time of the link bench counts.
 */
async function measureBoards(link: EmulatedLink, tx: BoardDriver, rx: BoardDriver, seconds: number, warmup: number): Promise<BoardsMeasure> {
  await tx.start();
  const acq = await rx.start();
  const tStart = performance.now();
  let started = false;
  let t0 = 0;
  let slot0 = 0;
  let rx0 = 0;
  let tx0 = 0;
  let events = 0;
  let queried = 0;
  let dark = 0;
  let done = false;
  let result: BoardsMeasure | undefined;
  const pending: DetectionBatch[] = [];
  const waiting: Array<() => void> = [];
  const wake = () => waiting.splice(0).forEach((w) => w());
  // The queries run beside the intake, QUERY_STREAMS at a time, as the link's Alice runs them.
  const stream = async (): Promise<void> => {
    for (;;) {
      const b = pending.shift();
      if (!b) {
        if (done) return;
        await new Promise<void>((r) => waiting.push(r));
        continue;
      }
      const out = await tx.querySettingsBytes(b.slotStart, b.length, b.deltas);
      if (started) {
        queried += b.length;
        for (let i = 0; i < out.length; i++) if (out[i]! & 0xe0) dark++;
      }
    }
  };
  const streams = Promise.all(Array.from({ length: QUERY_STREAMS }, stream));
  let stopping: Promise<unknown> | undefined;
  for await (const item of acq) {
    if (item.kind !== 'batch') continue;
    const now = performance.now();
    if (!started && now - tStart >= warmup * 1000) {
      started = true;
      t0 = now;
      slot0 = item.slotEnd;
      rx0 = processCpuSeconds(link.rx.pid);
      tx0 = processCpuSeconds(link.tx.pid);
      continue;
    }
    if (!result) {
      pending.push(item);
      wake();
    }
    if (!started) continue;
    events += item.length;
    if (!result && now - t0 >= seconds * 1000) {
      done = true;
      wake();
      await streams;
      result = {
        sourceS: (item.slotEnd - slot0) / 1e9,
        seconds: (performance.now() - t0) / 1000,
        events,
        queried,
        rxCpu: processCpuSeconds(link.rx.pid) - rx0,
        txCpu: processCpuSeconds(link.tx.pid) - tx0,
        dark,
        overflow: 0,
      };
      stopping = rx.stop().then(() => tx.stop());
    }
  }
  await stopping;
  result!.overflow = (await link.rx.stats()).eventsOverflowed;
  return result!;
}

/** The QKD link's source (host/qkd-link/module DEFAULT_PROTOCOL) at 10 km, 1 GHz: ~20 M receiver events per source-second. */
const LINK_SOURCE: SourceSettings = { clockHz: 1e9, mu: [0.45, 0.2, 0], pMu: [0.3, 0.5, 0.2], pZ: 0.85 };

/** CPU seconds of this process to draw `sourceS` seconds of the link's detections, and the events drawn. */
function drawDetections(kind: 'kernel' | 'twin', sourceS: number): { cpu: number; events: number } {
  const model = new ChannelModel({ seed: 3, source: LINK_SOURCE, fibre: { distanceKm: 10, attenuationDbPerKm: 0.2 }, detector: { ...DEFAULT_DETECTOR, pZ: 0.8 }, eve: { interceptFraction: 0 } });
  const emissions = [{ from: 0, to: Infinity, source: LINK_SOURCE }];
  const g = kind === 'kernel' ? new DetectionKernel(model, 0, 1e9, emissions, 1) : new DetectionGenerator(model, 0, 1e9, emissions, 1);
  const slots = new Float64Array(16384);
  const masks = new Uint8Array(16384);
  let events = 0;
  const c0 = process.cpuUsage();
  // Batches of 2^22 slots, as the link's receiver is configured (batchSlots).
  for (let end = 1 << 22; end <= sourceS * 1e9; end += 1 << 22) {
    for (let r = g.generate(end, slots, masks, 0, slots.length); ; r = g.generate(end, slots, masks, 0, slots.length)) {
      events += r.n;
      if (r.stoppedAt >= end) break;
    }
  }
  const c = process.cpuUsage(c0);
  return { cpu: (c.user + c.system) / 1e6, events };
}

/** Decoding alone, in this process, on frames the emulator's encoder produced: the decoder's headroom. */
function decodeOnly(quick: boolean, withSlots: boolean): { eventsPerS: number; mbps: number } {
  const model = new ChannelModel({ seed: 1, source: DEFAULT_SOURCE, fibre: { distanceKm: 10, attenuationDbPerKm: 0.2 }, detector: { ...DEFAULT_DETECTOR, deadNs: 10 }, eve: { interceptFraction: 0 } });
  const g = new DetectionGenerator(model, 0, 1e9, [{ from: 0, to: Infinity, source: DEFAULT_SOURCE }], 1);
  const slots = new Float64Array(8192);
  const masks = new Uint8Array(8192);
  const frames: Uint8Array[] = [];
  let slot = 0;
  let n = 0;
  for (let i = 0; i < (quick ? 50 : 400); i++) {
    const r = g.generate(slot + (1 << 20), slots, masks, 0, 8192);
    frames.push(encodeFrame(MessageType.DETECTIONS, i + 1, encodeDetections(new DetectionBatch(1, i, slot, r.stoppedAt, slots.subarray(0, r.n), masks.subarray(0, r.n)))));
    slot = r.stoppedAt;
    n += r.n;
  }
  const wire = Buffer.concat(frames);
  const times: number[] = [];
  for (let run = 0; run < (quick ? 2 : 5); run++) {
    let k = 0;
    // withSlots: also decode every batch's slots (batches keep the wire deltas and decode slots on first use).
    const d = new FrameDecoder({ frame: (f) => (k += withSlots ? decodeDetections(f.payload).slots.length : decodeDetections(f.payload).length), reject: () => {} });
    const t0 = performance.now();
    // 4 KB reads, as a pty delivers them.
    for (let o = 0; o < wire.length; o += 4096) d.push(wire.subarray(o, o + 4096));
    times.push((performance.now() - t0) / 1000);
    if (k !== n) throw new Error(`decoded ${k} of ${n} events`);
  }
  const t = median(times);
  return { eventsPerS: n / t, mbps: (wire.length * 8) / t / 1e6 };
}

export const suite: BenchSuite = {
  name: 'bridge',
  description: 'detection events through a pty: emulated receiver -> serialport 13 -> decoded batches',
  async *run(ctx): AsyncIterable<BenchRecord> {
    const runs = ctx.quick ? 1 : 3;
    const seconds = ctx.quick ? 1 : 4;
    // QKDN_BRIDGE_ONLY=boards: only the link-boards line (both boards as the link drives them).
    if (process.env.QKDN_BRIDGE_ONLY !== 'boards') yield* pipelineAndDraw(ctx, runs, seconds);
    yield await linkBoards(ctx, runs, seconds);
  },
};

/** Both boards at the link's settings, 10 km: the cores the emulation needs for real time. */
async function linkBoards(ctx: BenchContext, runs: number, seconds: number): Promise<BenchRecord> {
  ctx.progress('both boards as the link drives them (10 km)');
  const p = LINK_PROTOCOL;
  const link = await EmulatedLink.start({ seed: 11, distanceKm: 10, backpressure: 'stretch' });
  const tx = await BoardDriver.open({ port: { path: link.tx.path } });
  const rx = await BoardDriver.open({ port: { path: link.rx.path } });
  try {
    await tx.configure({ clockHz: p.clockHz, mu: [...p.mu], pMu: [...p.pMu], pZ: p.pZ });
    await rx.configure({ clockHz: p.clockHz, pZ: p.rxPZ, deadNs: p.deadNs, batchSlots: p.batchSlots });
    const ms: BoardsMeasure[] = [];
    for (let r = 0; r < runs; r++) {
      ctx.progress(`run ${r + 1}/${runs}: ${seconds} s of acquisition and settings queries`);
      ms.push(await measureBoards(link, tx, rx, seconds, 1));
    }
    const cores = median(ms.map((m) => (m.rxCpu + m.txCpu) / m.sourceS));
    return {
      suite: 'bridge',
      mode: 'link-boards',
      clock_hz: p.clockHz,
      distance_km: 10,
      seconds,
      runs,
      events_per_source_s: Math.round(median(ms.map((m) => m.events / m.sourceS))),
      queried_per_source_s: Math.round(median(ms.map((m) => m.queried / m.sourceS))),
      // Seconds of source time per wall second (below 1: the boards stretched their time).
      source_real_time: round(median(ms.map((m) => m.sourceS / m.seconds)), 3),
      // CPU-seconds of both board processes per source-second: the cores they need for real time.
      emulator_cores_real_time: round(cores, 2),
      rx_cores_real_time: round(median(ms.map((m) => m.rxCpu / m.sourceS)), 2),
      tx_cores_real_time: round(median(ms.map((m) => m.txCpu / m.sourceS)), 2),
      rx_ns_per_event: round(median(ms.map((m) => (m.rxCpu * 1e9) / Math.max(1, m.events))), 1),
      tx_ns_per_slot: round(median(ms.map((m) => (m.txCpu * 1e9) / Math.max(1, m.queried))), 1),
      overflow_events: ms.reduce((a, m) => a + m.overflow, 0),
      query_unknown_settings: ms.reduce((a, m) => a + m.dark, 0),
      load_avg_1m: round((await import('node:os')).loadavg()[0]!, 2),
    };
  } finally {
    await rx.close();
    await tx.close();
    await link.close();
  }
}

async function* pipelineAndDraw(ctx: BenchContext, runs: number, seconds: number): AsyncIterable<BenchRecord> {
  {
    ctx.progress('starting emulated boards');
    // 'stretch': past a full FIFO the emulator waits instead of dropping, so the figure is what the
    // pipeline carries without loss (overflow_events stays 0).
    const link = await EmulatedLink.start({ seed: 7, detector: { deadNs: 10, afterpulseProbability: 0.01 }, backpressure: 'stretch' });
    const tx = await BoardDriver.open({ port: { path: link.tx.path } });
    const rx = await BoardDriver.open({ port: { path: link.rx.path }, creditWindow: 128 });
    try {
      await tx.configure({ clockHz: 1_000_000_000 });
      await rx.configure({ clockHz: 1_000_000_000, deadNs: 10, batchSlots: 1 << 20 });
      const ms: Measure[] = [];
      for (let r = 0; r < runs; r++) {
        ctx.progress(`run ${r + 1}/${runs}: ${seconds} s of acquisition`);
        ms.push(await measure(link, tx, rx, seconds, 0.5));
      }
      const rate = median(ms.map((m) => m.events / m.seconds));
      // Settings queries while the transmitter keeps emitting (the acquisition above stopped it).
      const txAcq = await tx.start();
      const qs: QueryMeasure[] = [];
      const qd: QueryMeasure[] = [];
      const qb: QueryMeasure[] = [];
      for (let r = 0; r < runs; r++) {
        ctx.progress(`settings queries, run ${r + 1}/${runs}`);
        qs.push(await measureQueries(link, tx, txAcq.firstSlot, 4 * QUERY_STREAMS * MAX_QUERY_SLOTS, QUERY_STREAMS, seconds / 2, 'slots'));
        qd.push(await measureQueries(link, tx, txAcq.firstSlot, 4 * QUERY_STREAMS * MAX_QUERY_SLOTS, QUERY_STREAMS, seconds / 2, 'deltas'));
        qb.push(await measureQueries(link, tx, txAcq.firstSlot, 4 * QUERY_STREAMS * MAX_QUERY_SLOTS, QUERY_STREAMS, seconds / 2, 'bytes'));
      }
      await tx.stop();
      const d = decodeOnly(ctx.quick, false);
      const ds = decodeOnly(ctx.quick, true);
      const hostCpuPct = median(ms.map((m) => (100 * m.hostCpu) / m.seconds));
      yield {
        suite: 'bridge',
        mode: 'pty-pipeline',
        clock_hz: 1_000_000_000,
        distance_km: 10,
        seconds,
        runs,
        events_per_s: Math.round(rate),
        required_events_per_s: 2_000_000,
        mbps: round(median(ms.map((m) => (m.bytes * 8) / m.seconds / 1e6)), 1),
        bytes_per_event: round(median(ms.map((m) => m.bytes / Math.max(1, m.events))), 2),
        host_cpu_pct: round(hostCpuPct, 1),
        host_ns_per_event: round(median(ms.map((m) => (m.hostCpu * 1e9) / Math.max(1, m.events))), 1),
        emulator_cpu_pct: round(median(ms.map((m) => (100 * m.emulatorCpu) / m.seconds)), 1),
        emulator_ns_per_event: round(median(ms.map((m) => (m.emulatorCpu * 1e9) / Math.max(1, m.events))), 1),
        overflow_events: ms.reduce((a, m) => a + m.overflow, 0),
        decode_only_events_per_s: Math.round(d.eventsPerS),
        decode_only_mbps: round(d.mbps, 1),
        decode_only_with_slots_events_per_s: Math.round(ds.eventsPerS),
        decode_headroom: round(d.eventsPerS / rate, 1),
        query_slots_per_s: Math.round(median(qs.map((q) => q.slots / q.seconds))),
        query_chunk_slots: MAX_QUERY_SLOTS,
        query_in_flight: QUERY_STREAMS,
        query_host_ns_per_slot: round(median(qs.map((q) => (q.hostCpu * 1e9) / Math.max(1, q.slots))), 1),
        query_emulator_ns_per_slot: round(median(qs.map((q) => (q.emulatorCpu * 1e9) / Math.max(1, q.slots))), 1),
        query_deltas_slots_per_s: Math.round(median(qd.map((q) => q.slots / q.seconds))),
        query_deltas_host_ns_per_slot: round(median(qd.map((q) => (q.hostCpu * 1e9) / Math.max(1, q.slots))), 1),
        // The link's path: one checked query per part, answers kept as SETTINGS bytes.
        query_bytes_slots_per_s: Math.round(median(qb.map((q) => q.slots / q.seconds))),
        query_bytes_host_ns_per_slot: round(median(qb.map((q) => (q.hostCpu * 1e9) / Math.max(1, q.slots))), 1),
        query_unknown_settings: [...qs, ...qd, ...qb].reduce((a, q) => a + q.dark, 0),
        // What the bridge costs the host per second of a 1 GHz source at 10 km: about 20 M events in
        // and 20 M slots queried the link's way.
        bridge_host_cpu_s_per_source_s: round(20e6 * (median(ms.map((m) => m.hostCpu / Math.max(1, m.events))) + median(qb.map((q) => q.hostCpu / Math.max(1, q.slots)))), 2),
        cpus: (await import('node:os')).cpus().length,
        load_avg_1m: round((await import('node:os')).loadavg()[0]!, 2),
      };
    } finally {
      await rx.close();
      await tx.close();
      await link.close();
    }
    // The receiver's event drawing alone, in this process: the WASM kernel the emulator runs
    // against its TypeScript twin, alternating (same events: detection-kernel.test.ts).
    ctx.progress('drawing detections: kernel and twin');
    const sourceS = ctx.quick ? 0.05 : 0.2;
    const kernel: number[] = [];
    const twin: number[] = [];
    let events = 0;
    for (let r = 0; r < runs; r++) {
      const k = drawDetections('kernel', sourceS);
      const t = drawDetections('twin', sourceS);
      kernel.push(k.cpu / sourceS);
      twin.push(t.cpu / sourceS);
      events = k.events;
    }
    yield {
      suite: 'bridge',
      mode: 'draw',
      clock_hz: 1_000_000_000,
      distance_km: 10,
      source_s: sourceS,
      runs,
      events_per_source_s: Math.round(events / sourceS),
      // CPU-seconds per source-second: the cores the receiver's drawing needs for real time.
      kernel_cores_real_time: round(median(kernel), 2),
      twin_cores_real_time: round(median(twin), 2),
      kernel_ns_per_event: round((median(kernel) * sourceS * 1e9) / events, 1),
      twin_ns_per_event: round((median(twin) * sourceS * 1e9) / events, 1),
      speedup: round(median(twin) / median(kernel), 2),
      load_avg_1m: round((await import('node:os')).loadavg()[0]!, 2),
    };
  }
}
