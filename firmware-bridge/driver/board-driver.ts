/**
 * The host driver of one board (transmitter or receiver) over a serial line: handshake and
 * version negotiation, requests with timeouts and retries, the detection-event stream with
 * credit-based back-pressure, in-order delivery with resend of lost batches, disconnect
 * detection and automatic reconnection with resynchronisation (no batch delivered twice, every
 * loss reported as a gap with its slot range). PROTOCOL.md is the contract it implements.
 */
import { EventEmitter } from 'node:events';
import type { BindingPortInterface } from '@serialport/bindings-cpp';
import {
  BadMessageError,
  BoardError,
  BridgeArgumentError,
  BridgeClosedError,
  BridgeDisconnectedError,
  BridgeError,
  BridgeTimeoutError,
  ProtocolVersionError,
  WrongBoardError,
} from '../errors.js';
import { decodeDetections, DetectionBatch } from '../protocol/detections.js';
import { PROTOCOL_MAJOR, PROTOCOL_MINOR, type Frame } from '../protocol/frame.js';
import { FrameLink, type LinkLogEntry, type LinkStats } from '../protocol/link.js';
import * as msg from '../protocol/messages.js';
import { Acquisition, DetectionGap, type AcquisitionHost, type AcquisitionItem } from './acquisition.js';
import { openLine, resolvePort, systemBinding, type PortSelector, type SerialBinding } from './serial-line.js';
import { setTimeout as sleep } from 'node:timers/promises';

export { Acquisition, DetectionGap, type AcquisitionItem };

const M = msg.MessageType;
const FROM_BOARD = new Set<number>([M.IDENTIFY, M.ACK, M.SETTINGS, M.TELEMETRY, M.DETECTIONS, M.BATCH_LOST, M.ALARM, M.ERROR]);

export interface BoardDriverOptions {
  /** Which board: a path (e.g. /dev/serial/by-id/...) or a USB identity from the port list. */
  readonly port: PortSelector;
  /** Refuse a board of the other role. */
  readonly role?: msg.BoardRole;
  /** Refuse a board with another serial number. */
  readonly serial?: string;
  readonly requestTimeoutMs?: number;
  /** Extra attempts after the first, for each request. */
  readonly retries?: number;
  /** Reconnect after a disconnection (default true). */
  readonly reconnect?: boolean;
  /** Give up reconnecting after this long (default 30 s); the driver then closes with an 'error'. */
  readonly reconnectTimeoutMs?: number;
  /** Batches the board may send ahead of the consumer: the back-pressure window. */
  readonly creditWindow?: number;
  /** Ask again for a missing batch after this long. */
  readonly resendTimeoutMs?: number;
  /** No frame for this long while acquiring raises 'stall'. */
  readonly stallTimeoutMs?: number;
  readonly hostName?: string;
  readonly binding?: SerialBinding;
  /** Every log entry (rejections, reconnections, gaps); pino's logger methods fit via a small adapter. */
  readonly log?: (entry: BridgeLogEntry) => void;
}

export interface BridgeLogEntry extends LinkLogEntry {
  readonly path: string;
  readonly time: number;
}


export interface TransmitterSettings {
  /** Per queried slot: 0 = Z, 1 = X. */
  readonly basis: Uint8Array;
  readonly value: Uint8Array;
  /** Index into the configured mu. */
  readonly intensity: Uint8Array;
  /** 0 = known; else SETTING_EXPIRED, SETTING_FUTURE or SETTING_DARK (protocol/messages.ts). */
  readonly status: Uint8Array;
}

export interface DriverStats {
  readonly link: LinkStats;
  batchesDelivered: number;
  eventsDelivered: number;
  duplicateBatches: number;
  resendRequests: number;
  gaps: number;
  gapBatches: number;
  eventsOverflowed: number;
  requestRetries: number;
  requestTimeouts: number;
  disconnects: number;
  reconnects: number;
  stalls: number;
}

