/**
 * RouteRequest (type 18, Ck, KM → controller): the KM starting (or retrying) a relay asks for its
 * route; the fields are those of the Router seam (host/km/routing.ts). Answered by RouteAnswer.
 *
 *   { relay: id, from: id, to: id, units: uint, deadline: uint (epoch ms), priority: uint,
 *     attempt: uint, avoid: [id] }
 */
import { body, id, ids, uint } from '../../km/kx/fields.js';
import { LIMITS } from '../../km/kx/spec.js';
import { CONTROL_LIMITS } from '../fields.js';
import type { RelayRouteRequest } from '../router.js';
import type { ControlMessageSpec } from '../wire.js';

export const RouteRequestSpec: ControlMessageSpec<'RouteRequest', RelayRouteRequest> = {
  name: 'RouteRequest',
  type: 18,
  answer: false,
  encode: (m) => ({ relay: m.relayId, from: m.from, to: m.to, units: m.units, deadline: m.deadline, priority: m.priority, attempt: m.attempt, avoid: [...m.avoidLinks] }),
  decode(v) {
    const M = 'RouteRequest';
    const b = body(v, M);
    return {
      relayId: id(b, M, 'relay'),
      from: id(b, M, 'from'),
      to: id(b, M, 'to'),
      units: uint(b, M, 'units', LIMITS.units),
      deadline: uint(b, M, 'deadline'),
      priority: uint(b, M, 'priority', CONTROL_LIMITS.priority),
      attempt: uint(b, M, 'attempt', CONTROL_LIMITS.attempts),
      avoidLinks: ids(b, M, 'avoid', 0, CONTROL_LIMITS.avoid),
    };
  },
  example: { relayId: '3d2c1b0a-9f8e-4d7c-8b6a-5f4e3d2c1b0a', from: 'A', to: 'C', units: 4, deadline: 1796000000000, priority: 0, attempt: 1, avoidLinks: ['A~B'] },
  vector:
    '8501120700a86572656c6179782433643263316230612d396638652d346437632d386236612d3566346533643263316230616466726f6d614162746f614365756e6974730468646561646c696e65fb427a229f12800000687072696f726974790067617474656d7074016561766f69648163417e42',
};
