/**
 * Per-board-model facts, one entry per model (johnny-five's Controllers pattern): what the host
 * may ask of a board before it asks. IDENTIFY's `caps` are authoritative for the board at hand;
 * this table adds what a board does not say about itself (its USB identity, configuration
 * ranges from its datasheet) and lets the driver find boards in the port list.
 */
import type { BoardRole, Capabilities } from './protocol/messages.js';

export interface BoardModel {
  readonly model: string;
  readonly role: BoardRole;
  readonly description: string;
  /** USB identity of its serial interface (hex, lower case), when it has one. */
  readonly usb?: { readonly vendorId: string; readonly productId: string };
  readonly caps: Capabilities;
  /** Ranges CONFIGURE must respect. */
  readonly ranges: {
    readonly clockHz: readonly [number, number];
    readonly gateNs?: readonly [number, number];
    readonly biasV?: readonly [number, number];
    readonly deadNs?: readonly [number, number];
    readonly mu?: readonly [number, number];
  };
  /** Detector and enclosure temperature limits, Celsius; outside them the board raises an alarm. */
  readonly temperatureC?: { readonly detector?: readonly [number, number]; readonly board: readonly [number, number] };
}

export const BOARD_MODELS: readonly BoardModel[] = [
  {
    model: 'QKDN-EMU-TX',
    role: 'tx',
    description: 'emulated decoy-state BB84 transmitter (firmware-bridge/emulator): up to 1 GHz, 4 intensity classes',
    caps: { maxClockHz: 1_000_000_000, detectors: 0, intensities: 4, ringSlots: 2 ** 36, maxBatchEvents: 0, replayBatches: 0 },
    ranges: { clockHz: [1_000_000, 1_000_000_000], mu: [0, 2] },
    temperatureC: { board: [0, 60] },
  },
  {
    model: 'QKDN-EMU-RX',
    role: 'rx',
    description: 'emulated passive-basis BB84 receiver, four gated detectors (firmware-bridge/emulator)',
    caps: { maxClockHz: 1_000_000_000, detectors: 4, intensities: 0, ringSlots: 0, maxBatchEvents: 8192, replayBatches: 4096 },
    ranges: { clockHz: [1_000_000, 1_000_000_000], gateNs: [0.1, 10], biasV: [30, 70], deadNs: [0, 100_000] },
    temperatureC: { detector: [-60, -30], board: [0, 60] },
  },
  {
    // An FPGA transmitter behind an FTDI FT232H in FT245 synchronous FIFO mode (0403:6014).
    model: 'QKDN-TX-FT232H',
    role: 'tx',
    description: 'FPGA transmitter board, USB through FTDI FT232H (up to 40 MB/s)',
    usb: { vendorId: '0403', productId: '6014' },
    caps: { maxClockHz: 1_250_000_000, detectors: 0, intensities: 3, ringSlots: 2 ** 32, maxBatchEvents: 0, replayBatches: 0 },
    ranges: { clockHz: [10_000_000, 1_250_000_000], mu: [0, 1] },
    temperatureC: { board: [0, 70] },
  },
  {
    // A receiver with InGaAs gated detectors behind a Silicon Labs CP2102N (10c4:ea60): 3 Mbit/s,
    // so about 60 k events/s at 5 bytes per event; faster receivers use the FT232H model.
    model: 'QKDN-RX-CP2102N',
    role: 'rx',
    description: 'gated InGaAs receiver board, USB-UART CP2102N at 3 Mbaud (about 60 k events/s)',
    usb: { vendorId: '10c4', productId: 'ea60' },
    caps: { maxClockHz: 1_250_000_000, detectors: 4, intensities: 0, ringSlots: 0, maxBatchEvents: 4096, replayBatches: 256 },
    ranges: { clockHz: [10_000_000, 1_250_000_000], gateNs: [0.2, 2], biasV: [40, 60], deadNs: [1_000, 50_000] },
    temperatureC: { detector: [-55, -35], board: [0, 60] },
  },
];

export function boardModel(model: string): BoardModel | undefined {
  return BOARD_MODELS.find((m) => m.model === model);
}

/** Models whose USB identity matches a port-list entry. */
export function modelsForUsb(vendorId: string | undefined, productId: string | undefined): BoardModel[] {
  if (!vendorId || !productId) return [];
  return BOARD_MODELS.filter((m) => m.usb?.vendorId === vendorId.toLowerCase() && m.usb.productId === productId.toLowerCase());
}