export interface BoardDriverEvents {
  alarm: [msg.Alarm];
  telemetry: [msg.Telemetry];
  gap: [DetectionGap];
  disconnect: [BridgeError];
  reconnect: [{ readonly path: string; readonly downMs: number; readonly resumed: boolean }];
  reset: [msg.Identify];
  stall: [{ readonly silentMs: number }];
  'stall-end': [{ readonly silentMs: number }];
  error: [BridgeError];
  log: [BridgeLogEntry];
}

interface Pending {
  readonly seqs: Set<number>;
  /** The answer, once it came (to any attempt). */
  frame: Frame | undefined;
  /** Wakes the attempt waiting now (answer, timeout or close). */
  wake: (() => void) | undefined;
  resolve(f: Frame): void;
}

/** SETTINGS bytes (one per slot, as on the wire) unpacked into their fields. */
export function settingsFromBytes(bytes: Uint8Array): TransmitterSettings {
  const n = bytes.length;
  const out: TransmitterSettings = { basis: new Uint8Array(n), value: new Uint8Array(n), intensity: new Uint8Array(n), status: new Uint8Array(n) };
  const { basis, value, intensity, status } = out;
  for (let k = 0; k < n; k++) {
    const b = bytes[k]!;
    status[k] = b & 0xe0;
    value[k] = b & msg.SETTING_VALUE;
    basis[k] = (b & msg.SETTING_BASIS_X) >> 1;
    intensity[k] = (b >> msg.SETTING_CLASS_SHIFT) & 3;
  }
  return out;
}

/** An unsigned integer of an ACK's info (msg.asUint: slots above 2^32 come as bigints), 0 if absent or not one. */
function infoUint(v: unknown): number {
  return msg.asUint(v) ?? 0;
}

/** What every settings query needs of its arguments, checked before anything is sent. */
function checkQuery(start: number, n: number, out: Uint8Array, at: number): void {
  if (!Number.isSafeInteger(start) || start < 0) throw new BridgeArgumentError('start', start, 'a slot number');
  if (!Number.isSafeInteger(n) || n < 0) throw new BridgeArgumentError('n', n, 'a count of slots');
  if (!Number.isSafeInteger(at) || at < 0 || at + n > out.length) throw new BridgeArgumentError('at', at, `an offset with room for ${n} settings in ${out.length} bytes`);
}

const DEFAULTS = {
  requestTimeoutMs: 1000,
  retries: 3,
  reconnectTimeoutMs: 30_000,
  creditWindow: 256,
  resendTimeoutMs: 250,
  stallTimeoutMs: 1000,
};

export class BoardDriver extends EventEmitter<BoardDriverEvents> implements AcquisitionHost {
  readonly stats: DriverStats;
  /** What the board said about itself in the last handshake. */
  identity!: msg.Identify;
  path = '';
  private readonly o: Required<Omit<BoardDriverOptions, 'role' | 'serial' | 'log' | 'binding'>> & BoardDriverOptions;
  private readonly binding: SerialBinding;
  private line: BindingPortInterface | undefined;
  private readonly link: FrameLink;
  private readonly pending = new Map<number, Pending>();
  private writeChain: Promise<void> = Promise.resolve();
  private closed = false;
  private connectedWaiters: Array<() => void> = [];
  private reconnecting: Promise<void> | undefined;
  private foreign: Frame | undefined;
  private readonly recent: BridgeLogEntry[] = [];
  private acquisition: Acquisition | undefined;
  private lastFrameAt = Date.now();
  private stalled = false;
  private watchdog: NodeJS.Timeout | undefined;

