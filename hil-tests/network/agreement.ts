/**
 * Do the two KMs holding copies of each key agree on its state? Read from the stores of stopped
 * or running nodes (KeyStore.inspect: states only, no key bytes). Used after crash tests once the
 * network has converged (no Void left in any outbox).
 *
 * Compatible states of the two copies of one key:
 *   available / available                                 unused at both ends
 *   delivered / reserved (awaiting its SAE) or delivered  supplied: given out at one end, kept or given at the other
 *   {consumed, failed, voided, destroyed} at both ends    used inside the network or burned at both ends
 *   present at one end only, burned there                 the other end never had it (or voided it first)
 *   a link unit available at one end only                 the other end's source has not pushed it yet
 * Anything else (one end usable and the other burned, delivered at one end and burned at the
 * other, reserved while waiting for a peer that has long answered) is a disagreement.
 */
import { KeyStore } from '../../host/km/key-store.js';
import type { KeyRecord, Tombstone } from '../../host/km/key-record.js';
import type { KeyState } from '../../host/km/key-state.js';

interface View {
  readonly state: KeyState;
  readonly origin: 'link' | 'relay';
  readonly phase?: string;
}

export interface StoreImage {
  readonly node: string;
  readonly byPeer: Map<string, Map<string, View>>;
  readonly outbox: number;
}

export function readStore(node: string, dataDir: string): StoreImage {
  const { records, tombstones, outbox } = KeyStore.inspect(dataDir);
  const byPeer = new Map<string, Map<string, View>>();
  const add = (peer: string, id: string, v: View) => {
    let m = byPeer.get(peer);
    if (!m) byPeer.set(peer, (m = new Map()));
    m.set(id, v);
  };
  for (const r of records as KeyRecord[]) add(r.peer, r.id, { state: r.state, origin: r.origin, ...(r.phase ? { phase: r.phase } : {}) });
  for (const t of tombstones as Tombstone[]) add(t.peer, t.id, { state: 'destroyed', origin: t.origin });
  return { node, byPeer, outbox: outbox.length };
}

const GONE: ReadonlySet<KeyState> = new Set(['consumed', 'failed', 'voided', 'destroyed']);
const BURNED: ReadonlySet<KeyState> = new Set(['failed', 'voided', 'destroyed']);

function compatible(a: View | undefined, b: View | undefined): string | null {
  if (!a && !b) return null;
  for (const v of [a, b]) if (v?.state === 'reserved' && v.phase === 'await-peer') return 'still waiting for a peer answer';
  if (!a || !b) {
    const v = (a ?? b)!;
    if (BURNED.has(v.state)) return null;
    if (v.state === 'available' && v.origin === 'link') return null;
    return `${v.state} at one end, absent at the other`;
  }
  if (a.state === 'available' && b.state === 'available') return null;
  if (GONE.has(a.state) && GONE.has(b.state)) return null;
  const supplied = (x: View, y: View) => x.state === 'delivered' && (y.state === 'delivered' || (y.state === 'reserved' && y.phase === 'await-sae'));
  if (supplied(a, b) || supplied(b, a)) return null;
  return `${a.state}${a.phase ? `(${a.phase})` : ''} vs ${b.state}${b.phase ? `(${b.phase})` : ''}`;
}

/** Every disagreement between the copies of keys shared by two nodes, as readable lines. */
export function disagreements(images: readonly StoreImage[]): string[] {
  const out: string[] = [];
  const byNode = new Map(images.map((i) => [i.node, i]));
  const pairs = new Set<string>();
  for (const x of images) for (const peer of x.byPeer.keys()) pairs.add([x.node, peer].sort().join('\0'));
  const none = new Map<string, View>();
  for (const pair of pairs) {
    const [a, b] = pair.split('\0') as [string, string];
    const mine = byNode.get(a)?.byPeer.get(b) ?? none;
    const theirs = byNode.get(b)?.byPeer.get(a) ?? none;
    for (const id of new Set([...mine.keys(), ...theirs.keys()])) {
      const why = compatible(mine.get(id), theirs.get(id));
      if (why) out.push(`${a}/${b} ${mine.get(id)?.origin ?? theirs.get(id)?.origin} ${id}: ${why}`);
    }
  }
  return out;
}
