/**
 * A whole QKD link on one machine: two emulated boards (firmware-bridge, each its own process on
 * its own pty, joined by the emulated fibre), and both module ends in this process (each with its
 * own worker threads, durable state and LMDB key store), talking over a loopback TCP connection
 * through the authenticated channel. What `npm start` shows and what the link bench measures; the
 * hil-tests run the two ends as separate processes instead (link-main.ts).
 *
 * Block by block it reports both ends' block reports, whether the units the block added are
 * byte-identical in both stores, and the key accumulated.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { EmulatedLink } from '../../../../firmware-bridge/emulator/spawn.js';
import type { DetectorParams } from '../../../../firmware-bridge/emulator/channel-model.js';
import { deriveUnitId } from '../../../kq/unit-id.js';
import type { LinkStoreOpener } from '../../../kq/link-store.js';
import { parseLinkConfig, type LinkConfig, type LinkRole, type ProtocolConfig, type SecurityConfig } from '../config.js';
import type { BlockReport, LinkStateEvent } from '../diagnostics.js';
import { startLinkEnd, type RunningLink } from '../link-process.js';
import { processCpuSeconds } from '../../../bench/cpu-time.js';

export interface EmulatedLinkRunOptions {
  /** Opens each end's storage key and key store (host/km's linkStoreOpener). */
  readonly stores: LinkStoreOpener;
  /** Fibre length (default 10 km, 0.2 dB/km). */
  readonly distanceKm?: number;
  /** Stop after this many blocks have ended at both ends (default 5). */
  readonly blocks?: number;
  /** Or after this long (default 10 minutes). */
  readonly timeoutMs?: number;
  /** Sifted key-basis bits per block (default 2^20). */
  readonly siftedBits?: number;
  /**
   * What the emulated receiver does when the host does not take its batches in time: 'stretch'
   * (default: its time stands still, no event is lost, source-time statistics stay exact) or
   * 'drop' (as a real board: its FIFO overflows and the events are lost, and counted).
   */
  readonly backpressure?: 'stretch' | 'drop';
  /** Intercept-resend eavesdropper on this fraction of the slots. */
  readonly interceptFraction?: number;
  readonly detector?: Partial<DetectorParams>;
  readonly protocol?: Partial<ProtocolConfig>;
  readonly security?: Partial<SecurityConfig>;
  /** Worker threads per end (default 2: a block's sifting need not wait behind another's decoding). */
  readonly workers?: number;
  /**
   * When to compare the two stores' units: as each block ends (default; each progress report
   * says whether its units agree) or once when the run ends (a benchmark: reading every unit back
   * would cost the main thread and the collector inside the measured window).
   */
  readonly compare?: 'each-block' | 'at-end';
  /** Seed of the emulated physics (default 1). */
  readonly seed?: number;
  /** Where both ends keep their data (default: a temporary directory, removed at the end). */
  readonly dataDir?: string;
  readonly onProgress?: (p: LinkProgress) => void;
  readonly onState?: (role: LinkRole, e: LinkStateEvent) => void;
  readonly signal?: AbortSignal;
}

export interface LinkProgress {
  readonly block: number;
  readonly alice: BlockReport;
  readonly bob: BlockReport;
  /** Units this block added, and whether they are byte-identical in both stores (same IDs). */
  readonly units: number;
  readonly identical: boolean;
  /** Totals so far. */
  readonly totalUnits: number;
  readonly totalFinalBits: number;
  readonly keyBlocks: number;
  /** Source time the finished blocks cover (slots / clock), and the secret key rate over it. */
  readonly sourceSeconds: number;
  readonly skrBps: number;
}

