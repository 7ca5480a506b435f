import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { fromEtsi020, STATUS, STATUS_NAMES, toEtsi020, type IwStatus } from './status.js';

test('the ETSI GS QKD 020 routing errors map to 400 with their draft message and detail name, and back', () => {
  assert.equal(toEtsi020('no_known_route'), { http: 400, body: { message: 'key routing error', details: [{ no_known_route: STATUS.no_known_route.meaning }] } });
  assert.equal(toEtsi020('insufficient_key_material', 'Qx stock 0').body, { message: 'insufficient key material', details: [{ insufficient_key_material: 'Qx stock 0' }] });
  assert.is(toEtsi020('invalid_routing').body.message, 'key routing error');
  assert.is(toEtsi020('unauthorized').http, 401);
  assert.is(toEtsi020('timeout').http, 408);
  assert.is(toEtsi020('server_side_general_error').http, 503);
  for (const s of STATUS_NAMES.filter((x): x is Exclude<IwStatus, 'ok'> => x !== 'ok')) assert.is(fromEtsi020(toEtsi020(s).body), s);
  // the draft's own example bodies
  assert.is(fromEtsi020({ message: 'key routing error', details: [{ invalid_routing: 'Routing this key to target SAE ID requires directly passing it back to the calling KME, which is invalid.' }] }), 'invalid_routing');
  assert.is(fromEtsi020({ message: 'x', details: [{ something_else: 'y' }] }), null);
  assert.is(fromEtsi020('nope'), null);
});

test.run();
