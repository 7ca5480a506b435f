/**
 * Aux I/O board models (johnny-five's Controllers pattern): which pin does what, and how each
 * sensor's raw reading becomes degrees Celsius, with the datasheet fact beside each formula.
 */
export interface AuxBoardModel {
  readonly model: string;
  readonly description: string;
  /** Firmware name reported by QUERY_FIRMWARE. */
  readonly firmware: string;
  readonly pinCount: number;
  /** The last `analogChannels` pins are A0, A1, ... */
  readonly analogChannels: number;
  readonly usb?: { readonly vendorId: string; readonly productId: string };
  readonly pins: {
    /** Lid switch to ground, input with pull-up: 0 lid closed, 1 lid open. */
    readonly tamper: number;
    readonly detectorChannel: number;
    readonly enclosureChannel: number;
    readonly interlock: number;
    readonly statusLed: number;
  };
  /** Relay driven high to energise (close) the laser interlock. */
  readonly interlockActiveHigh: boolean;
  /** 10-bit ADC reading to Celsius, per analog channel. */
  toCelsius(channel: number, raw: number): number;
  /** The inverse, for the emulator. */
  rawFor(channel: number, celsius: number): number;
  readonly nominal: { readonly detectorC: number; readonly enclosureC: number };
  /** Limits beyond which the node raises an alarm. */
  readonly limits: { readonly detectorC: readonly [number, number]; readonly enclosureC: readonly [number, number] };
}

const AREF = 5;

// Detector: PT1000 through a transmitter scaled -80..+40 C onto 0..5 V (so 0..1023 counts), about
// 0.12 C per count: the cold head of an InGaAs detector sits near -40 C, below a TMP36's range.
const detectorToC = (raw: number): number => -80 + (120 * raw) / 1023;
const detectorRaw = (c: number): number => clampRaw(((c + 80) * 1023) / 120);
// Enclosure: TMP36, 10 mV/C with 500 mV at 0 C (Analog Devices TMP35/36/37 datasheet, table 4).
const tmp36ToC = (raw: number): number => (AREF * 1000 * raw) / 1023 / 10 - 50;
const tmp36Raw = (c: number): number => clampRaw((((c + 50) * 10) / 1000 / AREF) * 1023);

function clampRaw(x: number): number {
  return Math.max(0, Math.min(1023, Math.round(x)));
}

export const AUX_BOARD_MODELS: readonly AuxBoardModel[] = [
  {
    model: 'QKDN-AUX-UNO',
    description: 'Arduino Uno (ATmega328P) running StandardFirmata 2.5, or the emulator of firmware-bridge/aux',
    firmware: 'QKDN-AUX StandardFirmata',
    pinCount: 20,
    analogChannels: 6,
    usb: { vendorId: '2341', productId: '0043' },
    pins: { tamper: 2, detectorChannel: 0, enclosureChannel: 1, interlock: 7, statusLed: 13 },
    interlockActiveHigh: true,
    toCelsius: (ch, raw) => (ch === 0 ? detectorToC(raw) : tmp36ToC(raw)),
    rawFor: (ch, c) => (ch === 0 ? detectorRaw(c) : tmp36Raw(c)),
    nominal: { detectorC: -40, enclosureC: 30 },
    limits: { detectorC: [-60, -30], enclosureC: [5, 45] },
  },
];

export function auxBoardModel(model: string): AuxBoardModel | undefined {
  return AUX_BOARD_MODELS.find((m) => m.model === model);
}