export interface LinkRunSummary {
  readonly distanceKm: number;
  readonly blocks: readonly LinkProgress[];
  readonly totalUnits: number;
  readonly totalFinalBits: number;
  readonly siftedBits: number;
  readonly sourceSeconds: number;
  readonly skrBps: number;
  /** Every unit of both stores identical (same IDs, same bytes) at the end. */
  readonly storesAgree: boolean;
  readonly wallSeconds: number;
  /** CPU of this process (both module ends and their workers), seconds. */
  readonly cpuSeconds: number;
  /**
   * The steady state: from the end of the first block to the end of the last, the sifted bits of
   * the blocks that ended in between, the wall and the CPU of this process spent on them (start-up,
   * code expansion and this harness's own store comparisons left out). Undefined with one block.
   */
  readonly steady?: {
    readonly blocks: number;
    readonly siftedBits: number;
    readonly sourceSeconds: number;
    readonly wallSeconds: number;
    readonly cpuSeconds: number;
    readonly mainThreadCpuSeconds: number;
    /** Each end's worker threads (Alice, Bob): with half the shared main thread, what each end costs. */
    readonly workerCpuSeconds: readonly [number, number];
    readonly emulatorCpuSeconds: number;
  };
  readonly config: LinkConfig;
  /** Events the receiver board lost to FIFO overflow (only with backpressure 'drop') while the link gathered blocks. */
  readonly lostEvents: number;
  /** Seconds the receiver's acquisition waited for post-processing capacity (the source held back). */
  readonly heldBackSeconds: number;
  /** Authentication key: consumed by the channel and left, per end (bits and frames). */
  readonly auth: readonly { readonly role: LinkRole; readonly consumedBits: number; readonly remainingSendFrames: number; readonly remainingReceiveFrames: number }[];
}

/**
 * Protocol settings of the emulated link beyond the defaults (config.ts DEFAULT_PROTOCOL): none.
 * The emulated receiver follows the source the transmitter is CONFIGUREd with, so the link runs
 * its own (rate-optimised) source settings. Kept as the place for a run's overrides.
 */
export const EMULATED_PROTOCOL: Partial<ProtocolConfig> = {};

/** The configuration of one end of the emulated link (both share the protocol sections). */
export function emulatedEndConfig(role: LinkRole, o: { dataDir: string; port: number; boardPath: string; psk: Uint8Array; siftedBits: number; protocol?: Partial<ProtocolConfig>; security?: Partial<SecurityConfig>; workers?: number }): LinkConfig {
  return parseLinkConfig(
    {
      linkId: 'EMU-A~EMU-B',
      role,
      node: role === 'alice' ? 'EMU-A' : 'EMU-B',
      peer: role === 'alice' ? 'EMU-B' : 'EMU-A',
      dataDir: join(o.dataDir, role),
      board: { port: o.boardPath },
      address: { host: '127.0.0.1', port: o.port },
      psk: { hex: Buffer.from(o.psk).toString('hex') },
      protocol: { ...EMULATED_PROTOCOL, ...o.protocol },
      block: { siftedBits: o.siftedBits, maxInFlight: 3, timeoutMs: 60_000 },
      security: { ...o.security },
      workers: o.workers ?? 2,
    },
    o.dataDir,
  );
}

/** Units [from, to) of both stores: identical bytes under identical IDs. */
export function unitsAgree(a: RunningLink, b: RunningLink, from: number, to: number): boolean {
  const linkId = a.module.linkId;
  for (let i = from; i < to; i++) {
    const id = deriveUnitId(linkId, i);
    let x: Uint8Array;
    let y: Uint8Array;
    try {
      x = a.store.readKey(id);
      y = b.store.readKey(id);
    } catch {
      return false;
    }
    if (!Buffer.from(x).equals(Buffer.from(y))) return false;
  }
  return true;
}

/**
 * Runs a link between two emulated boards until `blocks` blocks have ended (or the timeout, or
 * the signal), reporting each block as it ends at both ends.
 */
