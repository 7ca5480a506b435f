/**
 * What every emulated board shares: board protocol 1.0 byte for byte on the master side of a pty
 * (framing, HELLO/IDENTIFY, CONFIGURE/START/STOP, telemetry, errors), the fault knobs of
 * faults.ts, the shared time base and the acquisition state. It paces itself on the wall clock (a
 * pty ignores baud rates) and, when the machine cannot keep up with the configured clock,
 * stretches its own time rather than skip slots. The transmitter (transmitter.ts) and the
 * receiver (receiver.ts) add their half of each request.
 */
import { boardModel, type BoardModel } from '../boards.js';
import { cobsEncode } from '../protocol/cobs.js';
import type { Backpressure } from './producer.js';
import { PROTOCOL_MAJOR, PROTOCOL_MINOR, type Frame } from '../protocol/frame.js';
import { FrameLink, type LinkLogEntry } from '../protocol/link.js';
import * as msg from '../protocol/messages.js';
import { BadMessageError } from '../errors.js';
import { mix32, type ChannelParams } from './channel-model.js';
import { FaultInjector, type FaultSettings } from './faults.js';
import { MasterPort } from './master-port.js';
import { openPty, pointLink, removeLink } from './pty.js';

export const M = msg.MessageType;

export interface BoardOptions {
  readonly role: msg.BoardRole;
  readonly model?: string;
  readonly serial: string;
  readonly fw?: string;
  /** Stable path the host opens (a symlink to the current /dev/pts/N, like /dev/serial/by-id). */
  readonly link: string;
  readonly channel: ChannelParams;
  /** Shared time base of the link, ms since the Unix epoch (the two boards' reference clock). */
  readonly epochMs: number;
  /** Protocol version this board speaks (a different major emulates an incompatible firmware). */
  readonly protocol?: readonly [number, number];
  readonly boot?: number;
  readonly telemetryMs?: number;
  /** rx: batches the FIFO holds while waiting for credit. */
  readonly fifoBatches?: number;
  /** rx: past a full FIFO, lose events as a board does ('drop', default) or stretch time ('stretch'). */
  readonly backpressure?: Backpressure;
  /** rx: batches kept for RESEND (default: the model's caps.replayBatches). */
  readonly replayBatches?: number;
  readonly faults?: FaultSettings;
}

/** What a board has done with detection batches (a transmitter has none). */
export interface BatchStats {
  readonly batchesProduced: number;
  readonly batchesSent: number;
  readonly eventsProduced: number;
  readonly eventsOverflowed: number;
  readonly resentBatches: number;
  readonly lostAnswered: number;
}

/** What the emulator tells its parent process (the bench) about itself. */
export interface BoardStats extends BatchStats {
  readonly role: msg.BoardRole;
  readonly framesOut: number;
  readonly bytesOut: number;
  readonly framesIn: number;
  readonly rejectedIn: Record<string, number>;
  readonly faults: { corrupted: number; dropped: number; duplicated: number; reordered: number };
  readonly slot: number;
  readonly dilationSlots: number;
  readonly connected: boolean;
  readonly acquiring: boolean;
}

/** The role-dependent part of a TELEMETRY message. */
export interface RoleTelemetry {
  readonly rates: number[];
  readonly temps: Record<string, number>;
  readonly biasV: number;
  readonly overflow: number;
  readonly nextBatch?: number;
}

const ACCEPT = new Set<number>([M.HELLO, M.CONFIGURE, M.START, M.STOP, M.QUERY_SETTINGS, M.GET_TELEMETRY, M.CREDIT, M.RESEND]);

export abstract class EmulatedBoard {
  readonly role: msg.BoardRole;
  readonly model: BoardModel;
  protected readonly opts: BoardOptions;
  protected port: MasterPort | undefined;
  private link!: FrameLink;
  private readonly faults = new FaultInjector();
  private readonly version: readonly [number, number];
  private readonly boot: number;
  private readonly t0 = Date.now();
  protected stallUntil = 0;
  private stalledFrames: Array<[number, Uint8Array]> = [];
  private stallTimer: NodeJS.Timeout | undefined;
  private telemetryTimer: NodeJS.Timeout | undefined;
  private reappearTimer: NodeJS.Timeout | undefined;
  private closed = false;
  private readonly logs: LinkLogEntry[] = [];
  private lastTelemetry = Date.now();

