/**
 * The records of the KMA key store (key-store.ts): what a key's life leaves in LMDB, the changes a
 * durable transaction may make, and the one rule for a transition's record (key bytes erased in
 * the transaction that ends their use).
 */
import { holdsKeyBytes, type KeyState } from './key-state.js';

export type PoolOrigin = 'link' | 'relay';
export type KeyPurpose = 'supply' | 'relay' | 'pad';
/** await-peer: reserved by this KM, the peer KM's answer not yet in (in doubt after a crash). await-sae: waiting for SAEs to fetch it. */
export type KeyPhase = 'await-peer' | 'await-sae';

export interface KeyRecord {
  readonly id: string;
  /** The node holding the other copy of this key. */
  readonly peer: string;
  readonly origin: PoolOrigin;
  /** Link unit index, or arrival order in a relay pool. */
  readonly seq: number;
  /** The node that may pick this key for an operation. */
  readonly allocator: string;
  readonly bits: number;
  state: KeyState;
  /** Milliseconds since the epoch of the last transition. */
  since: number;
  /** Operation that reserved or used it (supply ID, relay ID). */
  op?: string;
  purpose?: KeyPurpose;
  phase?: KeyPhase;
  /** key_ID of the ETSI key this unit is part of (the head unit's ID). */
  head?: string;
  /** At the head: IDs of all units of the ETSI key, in order. */
  units?: string[];
  /** At the head: the ETSI key size in bits. */
  sizeBits?: number;
  /** Relay material at the source: the destination of the relay. */
  relayTo?: string;
  master?: string;
  slaves?: string[];
  /** SAEs served by this KM that have not yet received the key. */
  pending?: string[];
  reason?: string;
  /** Boot of the KM process that made the last transition (diagnostics). */
  boot?: string;
}

/** A record as LMDB holds it: the key bytes sealed (record-sealer.ts), never outside the store. */
export interface StoredRecord extends KeyRecord {
  n?: Uint8Array;
  ct?: Uint8Array;
  /** Epoch whose data key sealed n/ct (epoch-keys.ts); absent: the store's first data key. */
  e?: number;
}

export interface Tombstone {
  readonly id: string;
  readonly peer: string;
  readonly origin: PoolOrigin;
  readonly last: KeyState;
  readonly at: number;
}

export interface NewKey {
  readonly id: string;
  readonly peer: string;
  readonly origin: PoolOrigin;
  readonly allocator: string;
  readonly bytes: Uint8Array;
  readonly state: 'available' | 'reserved';
  readonly fields?: RecordFields;
}

/** Fields a transition may set; `undefined` removes a field. */
export type RecordFields = Partial<Pick<KeyRecord, 'op' | 'purpose' | 'phase' | 'head' | 'units' | 'sizeBits' | 'relayTo' | 'master' | 'slaves' | 'pending' | 'reason'>>;

export interface KeyChange {
  readonly id: string;
  /** The states the key must be in for the change to apply. */
  readonly from: readonly KeyState[];
  readonly to: KeyState;
  readonly fields?: RecordFields;
}

export interface VoidNotice {
  readonly peer: string;
  readonly origin: PoolOrigin;
  readonly ids: readonly string[];
  readonly reason: string;
}

export interface OutboxEntry extends VoidNotice {
  readonly seq: number;
}

/** What one durable transaction does. Either all of it happens or none of it. */
export interface Batch {
  readonly create?: readonly NewKey[];
  readonly change?: readonly KeyChange[];
  /** Burn these keys if they are still usable; leave them if they are already terminal (idempotent voids). */
  readonly burn?: readonly { readonly id: string; readonly to: 'voided' | 'failed'; readonly reason: string; readonly peer?: string; readonly origin?: PoolOrigin }[];
  readonly outbox?: readonly VoidNotice[];
  readonly outboxDone?: readonly { readonly peer: string; readonly seq: number }[];
}

/** The record after a transition to `to`: fields set or removed, key bytes erased when the state ends their use. */
export function nextRecord(before: StoredRecord, to: KeyState, fields: RecordFields | undefined, now: number, boot: string): StoredRecord {
  const after: StoredRecord = { ...before, ...fields, state: to, since: now, boot };
  for (const [k, v] of Object.entries(fields ?? {})) if (v === undefined) delete (after as unknown as Record<string, unknown>)[k];
  if (!holdsKeyBytes(to)) {
    // Erase the key bytes in the same transaction that ends their use.
    delete after.n;
    delete after.ct;
    delete after.e;
    delete after.pending;
  }
  return after;
}

/** A record without its sealed key bytes: what leaves the store. */
export function strip(r: StoredRecord): KeyRecord {
  const { n: _n, ct: _ct, ...rest } = r;
  return rest;
}

