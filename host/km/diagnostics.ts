/**
 * What the key management layer tells observers (the QKDN manager, metrics, tests), through named
 * node:diagnostics_channel channels so that nothing here imports its observers. Publishing costs
 * nothing when no one subscribes. Messages never carry key bytes.
 *
 * | channel              | message          | when                                              |
 * |----------------------|------------------|---------------------------------------------------|
 * | qkdn:km:relay        | RelayEvent       | a key relay this KM started completed or failed   |
 * | qkdn:km:relay:hop    | RelayHopEvent    | this KM forwarded (or failed to forward) one hop  |
 * | qkdn:km:supply       | SupplyEvent      | an ETSI 014 supply (enc_keys) or fetch (dec_keys) |
 * | qkdn:km:sync         | SyncEvent        | keys burned by recovery or by a peer's Void       |
 * | qkdn:km:security     | AuthEvent        | a refused TLS handshake or certificate (Kx, API)  |
 * | qkdn:km:supply:outage | SupplyOutageEvent | the key supply front end (ETSI 014 API) cannot reach a slave KME: begun, ongoing (every 10 s), ended |
 *
 * The supply front end sits above this layer and publishes the last two here, so that the
 * manager, below the front end, hears them without importing it.
 */
import { channel } from 'node:diagnostics_channel';

export const CHANNELS = {
  relay: 'qkdn:km:relay',
  relayHop: 'qkdn:km:relay:hop',
  supply: 'qkdn:km:supply',
  sync: 'qkdn:km:sync',
  security: 'qkdn:km:security',
  supplyOutage: 'qkdn:km:supply:outage',
} as const;

export interface SupplyOutageEvent {
  readonly node: string;
  /** The KME whose SAEs cannot be served. */
  readonly kme: string;
  readonly state: 'begun' | 'ongoing' | 'ended';
  /** The key manager's code for the failure (ERR_KM_PEER_UNREACHABLE, ...). */
  readonly reason: string;
  /** enc_keys refused without trying since the previous message of this outage. */
  readonly refused: number;
  /** Requests that tried and failed (each burnt its reservation) since the previous message. */
  readonly failed: number;
  readonly sinceMs: number;
  /** Seconds the current window still has (begun, ongoing). */
  readonly retryAfterS?: number;
}

export interface RelayEvent {
  readonly node: string;
  readonly relay: string;
  readonly route: readonly string[];
  readonly hops: number;
  readonly keys: number;
  readonly bits: number;
  readonly outcome: 'completed' | 'failed';
  readonly latencyMs: number;
  /** Index in the route of the node that reported the failure. */
  readonly failedHop?: number;
  readonly reason?: string;
}

export interface RelayHopEvent {
  readonly node: string;
  readonly relay: string;
  readonly from: string;
  readonly to: string | null;
  readonly hop: number;
  readonly outcome: 'forwarded' | 'delivered' | 'failed';
  readonly latencyMs: number;
  readonly reason?: string;
}

export interface SupplyEvent {
  readonly node: string;
  readonly kind: 'enc_keys' | 'dec_keys';
  readonly master: string;
  readonly slaves: readonly string[];
  readonly keys: number;
  readonly size: number;
  readonly outcome: 'delivered' | 'refused' | 'failed';
  readonly latencyMs: number;
  readonly reason?: string;
  /** With several border exits for the slave SAE (exit-choice.ts): the one that delivered, or `none`. */
  readonly exit?: string;
  /** With several border exits: how many failed before this outcome. */
  readonly fallbacks?: number;
}

export interface SyncEvent {
  readonly node: string;
  readonly peer: string;
  readonly kind: 'recovery' | 'void-received' | 'void-sent';
  readonly keys: number;
  readonly reason: string;
}

/**
 * An authentication failure at this node's Kx or ETSI 014 endpoint: a TLS handshake refused
 * (no certificate, not from the network CA, expired) or a verified certificate refused for its
 * role or ID. `peer` is the certificate's ID when one was verified.
 */
export interface AuthEvent {
  readonly node: string;
  readonly where: 'kx' | 'api';
  readonly kind: 'tls-handshake' | 'certificate-refused';
  readonly peer: string | null;
  readonly code: string;
  readonly reason: string;
}

const relay = channel(CHANNELS.relay);
const security = channel(CHANNELS.security);
const relayHop = channel(CHANNELS.relayHop);
const supply = channel(CHANNELS.supply);
const sync = channel(CHANNELS.sync);
const supplyOutage = channel(CHANNELS.supplyOutage);

export function publishRelay(e: RelayEvent): void {
  if (relay.hasSubscribers) relay.publish(e);
}
export function publishRelayHop(e: RelayHopEvent): void {
  if (relayHop.hasSubscribers) relayHop.publish(e);
}
export function publishSupply(e: SupplyEvent): void {
  if (supply.hasSubscribers) supply.publish(e);
}
export function publishSupplyOutage(e: SupplyOutageEvent): void {
  if (supplyOutage.hasSubscribers) supplyOutage.publish(e);
}
export function publishSync(e: SyncEvent): void {
  if (sync.hasSubscribers) sync.publish(e);
}
export function publishAuth(e: AuthEvent): void {
  if (security.hasSubscribers) security.publish(e);
}
