/**
 * CxiStatus (Cxi type 0x34; Y.3818 clause 9.1 Fig 10, status sharing): a controller shares the
 * state of what the peer may see: its ends of the Qx links (up, degraded, down; available units
 * and key rate) and whether each shared SAE is reachable and with how much stock. It is what lets
 * both controllers decide together that a reroute is needed. `seq` grows per sender; a receiver
 * keeps only the newest.
 *
 *   { provider: id, seq: uint, at: ms,
 *     borders: [{ qx: id, state: up|degraded|down, stock: uint, rate: uint (bits/s) }],
 *     saes: [{ sae, reachable: bool, stock: uint }] }
 */
import { array, bool, id, object, oneOf, sae, time, uint } from '../schema.js';
import { defineMessage, LIMITS } from '../spec.js';

export const BORDER_STATES = ['up', 'degraded', 'down'] as const;
export type BorderState = (typeof BORDER_STATES)[number];

export interface CxiStatus {
  readonly provider: string;
  readonly seq: number;
  readonly at: number;
  readonly borders: readonly { readonly qx: string; readonly state: BorderState; readonly stock: number; readonly rate: number }[];
  readonly saes: readonly { readonly sae: string; readonly reachable: boolean; readonly stock: number }[];
}

export const CxiStatusSpec = defineMessage<'CxiStatus', CxiStatus>({
  name: 'CxiStatus',
  rp: 'Cxi',
  type: 0x34,
  answer: false,
  schema: object({
    provider: id,
    seq: uint(),
    at: time,
    borders: array(object({ qx: id, state: oneOf(BORDER_STATES), stock: uint(), rate: uint() }), 0, 64),
    saes: array(object({ sae, reachable: bool, stock: uint() }), 0, LIMITS.entries),
  }),
  bytes: [],
  freeText: [],
  example: {
    provider: 'qkdn-b',
    seq: 41,
    at: 1_800_000_000_000,
    borders: [{ qx: 'qx-ab', state: 'degraded', stock: 512, rate: 1200 }],
    saes: [{ sae: 'bob', reachable: true, stock: 2048 }],
  },
  vector: '850118340700a56870726f766964657266716b646e2d626373657118296261741b000001a3185c500067626f726465727381a46271786571782d61626573746174656864656772616465646573746f636b19020064726174651904b0647361657381a36373616563626f6269726561636861626c65f56573746f636b190800',
});
