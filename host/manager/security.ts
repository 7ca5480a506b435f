/**
 * Security management of one node: the tamper response and the security event log.
 *
 * Tamper: when the aux I/O board reports the enclosure open (qkdn:aux:tamper, for the board this
 * node was configured with), the KM is zeroized at once (the storage key is destroyed before
 * anything else happens, so every stored key is unreadable; the key API then answers 503) and a
 * critical `tamper` alarm is raised in the same turn of the event loop. Closing the lid clears
 * `tamper`; the `zeroized` alarm stays until the node is re-provisioned.
 *
 * Security events: the tamper, authentication failures at Kx and the key API (refused TLS
 * handshakes and certificates), the QKD link channel's refusals (bad MAC, replay), QBER alarms and
 * voided keys. Each is counted, logged, kept in a bounded list and published on
 * qkdn:manager:security; the ones that need an operator also raise an alarm.
 */
import type { Logger } from 'pino';
import { AUX_CHANNELS, type TamperEvent } from '../../firmware-bridge/aux/diagnostics.js';
import { CHANNELS, type AuthEvent, type SyncEvent } from '../km/diagnostics.js';
import type { SecurityEvent as LinkSecurityEvent } from '../qkd-link/module/diagnostics.js';
import type { AlarmManager } from './alarms.js';
import { listen, MANAGER_CHANNELS, publishSecurityEvent, type BorderRefusedEvent, type PeerRefusedEvent } from './diagnostics.js';
import type { ManagerMetrics } from './metrics.js';

const DROPPED: ReadonlySet<string> = new Set(['ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ECONNABORTED']);

export type SecurityEventKind = 'tamper' | 'zeroized' | 'auth-failure' | 'certificate-refused' | 'link-channel' | 'qber-alarm' | 'keys-voided' | 'border-refused' | 'peer-network-refused';

export interface SecurityEvent {
  readonly kind: SecurityEventKind;
  readonly at: number;
  readonly source: string;
  readonly text: string;
  readonly details: Readonly<Record<string, string | number | boolean | null>>;
}

export interface SecurityOptions {
  readonly node: string;
  readonly alarms: AlarmManager;
  readonly metrics: ManagerMetrics;
  /** The aux board this node watches (its device path); tamper events of other boards are not ours. */
  readonly auxPath?: string;
  /** The provider whose interworking border this node's managers watch; border events of another provider (the other half of an interworking node) are not ours. */
  readonly provider?: string;
  /** Destroys the storage key synchronously, then finishes the zeroization. */
  readonly zeroize: () => Promise<void>;
  readonly log?: Logger;
  readonly maxEvents?: number;
}

export class SecurityManager {
  readonly #o: SecurityOptions;
  readonly #events: SecurityEvent[] = [];
  #off: (() => void) | null = null;
  #zeroizing: Promise<void> | null = null;

  constructor(o: SecurityOptions) {
    this.#o = o;
  }

