/**
 * RouteRelease (type 20, Ck, KM → controller): session control. The relay ended: its reservation
 * along the route is released (a relay that never sends this is released at its deadline).
 *
 *   { relay: id, outcome: 'completed' | 'failed' }
 */
import { body, id, oneOf } from '../../km/kx/fields.js';
import type { ControlMessageSpec } from '../wire.js';

export interface RouteRelease {
  readonly relay: string;
  readonly outcome: 'completed' | 'failed';
}

export const RouteReleaseSpec: ControlMessageSpec<'RouteRelease', RouteRelease> = {
  name: 'RouteRelease',
  type: 20,
  answer: false,
  encode: (m) => ({ relay: m.relay, outcome: m.outcome }),
  decode(v) {
    const b = body(v, 'RouteRelease');
    return { relay: id(b, 'RouteRelease', 'relay'), outcome: oneOf(b, 'RouteRelease', 'outcome', ['completed', 'failed'] as const) };
  },
  example: { relay: '3d2c1b0a-9f8e-4d7c-8b6a-5f4e3d2c1b0a', outcome: 'completed' },
  vector:
    '8501140700a26572656c6179782433643263316230612d396638652d346437632d386236612d356634653364326331623061676f7574636f6d6569636f6d706c65746564',
};
