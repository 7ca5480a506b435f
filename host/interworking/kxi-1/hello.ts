/**
 * Kxi1Hello (Kxi-1 type 0x10; Y.3818 clause 6.1 "authentication"): the first message each GWN's
 * KMA sends on a Kxi-1 (or, inside an IWN, Kxi-1') connection. The border endpoint has already
 * verified the peer's certificate against its provider's CA and its pinned fingerprint; the hello
 * must name the same node and provider, or the connection is closed. `boot` changes when the KMA
 * restarts (the peer then resynchronises Qx units with Kxi1KeySync); `nonce` makes each session's
 * transcript unique. The answer is a Kxi1Hello with `re`.
 *
 *   { node: id, provider: id, boot: uuid, versions: [uint], nonce: bytes(16), re?: uint }
 */
import { array, bytes, id, object, uint, uuid } from '../schema.js';
import { defineMessage } from '../spec.js';
import { IwDecodeError } from '../errors.js';

export interface Kxi1Hello {
  readonly node: string;
  readonly provider: string;
  readonly boot: string;
  readonly versions: readonly number[];
  readonly nonce: Uint8Array;
  readonly re?: number;
}

export const Kxi1HelloSpec = defineMessage<'Kxi1Hello', Kxi1Hello>({
  name: 'Kxi1Hello',
  rp: 'Kxi-1',
  type: 0x10,
  answer: false,
  schema: object({ node: id, provider: id, boot: uuid, versions: array(uint(255, 1), 1, 8, true), nonce: bytes(16) }, { re: uint() }),
  check: (m) => {
    if (m.nonce.length !== 16) throw new IwDecodeError('Kxi1Hello.nonce', 'must be 16 bytes');
  },
  bytes: ['nonce'],
  freeText: [],
  example: {
    node: 'gwn-a',
    provider: 'qkdn-a',
    boot: '6f1c2a3b-4d5e-4f60-8172-839495a6b7c8',
    versions: [1],
    nonce: Uint8Array.from([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15]),
  },
  vector: '8501100700a5646e6f64656567776e2d616870726f766964657266716b646e2d6164626f6f74782436663163326133622d346435652d346636302d383137322d3833393439356136623763386876657273696f6e738101656e6f6e636550000102030405060708090a0b0c0d0e0f',
});
