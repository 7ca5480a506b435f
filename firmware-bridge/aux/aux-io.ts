/**
 * The node's aux I/O (enclosure tamper switch, detector and enclosure temperatures, laser
 * interlock relay, status LED) through johnny-five over Firmata. johnny-five gets a firmata-io
 * client whose transport is a serialport 13 SerialPort, so the tree's one serial binding
 * (@serialport/bindings-cpp 13) carries this port too; johnny-five's own serialport 8 is never
 * loaded. A lid opening reaches listeners as a typed 'tamper' event within milliseconds.
 */
import { EventEmitter } from 'node:events';
import { SerialPort } from 'serialport';
import firmataIo from 'firmata-io';
import five from 'johnny-five';
import { auxBoardModel, type AuxBoardModel } from './aux-models.js';
import { BridgeError, BridgeTimeoutError, PortOpenError } from '../errors.js';
import { systemBinding } from '../driver/serial-line.js';
import { publishTamper, publishTemperature } from './diagnostics.js';

export interface TamperEvent {
  readonly kind: 'tamper';
  /** 'open': the enclosure was opened (tamper); 'closed': it was closed again. */
  readonly state: 'open' | 'closed';
  /** When the host saw it, ms since the Unix epoch. */
  readonly at: number;
}

export interface TemperatureReading {
  readonly sensor: 'detector' | 'enclosure';
  readonly celsius: number;
  readonly at: number;
  /** Outside the model's limits. */
  readonly outOfRange: boolean;
}

export interface AuxIoEvents {
  tamper: [TamperEvent];
  temperature: [TemperatureReading];
  disconnect: [BridgeError];
}

export interface AuxIoOptions {
  readonly path: string;
  readonly model?: string;
  /** How often temperatures are read, ms. */
  readonly temperatureIntervalMs?: number;
  readonly readyTimeoutMs?: number;
}

export type StatusLed = 'off' | 'on' | 'blink';

export class AuxIo extends EventEmitter<AuxIoEvents> {
  readonly model: AuxBoardModel;
  /** Firmware name the board reported. */
  firmware = '';
  private readonly port: SerialPort;
  private board!: InstanceType<typeof five.Board>;
  private tamperSwitch!: InstanceType<typeof five.Switch>;
  private relay!: InstanceType<typeof five.Relay>;
  private led!: InstanceType<typeof five.Led>;
  private readonly thermometers: Array<InstanceType<typeof five.Thermometer>> = [];
  private readonly temps: { detector?: TemperatureReading; enclosure?: TemperatureReading } = {};
  private lidOpen: boolean | undefined;
  private closed = false;

  private constructor(model: AuxBoardModel, port: SerialPort) {
    super();
    this.model = model;
    this.port = port;
  }

  static async open(o: AuxIoOptions): Promise<AuxIo> {
    const model = auxBoardModel(o.model ?? 'QKDN-AUX-UNO');
    if (!model) throw new PortOpenError(o.path, new Error(`unknown aux board model ${o.model}`));
    // The driver's hangup-aware binding: an unplugged aux board is reported, not read forever.
    const options = { path: o.path, baudRate: 57600, autoOpen: false, binding: systemBinding() };
    const port = new SerialPort(options as ConstructorParameters<typeof SerialPort>[0]);
    const aux = new AuxIo(model, port);
    try {
      await aux.start(o);
    } catch (e) {
      await aux.close();
      throw e;
    }
    return aux;
  }

  private async start(o: AuxIoOptions): Promise<void> {
    const { Firmata } = firmataIo;
    // A short version timeout: the board is already running, so ask for its version at once
    // instead of waiting 5 s for an unsolicited one (an Arduino sends it only after a reset).
    const io = new Firmata(this.port, { reportVersionTimeout: 50 });
    const timeoutMs = o.readyTimeoutMs ?? 5000;
    this.board = new five.Board({ io, repl: false, debug: false, sigint: false, timeout: timeoutMs });
    // Open only now: Firmata turns the port's 'open' into the 'connect' johnny-five waits for.
    await new Promise<void>((resolve, reject) => this.port.open((e) => (e ? reject(new PortOpenError(o.path, e)) : resolve())));
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new BridgeTimeoutError('Firmata handshake', 1, timeoutMs)), timeoutMs);
      this.board.once('ready', () => {
        clearTimeout(t);
        resolve();
      });
      this.board.once('error', (e: Error) => {
        clearTimeout(t);
        reject(new PortOpenError(o.path, e));
      });
    });
    this.firmware = io.firmware.name ?? '';
    const pins = this.model.pins;
    const board = this.board;
    this.tamperSwitch = new five.Switch({ board, pin: pins.tamper, type: 'NO' });
    const onSwitch = (open: boolean) => {
      if (this.lidOpen === open) return;
      const first = this.lidOpen === undefined;
      this.lidOpen = open;
      // The first reading reports the state found at start-up; an open lid then is a tamper too.
      if (!first || open) {
        const e: TamperEvent = { kind: 'tamper', state: open ? 'open' : 'closed', at: Date.now() };
        this.emit('tamper', e);
        publishTamper({ ...e, path: o.path });
      }
    };
    this.tamperSwitch.on('open', () => onSwitch(true));
    this.tamperSwitch.on('close', () => onSwitch(false));
    this.relay = new five.Relay({ board, pin: pins.interlock, type: this.model.interlockActiveHigh ? 'NO' : 'NC' });
    this.led = new five.Led({ board, pin: pins.statusLed });
    const freq = o.temperatureIntervalMs ?? 250;
    for (const [sensor, ch] of [
      ['detector', pins.detectorChannel],
      ['enclosure', pins.enclosureChannel],
    ] as const) {
      const t = new five.Thermometer({ board, controller: 'ANALOG', pin: `A${ch}`, freq, toCelsius: (raw) => this.model.toCelsius(ch, raw) });
      this.thermometers.push(t);
      t.on('data', () => {
        const celsius = Math.round(t.celsius * 100) / 100;
        const [lo, hi] = this.model.limits[sensor === 'detector' ? 'detectorC' : 'enclosureC'];
        const r: TemperatureReading = { sensor, celsius, at: Date.now(), outOfRange: celsius < lo || celsius > hi };
        this.temps[sensor] = r;
        this.emit('temperature', r);
        publishTemperature({ ...r, path: o.path });
      });
    }
    this.port.on('close', (e: (Error & { disconnected?: boolean }) | null) => {
      if (!this.closed) this.emit('disconnect', new BridgeError('ERR_BRIDGE_DISCONNECTED', `${o.path}: the aux board disconnected`, { cause: e, disconnected: true }));
    });
  }

  /** Lid state: true = open (tampered), undefined until the first report. */
  get tampered(): boolean | undefined {
    return this.lidOpen;
  }

  /** Latest readings (undefined until the first sample). */
  temperatures(): { detector?: TemperatureReading; enclosure?: TemperatureReading } {
    return { ...this.temps };
  }

  /** Closes (energises) or opens the laser interlock: open means the laser must not run. */
  setInterlock(closed: boolean): void {
    if (closed) this.relay.close();
    else this.relay.open();
  }

  setStatusLed(mode: StatusLed, blinkMs = 250): void {
    this.led.stop();
    if (mode === 'on') this.led.on();
    else if (mode === 'off') this.led.off();
    else this.led.blink(blinkMs);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.led?.stop();
    // johnny-five samples on its own interval timers; a null frequency clears them (else the process never exits).
    for (const t of this.thermometers) t.freq = null;
    if (this.port.isOpen) await new Promise<void>((r) => this.port.close(() => r()));
  }
}
