/**
 * The whole link against the model: two emulated boards (1 GHz source, the emulator's detector,
 * 0.2 dB/km fibre, back-pressure 'stretch': when the host lags, the emulated source's time stands
 * still, so no event is lost and source-time statistics stay exact) and both module
 * ends in this process, at 10 and 50 km (the required points) and, for the SKR-vs-distance plot,
 * 75, 100 and 125 km. Per distance one record: the secret key rate achieved per second of source
 * time against the finite-key rate the model (host/qkd-link/model) predicts for the same parameters and the
 * efficiency f measured; and whether the post-processing keeps up with the source.
 *
 * Keeping up with the source in real time is measured in the steady state (from the end of the
 * first block to the end of the last): the sifted bits per CPU-second of the link (both ends,
 * main threads and workers), hence the cores it needs to follow a 1 GHz source, and the main
 * thread's load per source-second (the one thread that cannot spread over cores: it reads the
 * board and moves the session). The emulated boards are separate processes whose CPU is the
 * emulation's, not the link's: at short distance the emulator cannot generate 1 GHz in real time
 * on a small machine and stretches its time instead (`source_real_time`).
 */
import { availableParallelism } from 'node:os';
import type { BenchRecord, BenchSuite } from '../bench/benchmark.js';
import { round } from '../bench/benchmark.js';
import { linkStoreOpener } from '../km/link-store.js';
import { linkBlock, linkOverheadBits, physicsFromProtocol, predictSkr, recordMeasuredPoints } from '../qkd-link/model/index.js';
import { runEmulatedLink, type LinkProgress } from '../qkd-link/module/harness/emulated-link.js';

function sum(xs: readonly number[]): number {
  return xs.reduce((a, b) => a + b, 0);
}

export const suite: BenchSuite = {
  name: 'link',
  description: 'QKD link end to end on emulated boards (1 GHz): secret key rate vs the finite-key model at 10-125 km, post-processing throughput and the cores it needs to keep up',
  async *run(ctx): AsyncIterable<BenchRecord> {
    const siftedBits = ctx.quick ? 1 << 19 : 1 << 21;
    // QKDN_LINK_BLOCKS=n runs n blocks per distance (a longer steady state, less of the start-up's compilation in it).
    const blocks = Number(process.env.QKDN_LINK_BLOCKS) > 1 ? Number(process.env.QKDN_LINK_BLOCKS) : ctx.quick ? 2 : 4;
    const cores = availableParallelism();
    // 'stretch' (default) keeps source-time statistics exact; QKDN_LINK_BACKPRESSURE=drop emulates
    // a real board's FIFO instead, which loses (and counts) what the host does not take in time.
    const backpressure = process.env.QKDN_LINK_BACKPRESSURE === 'drop' ? 'drop' : 'stretch';
    const measured: Array<{ distance_km: number; skr_bps: number; skr_model_bps: number; blocks: number }> = [];
    // QKDN_LINK_DISTANCES=10,50 runs only those points (the plot's measured points are then left as they are).
    const only = process.env.QKDN_LINK_DISTANCES?.split(',').map(Number).filter((d) => d >= 0);
    const distances = only && only.length > 0 ? only : ctx.quick ? [10] : [10, 50, 75, 100, 125];
    for (const distanceKm of distances) {
      ctx.progress(`${distanceKm} km: ${blocks} block(s) of ${siftedBits} sifted bits`);
      const summary = await runEmulatedLink({
        stores: linkStoreOpener,
        compare: 'at-end',
        distanceKm,
        blocks,
        siftedBits,
        backpressure,
        timeoutMs: 15 * 60_000,
        onProgress: (p: LinkProgress) => {
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
      const ecSeconds = sum(keyed.map((b) => b.bob.stageMs.ec)) / 1000;
      const sourceSiftedBps = summary.sourceSeconds > 0 ? summary.siftedBits / summary.sourceSeconds : 0;
      const st = summary.steady;
      const steadySourceS = st?.sourceSeconds ?? 0;
      const ppCpuBps = st && st.cpuSeconds > 0 ? st.siftedBits / st.cpuSeconds : 0;
      const coresToKeepUp = ppCpuBps > 0 ? sourceSiftedBps / ppCpuBps : null;
      // Both ends share this process's main thread here; in a deployment each end has its own.
      const mainPerEnd = st && steadySourceS > 0 ? st.mainThreadCpuSeconds / steadySourceS / 2 : null;
      // Each end alone, as on a node of its own: its worker threads, and half of what both share
      // here (the main thread, the collector's threads, the stores' threads).
      const perEnd = st && steadySourceS > 0 ? st.workerCpuSeconds.map((w) => (w + (st.cpuSeconds - st.workerCpuSeconds[0] - st.workerCpuSeconds[1]) / 2) / steadySourceS) : null;
      if (keyed.length > 0) measured.push({ distance_km: distanceKm, skr_bps: Math.round(summary.skrBps), skr_model_bps: Math.round(model.skrBps), blocks: summary.blocks.length });
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
        // Sifted bits the source yields per second of its time.
        source_sifted_mbps: round(sourceSiftedBps / 1e6, 3),
        // Seconds the receiver waited for post-processing capacity (blocks in flight at the limit),
        held_back_s: round(summary.heldBackSeconds, 3),
        // and, with a real board's back-pressure, events its FIFO lost while blocks were gathered.
        backpressure,
        lost_events: summary.lostEvents,
        // The emulated source's pace against real time (its time stretches when the machine is too slow for 1 GHz),
        source_real_time: st && st.wallSeconds > 0 ? round(steadySourceS / st.wallSeconds, 3) : null,
        // and the CPU the emulation spends per source-second (cores the emulator needs for real time).
        emulator_cores_real_time: st && steadySourceS > 0 ? round(st.emulatorCpuSeconds / steadySourceS, 2) : null,
        // Steady state: sifted bits per wall second here (the emulator shares the cores) and per CPU-second of the link
        // (both ends, their workers, the board intake),
        pp_mbps: st && st.wallSeconds > 0 ? round(st.siftedBits / st.wallSeconds / 1e6, 3) : null,
        pp_cpu_mbps: round(ppCpuBps / 1e6, 3),
        // hence the cores the post-processing needs at the source's real-time rate,
        cores_to_keep_up: coresToKeepUp === null ? null : round(coresToKeepUp, 2),
        // the main thread's CPU per source-second, per end (below 1, or it cannot keep up on any number of cores),
        main_thread_load: mainPerEnd === null ? null : round(mainPerEnd, 3),
        // the cores each end needs on a machine of its own (Alice, Bob),
        cores_alice_end: perEnd === null ? null : round(perEnd[0]!, 2),
        cores_bob_end: perEnd === null ? null : round(perEnd[1]!, 2),
        // and whether this machine could follow the source in real time.
        machine_cores: cores,
        pp_keeps_up: coresToKeepUp !== null && coresToKeepUp <= cores && (mainPerEnd ?? Infinity) < 1,
        ec_mbps: ecSeconds > 0 ? round(sum(keyed.map((b) => b.bob.sifted!.Z.signal + b.bob.sifted!.Z.decoy + b.bob.sifted!.Z.vacuum)) / ecSeconds / 1e6, 3) : null,
        wall_s: round(summary.wallSeconds, 2),
        cpu_s: round(summary.cpuSeconds, 2),
      };
    }
    // The measured points of the README's SKR-vs-distance plot (host/qkd-link/model/plot.ts draws them).
    if (!ctx.quick && !only?.length && backpressure === 'stretch' && measured.length > 0) recordMeasuredPoints(measured);
  },
};
