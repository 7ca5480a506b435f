/**
 * An emulated board: speaks board protocol 1.0 byte for byte on the master side of a pty, as a
 * transmitter or a receiver, with the physics of channel-model.ts and the fault knobs of
 * faults.ts. It paces itself on the wall clock (a pty ignores baud rates) and, when the machine
 * cannot keep up with the configured clock, stretches its own time rather than skip slots.
 */
import { boardModel, type BoardModel } from '../boards.js';
import { cobsEncode } from '../protocol/cobs.js';
import { encodeDetections, DetectionBatch, MAX_BATCH_EVENTS } from '../protocol/detections.js';
import { Worker } from 'node:worker_threads';
import { inspect } from 'node:util';
import type { Backpressure, ProducerMessage, ProducerRequest } from './producer.js';
import { PROTOCOL_MAJOR, PROTOCOL_MINOR, type Frame } from '../protocol/frame.js';
import { FrameLink, type LinkLogEntry } from '../protocol/link.js';
import * as msg from '../protocol/messages.js';
import { BadMessageError } from '../errors.js';
import { ChannelModel, mix32, type ChannelParams, type EmissionInterval, type SourceSettings } from './channel-model.js';
import { FaultInjector, type FaultSettings } from './faults.js';
import { SettingsKernel } from './detection-kernel.js';
import { MasterPort } from './master-port.js';
import { openPty, pointLink, removeLink } from './pty.js';

const M = msg.MessageType;
/** Batches the receiver's FIFO holds by default while the host grants no credit. */
const DEFAULT_FIFO_BATCHES = 1024;
/** Start slots of this many recent batches are kept, so BATCH_LOST can name slot ranges. */
const STARTS_KEPT = 1 << 16;

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

/** What the emulator tells its parent process (the bench) about itself. */
export interface BoardStats {
  readonly role: msg.BoardRole;
  readonly framesOut: number;
  readonly bytesOut: number;
  readonly framesIn: number;
  readonly rejectedIn: Record<string, number>;
  readonly faults: { corrupted: number; dropped: number; duplicated: number; reordered: number };
  readonly batchesProduced: number;
  readonly batchesSent: number;
  readonly eventsProduced: number;
  readonly eventsOverflowed: number;
  readonly resentBatches: number;
  readonly lostAnswered: number;
  readonly slot: number;
  readonly dilationSlots: number;
  readonly connected: boolean;
  readonly acquiring: boolean;
}

interface StoredBatch {
  readonly index: number;
  readonly s: number;
  readonly e: number;
  readonly events: number;
  readonly payload: Uint8Array;
}

const TX_ACCEPT = new Set<number>([M.HELLO, M.CONFIGURE, M.START, M.STOP, M.QUERY_SETTINGS, M.GET_TELEMETRY, M.CREDIT, M.RESEND]);
const RX_ACCEPT = TX_ACCEPT;

export class EmulatedBoard {
  readonly role: msg.BoardRole;
  readonly model: BoardModel;
  private readonly opts: BoardOptions;
  private port: MasterPort | undefined;
  private link!: FrameLink;
  private readonly faults = new FaultInjector();
  private readonly version: readonly [number, number];
  private readonly boot: number;
  private readonly t0 = Date.now();
  private stallUntil = 0;
  private stalledFrames: Array<[number, Uint8Array]> = [];
  private stallTimer: NodeJS.Timeout | undefined;
  private telemetryTimer: NodeJS.Timeout | undefined;
  private reappearTimer: NodeJS.Timeout | undefined;
  private closed = false;
  private readonly logs: LinkLogEntry[] = [];
  /** Called when the tx starts or stops emitting: the bench relays it to the receiver (the fibre). */
  onEmission: ((emissions: readonly EmissionInterval[]) => void) | undefined;

  // configuration
  private clockHz = 0;
  private source: SourceSettings;
  private configured = false;
  private rxConf = { pZ: 0.9, gateNs: 0.5, biasV: 48, deadNs: 50, batchSlots: 1 << 20 };
  private channel: ChannelParams;

