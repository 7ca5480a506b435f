/**
 * Kq: how keys enter the key management layer. A key source is one end of a QKD link (or, for
 * tests and large simulated topologies, a simulated source). It delivers keys in fixed-size units
 * with indexes that both ends of the link share; the unit IDs are derived from the link ID and
 * the index (unit-id.ts), so both KMAs name every unit identically.
 *
 * The source pushes: `sink.push(units)` resolves once the units are durable in the store, and the
 * source must not push the next batch before that (back-pressure). After a restart the KMA tells
 * the source the highest index it already holds, and the source resumes after it. The QKD link
 * module (host/qkd-link/) implements this interface for real links.
 */
export interface KeyUnit {
  /** Index of the unit in the link's key stream; strictly increasing, the same at both ends. */
  readonly index: number;
  /** Key bytes: unitBits / 8 of them. */
  readonly bytes: Uint8Array;
}

export interface KeySink {
  /** Stores the units durably; resolves when they can be used. Units already known are skipped. */
  push(units: readonly KeyUnit[]): Promise<void>;
  /** Units of this link available now: a source may pause while the pool is full. */
  stored(): number;
  /** The pool's capacity (max_key_count). */
  readonly capacity: number;
}

export type KeySourceKind = 'qkd' | 'simulated';

export interface KeySource {
  /** The link this source feeds; the same string at both ends. */
  readonly linkId: string;
  /** Node at the other end of the link. */
  readonly peer: string;
  /** Shown in configuration and in the ETSI status extension: simulated sources are labelled so. */
  readonly kind: KeySourceKind;
  readonly unitBits: number;
  /** Starts pushing units with index > `after` (-1: from the beginning). */
  start(sink: KeySink, after: number): void;
  /** Stops pushing; resolves when no push is in flight. */
  stop(): Promise<void>;
}