export async function runEmulatedLink(o: EmulatedLinkRunOptions): Promise<LinkRunSummary> {
  const distanceKm = o.distanceKm ?? 10;
  const siftedBits = o.siftedBits ?? 1 << 20;
  const wanted = o.blocks ?? 5;
  const ownDir = o.dataDir === undefined;
  const dataDir = o.dataDir ?? mkdtempSync(join(tmpdir(), 'qkdn-link-'));
  // 'stretch': when the host cannot take the receiver's events as fast as the source produces
  // them (1 GHz over a pty), the emulator slows its clock instead of dropping events, so the
  // statistics per source second stay exact.
  const boards = await EmulatedLink.start({ seed: o.seed ?? 1, distanceKm, backpressure: o.backpressure ?? 'stretch', ...(o.interceptFraction ? { interceptFraction: o.interceptFraction } : {}), ...(o.detector ? { detector: o.detector } : {}) });
  const psk = randomBytes(1 << 18);
  const ends: RunningLink[] = [];
  const reports = new Map<number, { alice?: BlockReport; bob?: BlockReport }>();
  const progress: LinkProgress[] = [];
  let totalUnits = 0;
  let totalFinalBits = 0;
  let keyBlocks = 0;
  let sourceSlots = 0;
  let siftedTotal = 0;
  let finish!: () => void;
  const finished = new Promise<void>((r) => (finish = r));
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let steady0: { cpu: NodeJS.CpuUsage; wall: number; sifted: number; slots: number; emu: number; main: number; workers: [number, number] } | undefined;
  // The main thread's own CPU (its task ID is the process ID): the one thread the link cannot spread over cores.
  const mainCpu = () => processCpuSeconds(process.pid, process.pid);
  // The emulated boards are separate processes: their CPU is the emulation's cost, not the link's.
  const emulatorCpu = () => processCpuSeconds(boards.tx.pid) + processCpuSeconds(boards.rx.pid);
  let steady: LinkRunSummary['steady'];
  /** CPU this harness spends comparing the stores, not the link's. */
  let checkMicros = 0;
  const compareAtEnd = o.compare === 'at-end';
  /** Unit ranges still to compare when the run ends (compare: 'at-end'). */
  const toCompare: [number, number][] = [];
  const onBlock = (r: BlockReport) => {
    const entry = reports.get(r.block) ?? {};
    entry[r.role] = r;
    reports.set(r.block, entry);
    if (!entry.alice || !entry.bob) return;
    reports.delete(r.block);
    const { alice, bob } = entry;
    // Past the blocks asked for the run is ending: a block cut short by the shutdown neither counts nor costs source time.
    if (progress.length >= wanted) return;
    // Blocks cut short by the run's own end are not the link's doing: they neither count nor cost source time.
    if (bob.code === 'ERR_LINK_STOPPED' || alice.code === 'ERR_LINK_STOPPED') return;
    const units = bob.units ?? 0;
    const first = bob.firstUnit ?? 0;
    // Synchronous on the main thread: its wall time is the main thread's CPU for it.
    const c0 = performance.now();
    const sameOutcome = alice.outcome === bob.outcome && (alice.units ?? 0) === units;
    if (compareAtEnd && units > 0) toCompare.push([first, first + units]);
    const identical = sameOutcome && (compareAtEnd || units === 0 || unitsAgree(ends[0]!, ends[1]!, first, first + units));
    checkMicros += (performance.now() - c0) * 1000;
    totalUnits += units;
    totalFinalBits += bob.outcome === 'key' ? (bob.finalBits ?? 0) : 0;
    if (bob.outcome === 'key') keyBlocks++;
    sourceSlots += bob.slots.end - bob.slots.start;
    siftedTotal += bob.sifted ? bob.sifted.Z.signal + bob.sifted.Z.decoy + bob.sifted.Z.vacuum : 0;
    const sourceSeconds = sourceSlots / bob.slots.clockHz;
    const p: LinkProgress = { block: r.block, alice, bob, units, identical, totalUnits, totalFinalBits, keyBlocks, sourceSeconds, skrBps: sourceSeconds > 0 ? totalFinalBits / sourceSeconds : 0 };
    progress.push(p);
    const workers: [number, number] = [ends[0]!.module.workerCpuSeconds(), ends[1]!.module.workerCpuSeconds()];
    const now = { cpu: process.cpuUsage(), wall: performance.now(), sifted: siftedTotal, slots: sourceSlots, emu: emulatorCpu(), main: mainCpu(), workers };
    if (!steady0) steady0 = { ...now, cpu: { user: now.cpu.user - checkMicros, system: now.cpu.system }, main: now.main - checkMicros / 1e6 };
    else {
      const cpu = (now.cpu.user + now.cpu.system - checkMicros - (steady0.cpu.user + steady0.cpu.system)) / 1e6;
      steady = { blocks: progress.length - 1, siftedBits: now.sifted - steady0.sifted, sourceSeconds: (now.slots - steady0.slots) / bob.slots.clockHz, wallSeconds: (now.wall - steady0.wall) / 1000, cpuSeconds: cpu, mainThreadCpuSeconds: now.main - checkMicros / 1e6 - steady0.main, workerCpuSeconds: [workers[0] - steady0.workers[0], workers[1] - steady0.workers[1]], emulatorCpuSeconds: now.emu - steady0.emu };
    }
    o.onProgress?.(p);
    if (progress.length >= wanted) finish();
  };
  const timer = setTimeout(finish, o.timeoutMs ?? 600_000);
  const abort = () => finish();
  o.signal?.addEventListener('abort', abort);
  try {
    const common = { dataDir, psk, siftedBits, ...(o.protocol ? { protocol: o.protocol } : {}), ...(o.security ? { security: o.security } : {}), ...(o.workers ? { workers: o.workers } : {}) };
    const aliceConfig = emulatedEndConfig('alice', { ...common, port: 0, boardPath: boards.tx.path });
    const on = (role: LinkRole) => (kind: string, e: object) => {
      if (kind === 'block') onBlock(e as BlockReport);
      else if (kind === 'state') o.onState?.(role, e as LinkStateEvent);
    };
    ends.push(await startLinkEnd(aliceConfig, o.stores, on('alice')));
    const bobConfig = emulatedEndConfig('bob', { ...common, port: ends[0]!.module.port, boardPath: boards.rx.path });
    ends.push(await startLinkEnd(bobConfig, o.stores, on('bob')));
    if (!o.signal?.aborted) await finished;
    const wallSeconds = (performance.now() - t0) / 1000;
    const auth = ends.map((e) => {
      const st = e.module.authStats;
      return { role: e.module.config.role, consumedBits: st.consumedBits, remainingSendFrames: st.remainingSendPads, remainingReceiveFrames: st.remainingReceivePads };
    });
    const cpu = process.cpuUsage(cpu0);
    const agreeAtEnd = toCompare.every(([from, to]) => unitsAgree(ends[0]!, ends[1]!, from, to));
    const heldBackSeconds = ends[1]!.module.counters.heldBackMs / 1000;
    const lostEvents = ends[1]!.module.counters.lostEvents;
    // Bob first: he stops asking for blocks; then Alice.
    await ends[1]!.close();
    await ends[0]!.close();
    // Reopen both stores' views for the final comparison (closed stores cannot be read: compare before).
    const sourceSeconds = sourceSlots / aliceConfig.protocol.clockHz;
    return {
      distanceKm,
      blocks: progress,
      totalUnits,
      totalFinalBits,
      siftedBits: siftedTotal,
      sourceSeconds,
      skrBps: sourceSeconds > 0 ? totalFinalBits / sourceSeconds : 0,
      storesAgree: progress.every((p) => p.identical) && agreeAtEnd,
      wallSeconds,
      cpuSeconds: (cpu.user + cpu.system) / 1e6,
      ...(steady ? { steady } : {}),
      config: aliceConfig,
      heldBackSeconds,
      lostEvents,
      auth,
    };
  } finally {
    clearTimeout(timer);
    o.signal?.removeEventListener('abort', abort);
    for (const e of ends) await e.close().catch(() => undefined);
    await boards.close();
    if (ownDir) rmSync(dataDir, { recursive: true, force: true });
  }
}
