import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mapKmError } from './etsi014.js';
import { API_ERRORS } from './errors.js';
import { PolicyRefusedError } from '../km/supply-policy.js';

test('a supply refused by policy is 401 when not permitted, 400 when the request is wrong for it', () => {
  const notPermitted = mapKmError(new PolicyRefusedError('not-permitted', 'this pair may not use keys now'), 'enc_keys');
  assert.is(notPermitted.code, 'ERR_API_UNAUTHORIZED');
  assert.is(API_ERRORS[notPermitted.code], 401);
  const bad = mapKmError(new PolicyRefusedError('bad-request', 'at most 2 keys per request'), 'enc_keys');
  assert.is(API_ERRORS[bad.code], 400);
});

test.run();
