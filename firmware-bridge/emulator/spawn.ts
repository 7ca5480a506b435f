/**
 * Starting emulated boards as their own processes, each on a fresh pseudo-terminal, and wiring
 * the two ends of a link together through the emulated fibre. Everything created here is removed
 * by close(): processes, ptys (closed with their master) and the temporary directory of links.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createRequire } from 'node:module';
import type { AlarmSeverity } from '../protocol/messages.js';
import { PtyError } from '../errors.js';
import type { BoardOptions, BoardStats } from './board.js';
import { DEFAULT_DETECTOR, DEFAULT_FIBRE, DEFAULT_SOURCE, NO_EVE, type ChannelParams, type DetectorParams, type EmissionInterval } from './channel-model.js';
import type { ControlMessage, ControlReply, ControlRequest } from './control.js';
import type { FaultSettings } from './faults.js';
import type { Backpressure } from './producer.js';
import type { LinkLogEntry } from '../protocol/link.js';

const MAIN = fileURLToPath(new URL('./main.ts', import.meta.url));
// tsx's "." export is its loader; resolved to a file URL so the child needs no particular cwd.
// (createRequire, not import.meta.resolve: this module may itself be loaded through require.)
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

/** Extra node flags for emulator processes, e.g. QKDN_EMULATOR_NODE_ARGS='--cpu-prof --cpu-prof-dir=/tmp/prof' to profile one. */
export function extraNodeArgs(env: NodeJS.ProcessEnv = process.env): string[] {
  return (env.QKDN_EMULATOR_NODE_ARGS ?? '').split(/\s+/).filter((a) => a.length > 0);
}

export class EmulatorProcess {
  /** Stable path the host opens. */
  readonly path: string;
  readonly pid: number;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (r: ControlReply) => void; reject: (e: Error) => void }>();
  private exited: Promise<void>;
  onEmission: ((e: readonly EmissionInterval[]) => void) | undefined;

  private constructor(private readonly child: ChildProcess, path: string) {
    this.path = path;
    this.pid = child.pid ?? -1;
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    child.on('message', (m: ControlMessage) => {
      if (m.op === 'reply') {
        const p = this.pending.get(m.id);
        this.pending.delete(m.id);
        if (m.error !== undefined) p?.reject(new Error(m.error));
        else p?.resolve(m.result ?? null);
      } else if (m.op === 'emission') this.onEmission?.(m.emissions);
    });
    child.once('exit', () => {
      for (const p of this.pending.values()) p.reject(new Error('emulator exited'));
      this.pending.clear();
    });
  }

  static start(options: BoardOptions): Promise<EmulatorProcess> {
    const child = spawn(process.execPath, [...extraNodeArgs(), '--import', TSX, MAIN, JSON.stringify(options)], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      serialization: 'advanced',
    });
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new PtyError(`emulated ${options.role} board did not start within 20 s`));
      }, 20_000);
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new PtyError(`emulated ${options.role} board exited with code ${code} before it was ready`));
      });
      child.once('message', (m: ControlMessage) => {
        clearTimeout(timer);
        if (m.op === 'ready') resolve(new EmulatorProcess(child, m.path));
        else {
          child.kill('SIGKILL');
          reject(new PtyError(m.op === 'failed' ? m.error : `unexpected ${m.op}`));
        }
      });
    });
  }

  private request(req: ControlRequest): Promise<ControlReply> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.child.send({ ...req, id }, (err) => {
        if (err) {
          this.pending.delete(id);
          reject(err);
        }
      });
    });
  }

  async setFaults(faults: FaultSettings): Promise<void> {
    await this.request({ op: 'faults', faults });
  }
  async stall(ms: number): Promise<void> {
    await this.request({ op: 'stall', ms });
  }
  /** Pulls the cable; plugs it back after downMs (never if negative). */
  async unplug(downMs: number): Promise<void> {
    await this.request({ op: 'unplug', downMs });
  }
  async alarm(code: string, sev: AlarmSeverity, msg: string, clear = false): Promise<void> {
    await this.request({ op: 'alarm', code, sev, msg, clear });
  }
  /** Puts raw bytes on the line (malformed frames for the host to reject). */
  async inject(bytes: Uint8Array): Promise<void> {
    await this.request({ op: 'inject', bytes });
  }
  /** Sends a payload as a message of the given type with the board's next sequence number. */
  async sendMessage(type: number, payload: Uint8Array): Promise<void> {
    await this.request({ op: 'send', type, payload });
  }
  async stats(): Promise<BoardStats> {
    return (await this.request({ op: 'stats' })) as BoardStats;
  }
  async logs(): Promise<readonly LinkLogEntry[]> {
    return (await this.request({ op: 'logs' })) as readonly LinkLogEntry[];
  }
  async setFibre(emissions: readonly EmissionInterval[]): Promise<void> {
    await this.request({ op: 'fibre', emissions });
  }
  async setChannel(patch: { distanceKm?: number; interceptFraction?: number }): Promise<void> {
    await this.request({ op: 'channel', ...patch });
  }

  /** Asks the board to exit, then kills it if it has not within a second. */
  async close(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.request({ op: 'exit' }).catch(() => {});
    const t = setTimeout(() => this.child.kill('SIGKILL'), 1000);
    await this.exited;
    clearTimeout(t);
  }
}

