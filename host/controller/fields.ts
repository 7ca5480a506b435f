/**
 * Field readers the Kx set lacks (host/km/kx/fields.ts has the rest and is shared): real numbers,
 * booleans, link status and lists of records, each checked and named in a ControllerDecodeError.
 */
import { body, id, ids, type Body } from '../km/kx/fields.js';
import { ControllerDecodeError } from './errors.js';
import { LINK_STATUSES, type LinkPhysState, type LinkStatus, type NetworkConfig } from './view.js';

export function real(b: Body, msg: string, k: string, min: number, max: number): number {
  const v = b[k];
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) throw new ControllerDecodeError(`${msg}.${k}`, `${msg}.${k}: expected a number in [${min}, ${max}]`);
  return v;
}

export function bool(b: Body, msg: string, k: string): boolean {
  const v = b[k];
  if (typeof v !== 'boolean') throw new ControllerDecodeError(`${msg}.${k}`, `${msg}.${k}: expected true or false`);
  return v;
}

export function linkStatus(b: Body, msg: string, k: string): LinkStatus {
  const v = b[k];
  if (typeof v !== 'string' || !(LINK_STATUSES as readonly string[]).includes(v)) throw new ControllerDecodeError(`${msg}.${k}`, `${msg}.${k}: expected one of ${LINK_STATUSES.join(', ')}`);
  return v as LinkStatus;
}

/** An array of 0..max maps, each read by `each` with its index in the field name. */
export function records<T>(b: Body, msg: string, k: string, max: number, each: (r: Body, name: string) => T): T[] {
  const v = b[k];
  if (!Array.isArray(v) || v.length > max) throw new ControllerDecodeError(`${msg}.${k}`, `${msg}.${k}: expected an array of at most ${max} entries`);
  return v.map((x, i) => {
    const name = `${msg}.${k}[${i}]`;
    return each(body(x, name), name);
  });
}

/** Maximum sizes of the control messages (the frame limit of Kx bounds everything too). */
export const CONTROL_LIMITS = {
  nodes: 4096,
  links: 16384,
  saes: 16384,
  /** Links one node reports or advertises. */
  nodeLinks: 256,
  avoid: 64,
  priority: 7,
  attempts: 64,
  signature: 256,
  bootId: 64,
  /** Highest rate in bit/s a report may carry (1 Tbit/s). */
  rate: 1e12,
} as const;

/** A link's ETSI GS QKD 015 state as Cq reports and advertisements carry it. */
export function physState(b: Body, msg: string): LinkPhysState {
  return {
    status: linkStatus(b, msg, 'status'),
    skr: real(b, msg, 'skr', 0, CONTROL_LIMITS.rate),
    eskr: real(b, msg, 'eskr', 0, CONTROL_LIMITS.rate),
    qber: real(b, msg, 'qber', 0, 1),
    qberAlarm: bool(b, msg, 'qber_alarm'),
  };
}

export function physFields(p: LinkPhysState): Record<string, unknown> {
  return { status: p.status, skr: p.skr, eskr: p.eskr, qber: p.qber, qber_alarm: p.qberAlarm };
}

/** A network configuration's fields (TopologyPush, ConfigAdvertisement): `nodes`, `links` as {id, a, b}, `saes` as {sae, node}. */
export function configFields(c: NetworkConfig): Record<string, unknown> {
  return {
    nodes: [...c.nodes],
    links: c.links.map((l) => ({ id: l.id, a: l.ends[0], b: l.ends[1] })),
    saes: Object.entries(c.saes).map(([sae, node]) => ({ sae, node })),
  };
}

export function networkConfig(b: Body, msg: string): NetworkConfig {
  const saes: Record<string, string> = {};
  for (const s of records(b, msg, 'saes', CONTROL_LIMITS.saes, (r, n) => ({ sae: id(r, n, 'sae'), node: id(r, n, 'node') }))) saes[s.sae] = s.node;
  return {
    nodes: ids(b, msg, 'nodes', 0, CONTROL_LIMITS.nodes),
    links: records(b, msg, 'links', CONTROL_LIMITS.links, (r, n) => ({ id: id(r, n, 'id'), ends: [id(r, n, 'a'), id(r, n, 'b')] as const })),
    saes,
  };
}
