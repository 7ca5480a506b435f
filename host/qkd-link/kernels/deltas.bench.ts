import { randomFillSync } from 'node:crypto';
import type { BenchSuite, BenchRecord } from '../../bench/benchmark.js';
import { timeRuns, mbps, median, round } from '../../bench/benchmark.js';
import { SlotDeltaCoder } from './deltas.js';
import { MAX_QUERY_SLOTS } from '../../../firmware-bridge/protocol/messages.js';
import { seededRandom } from '../reconciliation/design.js';
import { decodeAnnouncedSlots, encodeSegmentDeltas, encodeSlotDeltas, packBits, partitionSlotDeltas, slotSegments, type SegmentBatch, type SlotSegments } from '../session/packing.js';
import { squashClicks } from '../session/sifting.js';

/**
 * A 10 km block at 1 GHz as Bob's receiver gathers it: detections a geometric ~40 slots apart
 * (start some seconds into the run, past 2^32), batches of 2,000-4,000 events kept in wire form,
 * the partial batches at the block's edges decoded; one click in four detectors, about 1 % of
 * events with more than one (the emulator's after-pulses and dark counts at this distance).
 */
function tenKmBlock(events: number): { start: number; seg: SlotSegments; masks: Uint8Array; slots: Float64Array } {
  const rnd = seededRandom(10);
  const start = 7 * 2 ** 32 + 12345;
  const slots = new Float64Array(events);
  let slot = start;
  for (let k = 0; k < events; k++) {
    slot += 1 + Math.floor(-Math.log(1 - rnd()) * 39);
    slots[k] = slot;
  }
  const masks = new Uint8Array(events);
  for (let k = 0; k < events; k++) {
    const r = rnd();
    // rx splitter: Z (detectors 0-1) with probability 0.8.
    masks[k] = r < 0.01 ? 3 + Math.floor(rnd() * 13) : 1 << ((r < 0.802 ? 0 : 2) + (rnd() < 0.5 ? 1 : 0));
  }
  const parts: SegmentBatch[] = [];
  for (let at = 0; at < events; ) {
    const n = Math.min(events - at, 2000 + Math.floor(rnd() * 2000));
    // The partial batches at the block's edges are decoded, the whole ones in between in wire form.
    const wire = at > 0 && at + n < events;
    parts.push({ base: wire ? slots[at - 1]! + 1 : 0, slots: slots.subarray(at, at + n), wire });
    at += n;
  }
  return { start, seg: slotSegments(parts), masks, slots };
}

const randomBits = (n: number) => randomFillSync(new Uint8Array(n));

export const suite: BenchSuite = {
  name: 'deltas',
  description: "a 10 km block's announcement: Bob's click squash + slot re-encoding + basis packing, Alice's slot check + partition (WASM vs TypeScript twin)",
  *run(ctx): Iterable<BenchRecord> {
    const events = ctx.quick ? 1 << 16 : 4_500_000;
    const runs = ctx.quick ? 3 : 7;
    const refRuns = ctx.quick ? 1 : 5;
    const coder = new SlotDeltaCoder();
    ctx.progress(`building a 10 km block of ${events} events`);
    const b = tenKmBlock(events);
    // Input per event: its click mask and its share of the wire deltas (the decoded edges count 8 bytes a slot).
    const inBits = 8 * (b.masks.length + b.seg.raw.length + 8 * b.seg.decoded.length);
    ctx.progress(`Bob's announcement, ${coder.target}`);
    const t = timeRuns(() => coder.announce(b.start, b.seg, b.masks, randomBits), runs);
    const tr = timeRuns(() => {
      const { basis } = squashClicks(b.masks, randomBits);
      encodeSegmentDeltas(b.start, b.seg);
      packBits(basis);
    }, refRuns);
    const me = (s: readonly number[]) => round(events / median(s) / 1e6, 2);
    yield {
      suite: 'deltas',
      mode: 'announce',
      target: coder.target,
      events,
      segments: b.seg.count.length,
      multi_clicks: coder.announce(b.start, b.seg, b.masks, randomBits).multiClicks,
      mevents_per_s: me(t),
      ref_mevents_per_s: me(tr),
      mbps: mbps(inBits, t),
      ref_mbps: mbps(inBits, tr),
      speedup: round(median(tr) / median(t), 2),
    };
    const d = encodeSlotDeltas(b.start, b.slots);
    const e = b.slots[events - 1]! + 1;
    // As the link cuts them: one part per transmitter-board query (firmware-bridge MAX_QUERY_SLOTS).
    const parts = Math.ceil(events / MAX_QUERY_SLOTS);
    ctx.progress(`Alice's check + partition of ${d.length} delta bytes, ${coder.target}`);
    const ta = timeRuns(() => coder.partition(d, b.start, e, events, parts), runs);
    const tra = timeRuns(() => partitionSlotDeltas(b.start, d, decodeAnnouncedSlots(b.start, d, events, e), parts), refRuns);
    yield {
      suite: 'deltas',
      mode: 'slots',
      target: coder.target,
      events,
      bytes: d.length,
      parts,
      mevents_per_s: me(ta),
      ref_mevents_per_s: me(tra),
      mbps: mbps(8 * d.length, ta),
      ref_mbps: mbps(8 * d.length, tra),
      speedup: round(median(tra) / median(ta), 2),
    };
  },
};
