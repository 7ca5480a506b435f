/**
 * The management layer on node:diagnostics_channel: what it publishes (alarm changes, security
 * events) for an XLMO peer over Mxi, a controller or tests, and the channels it listens to that
 * the interworking layer (Y.3818) publishes on: that layer sits above the manager, so the manager
 * defines them here and interworking imports them (key usage with a peer network, for accounting;
 * the border's refusals, for security management).
 *
 * | channel                     | message                 | published by                     |
 * |-----------------------------|-------------------------|----------------------------------|
 * | qkdn:manager:alarm          | AlarmChange (alarms.ts) | this node's XLMO                 |
 * | qkdn:manager:security       | SecurityEvent           | this node's security management  |
 * | qkdn:interworking:usage     | PeerNetworkUsage        | the interworking layer           |
 * | qkdn:interworking:border:refused | BorderRefusedEvent | the border filter refused an outgoing message |
 * | qkdn:interworking:peer:refused   | PeerRefusedEvent   | a border connection was refused (pin, CA, hello) |
 */
import { channel, subscribe, unsubscribe } from 'node:diagnostics_channel';

export const MANAGER_CHANNELS = {
  alarm: 'qkdn:manager:alarm',
  security: 'qkdn:manager:security',
  peerNetworkUsage: 'qkdn:interworking:usage',
  borderRefused: 'qkdn:interworking:border:refused',
  peerRefused: 'qkdn:interworking:peer:refused',
} as const;

/** The border filter refused an outgoing message; nothing of it was sent. */
export interface BorderRefusedEvent {
  readonly provider: string;
  readonly peer: string;
  readonly message: string;
  /** What it would have shown: internal-node, internal-link, key-material or unshared-sae. */
  readonly kind: string;
  /** The field, e.g. `borders[0].qx`; never the value. */
  readonly path: string;
}

/** A border connection was refused. */
export interface PeerRefusedEvent {
  readonly provider: string;
  /** The refused certificate's SHA-256 fingerprint, when there was one. */
  readonly fingerprint: string | null;
  readonly code: string;
  readonly reason: string;
}

const borderRefused = channel(MANAGER_CHANNELS.borderRefused);
const peerRefused = channel(MANAGER_CHANNELS.peerRefused);

export function publishBorderRefused(e: BorderRefusedEvent): void {
  if (borderRefused.hasSubscribers) borderRefused.publish(e);
}

export function publishPeerRefused(e: PeerRefusedEvent): void {
  if (peerRefused.hasSubscribers) peerRefused.publish(e);
}

/** Keys delivered to or received from a peer QKDN through a gateway node. */
export interface PeerNetworkUsage {
  readonly node: string;
  readonly network: string;
  readonly keys: number;
  readonly bits: number;
}

const alarm = channel(MANAGER_CHANNELS.alarm);
const security = channel(MANAGER_CHANNELS.security);

export function publishAlarmChange(m: object): void {
  if (alarm.hasSubscribers) alarm.publish(m);
}
export function publishSecurityEvent(m: object): void {
  if (security.hasSubscribers) security.publish(m);
}

/**
 * Subscribes each handler to its channel; returns the function that undoes all of them. With a
 * `meter`, each handler's time is reported to it (what the managers cost, for the bench). A
 * handler that throws is contained here: a fault in the management layer never reaches the layer
 * that published.
 */
export function listen(handlers: Readonly<Record<string, (message: unknown) => void>>, meter?: (ms: number) => void): () => void {
  const subs = Object.entries(handlers).map(([name, fn]): [string, (m: unknown) => void] => [
    name,
    (m) => {
      const t0 = meter ? performance.now() : 0;
      try {
        fn(m);
      } catch (e) {
        process.emitWarning(`management handler for ${name} failed: ${(e as Error).message}`);
      }
      if (meter) meter(performance.now() - t0);
    },
  ]);
  for (const [name, fn] of subs) subscribe(name, fn);
  return () => {
    for (const [name, fn] of subs) unsubscribe(name, fn);
  };
}