export interface EmulatedLinkOptions {
  readonly seed?: number;
  readonly distanceKm?: number;
  readonly attenuationDbPerKm?: number;
  readonly detector?: Partial<DetectorParams>;
  readonly interceptFraction?: number;
  readonly txSerial?: string;
  readonly rxSerial?: string;
  readonly rxProtocol?: readonly [number, number];
  readonly txProtocol?: readonly [number, number];
  readonly fifoBatches?: number;
  /** Receiver past a full FIFO: 'drop' events as a board does (default) or 'stretch' its time. */
  readonly backpressure?: Backpressure;
  readonly replayBatches?: number;
  readonly telemetryMs?: number;
}

/** Directories of links not closed yet: removed at exit if the caller never got to close() (a failed test). */
const liveDirs = new Set<string>();
let exitHookInstalled = false;
function trackDir(dir: string): void {
  liveDirs.add(dir);
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // The boards themselves exit when their IPC channel closes with this process.
  process.once('exit', () => {
    for (const d of liveDirs) rmSync(d, { recursive: true, force: true });
  });
}

/** A transmitter and a receiver on fresh ptys, joined by an emulated fibre. */
export class EmulatedLink {
  readonly dir: string;
  private constructor(
    readonly tx: EmulatorProcess,
    readonly rx: EmulatorProcess,
    dir: string,
    readonly channel: ChannelParams,
  ) {
    this.dir = dir;
  }

  static async start(o: EmulatedLinkOptions = {}): Promise<EmulatedLink> {
    const dir = mkdtempSync(join(tmpdir(), 'qkdn-bridge-'));
    trackDir(dir);
    const channel: ChannelParams = {
      seed: o.seed ?? 1,
      source: DEFAULT_SOURCE,
      fibre: { distanceKm: o.distanceKm ?? DEFAULT_FIBRE.distanceKm, attenuationDbPerKm: o.attenuationDbPerKm ?? DEFAULT_FIBRE.attenuationDbPerKm },
      detector: { ...DEFAULT_DETECTOR, ...o.detector },
      eve: o.interceptFraction ? { interceptFraction: o.interceptFraction } : NO_EVE,
    };
    const epochMs = Date.now();
    const common = { channel, epochMs, ...(o.telemetryMs ? { telemetryMs: o.telemetryMs } : {}) };
    const started = await Promise.allSettled([
        EmulatorProcess.start({ ...common, role: 'tx', serial: o.txSerial ?? `EMU-TX-${channel.seed}`, link: join(dir, 'tx'), ...(o.txProtocol ? { protocol: o.txProtocol } : {}) }),
        EmulatorProcess.start({
          ...common,
          role: 'rx',
          serial: o.rxSerial ?? `EMU-RX-${channel.seed}`,
          link: join(dir, 'rx'),
          ...(o.rxProtocol ? { protocol: o.rxProtocol } : {}),
          ...(o.fifoBatches ? { fifoBatches: o.fifoBatches } : {}),
          ...(o.backpressure ? { backpressure: o.backpressure } : {}),
          ...(o.replayBatches ? { replayBatches: o.replayBatches } : {}),
        }),
    ]);
    const [t, r] = started;
    if (t.status === 'rejected' || r.status === 'rejected') {
      await Promise.all(started.map((x) => (x.status === 'fulfilled' ? x.value.close() : undefined)));
      rmSync(dir, { recursive: true, force: true });
      liveDirs.delete(dir);
      throw t.status === 'rejected' ? t.reason : (r as PromiseRejectedResult).reason;
    }
    t.value.onEmission = (e) => void r.value.setFibre(e).catch(() => {});
    return new EmulatedLink(t.value, r.value, dir, channel);
  }

  /**
   * Changes the fibre (distance, eavesdropper) for both boards, from their next acquisition on:
   * the transmitter's answers depend on it too, since detections are drawn first and the class
   * given a detection (channel-model.ts).
   */
  async setChannel(patch: { distanceKm?: number; interceptFraction?: number }): Promise<void> {
    await Promise.all([this.tx.setChannel(patch), this.rx.setChannel(patch)]);
  }

  async close(): Promise<void> {
    await Promise.all([this.tx.close(), this.rx.close()]);
    rmSync(this.dir, { recursive: true, force: true });
    liveDirs.delete(this.dir);
  }
}
