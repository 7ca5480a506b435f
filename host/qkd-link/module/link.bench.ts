/**
 * The whole link against the model: two emulated boards (1 GHz source, the emulator's detector,
 * 0.2 dB/km fibre, back-pressure 'stretch' so no event is lost when the host lags) and both module
 * ends in this process, at 10 km and 50 km. Per distance one record: the secret key rate achieved
 * per second of source time, the finite-key rate the model (../model) predicts for the same
 * parameters and the efficiency f measured, the sifted-bit throughput of the post-processing in
 * wall-clock time against the rate at which the source produces sifted bits, and the CPU used.
 */
import type { BenchRecord, BenchSuite } from '../../cli/benchmark.js';
import { round } from '../../cli/benchmark.js';
import { linkBlock, linkOverheadBits, physicsFromProtocol, predictSkr } from '../model/index.js';
import { runEmulatedLink, type LinkProgress } from './emulated-link.js';

/**
 * Wall-clock seconds during which at least one block was being post-processed (from the moment
 * the receiver held all its detections to its commit): the union of the blocks' intervals.
 */
function busySeconds(intervals: ReadonlyArray<readonly [number, number]>): number {
  const s = [...intervals].sort((a, b) => a[0] - b[0]);
  let total = 0;
  let start = -Infinity;
  let end = -Infinity;
  for (const [a, b] of s) {
    if (a > end) {
      if (end > start) total += end - start;
      start = a;
      end = b;
    } else end = Math.max(end, b);
  }
  if (end > start) total += end - start;
  return total / 1000;
}

function sum(xs: readonly number[]): number {
  return xs.reduce((a, b) => a + b, 0);
}

export const suite: BenchSuite = {
  name: 'link',
  description: 'QKD link end to end on emulated boards (1 GHz): secret key rate vs the finite-key model at 10 and 50 km, post-processing throughput, CPU',
  async *run(ctx): AsyncIterable<BenchRecord> {
    const siftedBits = ctx.quick ? 1 << 19 : 1 << 21;
    const blocks = ctx.quick ? 1 : 3;
    for (const distanceKm of [10, 50]) {
      ctx.progress(`${distanceKm} km: ${blocks} block(s) of ${siftedBits} sifted bits`);
      const intervals: Array<[number, number]> = [];
      const summary = await runEmulatedLink({
        distanceKm,
        blocks,
        siftedBits,
        timeoutMs: 15 * 60_000,
        onProgress: (p: LinkProgress) => {
          const now = performance.now();
          intervals.push([now - p.bob.totalMs, now]);
          ctx.progress(`  block ${p.block}: ${p.bob.outcome}${p.bob.code ? ` ${p.bob.code} (${p.bob.reason ?? ''} | alice: ${p.alice.reason ?? ''})` : ''}, ${p.bob.finalBits ?? 0} secret bits, f ${p.bob.ec?.efficiency.toFixed(3) ?? '-'}`);
        },
      });
      const keyed = summary.blocks.filter((b) => b.bob.outcome === 'key');
      const ec = keyed.map((b) => b.bob.ec!);
      const f = ec.length > 0 ? sum(ec.map((e) => e.efficiency)) / ec.length : 0;
      const qberZ = keyed.length > 0 ? sum(keyed.map((b) => b.bob.qber!.Z!.all)) / keyed.length : 0;
      const c = summary.config;
      const model = predictSkr(physicsFromProtocol(c.protocol), distanceKm, linkBlock(siftedBits, c.protocol.pZ), {
        f: Math.max(1, f),
        epsSec: c.security.epsSec,
        epsCor: c.security.epsCor,
        overheadBits: linkOverheadBits(siftedBits),
      });
      const busy = busySeconds(intervals);
      const ecSeconds = sum(keyed.map((b) => b.bob.stageMs.ec)) / 1000;
      const sourceSiftedBps = summary.sourceSeconds > 0 ? summary.siftedBits / summary.sourceSeconds : 0;
      const ppBps = busy > 0 ? summary.siftedBits / busy : 0;
      yield {
        suite: 'link',
        distance_km: distanceKm,
        clock_hz: c.protocol.clockHz,
        blocks: summary.blocks.length,
        key_blocks: keyed.length,
        sifted_bits_per_block: siftedBits,
        eps_sec: c.security.epsSec,
        qber_z: round(qberZ, 5),
        f: round(f, 4),
        failed_frames: sum(ec.map((e) => e.failedFrames)),
        secret_bits: summary.totalFinalBits,
        source_s: round(summary.sourceSeconds, 4),
        skr_bps: Math.round(summary.skrBps),
        skr_model_bps: Math.round(model.skrBps),
        skr_ratio: model.skrBps > 0 ? round(summary.skrBps / model.skrBps, 4) : null,
        skr_asymptotic_bps: Math.round(model.asymptoticBps),
        plob_bps: Math.round(model.plobBps),
        stores_agree: summary.storesAgree,
        // Sifted bits the source yields per second of its time, and what post-processing handled per wall second.
        source_sifted_mbps: round(sourceSiftedBps / 1e6, 3),
        pp_mbps: round(ppBps / 1e6, 3),
        pp_keeps_up: ppBps >= sourceSiftedBps,
        // Sifted bits per CPU-second of this process (both ends, their workers and the detection intake).
        pp_cpu_mbps: summary.cpuSeconds > 0 ? round(summary.siftedBits / summary.cpuSeconds / 1e6, 3) : null,
        ec_mbps: ecSeconds > 0 ? round(sum(keyed.map((b) => b.bob.sifted!.Z.signal + b.bob.sifted!.Z.decoy + b.bob.sifted!.Z.vacuum)) / ecSeconds / 1e6, 3) : null,
        wall_s: round(summary.wallSeconds, 2),
        cpu_s: round(summary.cpuSeconds, 2),
        cpu_cores: round(summary.cpuSeconds / summary.wallSeconds, 2),
      };
    }
  },
};
