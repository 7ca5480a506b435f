/**
 * Hello (type 1): the first message each way on a new Kx connection. Names the sender's node and
 * its boot (a new boot means the peer restarted: reconcile, send voids, refresh watermarks) and the
 * protocol versions it speaks. TLS has already authenticated the node; `node` must match the
 * certificate's CN or the connection is closed.
 *
 *   { node: text, boot: uuid, versions: [uint], re?: uint }   re: set when answering a Hello
 */
import { body, id, keyId, uint, array, defined } from './fields.js';
import { KxDecodeError } from './errors.js';
import type { KxMessageSpec } from './spec.js';

export interface Hello {
  readonly node: string;
  readonly boot: string;
  readonly versions: readonly number[];
  readonly re?: number;
}

export const HelloSpec: KxMessageSpec<'Hello', Hello> = {
  name: 'Hello',
  type: 1,
  answer: false,
  encode: (m) => defined({ node: m.node, boot: m.boot, versions: [...m.versions], re: m.re }),
  decode(v) {
    const b = body(v, 'Hello');
    const versions = array(b, 'Hello', 'versions', 1, 16).map((x, i) => {
      if (typeof x !== 'number' || !Number.isSafeInteger(x) || x < 1 || x > 65535) throw new KxDecodeError(`Hello.versions[${i}]`, 'a version number');
      return x;
    });
    return { node: id(b, 'Hello', 'node'), boot: keyId(b, 'Hello', 'boot'), versions, ...(b.re !== undefined ? { re: uint(b, 'Hello', 're') } : {}) };
  },
  example: { node: 'node-a', boot: '6f1c2a3e-8b4d-4e5f-9a0b-1c2d3e4f5a6b', versions: [1] },
  vector: '84010107a3646e6f6465666e6f64652d6164626f6f74782436663163326133652d386234642d346535662d396130622d3163326433653466356136626876657273696f6e738101',
};
