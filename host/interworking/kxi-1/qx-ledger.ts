/**
 * Key synchronisation of the Qx keys (Y.3818 clause 6.1, Kxi-1): what the two GWNs compare of
 * the units their shared QKD link gave them, and which units each voids when they differ.
 *
 * A ledger lists the unused units of the Qx link below a window (`upTo`, an index both ends have
 * passed), each with a tag of its material: SHA-256 over a domain label, the link, the unit ID and
 * the unit's bytes, truncated to 16 bytes. The material never leaves; a tag shows only whether
 * the two ends hold the same bytes. Kxi1KeySync carries the digest of a ledger; on a difference the
 * ledgers themselves cross (Kxi1KeyLedger) and each end, from the same two ledgers, computes:
 *
 * - a unit both hold with different tags (the QKD link's keys diverged): voided at both ends now;
 * - a unit only the allocating end holds (the other lost it): voided there now: as a pad it would
 *   only fail the relay at the other end;
 * - a unit only the other end holds: the allocating end may have just used it as a pad, the relay
 *   still on its way (on another connection, on a loaded machine); voided at the holder once it
 *   has been missing at the allocator for longer than a relay may live (`graceMs`).
 *
 * Voiding is always safe (a unit is never used twice); what is compared is what both could use.
 */
import { createHash } from 'node:crypto';
import { TAG_BYTES } from './key-ledger.js';

export interface LedgerEntry {
  readonly unit: string;
  readonly tag: Uint8Array;
}

/** The tag of one unit's material (never the material). */
export function qxTag(qx: string, unit: string, material: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update('qkdn-qx-ledger\n').update(`${qx}\n${unit}\n`).update(material).digest().subarray(0, TAG_BYTES));
}

/** The digest of a ledger: SHA-256 over its entries, sorted by unit ID, each `ID:tag-hex` on a line. */
export function ledgerDigest(entries: readonly LedgerEntry[]): Uint8Array {
  const lines = entries.map((e) => `${e.unit}:${Buffer.from(e.tag).toString('hex')}`).sort();
  return new Uint8Array(createHash('sha256').update(lines.join('\n')).digest());
}

/** A ledger as its message carries it: unit IDs and the tags concatenated in the same order. */
export function packLedger(entries: readonly LedgerEntry[]): { units: string[]; tags: Uint8Array } {
  const tags = new Uint8Array(entries.length * TAG_BYTES);
  entries.forEach((e, i) => tags.set(e.tag, i * TAG_BYTES));
  return { units: entries.map((e) => e.unit), tags };
}

export function unpackLedger(m: { readonly units: readonly string[]; readonly tags: Uint8Array }): LedgerEntry[] {
  return m.units.map((unit, i) => ({ unit, tag: m.tags.subarray(i * TAG_BYTES, (i + 1) * TAG_BYTES) }));
}

export interface Divergence {
  /** This end's units to void now. */
  readonly voidNow: string[];
  /** Units both held with different material (all in voidNow). */
  readonly mismatched: Set<string>;
  /** Units held here only, allocated by the peer, with when they were first found so: voided once older than the grace. */
  readonly suspects: Map<string, number>;
}

const same = (a: Uint8Array, b: Uint8Array) => a.length === b.length && a.every((x, i) => x === b[i]);

/**
 * This end's side of one comparison: `own` and `peer` the two ledgers over the same window,
 * `allocatedHere` whether this end allocates a unit (it may use it as a pad), `suspects` the units
 * earlier comparisons found held here only, `now` and `graceMs` how long such a unit is spared.
 * Both ends, given the same two ledgers, agree on every unit held at both and on every lost one.
 */
export function compareLedgers(
  own: readonly LedgerEntry[],
  peer: readonly LedgerEntry[],
  allocatedHere: (unit: string) => boolean,
  suspects: ReadonlyMap<string, number>,
  now: number,
  graceMs: number,
): Divergence {
  const theirs = new Map(peer.map((e) => [e.unit, e.tag]));
  const voidNow: string[] = [];
  const next = new Map<string, number>();
  const mismatched = new Set<string>();
  for (const e of own) {
    const t = theirs.get(e.unit);
    if (t) {
      if (!same(t, e.tag)) {
        mismatched.add(e.unit);
        voidNow.push(e.unit);
      }
      continue;
    }
    if (allocatedHere(e.unit)) {
      voidNow.push(e.unit);
      continue;
    }
    const since = suspects.get(e.unit) ?? now;
    if (now - since >= graceMs) voidNow.push(e.unit);
    else next.set(e.unit, since);
  }
  return { voidNow, mismatched, suspects: next };
}
