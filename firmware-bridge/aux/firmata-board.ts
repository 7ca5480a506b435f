/**
 * An emulated aux I/O board speaking Firmata 2.5 (the StandardFirmata subset johnny-five uses:
 * version and firmware queries, capability and analog-mapping queries, pin modes, digital port
 * writes and reports, analog reports at the sampling interval). It models the enclosure: a lid
 * tamper switch, a detector and an enclosure temperature sensor, the laser interlock relay and
 * the status LED, wired as the aux board model table (aux-models.ts) says.
 */
import type { AuxBoardModel } from './aux-models.js';

const REPORT_VERSION = 0xf9;
const START_SYSEX = 0xf0;
const END_SYSEX = 0xf7;
const QUERY_FIRMWARE = 0x79;
const CAPABILITY_QUERY = 0x6b;
const CAPABILITY_RESPONSE = 0x6c;
const ANALOG_MAPPING_QUERY = 0x69;
const ANALOG_MAPPING_RESPONSE = 0x6a;
const PIN_STATE_QUERY = 0x6d;
const PIN_STATE_RESPONSE = 0x6e;
const SAMPLING_INTERVAL = 0x7a;
const PIN_MODE = 0xf4;
const SET_DIGITAL_PIN_VALUE = 0xf5;
const DIGITAL_MESSAGE = 0x90;
const ANALOG_MESSAGE = 0xe0;
const REPORT_ANALOG = 0xc0;
const REPORT_DIGITAL = 0xd0;
const SYSTEM_RESET = 0xff;

const MODE_INPUT = 0x00;
const MODE_OUTPUT = 0x01;
const MODE_ANALOG = 0x02;
const MODE_PULLUP = 0x0b;

export interface FirmataBoardState {
  /** Lid open (tamper) or closed. */
  readonly lidOpen: boolean;
  readonly detectorC: number;
  readonly enclosureC: number;
  /** Relay coil energised: the interlock lets the laser run. */
  readonly interlockClosed: boolean;
  readonly ledOn: boolean;
}

export class FirmataBoard {
  private readonly pins: number;
  private readonly mode: Uint8Array;
  private readonly level: Uint8Array;
  private readonly reportPort = new Uint8Array(16);
  private readonly reportAnalog = new Uint8Array(16);
  private samplingMs = 19;
  private sampler: NodeJS.Timeout | undefined;
  private buf: number[] = [];
  private lidOpen = false;
  private detectorC: number;
  private enclosureC: number;
  /** Called when an output the bench watches (relay, LED) changes. */
  onOutputs: ((s: FirmataBoardState) => void) | undefined;

  constructor(
    private readonly model: AuxBoardModel,
    private readonly write: (bytes: Uint8Array) => void,
  ) {
    this.pins = model.pinCount;
    this.mode = new Uint8Array(this.pins).fill(MODE_OUTPUT);
    this.level = new Uint8Array(this.pins);
    this.detectorC = model.nominal.detectorC;
    this.enclosureC = model.nominal.enclosureC;
    this.sampler = setInterval(() => this.sample(), this.samplingMs);
  }

  state(): FirmataBoardState {
    return {
      lidOpen: this.lidOpen,
      detectorC: this.detectorC,
      enclosureC: this.enclosureC,
      interlockClosed: this.level[this.model.pins.interlock] === (this.model.interlockActiveHigh ? 1 : 0),
      ledOn: this.level[this.model.pins.statusLed] === 1,
    };
  }

  /** The bench opens or closes the lid: the input changes and is reported at once. */
  setLid(open: boolean): void {
    this.lidOpen = open;
    // Pulled-up input, switch closed by the lid to ground: closed lid reads 0, open lid 1.
    this.level[this.model.pins.tamper] = open ? 1 : 0;
    this.reportDigital(this.model.pins.tamper >> 3);
  }

  setTemperatures(t: { detectorC?: number; enclosureC?: number }): void {
    if (t.detectorC !== undefined) this.detectorC = t.detectorC;
    if (t.enclosureC !== undefined) this.enclosureC = t.enclosureC;
  }

  close(): void {
    clearInterval(this.sampler);
  }

  push(chunk: Uint8Array): void {
    for (const b of chunk) this.byte(b);
  }