  private constructor(options: BoardDriverOptions) {
    super();
    this.o = { ...DEFAULTS, reconnect: true, hostName: 'qkdn-edge', ...options };
    this.binding = options.binding ?? systemBinding();
    this.link = new FrameLink({
      write: (b) => this.write(b),
      accept: FROM_BOARD,
      onFrame: (f) => this.onFrame(f),
      onForeignVersion: (f) => {
        this.foreign = { ...f, payload: f.payload.slice() };
        for (const p of this.pending.values()) p.resolve(this.foreign);
      },
      log: (e) => this.log(e),
    });
    this.stats = {
      link: this.link.stats,
      batchesDelivered: 0,
      eventsDelivered: 0,
      duplicateBatches: 0,
      resendRequests: 0,
      gaps: 0,
      gapBatches: 0,
      eventsOverflowed: 0,
      requestRetries: 0,
      requestTimeouts: 0,
      disconnects: 0,
      reconnects: 0,
      stalls: 0,
    };
  }

  /** Opens the port, flushes it and performs the handshake. */
  static async open(options: BoardDriverOptions): Promise<BoardDriver> {
    const d = new BoardDriver(options);
    try {
      await d.connect();
    } catch (e) {
      await d.close();
      throw e;
    }
    d.watchdog = setInterval(() => d.checkWatchdog(), Math.max(20, Math.min(d.o.resendTimeoutMs, d.o.stallTimeoutMs) / 2));
    return d;
  }

  get role(): msg.BoardRole {
    return this.identity.role;
  }

  get connected(): boolean {
    return this.line !== undefined && this.reconnecting === undefined;
  }

  /** The last log entries (at most 200), newest last. */
  recentLog(): readonly BridgeLogEntry[] {
    return this.recent.slice();
  }

  // ---- connection ----------------------------------------------------------------------------

  private async connect(): Promise<void> {
    this.path = await resolvePort(this.o.port, this.binding);
    const line = await openLine(this.path, this.binding);
    this.line = line;
    this.link.resync();
    this.foreign = undefined;
    void this.readLoop(line);
    // A lone delimiter ends whatever partial frame the board may be holding from a previous host.
    await this.writeRaw(Uint8Array.of(0));
    const id = await this.handshake();
    if (this.o.role && id.role !== this.o.role) throw new WrongBoardError(`a ${this.o.role} board`, `a ${id.role} board (${id.model} ${id.serial})`);
    if (this.o.serial && id.serial !== this.o.serial) throw new WrongBoardError(`serial ${this.o.serial}`, `serial ${id.serial}`);
    this.identity = id;
    this.lastFrameAt = Date.now();
  }

  private async handshake(): Promise<msg.Identify> {
    const hello = msg.encodeHello({ v: [PROTOCOL_MAJOR, PROTOCOL_MINOR], majors: [PROTOCOL_MAJOR], host: this.o.hostName });
    const f = await this.helloExchange(hello);
    if (f.version !== PROTOCOL_MAJOR) throw this.versionError(f);
    if (f.type === M.ERROR) {
      const e = msg.decodeError(f.payload);
      if (e.code === 'unsupported-version') throw new ProtocolVersionError(`${(e.majors ?? []).join('/') || '?'}.x`, [PROTOCOL_MAJOR], e.msg);
      throw new BoardError('HELLO', e.code, e.msg);
    }
    const id = this.decode('IDENTIFY', () => msg.decodeIdentify(f.payload));
    if (id.v[0] !== PROTOCOL_MAJOR) throw new ProtocolVersionError(`${id.v[0]}.${id.v[1]}`, [PROTOCOL_MAJOR]);
    this.log({ level: 'info', event: 'handshake', message: `${id.role} board ${id.model} serial ${id.serial} fw ${id.fw}, protocol ${id.v[0]}.${id.v[1]}, boot ${id.boot}` });
    return id;
  }

  private versionError(f: Frame): ProtocolVersionError {
    // The envelope is the same in every major version: try to read what the board said.
    let detail = '';
    try {
      if (f.type === M.IDENTIFY) {
        const id = msg.decodeIdentify(f.payload);
        return new ProtocolVersionError(`${id.v[0]}.${id.v[1]}`, [PROTOCOL_MAJOR], `${id.model} serial ${id.serial} fw ${id.fw}`);
      }
      if (f.type === M.ERROR) detail = msg.decodeError(f.payload).msg;
    } catch {
      // the payload of another major need not parse
    }
    return new ProtocolVersionError(`${f.version}.x`, [PROTOCOL_MAJOR], detail);
  }

