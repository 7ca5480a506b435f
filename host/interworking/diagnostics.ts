/**
 * What the interworking layer tells observers (the QKDN manager's security and fault management,
 * metrics, tests), through named node:diagnostics_channel channels so that nothing here imports
 * its observers. Messages never carry key bytes.
 *
 * | channel                            | message            | when                                               |
 * |------------------------------------|--------------------|----------------------------------------------------|
 * | qkdn:interworking:border:refused   | BorderRefusedEvent | the border filter refused an outgoing message      |
 * | qkdn:interworking:peer:refused     | PeerRefusedEvent   | a border connection was refused (pin, CA, hello)   |
 * | qkdn:interworking:reroute          | RerouteEvent       | a Cxi reroute round committed or aborted           |
 */
import { channel } from 'node:diagnostics_channel';
import type { LeakKind } from './errors.js';

export const CHANNELS = {
  borderRefused: 'qkdn:interworking:border:refused',
  peerRefused: 'qkdn:interworking:peer:refused',
  reroute: 'qkdn:interworking:reroute',
} as const;

export interface BorderRefusedEvent {
  readonly provider: string;
  readonly peer: string;
  readonly message: string;
  readonly kind: LeakKind;
  /** The field, e.g. `borders[0].qx`; never the value. */
  readonly path: string;
}

export interface PeerRefusedEvent {
  readonly provider: string;
  /** The refused certificate's SHA-256 fingerprint, when there was one. */
  readonly fingerprint: string | null;
  readonly code: string;
  readonly reason: string;
}

export interface RerouteEvent {
  readonly controller: string;
  readonly round: string;
  readonly outcome: 'committed' | 'aborted';
  readonly reason?: string;
}

const ch = {
  borderRefused: channel(CHANNELS.borderRefused),
  peerRefused: channel(CHANNELS.peerRefused),
  reroute: channel(CHANNELS.reroute),
};

export function publishBorderRefused(e: BorderRefusedEvent): void {
  if (ch.borderRefused.hasSubscribers) ch.borderRefused.publish(e);
}

export function publishPeerRefused(e: PeerRefusedEvent): void {
  if (ch.peerRefused.hasSubscribers) ch.peerRefused.publish(e);
}

export function publishReroute(e: RerouteEvent): void {
  if (ch.reroute.hasSubscribers) ch.reroute.publish(e);
}
