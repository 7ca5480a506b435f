/**
 * What the interworking layer tells observers (the QKDN manager's security and fault management,
 * metrics, tests), through named node:diagnostics_channel channels so that nothing here imports
 * its observers. Messages never carry key bytes.
 *
 * | channel                            | message            | when                                               |
 * |------------------------------------|--------------------|----------------------------------------------------|
 * | qkdn:interworking:reroute          | RerouteEvent       | a Cxi reroute round committed or aborted           |
 */
import { channel } from 'node:diagnostics_channel';
import { MANAGER_CHANNELS } from '../manager/diagnostics.js';
// The border's refusals are security events of the manager's, which sits below this layer: their
// channels are defined there (host/manager/diagnostics.ts) and published from here.
export { publishBorderRefused, publishPeerRefused, type BorderRefusedEvent, type PeerRefusedEvent } from '../manager/diagnostics.js';

export const CHANNELS = {
  borderRefused: MANAGER_CHANNELS.borderRefused,
  peerRefused: MANAGER_CHANNELS.peerRefused,
  reroute: 'qkdn:interworking:reroute',
} as const;

export interface RerouteEvent {
  readonly controller: string;
  readonly round: string;
  readonly outcome: 'committed' | 'aborted';
  readonly reason?: string;
}

const ch = {
  reroute: channel(CHANNELS.reroute),
};

export function publishReroute(e: RerouteEvent): void {
  if (ch.reroute.hasSubscribers) ch.reroute.publish(e);
}