  private async readLoop(line: BindingPortInterface): Promise<void> {
    const buf = Buffer.allocUnsafe(65536);
    for (;;) {
      let n: number;
      try {
        n = (await line.read(buf, 0, buf.length)).bytesRead;
      } catch (e) {
        if (line !== this.line) return; // replaced or closed on purpose
        this.onDisconnect(e);
        return;
      }
      if (line !== this.line) return;
      this.link.push(buf.subarray(0, n));
    }
  }

  private onDisconnect(cause: unknown): void {
    if (this.closed || this.reconnecting) return;
    const line = this.line;
    this.line = undefined;
    line?.close().catch(() => {});
    const err = new BridgeDisconnectedError(this.path, cause);
    this.stats.disconnects++;
    this.log({ level: 'warn', event: 'disconnect', message: `${this.path}: ${cause instanceof Error ? cause.message : String(cause)}` });
    this.emit('disconnect', err);
    if (!this.o.reconnect) {
      this.fail(err);
      return;
    }
    this.reconnecting = this.reconnectLoop().finally(() => {
      this.reconnecting = undefined;
    });
  }

  private async reconnectLoop(): Promise<void> {
    const t0 = Date.now();
    let delay = 20;
    const before = this.identity;
    while (!this.closed) {
      await sleep(delay);
      delay = Math.min(delay * 2, 200);
      if (this.closed) return;
      try {
        await this.connect();
      } catch (e) {
        const line = this.line;
        this.line = undefined;
        await line?.close().catch(() => {});
        if (e instanceof ProtocolVersionError || e instanceof WrongBoardError) {
          this.fail(e);
          return;
        }
        if (Date.now() - t0 > this.o.reconnectTimeoutMs) {
          this.fail(new BridgeDisconnectedError(this.path, new Error(`not back after ${this.o.reconnectTimeoutMs} ms`)));
          return;
        }
        continue;
      }
      if (this.identity.serial !== before.serial) {
        this.fail(new WrongBoardError(`serial ${before.serial}`, `serial ${this.identity.serial}`));
        return;
      }
      const resumed = this.identity.boot === before.boot;
      this.stats.reconnects++;
      const downMs = Date.now() - t0;
      this.log({ level: 'info', event: 'reconnect', message: `${this.path} back after ${downMs} ms; ${resumed ? 'resuming' : 'the board was reset'}` });
      this.reconnecting = undefined;
      for (const w of this.connectedWaiters.splice(0)) w();
      if (!resumed) this.emit('reset', this.identity);
      this.acquisition?.afterReconnect(resumed);
      this.emit('reconnect', { path: this.path, downMs, resumed });
      return;
    }
  }

  private fail(err: BridgeError): void {
    this.log({ level: 'error', event: 'failed', message: err.message });
    if (this.listenerCount('error') > 0) this.emit('error', err);
    this.acquisition?.end(err);
    void this.close();
  }