  private byte(b: number): void {
    const buf = this.buf;
    if (buf[0] === START_SYSEX) {
      if (b === END_SYSEX) {
        this.sysex(buf.slice(1));
        buf.length = 0;
        return;
      }
      if (b < 0x80) {
        if (buf.length < 1024) buf.push(b);
        return;
      }
      buf.length = 0; // a command inside an unfinished sysex: drop the sysex, take the command
    }
    if (b >= 0x80) {
      buf.length = 0;
      buf.push(b);
    } else if (buf.length === 0) {
      return; // a data byte without a command: line noise
    } else buf.push(b);
    const cmd = buf[0]!;
    if (cmd === START_SYSEX) return;
    const hi = cmd & 0xf0;
    const need = cmd === PIN_MODE || cmd === SET_DIGITAL_PIN_VALUE || hi === DIGITAL_MESSAGE || hi === ANALOG_MESSAGE ? 3 : hi === REPORT_ANALOG || hi === REPORT_DIGITAL ? 2 : 1;
    if (buf.length < need) return;
    const a = buf[1] ?? 0;
    const d = buf[2] ?? 0;
    buf.length = 0;
    if (cmd === REPORT_VERSION) this.write(Uint8Array.of(REPORT_VERSION, 2, 5));
    else if (cmd === SYSTEM_RESET) this.reset();
    else if (cmd === PIN_MODE) this.pinMode(a, d);
    else if (cmd === SET_DIGITAL_PIN_VALUE) this.setPin(a, d & 1);
    else if (hi === DIGITAL_MESSAGE) this.writePort(cmd & 0x0f, a | (d << 7));
    else if (hi === REPORT_DIGITAL) {
      this.reportPort[cmd & 0x0f] = a & 1;
      if (a & 1) this.reportDigital(cmd & 0x0f);
    } else if (hi === REPORT_ANALOG) this.reportAnalog[cmd & 0x0f] = a & 1;
  }

  private reset(): void {
    this.mode.fill(MODE_OUTPUT);
    this.reportPort.fill(0);
    this.reportAnalog.fill(0);
  }

  private sysex(data: number[]): void {
    const [cmd] = data;
    if (cmd === QUERY_FIRMWARE) {
      const name = [...new TextEncoder().encode(this.model.firmware)].flatMap((c) => [c & 0x7f, c >> 7]);
      this.write(Uint8Array.from([START_SYSEX, QUERY_FIRMWARE, 2, 5, ...name, END_SYSEX]));
    } else if (cmd === CAPABILITY_QUERY) {
      const out = [START_SYSEX, CAPABILITY_RESPONSE];
      for (let p = 0; p < this.pins; p++) {
        if (p >= 2) {
          out.push(MODE_INPUT, 1, MODE_OUTPUT, 1, MODE_PULLUP, 1);
          if (this.analogChannel(p) >= 0) out.push(MODE_ANALOG, 10);
        }
        out.push(0x7f);
      }
      out.push(END_SYSEX);
      this.write(Uint8Array.from(out));
    } else if (cmd === ANALOG_MAPPING_QUERY) {
      const out = [START_SYSEX, ANALOG_MAPPING_RESPONSE];
      for (let p = 0; p < this.pins; p++) {
        const ch = this.analogChannel(p);
        out.push(ch >= 0 ? ch : 0x7f);
      }
      out.push(END_SYSEX);
      this.write(Uint8Array.from(out));
    } else if (cmd === PIN_STATE_QUERY && data[1] !== undefined && data[1] < this.pins) {
      const p = data[1];
      this.write(Uint8Array.of(START_SYSEX, PIN_STATE_RESPONSE, p, this.mode[p]!, this.level[p]!, END_SYSEX));
    } else if (cmd === SAMPLING_INTERVAL && data.length >= 3) {
      this.samplingMs = Math.max(5, data[1]! | (data[2]! << 7));
      clearInterval(this.sampler);
      this.sampler = setInterval(() => this.sample(), this.samplingMs);
    }
  }

  private analogChannel(pin: number): number {
    const first = this.pins - this.model.analogChannels;
    return pin >= first ? pin - first : -1;
  }

  private pinMode(pin: number, mode: number): void {
    if (pin >= this.pins) return;
    this.mode[pin] = mode;
    if (mode === MODE_PULLUP && pin !== this.model.pins.tamper) this.level[pin] = 1;
  }

  private setPin(pin: number, v: number): void {
    if (pin >= this.pins) return;
    const m = this.mode[pin];
    // Writing HIGH to an input enables its pull-up (Arduino); the tamper input keeps the switch's level.
    if (m === MODE_INPUT || m === MODE_PULLUP) return;
    const before = this.state();
    this.level[pin] = v;
    const after = this.state();
    if (before.interlockClosed !== after.interlockClosed || before.ledOn !== after.ledOn) this.onOutputs?.(after);
  }

  private writePort(port: number, value: number): void {
    for (let i = 0; i < 8; i++) {
      const p = port * 8 + i;
      if (p < this.pins) this.setPin(p, (value >> i) & 1);
    }
  }

  private reportDigital(port: number): void {
    if (!this.reportPort[port]) return;
    let v = 0;
    for (let i = 0; i < 8; i++) {
      const p = port * 8 + i;
      if (p < this.pins && this.level[p]) v |= 1 << i;
    }
    this.write(Uint8Array.of(DIGITAL_MESSAGE | port, v & 0x7f, (v >> 7) & 0x7f));
  }

  private sample(): void {
    for (let ch = 0; ch < this.model.analogChannels; ch++) {
      if (!this.reportAnalog[ch]) continue;
      const raw = this.model.rawFor(ch, ch === this.model.pins.detectorChannel ? this.detectorC : ch === this.model.pins.enclosureChannel ? this.enclosureC : 25);
      this.write(Uint8Array.of(ANALOG_MESSAGE | ch, raw & 0x7f, (raw >> 7) & 0x7f));
    }
  }
}
