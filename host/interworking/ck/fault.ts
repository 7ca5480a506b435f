/**
 * CkFault (Ck type 0x54; Fig 13, a fault): a KM of the interworking node failed to reach the KM
 * serving one of its network's shared SAEs (a hand-over that failed); its controller IWF,
 * outside the IWN, suspends transfer towards that SAE and shares its status over Cxi at once.
 * `recovered` instead: those SAEs' KM answers again (the KM's queued Voids reached it).
 *
 *   { km: id, kind: fault|recovered, saes: [sae], cause?: text }
 */
import { array, id, object, oneOf, sae, text } from '../schema.js';
import { defineMessage, LIMITS } from '../spec.js';

export const CK_FAULT_KINDS = ['fault', 'recovered'] as const;

export interface CkFault {
  readonly km: string;
  readonly kind: (typeof CK_FAULT_KINDS)[number];
  readonly saes: readonly string[];
  readonly cause?: string;
}

export const CkFaultSpec = defineMessage<'CkFault', CkFault>({
  name: 'CkFault',
  rp: 'Ck',
  type: 0x54,
  answer: false,
  schema: object({ km: id, kind: oneOf(CK_FAULT_KINDS), saes: array(sae, 0, LIMITS.entries) }, { cause: text(LIMITS.text) }),
  bytes: [],
  freeText: ['cause'],
  example: { km: 'iwn-b', kind: 'fault', saes: ['bob'], cause: 'hand-over failed: ERR_KM_PEER_UNREACHABLE' },
  vector: '850118540700a4626b6d6569776e2d62646b696e64656661756c7464736165738163626f62656361757365782968616e642d6f766572206661696c65643a204552525f4b4d5f504545525f554e524541434841424c45',
});
