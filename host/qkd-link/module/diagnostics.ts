/**
 * What a link publishes for the management layer, on node:diagnostics_channel (docs/ARCHITECTURE.md
 * §2: the manager subscribes, nothing here imports it):
 *
 *   qkdn:qkd-link:block     one BlockReport per block and end, whatever its outcome
 *   qkdn:qkd-link:state     LinkStateEvent: connection, synchronisation, board faults, stop
 *   qkdn:qkd-link:security  the channel's SecurityEvent (channel/channel.ts)
 *   qkdn:qkd-link:board     BoardEvent: a board's alarms (raised and cleared) and its telemetry
 */
import type { VacuumBound } from '../estimation/finite-key.js';
import type { SecurityBudget } from '../estimation/security-budget.js';
import { channel } from 'node:diagnostics_channel';
import type { LinkErrorCode } from './errors.js';
import type { LinkRole } from './config.js';

export type { SecurityEvent } from '../channel/channel.js';

export const BLOCK_CHANNEL = 'qkdn:qkd-link:block';
export const STATE_CHANNEL = 'qkdn:qkd-link:state';
export const SECURITY_CHANNEL = 'qkdn:qkd-link:security';
export const BOARD_CHANNEL = 'qkdn:qkd-link:board';

export interface PerClassReport {
  readonly signal: number;
  readonly decoy: number;
  readonly vacuum: number;
}

export interface StageTimes {
  /** Milliseconds per stage at this end, from the block's first message to its end. */
  sift: number;
  pe: number;
  ec: number;
  verify: number;
  pa: number;
  commit: number;
}

export interface BlockReport {
  readonly linkId: string;
  readonly role: LinkRole;
  readonly block: number;
  /** key: units (and auth key) committed; no-key: a clean block the analysis gave nothing; aborted: abandoned. */
  readonly outcome: 'key' | 'no-key' | 'aborted';
  readonly code?: LinkErrorCode;
  readonly reason?: string;
  /** Slots [start, end) the block covers, and the source clock. */
  readonly slots: { readonly start: number; readonly end: number; readonly clockHz: number };
  readonly events: number;
  readonly sifted?: { readonly Z: PerClassReport; readonly X: PerClassReport };
  /** QBER per basis and class: X from the disclosed test bits, Z from the errors reconciliation corrected. */
  readonly qber?: { readonly Z?: PerClassReport & { readonly all: number }; readonly X: PerClassReport & { readonly all: number } };
  /** vacuumBound: which bound entered Eq. (3) (estimation/finite-key.ts); tagBits: the verification tag subtracted. */
  readonly decoy?: { readonly s0: number; readonly s1: number; readonly phaseErrorRate: number; readonly testS1: number; readonly testV1: number; readonly vacuumBound: VacuumBound; readonly tagBits: number };
  readonly ec?: {
    readonly qec: number;
    readonly codeId: number;
    readonly frames: number;
    readonly failedFrames: number;
    /** Bits disclosed by error correction (syndromes, reveals, frame tags) about the kept bits. */
    readonly leak: number;
    /** leak / (n · h(QBER_Z)) over the decoded frames. */
    readonly efficiency: number;
    readonly rounds: number;
    readonly iterations: number;
  };
  /** Finite-key length ℓ, and how it was spent. */
  readonly finalBits?: number;
  readonly units?: number;
  readonly firstUnit?: number;
  readonly authBits?: number;
  /** Authentication key the channel consumed while this block was in flight (both directions, bits). */
  readonly authConsumedBits?: number;
  /** A key block's ε: ε_sec + ε_cor + ε_auth (postprocess.ts blockSecurity). */
  readonly security?: SecurityBudget;
  readonly stageMs: StageTimes;
  readonly totalMs: number;
}

export interface LinkStateEvent {
  readonly linkId: string;
  readonly role: LinkRole;
  readonly state: 'listening' | 'connecting' | 'connected' | 'synchronised' | 'disconnected' | 'board-fault' | 'stopped' | 'error';
  readonly detail?: string;
  readonly code?: LinkErrorCode;
}

/** What a link's board reported: an ALARM (raised or cleared) or a TELEMETRY message, as decoded. */
export type BoardEvent =
  | { readonly linkId: string; readonly board: 'tx' | 'rx'; readonly kind: 'alarm'; readonly code: string; readonly severity: 'info' | 'warning' | 'critical'; readonly message: string; readonly clear: boolean }
  | {
      readonly linkId: string;
      readonly board: 'tx' | 'rx';
      readonly kind: 'telemetry';
      readonly temps: { readonly [sensor: string]: number };
      readonly rates: readonly number[];
      readonly biasV: number;
      readonly overflow: number;
    };

const blockChannel = channel(BLOCK_CHANNEL);
const boardChannel = channel(BOARD_CHANNEL);
const stateChannel = channel(STATE_CHANNEL);

export function publishBlock(r: BlockReport): void {
  if (blockChannel.hasSubscribers) blockChannel.publish(r);
}

export function publishState(e: LinkStateEvent): void {
  if (stateChannel.hasSubscribers) stateChannel.publish(e);
}

export function publishBoard(e: BoardEvent): void {
  if (boardChannel.hasSubscribers) boardChannel.publish(e);
}
