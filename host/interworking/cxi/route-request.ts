/**
 * CxiRouteRequest (Cxi type 0x32; Y.3818 clause 7.1 routing control function, clause 9.1 Fig 9):
 * controller-A asks controller-B for the segment of an interworking key relay inside QKDN-B, from
 * one of B's border nodes to the KM of the target SAE. Each controller computes only its own
 * segment (Y.3818: "key relay routing is performed independently in the QKDN according to the
 * policies of the service provider"); the two are joined at the GWN pair (cxi/segments.ts).
 * `avoid` names Qx links that failed for this relay; `ingress` the B-side gateway A prefers.
 * Answered by CxiRouteResponse.
 *
 *   { request: uuid, relay: uuid, initiator: sae, target: sae, keys: uint, bits: uint,
 *     deadline: ms, priority: uint, attempt: uint, avoid: [id], ingress?: id }
 */
import { array, id, object, sae, time, uint, uuid } from '../schema.js';
import { defineMessage, LIMITS } from '../spec.js';

export interface CxiRouteRequest {
  readonly request: string;
  readonly relay: string;
  readonly initiator: string;
  readonly target: string;
  readonly keys: number;
  readonly bits: number;
  readonly deadline: number;
  readonly priority: number;
  readonly attempt: number;
  readonly avoid: readonly string[];
  readonly ingress?: string;
}

export const CxiRouteRequestSpec = defineMessage<'CxiRouteRequest', CxiRouteRequest>({
  name: 'CxiRouteRequest',
  rp: 'Cxi',
  type: 0x32,
  answer: false,
  schema: object(
    {
      request: uuid,
      relay: uuid,
      initiator: sae,
      target: sae,
      keys: uint(LIMITS.keys, 1),
      bits: uint(LIMITS.bits, 8),
      deadline: time,
      priority: uint(255),
      attempt: uint(255),
      avoid: array(id, 0, 64, true),
    },
    { ingress: id },
  ),
  bytes: [],
  freeText: [],
  example: {
    request: '5a4b3c2d-1e0f-4a9b-8c7d-6e5f4a3b2c1d',
    relay: '3d2c1b0a-9f8e-4d7c-8b6a-5f4e3d2c1b0a',
    initiator: 'alice',
    target: 'bob',
    keys: 1,
    bits: 256,
    deadline: 1_800_000_000_000,
    priority: 0,
    attempt: 0,
    avoid: [],
  },
  vector: '850118320700aa6772657175657374782435613462336332642d316530662d346139622d386337642d3665356634613362326331646572656c6179782433643263316230612d396638652d346437632d386236612d35663465336432633162306169696e69746961746f7265616c6963656674617267657463626f62646b65797301646269747319010068646561646c696e651b000001a3185c5000687072696f726974790067617474656d7074006561766f696480',
});