  private waitConnected(deadline: number): Promise<boolean> {
    if (this.connected) return Promise.resolve(true);
    return new Promise((resolve) => {
      const t = setTimeout(() => resolve(false), Math.max(0, deadline - Date.now()));
      this.connectedWaiters.push(() => {
        clearTimeout(t);
        resolve(true);
      });
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const p of this.pending.values()) p.wake?.(); // pending requests stop waiting
    clearInterval(this.watchdog);
    for (const w of this.connectedWaiters.splice(0)) w();
    this.acquisition?.end(new BridgeClosedError('acquisition'));
    const line = this.line;
    this.line = undefined;
    if (line?.isOpen) await line.close().catch(() => {});
  }

  // ---- frames in and out ---------------------------------------------------------------------

  private write(bytes: Uint8Array): void {
    void this.writeRaw(bytes).catch(() => {});
  }

  /** Writes one at a time: the write window is bounded to one frame (unbounded writes against a blocked pty can deadlock). */
  private writeRaw(bytes: Uint8Array): Promise<void> {
    const line = this.line;
    const p = this.writeChain.then(async () => {
      if (!line || !line.isOpen || line !== this.line) throw new BridgeDisconnectedError(this.path);
      await line.write(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    });
    this.writeChain = p.catch(() => {});
    return p;
  }

  private log(e: LinkLogEntry): void {
    const entry: BridgeLogEntry = { ...e, path: this.path, time: Date.now() };
    this.recent.push(entry);
    if (this.recent.length > 200) this.recent.splice(0, this.recent.length - 200);
    this.o.log?.(entry);
    if (this.listenerCount('log') > 0) this.emit('log', entry);
  }

  private decode<T>(what: string, fn: () => T): T {
    try {
      return fn();
    } catch (e) {
      if (e instanceof BadMessageError) this.link.reject('bad-payload', e.message);
      throw e;
    }
  }

  private onFrame(f: Frame): void {
    this.lastFrameAt = Date.now();
    if (this.stalled) {
      this.stalled = false;
      this.emit('stall-end', { silentMs: 0 });
    }
    try {
      switch (f.type) {
        case M.DETECTIONS: {
          const b = this.decode('DETECTIONS', () => decodeDetections(f.payload));
          if (!this.acquisition || b.acq !== this.acquisition.acq) {
            this.link.reject('unexpected', `batch ${b.index} of acquisition ${b.acq}, not running`);
            return;
          }
          this.acquisition.onBatch(b);
          return;
        }
        case M.BATCH_LOST: {
          const l = this.decode('BATCH_LOST', () => msg.decodeBatchLost(f.payload));
          if (this.acquisition && l.acq === this.acquisition.acq) this.acquisition.onLost(l);
          return;
        }
        case M.ALARM: {
          const a = this.decode('ALARM', () => msg.decodeAlarm(f.payload));
          this.log({ level: a.sev === 'critical' ? 'error' : a.sev === 'warning' ? 'warn' : 'info', event: 'alarm', message: `${a.code}${a.clear ? ' cleared' : ''}: ${a.msg}` });
          this.emit('alarm', a);
          return;
        }
        case M.TELEMETRY: {
          const t = this.decode('TELEMETRY', () => msg.decodeTelemetry(f.payload));
          if (t.re !== undefined && this.answer(t.re, f)) return;
          if (t.nextBatch !== undefined) this.acquisition?.onNextBatch(t.nextBatch);
          this.emit('telemetry', t);
          return;
        }
        case M.IDENTIFY:
        case M.ACK:
        case M.SETTINGS:
        case M.ERROR: {
          const re = this.decode(msg.MESSAGE_NAMES.get(f.type)!, () => {
            const o = msg.payloadMap(msg.MESSAGE_NAMES.get(f.type)!, f.payload);
            return typeof o.re === 'number' ? o.re : undefined;
          });
          if (re === undefined || !this.answer(re, f)) {
            if (f.type === M.ERROR) {
              const e = msg.decodeError(f.payload);
              this.log({ level: 'warn', event: 'board-error', message: `${e.code}: ${e.msg}` });
            } else this.link.reject('unexpected', `${msg.MESSAGE_NAMES.get(f.type)} answering seq ${re}, which is not pending`);
          }
          return;
        }
      }
    } catch (e) {
      if (!(e instanceof BadMessageError)) throw e;
    }
  }

  private answer(re: number, f: Frame): boolean {
    for (const [id, p] of this.pending) {
      if (p.seqs.has(re)) {
        this.pending.delete(id);
        p.resolve({ ...f, payload: f.payload.slice() });
        return true;
      }
    }
    return false;
  }

  private nextRequestId = 1;

  /**
   * Sends a request and waits for the frame answering it, retrying with the same payload
   * (requests are idempotent) and waiting out a reconnection within the overall deadline.
   */
  private exchange(name: string, type: number, payload: Uint8Array): Promise<Frame> {
    const attempts = this.o.retries + 1;
    const deadline = Date.now() + this.o.requestTimeoutMs * attempts + this.o.reconnectTimeoutMs;
    return this.roundTrip(name, type, payload, deadline, (d) => this.waitConnected(d));
  }

  /** The HELLO of a (re)connection: it is what makes the link connected, so it waits for nothing. */
  private helloExchange(hello: Uint8Array): Promise<Frame> {
    const deadline = Date.now() + this.o.requestTimeoutMs * (this.o.retries + 1);
    return this.roundTrip('HELLO', M.HELLO, hello, deadline, async () => true);
  }

  /** One request's attempts until `deadline`; before each, `ready` waits for a line to send on. */
  private async roundTrip(name: string, type: number, payload: Uint8Array, deadline: number, ready: (deadline: number) => Promise<boolean>): Promise<Frame> {
    if (this.closed) throw new BridgeClosedError(name);
    const timeout = this.o.requestTimeoutMs;
    const attempts = this.o.retries + 1;
    const id = this.nextRequestId++;
    // One timer per attempt, cleared on the answer: requests run at thousands a second, and a
    // race against a shared "closing" promise would pile up reactions on it until close().
    const p: Pending = {
      seqs: new Set(),
      frame: undefined,
      wake: undefined,
      resolve(f) {
        p.frame = f;
        p.wake?.();
      },
    };
    this.pending.set(id, p);
    try {
      for (let attempt = 0; attempt < attempts; attempt++) {
        if (!(await ready(deadline))) break;
        if (this.closed) throw new BridgeClosedError(name);
        if (this.foreign) return this.foreign;
        if (p.frame) return p.frame; // a late answer to an earlier attempt
        if (attempt > 0) {
          this.stats.requestRetries++;
          this.log({ level: 'info', event: 'retry', message: `${name}: attempt ${attempt + 1} of ${attempts}` });
        }
        p.seqs.add(this.link.send(type, payload));
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, timeout);
          p.wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        p.wake = undefined;
        if (this.closed) throw new BridgeClosedError(name);
        if (p.frame) return p.frame;
      }
      this.stats.requestTimeouts++;
      throw new BridgeTimeoutError(name, attempts, timeout);
    } finally {
      this.pending.delete(id);
    }
  }

  private async request(name: string, type: number, payload: Uint8Array, expect: number): Promise<Frame> {
    const f = await this.exchange(name, type, payload);
    if (f.version !== PROTOCOL_MAJOR) throw this.versionError(f);
    if (f.type === M.ERROR) {
      const e = msg.decodeError(f.payload);
      throw new BoardError(name, e.code, e.msg);
    }
    if (f.type !== expect) throw new BadMessageError(name, 'type', `answered with ${msg.MESSAGE_NAMES.get(f.type)}`);
    return f;
  }

  // ---- requests ------------------------------------------------------------------------------

  /** Configures the board; resolves with the effective configuration it reports. */
  async configure(c: msg.Configure): Promise<Record<string, unknown>> {
    const f = await this.request('CONFIGURE', M.CONFIGURE, msg.encodeConfigure(c), M.ACK);
    return { ...(msg.decodeAck(f.payload).info ?? {}) };
  }

  async telemetry(): Promise<msg.Telemetry> {
    const f = await this.request('GET_TELEMETRY', M.GET_TELEMETRY, new Uint8Array([0xa0]), M.TELEMETRY);
    return msg.decodeTelemetry(f.payload);
  }

  /**
   * Starts an acquisition. On a receiver, iterate the returned Acquisition for detection
   * batches (and gaps), in slot order; on a transmitter it only records where emission began.
   */
  async start(options: { acq?: number } = {}): Promise<Acquisition> {
    if (this.acquisition && !this.acquisition.finished) throw new BridgeArgumentError('start', this.acquisition.acq, 'no running acquisition: stop() it first');
    const acq = options.acq ?? ((Date.now() & 0x7fffffff) >>> 0);
    const a = new Acquisition(this, acq, this.o.creditWindow);
    this.acquisition = a;
    try {
      const f = await this.request('START', M.START, msg.encodeStart({ acq, credit: this.o.creditWindow }), M.ACK);
      const info = msg.decodeAck(f.payload).info ?? {};
      a.begin(infoUint(info.firstSlot));
      return a;
    } catch (e) {
      this.acquisition = undefined;
      throw e;
    }
  }

  /** Stops the acquisition; the receiver's iterator ends once every batch up to the stop is delivered. */
  async stop(): Promise<{ lastSlot: number; batches: number }> {
    const f = await this.request('STOP', M.STOP, new Uint8Array([0xa0]), M.ACK);
    const info = msg.decodeAck(f.payload).info ?? {};
    const batches = infoUint(info.batches);
    const lastSlot = infoUint(info.lastSlot);
    this.acquisition?.stopAt(batches);
    return { lastSlot, batches };
  }

  /** The transmitter's basis, value and intensity class for each slot (any number, split into queries). */
  async querySettings(slots: ArrayLike<number>): Promise<TransmitterSettings> {
    const n = slots.length;
    // The order is checked before anything is sent (each chunk's own checks come as it is encoded); a Float64Array is sent from views of itself.
    for (let i = 1; i < n; i++) if (slots[i]! < slots[i - 1]!) throw new BridgeArgumentError(`slots[${i}]`, slots[i], 'slots in increasing order');
    let all: Float64Array;
    if (slots instanceof Float64Array) all = slots;
    else {
      all = new Float64Array(n);
      for (let i = 0; i < n; i++) all[i] = slots[i]!;
    }
    const out = new Uint8Array(n);
    for (let o = 0; o < n; o += msg.MAX_QUERY_SLOTS) {
      const chunk = all.subarray(o, Math.min(n, o + msg.MAX_QUERY_SLOTS));
      await this.querySettingsChunk(msg.encodeQuerySettings({ slots: chunk }), chunk.length, out, o);
    }
    return settingsFromBytes(out);
  }

  /**
   * querySettings for n slots given as LEB128 deltas from `start` (slot[k] = start + d[0] + ...
   * + d[k], PROTOCOL.md 3.6), as a peer's sift announcement carries them: the deltas go out as
   * they are, cut into MAX_QUERY_SLOTS runs, never decoded into slots. Malformed deltas are a
   * BridgeArgumentError, found before anything is sent.
   */
  async querySettingsDeltas(start: number, n: number, deltas: Uint8Array): Promise<TransmitterSettings> {
    return settingsFromBytes(await this.querySettingsBytes(start, n, deltas));
  }

  /**
   * querySettingsDeltas with the answer as it came over the wire: one SETTINGS byte per slot
   * (bit 0 value, bit 1 basis X, bits 2-3 intensity class, bits 5-7 SETTING_DARK, _FUTURE,
   * _EXPIRED), written at `out[at..at+n)` when `out` is given. Nothing is unpacked per slot here,
   * so a host can hand the bytes to its sifting kernel as they are.
   */
  async querySettingsBytes(start: number, n: number, deltas: Uint8Array, out: Uint8Array = new Uint8Array(n), at = 0): Promise<Uint8Array> {
    checkQuery(start, n, out, at);
    let runs: msg.SlotDeltaRun[];
    try {
      runs = msg.splitSlotDeltas(start, deltas, n, msg.MAX_QUERY_SLOTS, 'QUERY_SETTINGS');
    } catch (e) {
      if (e instanceof BadMessageError) throw new BridgeArgumentError('deltas', `${deltas.length} bytes`, `${n} slot deltas from a slot number: ${e.message}`);
      throw e;
    }
    let k = at;
    for (const r of runs) {
      await this.querySettingsChunk(msg.encodeQuerySettingsDeltas(r.s, r.n, deltas.subarray(r.from, r.to)), r.n, out, k);
      k += r.n;
    }
    return out;
  }

  /**
   * querySettingsBytes for one query's worth of slots (n at most MAX_QUERY_SLOTS) whose deltas the
   * caller has already checked (n minimal varints below 2^32, slots safe integers; a link's
   * sifting kernel does): they go out as they are, not walked again here, and a malformed list
   * is the board's to refuse (an ERROR answer).
   */
  async querySettingsRun(start: number, n: number, deltas: Uint8Array, out: Uint8Array, at: number): Promise<void> {
    checkQuery(start, n, out, at);
    if (n > msg.MAX_QUERY_SLOTS) throw new BridgeArgumentError('n', n, `at most ${msg.MAX_QUERY_SLOTS} slots in one query`);
    if (n > 0) await this.querySettingsChunk(msg.encodeQuerySettingsDeltas(start, n, deltas), n, out, at);
  }

  /** One QUERY_SETTINGS of `count` slots; the answer's bytes copied into out from index `at`. */
  private async querySettingsChunk(payload: Uint8Array, count: number, out: Uint8Array, at: number): Promise<void> {
    const f = await this.request('QUERY_SETTINGS', M.QUERY_SETTINGS, payload, M.SETTINGS);
    const s = msg.decodeSettingsView(f.payload).settings; // f.payload is this request's own copy
    if (s.length !== count) throw new BadMessageError('SETTINGS', 'b', `${s.length} settings for ${count} slots`);
    out.set(s, at);
  }

  // ---- used by Acquisition -------------------------------------------------------------------

  /** @internal */
  sendCredit(acq: number, upTo: number): void {
    if (this.connected) this.link.send(M.CREDIT, msg.encodeCredit({ acq, upTo }));
  }

  /** @internal */
  sendResend(acq: number, from: number, to: number): void {
    if (!this.connected) return;
    this.stats.resendRequests++;
    this.log({ level: 'info', event: 'resend', message: `asking again for batches ${from}-${to - 1}` });
    this.link.send(M.RESEND, msg.encodeResend({ acq, from, to }));
  }

  /** @internal */
  noteGap(g: DetectionGap): void {
    this.stats.gaps++;
    this.stats.gapBatches += g.toBatch - g.fromBatch;
    this.log({ level: 'warn', event: 'gap', message: `batches ${g.fromBatch}-${g.toBatch - 1} (slots ${g.slotStart}-${g.slotEnd}) lost: ${g.reason}` });
    this.emit('gap', g);
  }

  /** @internal */
  noteDuplicate(index: number): void {
    this.stats.duplicateBatches++;
    this.log({ level: 'debug', event: 'duplicate', message: `batch ${index} again: dropped` });
  }

  /** @internal */
  noteDelivered(b: DetectionBatch): void {
    this.stats.batchesDelivered++;
    this.stats.eventsDelivered += b.length;
    this.stats.eventsOverflowed += b.overflow;
  }

  private checkWatchdog(): void {
    if (this.closed) return;
    this.acquisition?.checkMissing();
    if (!this.connected || !this.acquisition || this.acquisition.finished || this.identity.role !== 'rx') return;
    const silent = Date.now() - this.lastFrameAt;
    if (!this.stalled && silent > this.o.stallTimeoutMs) {
      this.stalled = true;
      this.stats.stalls++;
      this.log({ level: 'warn', event: 'stall', message: `no frame from the board for ${silent} ms while acquiring` });
      this.emit('stall', { silentMs: silent });
    }
  }

  /** @internal */
  get resendTimeoutMs(): number {
    return this.o.resendTimeoutMs;
  }
}