  // configuration
  protected clockHz = 0;
  protected configured = false;
  protected channel: ChannelParams;

  // acquisition
  protected acquiring = false;
  protected acq = 0;
  protected startSlot = 0;
  protected stopSlot = -1;
  protected dilation = 0;

  protected constructor(opts: BoardOptions, role: msg.BoardRole) {
    if (opts.role !== role) throw new RangeError(`a ${role} board cannot take ${opts.role} options`);
    this.opts = opts;
    this.role = role;
    const model = boardModel(opts.model ?? (role === 'tx' ? 'QKDN-EMU-TX' : 'QKDN-EMU-RX'));
    if (!model || model.role !== role) throw new RangeError(`unknown ${role} board model ${opts.model}`);
    this.model = opts.replayBatches === undefined ? model : { ...model, caps: { ...model.caps, replayBatches: opts.replayBatches } };
    this.version = opts.protocol ?? [PROTOCOL_MAJOR, PROTOCOL_MINOR];
    this.boot = opts.boot ?? mix32(Date.now() ^ process.pid);
    this.channel = opts.channel;
    this.clockHz = opts.channel.source.clockHz;
    if (opts.faults) this.faults.configure(opts.faults);
  }

  /** Creates the pty and points the link at it. */
  plugIn(): string {
    const pty = openPty();
    const faults = this.faults;
    const outgoing = (raw: Uint8Array, type: number) => faults.apply(raw, type);
    this.link = new FrameLink({
      write: (b) => this.port?.write(b),
      accept: ACCEPT,
      resyncTypes: new Set([M.HELLO]),
      onFrame: (f) => this.onFrame(f),
      onForeignVersion: (f) => this.sendError(f.seq, 'unsupported-version', `this board implements major ${this.version[0]}`, [this.version[0]]),
      onUnknownType: (f) => this.sendError(f.seq, 'unknown-type', `type 0x${f.type.toString(16)} is not defined in ${this.version.join('.')}`),
      log: (e) => this.log(e),
      version: this.version[0],
      // Only while a fault is set: otherwise the link frames into its scratch buffer, without the
      // two copies per frame (raw frame, then COBS) the fault path needs (without faults, apply
      // passes every frame through and configure() reseeds its generator anyway).
      get outgoing() {
        return faults.active ? outgoing : undefined;
      },
    });
    this.port = new MasterPort(pty, (chunk) => this.link.push(chunk), () => this.pump());
    pointLink(this.opts.link, pty.slavePath);
    if (this.telemetryTimer === undefined) this.telemetryTimer = setInterval(() => this.periodic(), this.opts.telemetryMs ?? 250);
    return pty.slavePath;
  }

  /** Cable pulled: the host sees the port vanish; the board keeps acquiring. Back after `downMs` unless negative. */
  unplug(downMs = -1): void {
    this.port?.close();
    this.port = undefined;
    removeLink(this.opts.link);
    if (downMs >= 0) this.reappearTimer = setTimeout(() => !this.closed && this.plugIn(), downMs);
  }

  get connected(): boolean {
    return this.port !== undefined;
  }

  /** Writes raw bytes on the line as they are: how tests feed the host malformed input. */
  inject(bytes: Uint8Array): void {
    this.port?.write(bytes);
  }

  /** Sends any payload as a message of any type, in sequence: a firmware bug, for tests. */
  sendRaw(type: number, payload: Uint8Array): void {
    this.send(type, payload);
  }

  setFaults(f: FaultSettings): void {
    this.faults.configure(f);
  }

  /** Stops sending anything for `ms` (a wedged USB FIFO), then sends what piled up. */
  stall(ms: number): void {
    this.stallUntil = Date.now() + ms;
    clearTimeout(this.stallTimer);
    this.stallTimer = setTimeout(() => {
      this.stallUntil = 0;
      const frames = this.stalledFrames;
      this.stalledFrames = [];
      for (const [type, payload] of frames) this.send(type, payload);
      this.pump();
    }, ms);
  }

