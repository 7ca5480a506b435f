/**
 * Ack (type 2): the answer to a request that has no answer of its own: `ok`, or an error code
 * (ERR_...) and a reason.
 *
 *   { status: text, reason?: text }
 */
import { body, defined, optText, text } from '../km/kx/fields.js';
import type { ControlMessageSpec } from './wire.js';

export interface Ack {
  readonly status: string;
  readonly reason?: string;
}

export const AckSpec: ControlMessageSpec<'Ack', Ack> = {
  name: 'Ack',
  type: 2,
  answer: true,
  encode: (m) => defined({ status: m.status, reason: m.reason }),
  decode(v) {
    const b = body(v, 'Ack');
    const reason = optText(b, 'Ack', 'reason', 500);
    return { status: text(b, 'Ack', 'status', 64), ...(reason !== undefined ? { reason } : {}) };
  },
  example: { status: 'ERR_CTL_STALE_VERSION', reason: 'topology version 3 is not newer than 4' },
  vector:
    '8501020700a266737461747573754552525f43544c5f5354414c455f56455253494f4e66726561736f6e7826746f706f6c6f67792076657273696f6e2033206973206e6f74206e65776572207468616e2034',
};
