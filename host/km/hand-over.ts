/**
 * Keys handed over from another network (an interworking node's KM of this network, ITU-T Y.3818
 * clause 9.2 Fig 12): they arrive from outside with their IDs and bytes and have no link unit of
 * their own here. They are carried to the KM serving the slave SAE(s), a link neighbour, on one
 * hop padded with fresh units of that link (KeyRelay: a first hop with pads and ct), then reserved
 * there for the slave SAE(s) by a key supply notification from the relay pool, this KM standing for
 * the master SAE's KME. The usual pattern holds: pads reserved durably before the hop, consumed on
 * its acknowledgement; on anything else burned, and the keys voided at the destination.
 */
import { InsufficientKeysError, NotPermittedError, PeerRefusedError } from './errors.js';
import { concat, type Kma } from './kma.js';
import { linkBetween } from './topology.js';

export interface HandOverKey {
  /** The key's ID: that of its first unit, as the master SAE's KME gave it. */
  readonly id: string;
  readonly units: readonly { readonly id: string; readonly bytes: Uint8Array }[];
}

export interface HandOver {
  readonly supply: string;
  /** The KM serving the slave SAE(s): a link neighbour of this KM, or any KM when a `carry` is given. */
  readonly dest: string;
  readonly master: string;
  readonly slaves: readonly string[];
  /** Bits of each key. */
  readonly size: number;
  readonly keys: readonly HandOverKey[];
}

/** Carries given keys to a KM further away over a routed key relay (KeyRelayService.carry). */
export type Carry = (dest: string, keys: readonly { readonly id: string; readonly bytes: Uint8Array }[]) => Promise<void>;

export async function handOver(kma: Kma, h: HandOver, carry?: Carry): Promise<void> {
  const near = !!linkBetween(kma.topology, kma.nodeId, h.dest);
  if (!near && !carry) throw new NotPermittedError(`${h.dest} shares no link with ${kma.nodeId}: keys are handed over to a neighbour`);
  const units = h.keys.flatMap((k) => k.units);
  if (h.keys.some((k) => k.units[0]?.id !== k.id) || units.some((u) => u.bytes.length * 8 !== kma.unitBits)) throw new NotPermittedError(`handed-over keys must be whole units of ${kma.unitBits} bits, named by their first unit`);
  const ids = units.map((u) => u.id);
  if (!near) {
    // The relay burns and voids what it used if it fails; the supply below voids the keys if it does.
    await carry!(h.dest, units);
    return supplyAt(kma, h, ids);
  }
  const pads = await kma.takeLink(h.dest, units.length);
  if (!pads) throw new InsufficientKeysError(`link:${h.dest}`, units.length, kma.shared(h.dest, 'link'));
  try {
    await kma.store.commit({ change: pads.map((id) => ({ id, from: ['available'], to: 'reserved', fields: { op: h.supply, purpose: 'pad', phase: 'await-peer' } })) });
  } catch (e) {
    kma.store.release(pads);
    throw e;
  }
  const ct = concat(units.map((u) => u.bytes));
  const pad = concat(pads.map((id) => kma.store.readKey(id)));
  for (let i = 0; i < ct.length; i++) ct[i]! ^= pad[i]!;
  pad.fill(0);
  let hop: string;
  try {
    const a = await kma.kx.request(h.dest, 'KeyRelay', { relay: h.supply, route: [kma.nodeId, h.dest], hop: 0, keys: ids, bits: kma.unitBits, pads, ct }, kma.peerMs);
    hop = a.name === 'Response' ? a.body.status : a.name;
  } catch (e) {
    hop = (e as { code?: string }).code ?? 'ERR_KM_PEER_UNREACHABLE';
  } finally {
    ct.fill(0);
  }
  if (hop !== 'ok') {
    await kma.burn(pads, [{ peer: h.dest, origin: 'link', ids: pads, reason: `hand-over ${h.supply} not acknowledged` }], `hand-over not acknowledged: ${hop}`);
    return failAt(kma, h, ids, `the hand-over hop to ${h.dest} was not acknowledged: ${hop}`, hop);
  }
  await kma.store.commit({ change: pads.map((id) => ({ id, from: ['reserved'], to: 'consumed', fields: { phase: undefined } })) });
  return supplyAt(kma, h, ids);
}

/** The keys, now in the relay pool shared with `h.dest`, reserved there for the slave SAE(s); voided there on failure. */
async function supplyAt(kma: Kma, h: HandOver, ids: readonly string[]): Promise<void> {
  let supplied: string;
  try {
    const a = await kma.kx.request(h.dest, 'KeySupplyNotification', { supply: h.supply, origin: 'relay', master: h.master, slaves: h.slaves, size: h.size, keys: h.keys.map((k) => ({ id: k.id, units: k.units.map((u) => u.id) })) }, kma.peerMs);
    supplied = a.name === 'KeySupplyNotificationResponse' || a.name === 'Response' ? a.body.status : a.name;
  } catch (e) {
    supplied = (e as { code?: string }).code ?? 'ERR_KM_PEER_UNREACHABLE';
  }
  if (supplied !== 'ok') await failAt(kma, h, ids, `the supply notification to ${h.dest} was not confirmed: ${supplied}`, supplied);
}

/** The destination may hold the keys already: void them there (durable outbox). */
async function failAt(kma: Kma, h: HandOver, ids: readonly string[], why: string, status: string): Promise<never> {
  await kma.burn([], [{ peer: h.dest, origin: 'relay', ids, reason: `hand-over ${h.supply} failed` }], why);
  throw new PeerRefusedError(h.dest, status, why);
}