  /** An alarm the host must act on (a critical one holds back detections until it clears). */
  raiseAlarm(code: string, sev: msg.AlarmSeverity, text: string): void {
    this.send(M.ALARM, msg.encodeAlarm({ code, sev, msg: text, t: this.uptime() }));
  }

  /** The end of alarm `code`: the condition is gone. */
  clearAlarm(code: string, sev: msg.AlarmSeverity, text: string): void {
    this.send(M.ALARM, msg.encodeAlarm({ code, sev, msg: text, t: this.uptime(), clear: true }));
  }

  /** Changes the physics of the channel (distance, eavesdropper) from the next acquisition on. */
  setChannel(patch: { distanceKm?: number; interceptFraction?: number }): void {
    this.channel = {
      ...this.channel,
      fibre: { ...this.channel.fibre, distanceKm: patch.distanceKm ?? this.channel.fibre.distanceKm },
      eve: { interceptFraction: patch.interceptFraction ?? this.channel.eve.interceptFraction },
    };
  }

  stats(): BoardStats {
    return {
      role: this.role,
      framesOut: this.link?.stats.framesOut ?? 0,
      bytesOut: this.link?.stats.bytesOut ?? 0,
      framesIn: this.link?.stats.framesIn ?? 0,
      rejectedIn: { ...(this.link?.stats.rejected ?? {}) },
      faults: { ...this.faults.counts },
      ...this.batchStats(),
      slot: this.nowSlot(),
      dilationSlots: this.dilation,
      connected: this.connected,
      acquiring: this.acquiring,
    };
  }

  recentLogs(): readonly LinkLogEntry[] {
    return this.logs.slice(-50);
  }

  close(): void {
    this.closed = true;
    clearInterval(this.telemetryTimer);
    this.closeRole();
    clearTimeout(this.stallTimer);
    clearTimeout(this.reappearTimer);
    this.port?.close();
    this.port = undefined;
    removeLink(this.opts.link);
  }

  // ---- what each role adds -------------------------------------------------------------------

  /** CONFIGURE: the role's settings checked against the model's ranges, answered with an ACK or an error. */
  protected abstract configureRole(re: number, c: msg.Configure): void;
  /** START, once the acquisition is set up here (acq, startSlot): begin, and answer. */
  protected abstract startRole(re: number, s: msg.Start): void;
  /** STOP of a running acquisition at slot `now`: end it, and answer. */
  protected abstract stopRole(re: number, now: number): void;
  /** The requests only one role serves (QUERY_SETTINGS, CREDIT, RESEND). */
  protected abstract handleRole(f: Frame): void;
  /** The role's part of a TELEMETRY message, over the `dt` seconds since the last one. */
  protected abstract telemetry(dt: number): RoleTelemetry;
  protected abstract batchStats(): BatchStats;
  /** Whether the periodic telemetry is due (the core: while acquiring). */
  protected telemetryDue(): boolean {
    return this.acquiring;
  }
  /** Sends what the role has queued once the port can take it (a transmitter has nothing). */
  protected pump(): void {}
  protected closeRole(): void {}

  // ---- time ----------------------------------------------------------------------------------

  protected uptime(): number {
    return Date.now() - this.t0;
  }

  /** The board's current slot on the shared time base (minus any time stretch). */
  protected nowSlot(): number {
    return Math.max(0, Math.floor(((Date.now() - this.opts.epochMs) * this.clockHz) / 1000) - this.dilation);
  }

  // ---- sending -------------------------------------------------------------------------------

  protected send(type: number, payload: Uint8Array): void {
    if (!this.port) return; // nobody on the line: a real board's frames would go nowhere
    if (this.stallUntil > Date.now()) {
      this.stalledFrames.push([type, payload]);
      return;
    }
    this.link.send(type, payload);
  }

  protected sendError(re: number | undefined, code: msg.ErrorCode, text: string, majors?: readonly number[]): void {
    this.send(M.ERROR, msg.encodeError({ ...(re === undefined ? {} : { re }), code, msg: text, ...(majors ? { majors } : {}) }));
  }

  protected ack(re: number, info?: msg.Ack['info']): void {
    this.send(M.ACK, msg.encodeAck(info ? { re, info } : { re }));
  }

