import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { decodePayload, encodePayload } from './messages.js';
import { KxDecodeError } from './errors.js';
import { KX_STATUSES, statusOf } from './status.js';
import { InsufficientKeysError } from '../errors.js';

test('every status of the table travels in a Response; a code outside it is refused as a decode error', () => {
  for (const status of KX_STATUSES) {
    const m = decodePayload(encodePayload('Response', 3, { re: 1, status }));
    assert.is(m.name === 'Response' && m.body.status, status);
  }
  assert.throws(() => decodePayload(encodePayload('Response', 3, { re: 1, status: 'ERR_SOMETHING_ELSE' as never })), (e: unknown) => e instanceof KxDecodeError && e.field === 'Response.status');
});

test('a failed relay names its status; the table is the only source of it', () => {
  const m = decodePayload(encodePayload('KeyRelayCompletionNotification', 4, { relay: '3d2c1b0a-9f8e-4d7c-8b6a-5f4e3d2c1b0a', outcome: 'failed', keys: ['11111111-2222-4333-8444-555555555555'], hop: 2, status: 'ERR_KM_INSUFFICIENT_KEYS', reason: 'ERR_KM_NO_ROUTE in text changes nothing' }));
  assert.is(m.name === 'KeyRelayCompletionNotification' && m.body.status, 'ERR_KM_INSUFFICIENT_KEYS');
  assert.throws(() => decodePayload(encodePayload('KeyRelayCompletionNotification', 4, { relay: '3d2c1b0a-9f8e-4d7c-8b6a-5f4e3d2c1b0a', outcome: 'failed', keys: ['11111111-2222-4333-8444-555555555555'], status: 'ok' as never })), (e: unknown) => e instanceof KxDecodeError);
});

test('an error travels as its code when the table has it, else as ERR_KM_INTERNAL', () => {
  assert.is(statusOf(new InsufficientKeysError('link:B', 3, 1)), 'ERR_KM_INSUFFICIENT_KEYS');
  assert.is(statusOf(Object.assign(new Error('disk'), { code: 'EIO' })), 'ERR_KM_INTERNAL');
  assert.is(statusOf(null), 'ERR_KM_INTERNAL');
});

test.run();
