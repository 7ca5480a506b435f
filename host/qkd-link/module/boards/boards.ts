/**
 * What a link end needs from its board, as two small interfaces: the transmitter answers which
 * settings it used in given slots; the receiver streams detections. The firmware-bridge driver
 * (real boards, or the emulator over a pty) implements them through board-ports.ts; nothing else
 * in the module touches the board.
 */
import type { LinkError } from '../errors.js';

export interface DetectionBatchItem {
  readonly kind: 'batch';
  readonly acq: number;
  readonly slotStart: number;
  readonly slotEnd: number;
  /** Slot of each event, increasing (may be decoded on first use: read it only where needed). */
  readonly slots: Float64Array;
  /** The same slots in wire form, when the board delivers it: LEB128 deltas from slotStart. */
  readonly deltas?: Uint8Array;
  /** Events of this batch's time the board lost to a full FIFO (not in slots). */
  readonly lost?: number;
  /** Click mask of each event (bit 0 Z0, 1 Z1, 2 X0, 3 X1). */
  readonly masks: Uint8Array;
}

export interface DetectionGapItem {
  readonly kind: 'gap';
  readonly slotStart: number;
  readonly slotEnd: number;
  readonly reason: 'lost' | 'board-reset';
}

export type DetectionItem = DetectionBatchItem | DetectionGapItem;

/** A fault of the board: blocks in flight are abandoned (ERR_LINK_BOARD_FAULT). */
export type FaultListener = (err: LinkError) => void;

export interface TransmitterPort {
  /**
   * The board's SETTINGS byte (value, basis, class, status; firmware-bridge PROTOCOL.md) for n
   * slots given as LEB128 deltas from `start` (slot k = start + d0 + ... + dk), as the receiver
   * announces them, written at out[at..at+n). The deltas are already checked (the 'slots' job)
   * and n is at most the board's MAX_QUERY_SLOTS: one query each. Several calls may be in flight
   * (parts of one block).
   */
  querySettingsBytes(start: number, n: number, deltas: Uint8Array, out: Uint8Array, at: number): Promise<void>;
  /** The most slots one settings query may ask for. */
  readonly maxQuerySlots: number;
  onFault(listener: FaultListener): void;
  /** Whether the board can be trusted now (no critical alarm standing). */
  readonly healthy: boolean;
  close(): Promise<void>;
}

export interface ReceiverPort {
  /** The detection stream, in slot order, until the port closes. */
  detections(): AsyncIterable<DetectionItem>;
  onFault(listener: FaultListener): void;
  readonly healthy: boolean;
  close(): Promise<void>;
}