  // acquisition
  private acquiring = false;
  private acq = 0;
  private startSlot = 0;
  private stopSlot = -1;
  private dilation = 0;
  private emissions: EmissionInterval[] = [];
  /** The transmitter's model of each emission: its source over the fibre as it was when the emission began. */
  private emissionModels: ChannelModel[] = [];
  private readonly settings = new SettingsKernel();
  private fibre: EmissionInterval[] = [];

  // rx batches
  private producer: Worker | undefined;
  private stopWaiters: number[] = [];
  private batchStart = 0;
  private produced = 0;
  private sentUpTo = 0;
  private credit = 0;
  private ring: StoredBatch[] = [];
  private readonly starts = new Float64Array(STARTS_KEPT);
  private resendQueue: number[] = [];
  private overflowing = false;
  private reportedUpTo = 0;
  /** sentUpTo as last told to the producer (under 'stretch'). */
  private sentReported = 0;
  private counters = { eventsProduced: 0, eventsOverflowed: 0, resentBatches: 0, lostAnswered: 0, batchesSent: 0 };
  private clicksSinceTelemetry = new Float64Array(4);
  private lastTelemetry = Date.now();

  constructor(opts: BoardOptions) {
    this.opts = opts;
    this.role = opts.role;
    const model = boardModel(opts.model ?? (opts.role === 'tx' ? 'QKDN-EMU-TX' : 'QKDN-EMU-RX'));
    if (!model || model.role !== opts.role) throw new RangeError(`unknown ${opts.role} board model ${opts.model}`);
    this.model = opts.replayBatches === undefined ? model : { ...model, caps: { ...model.caps, replayBatches: opts.replayBatches } };
    this.version = opts.protocol ?? [PROTOCOL_MAJOR, PROTOCOL_MINOR];
    this.boot = opts.boot ?? mix32(Date.now() ^ process.pid);
    this.channel = opts.channel;
    this.source = opts.channel.source;
    this.clockHz = opts.channel.source.clockHz;
    this.rxConf.pZ = opts.channel.detector.pZ;
    this.rxConf.deadNs = opts.channel.detector.deadNs;
    if (opts.faults) this.faults.configure(opts.faults);
  }

