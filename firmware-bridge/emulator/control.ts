/**
 * The bench's side channel to an emulated board process (Node IPC, structured clone): fault
 * knobs, unplugging, alarms, statistics, and the fibre that carries the transmitter's emission to
 * the receiver. A real board has no such channel; scenarios that need it are skipped on hardware.
 */
import type { AlarmSeverity } from '../protocol/messages.js';
import type { BoardOptions, BoardStats } from './board.js';
import type { EmissionInterval } from './channel-model.js';
import type { FaultSettings } from './faults.js';
import type { LinkLogEntry } from '../protocol/link.js';

export type ControlRequest =
  | { readonly op: 'faults'; readonly faults: FaultSettings }
  | { readonly op: 'stall'; readonly ms: number }
  | { readonly op: 'unplug'; readonly downMs: number }
  | { readonly op: 'alarm'; readonly code: string; readonly sev: AlarmSeverity; readonly msg: string; readonly clear?: boolean }
  | { readonly op: 'inject'; readonly bytes: Uint8Array }
  | { readonly op: 'send'; readonly type: number; readonly payload: Uint8Array }
  | { readonly op: 'stats' }
  | { readonly op: 'logs' }
  | { readonly op: 'fibre'; readonly emissions: readonly EmissionInterval[] }
  | { readonly op: 'channel'; readonly distanceKm?: number; readonly interceptFraction?: number }
  | { readonly op: 'exit' };

export type ControlReply = BoardStats | readonly LinkLogEntry[] | null;

export type ControlMessage =
  | { readonly op: 'ready'; readonly path: string; readonly slavePath: string; readonly pid: number }
  | { readonly op: 'reply'; readonly id: number; readonly result?: ControlReply; readonly error?: string }
  | { readonly op: 'emission'; readonly emissions: readonly EmissionInterval[] }
  | { readonly op: 'failed'; readonly error: string };

export type Envelope = ControlRequest & { readonly id: number };

export type EmulatorConfig = BoardOptions;
