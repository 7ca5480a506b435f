/**
 * The transfer journal of one KM of an interworking node (part of its key transfer function,
 * Y.3818 clause 7.2): what this KM has done in each key
 * transfer between the networks, kept durably beside its key store (its own LMDB environment in
 * the KM's data directory, synced before the KM acts, as its key store is), so that a crash of
 * the IWN (kill -9 anywhere in a transfer) loses, duplicates or leaks no key once it restarts.
 * Only IDs and states: the key data stays in the key store, sealed under the KM's storage key,
 * and the transfer pads never leave memory (transfer-pads.ts).
 *
 * Sending KM (the master's network; key: the supply):
 *   sending ─Kxi-2' ok─▶ committed ─(the master's KM voids it: its answer was lost)─▶ voiding ─▶ voided
 *      └──────────── failure, or after a restart: in doubt ──────────────────────────────────▶ voided
 * Receiving KM (the slave's network; key: the transfer's relay ID):
 *   handing-over ─hand-over done─▶ handed-over;  either ─the sender aborts─▶ voided
 *
 * The sending KM answers the master's KM only once `committed` is durable, so a key the master SAE
 * got always has a committed transfer; a transfer not committed when the IWN stopped was answered
 * to nobody and is voided at both ends after the restart (reconcile in iwn.ts): the sending KM
 * burns its reserved copy, the receiving KM voids what it handed over at the slave's KM (its durable
 * outbox of Voids).
 */
import { join } from 'node:path';
import type { Database, RootDatabase } from 'lmdb';
import { openDurableEnv } from '../../kq/durable-env.js';
import type { PoolOrigin } from '../../km/key-record.js';

export type OutState = 'sending' | 'committed' | 'voiding' | 'voided';
export type InState = 'handing-over' | 'handed-over' | 'voided';

/** A transfer this KM sent: the master's KM's supply, reserved here. */
export interface OutEntry {
  readonly supply: string;
  readonly relay: string;
  /** The master SAE's KM, which reserved the keys here, and its pool. */
  readonly peer: string;
  readonly origin: PoolOrigin;
  readonly master: string;
  readonly slaves: readonly string[];
  /** The keys' IDs (their first units) and every unit, as reserved in this KM's store. */
  readonly heads: readonly string[];
  readonly units: readonly string[];
  readonly state: OutState;
  readonly at: number;
}

/** A transfer this KM received and hands over to the slave SAE's KM. */
export interface InEntry {
  readonly relay: string;
  readonly supply: string;
  /** The slave SAE's KM and the unit IDs the keys have there (relay pool of this KM). */
  readonly dest: string;
  readonly units: readonly string[];
  readonly state: InState;
  readonly at: number;
}

/** How long finished entries are kept: the master's KM's Void for a transfer whose answer it lost comes within this. */
export const JOURNAL_RETENTION_MS = 3_600_000;

/** An entry moved to `state` if it is in one of `from`: visible at once in `now`, durable when the promise resolves. */
async function move<S extends string, E extends { readonly state: S; readonly at: number }>(e: E | undefined, now: Map<string, E>, db: Database<E, string>, key: string, from: readonly S[], state: S): Promise<E | undefined> {
  if (!e || !from.includes(e.state)) return undefined;
  const next = { ...e, state, at: Date.now() };
  now.set(key, next);
  await db.put(key, next);
  return next;
}

export class TransferJournal {
  readonly #root: RootDatabase;
  readonly #out: Database<OutEntry, string>;
  readonly #in: Database<InEntry, string>;
  /** Unit ID → supply of the out-entry that reserved it (a master's Void names units). */
  readonly #unit: Database<string, string>;
  /** Entries as last written (a write is visible here at once, in LMDB once synced): state moves are checked against these. */
  readonly #outNow = new Map<string, OutEntry>();
  readonly #inNow = new Map<string, InEntry>();

  private constructor(root: RootDatabase) {
    this.#root = root;
    this.#out = root.openDB<OutEntry, string>({ name: 'out', encoding: 'msgpack' });
    this.#in = root.openDB<InEntry, string>({ name: 'in', encoding: 'msgpack' });
    this.#unit = root.openDB<string, string>({ name: 'unit', encoding: 'msgpack' });
  }

  /** The journal in a KM's data directory. */
  static open(dataDir: string): TransferJournal {
    return new TransferJournal(openDurableEnv(join(dataDir, 'iwn-transfers.lmdb')));
  }

  /** Writes an out-entry (and, when new, its units' index); resolves once synced. */
  async putOut(e: OutEntry): Promise<void> {
    const fresh = this.out(e.supply) === undefined;
    this.#outNow.set(e.supply, e);
    await this.#root.transaction(() => {
      void this.#out.put(e.supply, e);
      if (fresh) for (const u of e.units) void this.#unit.put(u, e.supply);
    });
  }

  /** Moves an out-entry to `state` if it is in one of `from`; the entry after, or undefined if it was not. */
  moveOut(supply: string, from: readonly OutState[], state: OutState): Promise<OutEntry | undefined> {
    return move(this.out(supply), this.#outNow, this.#out, supply, from, state);
  }

  async putIn(e: InEntry): Promise<void> {
    this.#inNow.set(e.relay, e);
    await this.#in.put(e.relay, e);
  }

  moveIn(relay: string, from: readonly InState[], state: InState): Promise<InEntry | undefined> {
    return move(this.in(relay), this.#inNow, this.#in, relay, from, state);
  }

  out(supply: string): OutEntry | undefined {
    return this.#outNow.get(supply) ?? this.#out.get(supply);
  }

  in(relay: string): InEntry | undefined {
    return this.#inNow.get(relay) ?? this.#in.get(relay);
  }

  /** The out-entries that reserved any of these units. */
  outByUnits(units: readonly string[]): OutEntry[] {
    const supplies = new Set(units.map((u) => this.#unit.get(u)).filter((s): s is string => s !== undefined));
    return [...supplies].map((s) => this.out(s)).filter((e): e is OutEntry => e !== undefined);
  }

  outEntries(): OutEntry[] {
    return [...this.#out.getRange()].map(({ value }) => this.#outNow.get(value.supply) ?? value);
  }

  inEntries(): InEntry[] {
    return [...this.#in.getRange()].map(({ value }) => this.#inNow.get(value.relay) ?? value);
  }

  /** Drops finished entries older than `before` (ms since the epoch); how many. */
  async prune(before: number): Promise<number> {
    const outs = this.outEntries().filter((e) => (e.state === 'committed' || e.state === 'voided') && e.at < before);
    const ins = this.inEntries().filter((e) => e.state !== 'handing-over' && e.at < before);
    if (outs.length + ins.length === 0) return 0;
    await this.#root.transaction(() => {
      for (const e of outs) {
        this.#outNow.delete(e.supply);
        void this.#out.remove(e.supply);
        for (const u of e.units) void this.#unit.remove(u);
      }
      for (const e of ins) {
        this.#inNow.delete(e.relay);
        void this.#in.remove(e.relay);
      }
    });
    return outs.length + ins.length;
  }

  async close(): Promise<void> {
    await this.#root.close();
  }
}
