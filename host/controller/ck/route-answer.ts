/**
 * RouteAnswer (type 19, Ck, controller → KM): the route of a relay (nodes from source to
 * destination and the links between them, computed on view `version`), or an error status: the
 * KM's ERR_KM_NO_ROUTE when no usable route exists, ERR_CTL_DEADLINE, ERR_CTL_NOT_LEADER from a
 * follower replica.
 *
 *   { status: 'ok', nodes: [id], links: [id], version: uint }  |  { status: text, reason: text }
 */
import { body, id, ids, optText, text, uint } from '../../km/kx/fields.js';
import { LIMITS } from '../../km/kx/spec.js';
import { ControllerDecodeError } from '../errors.js';
import type { ControlMessageSpec } from '../wire.js';

export type RouteAnswer =
  | { readonly relay: string; readonly status: 'ok'; readonly nodes: readonly string[]; readonly links: readonly string[]; readonly version: number }
  | { readonly relay: string; readonly status: string; readonly reason: string };

export const RouteAnswerSpec: ControlMessageSpec<'RouteAnswer', RouteAnswer> = {
  name: 'RouteAnswer',
  type: 19,
  answer: true,
  encode: (m) => ('nodes' in m ? { relay: m.relay, status: 'ok', nodes: [...m.nodes], links: [...m.links], version: m.version } : { relay: m.relay, status: m.status, reason: m.reason }),
  decode(v) {
    const M = 'RouteAnswer';
    const b = body(v, M);
    const relay = id(b, M, 'relay');
    const status = text(b, M, 'status', 64);
    if (status !== 'ok') return { relay, status, reason: optText(b, M, 'reason', 500) ?? '' };
    const nodes = ids(b, M, 'nodes', 2, LIMITS.route);
    const links = ids(b, M, 'links', 1, LIMITS.route - 1);
    if (links.length !== nodes.length - 1) throw new ControllerDecodeError(`${M}.links`, `${M}.links: expected one link per hop (${nodes.length - 1})`);
    if (new Set(nodes).size !== nodes.length) throw new ControllerDecodeError(`${M}.nodes`, `${M}.nodes: expected distinct nodes (no loop)`);
    return { relay, status: 'ok', nodes, links, version: uint(b, M, 'version') };
  },
  example: { relay: '3d2c1b0a-9f8e-4d7c-8b6a-5f4e3d2c1b0a', status: 'ok', nodes: ['A', 'D', 'C'], links: ['A~D', 'C~D'], version: 17 },
  vector:
    '8501130700a56572656c6179782433643263316230612d396638652d346437632d386236612d35663465336432633162306166737461747573626f6b656e6f64657383614161446143656c696e6b738263417e4463437e446776657273696f6e11',
};