  private log(e: LinkLogEntry): void {
    this.logs.push(e);
    if (this.logs.length > 200) this.logs.splice(0, 100);
  }

  // ---- requests ------------------------------------------------------------------------------

  private onFrame(f: Frame): void {
    try {
      this.handle(f);
    } catch (e) {
      if (e instanceof BadMessageError) {
        this.link.reject('bad-payload', e.message);
        this.sendError(f.seq, 'bad-payload', e.message);
      } else if (e instanceof RangeError) {
        this.sendError(f.seq, 'out-of-range', e.message);
      } else throw e;
    }
  }

  private handle(f: Frame): void {
    switch (f.type) {
      case M.HELLO: {
        const h = msg.decodeHello(f.payload);
        if (!h.majors.includes(this.version[0])) {
          this.sendError(f.seq, 'unsupported-version', `this board implements major ${this.version[0]}, the host offers ${h.majors.join(', ')}`, [this.version[0]]);
          return;
        }
        this.send(
          M.IDENTIFY,
          msg.encodeIdentify({
            re: f.seq,
            v: [this.version[0], Math.min(this.version[1], h.v[0] === this.version[0] ? h.v[1] : 0)],
            model: this.model.model,
            serial: this.opts.serial,
            fw: this.opts.fw ?? '1.0.0-emu',
            role: this.role,
            boot: this.boot,
            caps: this.model.caps,
          }),
        );
        return;
      }
      case M.CONFIGURE:
        return this.configureRole(f.seq, msg.decodeConfigure(f.payload));
      case M.START:
        return this.start(f.seq, msg.decodeStart(f.payload));
      case M.STOP:
        msg.payloadMap('STOP', f.payload);
        return this.stop(f.seq);
      case M.GET_TELEMETRY:
        msg.payloadMap('GET_TELEMETRY', f.payload);
        this.sendTelemetry(f.seq);
        return;
      default:
        return this.handleRole(f);
    }
  }

  /** A configured value outside the model's range is refused (RangeError: out-of-range). */
  protected inRange(v: number | undefined, range: readonly [number, number] | undefined, key: string): void {
    if (v !== undefined && range && !(v >= range[0] && v <= range[1])) throw new RangeError(`${key} = ${v} outside [${range[0]}, ${range[1]}] of ${this.model.model}`);
  }

  private start(re: number, s: msg.Start): void {
    if (this.acquiring) {
      if (s.acq === this.acq) return this.ack(re, { acq: this.acq, firstSlot: this.startSlot, firstBatch: 0 });
      return this.sendError(re, 'bad-state', `acquisition ${this.acq} is running; STOP it first`);
    }
    if (!this.configured) return this.sendError(re, 'bad-state', 'CONFIGURE before START');
    this.acq = s.acq;
    this.acquiring = true;
    this.startSlot = this.nowSlot();
    this.stopSlot = -1;
    this.startRole(re, s);
  }

  private stop(re: number): void {
    if (!this.acquiring) return this.ack(re, { acq: this.acq, lastSlot: this.stopSlot, batches: this.batchStats().batchesProduced });
    this.stopRole(re, this.nowSlot());
  }

  // ---- telemetry -----------------------------------------------------------------------------

  private periodic(): void {
    if (this.telemetryDue()) this.sendTelemetry(undefined);
    const held = this.faults.flushHeld();
    for (const raw of held) if (this.port) this.port.write(cobsEncode(raw));
  }

  private sendTelemetry(re: number | undefined): void {
    const dt = Math.max(1e-3, (Date.now() - this.lastTelemetry) / 1000);
    this.lastTelemetry = Date.now();
    const r = this.telemetry(dt);
    this.send(
      M.TELEMETRY,
      msg.encodeTelemetry({
        ...(re === undefined ? {} : { re }),
        t: this.uptime(),
        slot: this.nowSlot(),
        acquiring: this.acquiring,
        rates: r.rates,
        temps: r.temps,
        biasV: r.biasV,
        overflow: r.overflow,
        ...(r.nextBatch === undefined ? {} : { nextBatch: r.nextBatch }),
      }),
    );
  }
}