  start(meter?: (ms: number) => void): void {
    this.#off = listen(
      {
        [AUX_CHANNELS.tamper]: (m) => this.#tamper(m as TamperEvent & { path: string }),
        [CHANNELS.security]: (m) => this.#auth(m as AuthEvent),
        [MANAGER_CHANNELS.borderRefused]: (m) => this.#border(m as BorderRefusedEvent),
        [MANAGER_CHANNELS.peerRefused]: (m) => this.#peerNetwork(m as PeerRefusedEvent),
      },
      meter,
    );
  }

  stop(): void {
    this.#off?.();
    this.#off = null;
  }

  /** Newest first. */
  events(kind?: SecurityEventKind): SecurityEvent[] {
    return this.#events.filter((e) => !kind || e.kind === kind).reverse();
  }

  /** Resolves when a zeroization started by a tamper has finished (at once if none). */
  async zeroized(): Promise<void> {
    await this.#zeroizing;
  }

  record(e: SecurityEvent): void {
    this.#events.push(e);
    if (this.#events.length > (this.#o.maxEvents ?? 1000)) this.#events.shift();
    this.#o.metrics.securityEvents.inc({ kind: e.kind });
    this.#o.log?.warn({ security: e.kind, source: e.source, ...e.details }, e.text);
    publishSecurityEvent({ node: this.#o.node, ...e });
  }

  #tamper(e: TamperEvent & { path: string }): void {
    if (!this.#o.auxPath || e.path !== this.#o.auxPath) return;
    this.#o.metrics.enclosureOpen.set(e.state === 'open' ? 1 : 0);
    if (e.state === 'closed') {
      this.#o.alarms.clear('tamper', 'aux', 'enclosure closed');
      return;
    }
    const seen = Date.now();
    // The key goes first: zeroize() destroys the storage key before it yields.
    const zeroizing = this.#zeroizing ?? this.#o.zeroize();
    const destroyedAt = Date.now();
    this.#o.alarms.raise({ type: 'tamper', source: 'aux', details: { openedAt: e.at, destroyedAt } });
    this.record({ kind: 'tamper', at: e.at, source: 'aux', text: 'enclosure opened: zeroizing the key store', details: { seenAt: seen, storageKeyDestroyedAt: destroyedAt, zeroizeMs: destroyedAt - e.at } });
    if (this.#zeroizing) return;
    this.#zeroizing = zeroizing.then(
      () => {
        this.#o.alarms.raise({ type: 'zeroized', source: `node:${this.#o.node}`, details: { tamperAt: e.at, doneAt: Date.now() } });
        this.record({ kind: 'zeroized', at: Date.now(), source: `node:${this.#o.node}`, text: 'key store zeroized: every key destroyed, supply refused', details: { tamperAt: e.at } });
      },
      (err: unknown) => {
        // The storage key is gone whatever failed after it; say what did.
        this.#o.alarms.raise({ type: 'zeroized', source: `node:${this.#o.node}`, text: `zeroization finished with an error: ${(err as Error).message}`.slice(0, 300) });
      },
    );
  }

  #auth(e: AuthEvent): void {
    if (e.node !== this.#o.node) return;
    // A connection dropped during its handshake (a peer restarting, a port probe) proves nothing.
    if (e.kind === 'tls-handshake' && DROPPED.has(e.code)) return;
    const kind = e.kind === 'tls-handshake' ? 'auth-failure' : 'certificate-refused';
    const source = `${e.where}:${e.peer ?? 'unidentified'}`;
    this.record({ kind, at: Date.now(), source, text: `${e.where}: ${e.reason}`.slice(0, 300), details: { where: e.where, peer: e.peer, code: e.code } });
    this.#o.alarms.raise({ type: 'auth-failure', source, text: `authentication failures at ${e.where} (${e.peer ? `certificate ${e.peer}` : 'no valid certificate'}): ${e.reason}`.slice(0, 300), details: { where: e.where, code: e.code } });
  }

  /** The interworking border filter stopped a message that would have shown this network's inside. */
  #border(e: BorderRefusedEvent): void {
    if (this.#o.provider !== undefined && e.provider !== this.#o.provider) return;
    const source = `border:${e.peer}`;
    this.record({ kind: 'border-refused', at: Date.now(), source, text: `a ${e.message} to peer network ${e.peer} was refused at the border (${e.kind} at ${e.path})`.slice(0, 300), details: { peer: e.peer, message: e.message, kind: e.kind, path: e.path } });
    this.#o.alarms.raise({ type: 'border-refused', source, details: { message: e.message, kind: e.kind, path: e.path } });
  }

  /** A peer network's border connection refused (certificate pin, CA, hello). */
  #peerNetwork(e: PeerRefusedEvent): void {
    if (this.#o.provider !== undefined && e.provider !== this.#o.provider) return;
    const source = `peer-network:${e.fingerprint ?? 'unidentified'}`;
    this.record({ kind: 'peer-network-refused', at: Date.now(), source, text: `a border connection was refused: ${e.reason}`.slice(0, 300), details: { provider: e.provider, fingerprint: e.fingerprint, code: e.code } });
    this.#o.alarms.raise({ type: 'auth-failure', source, text: `authentication failures at the interworking border: ${e.reason}`.slice(0, 300), details: { code: e.code } });
  }

  /** From the QLM: a QBER alarm is also a possible eavesdropper. */
  qberAlarm(link: string, qber: number): void {
    this.record({ kind: 'qber-alarm', at: Date.now(), source: `link:${link}`, text: `link ${link}: QBER ${(qber * 100).toFixed(2)} % above its threshold`, details: { qber } });
  }

  /** From the QLM: the link's authenticated channel refused a message. */
  linkChannel(e: LinkSecurityEvent): void {
    this.record({ kind: 'link-channel', at: Date.now(), source: `link:${e.linkId}`, text: `link ${e.linkId}: ${e.message}`.slice(0, 300), details: { code: e.code } });
  }

  /** From the KMLM: keys burned between two KMs. */
  voided(e: SyncEvent): void {
    this.record({ kind: 'keys-voided', at: Date.now(), source: `peer:${e.peer}`, text: `${e.keys} keys burned with ${e.peer}: ${e.reason}`.slice(0, 300), details: { kind: e.kind, keys: e.keys } });
  }
}
