/**
 * CxiTopologySummary (Cxi type 0x31; Y.3818 clause 7.1 policy-based control function): what one
 * provider lets its peer know of its network, computed by border/policy.ts from the full topology
 * and the sharing policy. It lists the border nodes that face the peer (with the Qx link to the
 * peer's gateway), and for each border node the SAEs shared with this peer and the KMs serving
 * them, each with the cost of the segment from the border node and its available stock (the
 * bottleneck of link units along it), and the QoS the policy grants. Never an internal node
 * between them, never an internal link. `version` grows with every summary the provider sends.
 *
 *   { provider: id, version: uint,
 *     borders: [{ node: id, peer: id, qx: id, cost: uint, stock: uint }],
 *     saes: [{ sae, km: id, border: id, cost: uint, stock: uint, rate: uint, bits: uint }],
 *     kms: [{ km: id, border: id, cost: uint, stock: uint }] }
 */
import { array, id, object, sae, uint } from '../schema.js';
import { defineMessage, LIMITS } from '../spec.js';

export interface SummaryBorder {
  readonly node: string;
  readonly peer: string;
  readonly qx: string;
  readonly cost: number;
  readonly stock: number;
}

export interface SummarySae {
  readonly sae: string;
  readonly km: string;
  readonly border: string;
  readonly cost: number;
  readonly stock: number;
  /** QoS granted by the sharing policy: keys per second at most, and key size at most (bits). */
  readonly rate: number;
  readonly bits: number;
}

export interface SummaryKm {
  readonly km: string;
  readonly border: string;
  readonly cost: number;
  readonly stock: number;
}

export interface CxiTopologySummary {
  readonly provider: string;
  readonly version: number;
  readonly borders: readonly SummaryBorder[];
  readonly saes: readonly SummarySae[];
  readonly kms: readonly SummaryKm[];
}

export const CxiTopologySummarySpec = defineMessage<'CxiTopologySummary', CxiTopologySummary>({
  name: 'CxiTopologySummary',
  rp: 'Cxi',
  type: 0x31,
  answer: false,
  schema: object({
    provider: id,
    version: uint(),
    borders: array(object({ node: id, peer: id, qx: id, cost: uint(), stock: uint() }), 1, 64),
    saes: array(object({ sae, km: id, border: id, cost: uint(), stock: uint(), rate: uint(), bits: uint(LIMITS.bits) }), 0, LIMITS.entries),
    kms: array(object({ km: id, border: id, cost: uint(), stock: uint() }), 0, LIMITS.entries),
  }),
  bytes: [],
  freeText: [],
  example: {
    provider: 'qkdn-a',
    version: 3,
    borders: [{ node: 'gwn-a', peer: 'gwn-b', qx: 'qx-ab', cost: 1, stock: 8192 }],
    saes: [{ sae: 'alice', km: 'km-a1', border: 'gwn-a', cost: 2, stock: 4096, rate: 10, bits: 256 }],
    kms: [{ km: 'km-a1', border: 'gwn-a', cost: 2, stock: 4096 }],
  },
  vector: '850118310700a56870726f766964657266716b646e2d616776657273696f6e0367626f726465727381a5646e6f64656567776e2d6164706565726567776e2d626271786571782d616264636f7374016573746f636b192000647361657381a76373616565616c696365626b6d656b6d2d613166626f726465726567776e2d6164636f7374026573746f636b19100064726174650a6462697473190100636b6d7381a4626b6d656b6d2d613166626f726465726567776e2d6164636f7374026573746f636b191000',
});