  /** Creates the pty and points the link at it. */
  plugIn(): string {
    const pty = openPty();
    this.link = new FrameLink({
      write: (b) => this.port?.write(b),
      accept: this.role === 'tx' ? TX_ACCEPT : RX_ACCEPT,
      resyncTypes: new Set([M.HELLO]),
      onFrame: (f) => this.onFrame(f),
      onForeignVersion: (f) => this.sendError(f.seq, 'unsupported-version', `this board implements major ${this.version[0]}`, [this.version[0]]),
      onUnknownType: (f) => this.sendError(f.seq, 'unknown-type', `type 0x${f.type.toString(16)} is not defined in ${this.version.join('.')}`),
      log: (e) => this.log(e),
      version: this.version[0],
      outgoing: (raw, type) => this.faults.apply(raw, type),
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

  /** The fibre: the transmitter's emission intervals, as the receiver sees them. */
  setFibre(emissions: readonly EmissionInterval[]): void {
    this.fibre = emissions.map((e) => ({ ...e, to: e.to ?? Infinity }));
    this.toProducer({ op: 'fibre', emissions: this.fibreFor(this.clockHz) });
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
      batchesProduced: this.produced,
      batchesSent: this.counters.batchesSent,
      eventsProduced: this.counters.eventsProduced,
      eventsOverflowed: this.counters.eventsOverflowed,
      resentBatches: this.counters.resentBatches,
      lostAnswered: this.counters.lostAnswered,
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
    void this.producer?.terminate();
    clearTimeout(this.stallTimer);
    clearTimeout(this.reappearTimer);
    this.port?.close();
    this.port = undefined;
    removeLink(this.opts.link);
  }

  // ---- time ----------------------------------------------------------------------------------

  private uptime(): number {
    return Date.now() - this.t0;
  }

  /** The board's current slot on the shared time base (minus any time stretch). */
  private nowSlot(): number {
    return Math.max(0, Math.floor(((Date.now() - this.opts.epochMs) * this.clockHz) / 1000) - this.dilation);
  }

  // ---- sending -------------------------------------------------------------------------------

  private send(type: number, payload: Uint8Array): void {
    if (!this.port) return; // nobody on the line: a real board's frames would go nowhere
    if (this.stallUntil > Date.now()) {
      this.stalledFrames.push([type, payload]);
      return;
    }
    this.link.send(type, payload);
  }

  private sendError(re: number | undefined, code: msg.ErrorCode, text: string, majors?: readonly number[]): void {
    this.send(M.ERROR, msg.encodeError({ ...(re === undefined ? {} : { re }), code, msg: text, ...(majors ? { majors } : {}) }));
  }

  private ack(re: number, info?: msg.Ack['info']): void {
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
        return this.configure(f.seq, msg.decodeConfigure(f.payload));
      case M.START:
        return this.start(f.seq, msg.decodeStart(f.payload));
      case M.STOP:
        msg.payloadMap('STOP', f.payload);
        return this.stop(f.seq);
      case M.GET_TELEMETRY:
        msg.payloadMap('GET_TELEMETRY', f.payload);
        this.sendTelemetry(f.seq);
        return;
      case M.QUERY_SETTINGS:
        if (this.role !== 'tx') return this.sendError(f.seq, 'wrong-role', 'QUERY_SETTINGS goes to a transmitter');
        return this.querySettings(f.seq, msg.decodeQuerySettings(f.payload));
      case M.CREDIT: {
        if (this.role !== 'rx') return;
        const c = msg.decodeCredit(f.payload);
        if (c.acq === this.acq && c.upTo > this.credit) {
          this.credit = c.upTo;
          this.pump();
        }
        return;
      }
      case M.RESEND: {
        if (this.role !== 'rx') return;
        const r = msg.decodeResend(f.payload);
        if (r.acq === this.acq) this.resend(r.from, r.to);
        return;
      }
    }
  }

  private configure(re: number, c: msg.Configure): void {
    if (this.acquiring && this.role === 'rx') return this.sendError(re, 'bad-state', 'stop the acquisition before reconfiguring the receiver');
    const r = this.model.ranges;
    const inRange = (v: number | undefined, range: readonly [number, number] | undefined, key: string) => {
      if (v !== undefined && range && !(v >= range[0] && v <= range[1])) throw new RangeError(`${key} = ${v} outside [${range[0]}, ${range[1]}] of ${this.model.model}`);
    };
    inRange(c.clockHz, r.clockHz, 'clockHz');
    if (this.role === 'tx') {
      const mu = c.mu ?? this.source.mu;
      const pMu = c.pMu ?? this.source.pMu;
      mu.forEach((m, k) => inRange(m, r.mu, `mu[${k}]`));
      if (mu.length > this.model.caps.intensities) throw new RangeError(`${mu.length} intensity classes, the source has ${this.model.caps.intensities}`);
      const next: SourceSettings = { clockHz: c.clockHz ?? this.clockHz, mu: [...mu], pMu: [...pMu], pZ: c.pZ ?? this.source.pZ };
      new ChannelModel({ ...this.channel, source: next }); // validates (throws RangeError)
      const wasEmitting = this.acquiring;
      if (wasEmitting) this.endEmission();
      this.source = next;
      this.clockHz = next.clockHz;
      if (wasEmitting) this.beginEmission(this.nowSlot());
      this.configured = true;
      this.ack(re, { clockHz: next.clockHz, mu: [...next.mu], pMu: [...next.pMu], pZ: next.pZ });
      return;
    }
    inRange(c.gateNs, r.gateNs, 'gateNs');
    inRange(c.biasV, r.biasV, 'biasV');
    inRange(c.deadNs, r.deadNs, 'deadNs');
    if (c.pZ !== undefined && !(c.pZ >= 0 && c.pZ <= 1)) throw new RangeError(`pZ = ${c.pZ}`);
    if (c.batchSlots !== undefined && !(c.batchSlots >= 1 && c.batchSlots <= 2 ** 32)) throw new RangeError(`batchSlots = ${c.batchSlots}`);
    this.clockHz = c.clockHz ?? this.clockHz;
    this.rxConf = {
      pZ: c.pZ ?? this.rxConf.pZ,
      gateNs: c.gateNs ?? this.rxConf.gateNs,
      biasV: c.biasV ?? this.rxConf.biasV,
      deadNs: c.deadNs ?? this.rxConf.deadNs,
      batchSlots: c.batchSlots ?? this.rxConf.batchSlots,
    };
    this.configured = true;
    this.ack(re, { clockHz: this.clockHz, ...this.rxConf });
  }

  private start(re: number, s: msg.Start): void {
    if (this.acquiring) {
      if (s.acq === this.acq) return this.ack(re, { acq: this.acq, firstSlot: this.startSlot, firstBatch: 0 });
      return this.sendError(re, 'bad-state', `acquisition ${this.acq} is running; STOP it first`);
    }
    if (!this.configured) return this.sendError(re, 'bad-state', 'CONFIGURE before START');
    this.acq = s.acq;
    this.acquiring = true;
    // Time stretched by a slow machine in an earlier acquisition is forgiven: each acquisition
    // starts on the shared wall clock, so the receiver never starts before a transmitter that
    // was started ahead of it (its first slots would be dark).
    if (this.role === 'rx') this.dilation = 0;
    this.startSlot = this.nowSlot();
    this.stopSlot = -1;
    if (this.role === 'tx') {
      this.beginEmission(this.startSlot);
      return this.ack(re, { acq: this.acq, firstSlot: this.startSlot, firstBatch: 0 });
    }
    const channel: ChannelParams = {
      ...this.channel,
      detector: { ...this.channel.detector, pZ: this.rxConf.pZ, deadNs: this.rxConf.deadNs },
    };
    new ChannelModel(channel); // validates before the producer thread sees it
    this.batchStart = this.startSlot;
    this.produced = 0;
    this.sentUpTo = 0;
    this.reportedUpTo = 0;
    this.credit = s.credit;
    this.ring = [];
    this.resendQueue = [];
    this.counters = { eventsProduced: 0, eventsOverflowed: 0, resentBatches: 0, lostAnswered: 0, batchesSent: 0 };
    this.ack(re, { acq: this.acq, firstSlot: this.startSlot, firstBatch: 0 });
    this.toProducer({
      op: 'start',
      acq: this.acq,
      channel,
      clockHz: this.clockHz,
      epochMs: this.opts.epochMs,
      startSlot: this.startSlot,
      batchSlots: this.rxConf.batchSlots,
      maxEvents: Math.min(this.model.caps.maxBatchEvents, MAX_BATCH_EVENTS),
      emissions: this.fibreFor(this.clockHz),
      dilation: this.dilation,
      backpressure: this.opts.backpressure ?? 'drop',
      fifoBatches: this.opts.fifoBatches ?? DEFAULT_FIFO_BATCHES,
    });
    this.sentReported = 0;
  }

  private toProducer(r: ProducerRequest): void {
    if (this.role !== 'rx') return;
    if (!this.producer) {
      this.producer = new Worker(new URL('./producer-thread.mjs', import.meta.url));
      this.producer.on('message', (m: ProducerMessage) => this.fromProducer(m));
      this.producer.on('error', (e: unknown) => {
        const why = e instanceof Error ? e.message : inspect(e);
        process.stderr.write(`emulated rx ${this.opts.serial}: detector pipeline failed: ${e instanceof Error ? e.stack : why}\n`);
        this.raiseAlarm('detector-pipeline', 'critical', `detector pipeline failed: ${why}`);
      });
      this.producer.unref();
    }
    this.producer.postMessage(r);
  }

  private fromProducer(m: ProducerMessage): void {
    if (m.acq !== this.acq) return;
    if (m.op === 'batches') {
      this.dilation = m.dilation;
      for (const b of m.list) {
        b.clicks.forEach((c, j) => (this.clicksSinceTelemetry[j]! += c));
        this.closeBatch(b.index, b.s, b.e, b.n, b.payload);
      }
      this.pump();
      return;
    }
    this.acquiring = false;
    this.dilation = m.dilation;
    this.stopSlot = m.lastSlot;
    for (const re of this.stopWaiters.splice(0)) this.ack(re, { acq: this.acq, lastSlot: m.lastSlot, batches: m.batches });
    this.pump();
  }

  /** Emission intervals whose clock matches ours: a receiver on another clock sees no signal (sync lost). */
  private fibreFor(clockHz: number): EmissionInterval[] {
    return this.fibre.filter((e) => e.source.clockHz === clockHz);
  }

  private stop(re: number): void {
    if (!this.acquiring) return this.ack(re, { acq: this.acq, lastSlot: this.stopSlot, batches: this.produced });
    const now = this.nowSlot();
    if (this.role === 'tx') {
      this.endEmission();
      this.acquiring = false;
      this.stopSlot = now;
      return this.ack(re, { acq: this.acq, lastSlot: now, batches: 0 });
    }
    // The producer closes the last batch at `now` and reports how many there are; then we answer.
    if (this.stopWaiters.push(re) === 1) this.toProducer({ op: 'stop', atSlot: now });
  }

  private beginEmission(from: number): void {
    this.emissions.push({ from, to: Infinity, source: this.source });
    this.emissionModels.push(new ChannelModel({ ...this.channel, source: this.source }));
    this.onEmission?.(this.emissions);
  }

  private endEmission(): void {
    const last = this.emissions[this.emissions.length - 1];
    if (last && last.to === Infinity) this.emissions[this.emissions.length - 1] = { ...last, to: this.nowSlot() };
    this.onEmission?.(this.emissions);
  }

  private querySettings(re: number, q: msg.QuerySettings): void {
    const now = this.nowSlot();
    const oldest = now - this.model.caps.ringSlots;
    const slots = q.slots;
    const n = slots.length;
    const out = new Uint8Array(n);
    // Queried slots are increasing (deltas are unsigned) and emission intervals are ordered and
    // disjoint: one cursor walks both.
    const em = this.emissions;
    let k = 0;
    for (let i = 0; i < n; i++) {
      const s = slots[i]!;
      if (s > now) {
        out.fill(msg.SETTING_FUTURE, i);
        break;
      }
      if (s < oldest) {
        out[i] = msg.SETTING_EXPIRED;
        continue;
      }
      while (k < em.length && em[k]!.to <= s) k++;
      const e = em[k];
      if (!e || s < e.from) {
        out[i] = msg.SETTING_DARK;
        continue;
      }
      // The run of slots inside this emission (and not in the future), answered by the kernel at once.
      let j = i + 1;
      const to = Math.min(e.to, now + 1);
      while (j < n && slots[j]! < to) j++;
      this.settings.answer(this.emissionModels[k]!, slots, i, j, out, i);
      i = j - 1;
    }
    this.send(M.SETTINGS, msg.encodeSettings({ re, settings: out }));
  }

  // ---- telemetry -----------------------------------------------------------------------------

  private periodic(): void {
    // Keep reporting nextBatch until everything produced has been sent and a report followed it.
    if (this.acquiring || this.sentUpTo < this.produced || this.reportedUpTo < this.sentUpTo) {
      this.reportedUpTo = this.sentUpTo;
      this.sendTelemetry(undefined);
    }
    const held = this.faults.flushHeld();
    for (const raw of held) if (this.port) this.port.write(cobsEncode(raw));
  }

  private sendTelemetry(re: number | undefined): void {
    const dt = Math.max(1e-3, (Date.now() - this.lastTelemetry) / 1000);
    const rates = this.role === 'rx' ? Array.from(this.clicksSinceTelemetry, (c) => Math.round((c / dt) * 10) / 10) : [];
    this.clicksSinceTelemetry.fill(0);
    this.lastTelemetry = Date.now();
    const temps: Record<string, number> = this.role === 'rx' ? { detector: -40 + 0.1 * Math.sin(this.uptime() / 5000), board: 35 } : { board: 33 };
    this.send(
      M.TELEMETRY,
      msg.encodeTelemetry({
        ...(re === undefined ? {} : { re }),
        t: this.uptime(),
        slot: this.nowSlot(),
        acquiring: this.acquiring,
        rates,
        temps,
        biasV: this.role === 'rx' ? this.rxConf.biasV : 0,
        overflow: this.counters.eventsOverflowed,
        ...(this.role === 'rx' ? { nextBatch: this.sentUpTo } : {}),
      }),
    );
  }

  // ---- receiver: production and streaming ----------------------------------------------------

  /** Files a batch from the producer: into the FIFO, or, when the FIFO is full, emptied and counted as overflow. */
  private closeBatch(index: number, start: number, end: number, n: number, payload: Uint8Array): void {
    this.produced = index + 1;
    // Under 'stretch' the producer waits for room instead (the last, partial batch may take one more).
    const fifoFull = this.opts.backpressure !== 'stretch' && this.produced - this.sentUpTo > (this.opts.fifoBatches ?? DEFAULT_FIFO_BATCHES);
    if (fifoFull) {
      this.counters.eventsOverflowed += n;
      payload = encodeDetections(new DetectionBatch(this.acq, index, start, end, new Float64Array(0), new Uint8Array(0), n));
      n = 0;
      if (!this.overflowing) {
        this.overflowing = true;
        this.raiseAlarm('fifo-overflow', 'critical', `FIFO full: the host is not granting credit; events of batch ${index} on are lost`);
      }
    } else if (this.overflowing) {
      this.overflowing = false;
      this.clearAlarm('fifo-overflow', 'info', 'FIFO has room again');
    }
    this.counters.eventsProduced += n;
    this.ring.push({ index, s: start, e: end, events: n, payload });
    this.starts[index % STARTS_KEPT] = start;
    this.batchStart = end;
  }

  /**
   * A batch the board still holds: every batch not yet sent (the FIFO), and the last
   * replayBatches sent ones (the replay buffer).
   */
  private stored(index: number): StoredBatch | undefined {
    const first = this.ring[0];
    if (!first) return undefined;
    const b = this.ring[index - first.index];
    return b && b.index === index && index >= this.sentUpTo - this.model.caps.replayBatches ? b : undefined;
  }

  private trimRing(): void {
    const keepFrom = this.sentUpTo - this.model.caps.replayBatches;
    const first = this.ring[0];
    if (first && keepFrom - first.index > 64) this.ring.splice(0, keepFrom - first.index);
  }

  private resend(from: number, to: number): void {
    const upTo = Math.min(to, this.sentUpTo);
    let lostFrom = -1;
    for (let i = from; i < upTo; i++) {
      if (this.stored(i)) {
        if (lostFrom >= 0) this.answerLost(lostFrom, i);
        lostFrom = -1;
        if (!this.resendQueue.includes(i)) this.resendQueue.push(i);
      } else if (lostFrom < 0) lostFrom = i;
    }
    if (lostFrom >= 0) this.answerLost(lostFrom, upTo);
    this.pump();
  }

  private answerLost(from: number, to: number): void {
    this.counters.lostAnswered += to - from;
    this.send(M.BATCH_LOST, msg.encodeBatchLost({ acq: this.acq, from, to, s: this.sliceStart(from), e: this.sliceStart(to) }));
  }

  /** First slot of batch `index` (batches tile the slot axis, so it is also where batch index - 1 ends). */
  private sliceStart(index: number): number {
    if (index >= this.produced) return this.batchStart;
    if (index === 0) return this.startSlot;
    if (this.produced - index <= STARTS_KEPT) return this.starts[index % STARTS_KEPT]!;
    return this.startSlot; // older than the index of starts: the acquisition's start bounds it
  }

  /** Sends what credit and the port allow: resends first, then new batches. */
  private pump(): void {
    const port = this.port;
    if (!port || this.stallUntil > Date.now()) return;
    while (port.writable && this.resendQueue.length > 0) {
      const b = this.stored(this.resendQueue.shift()!);
      if (b) {
        this.counters.resentBatches++;
        this.send(M.DETECTIONS, b.payload);
      }
    }
    while (port.writable && this.sentUpTo < this.produced && this.sentUpTo < this.credit) {
      const b = this.stored(this.sentUpTo);
      this.sentUpTo++;
      if (!b) continue; // evicted before it could be sent: the host learns it from RESEND
      this.counters.batchesSent++;
      this.send(M.DETECTIONS, b.payload);
    }
    if (this.opts.backpressure === 'stretch' && this.sentUpTo > this.sentReported && this.acquiring) {
      this.sentReported = this.sentUpTo;
      this.toProducer({ op: 'sent', upTo: this.sentUpTo });
    }
    this.trimRing();
  }
}

