/**
 * MxiDecision (Mxi type 0x42; Y.3818 clause 7.1 fault management function and, for the border
 * suspend/resume decisions, configuration management function; clause 9.1 Fig 11, "QCLM, which
 * makes the next decision"):
 * what a QKDN control layer manager decided about an interworking fault, shared so that the other
 * side's managers know what to expect (a reroute round on Cxi, a retry, a suspended border).
 *
 *   { fault: uuid, decider: id, action: reroute|retry|suspend_border|resume_border|none, at: ms, round?: uuid }
 */
import { id, object, oneOf, time, uuid } from '../schema.js';
import { defineMessage } from '../spec.js';

export const DECISIONS = ['reroute', 'retry', 'suspend_border', 'resume_border', 'none'] as const;
export type DecisionAction = (typeof DECISIONS)[number];

export interface MxiDecision {
  readonly fault: string;
  readonly decider: string;
  readonly action: DecisionAction;
  readonly at: number;
  /** The Cxi reroute round carrying out a `reroute` decision. */
  readonly round?: string;
}

export const MxiDecisionSpec = defineMessage<'MxiDecision', MxiDecision>({
  name: 'MxiDecision',
  rp: 'Mxi',
  type: 0x42,
  answer: false,
  schema: object({ fault: uuid, decider: id, action: oneOf(DECISIONS), at: time }, { round: uuid }),
  bytes: [],
  freeText: [],
  example: { fault: '9a8b7c6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d', decider: 'qclm-a', action: 'reroute', at: 1_800_000_000_200, round: '7e6d5c4b-3a29-4180-8f7e-6d5c4b3a2918' },
  vector: '850118420700a5656661756c74782439613862376336642d356534662d346133622d396332642d31653066396138623763366467646563696465726671636c6d2d6166616374696f6e677265726f7574656261741b000001a3185c50c865726f756e64782437653664356334622d336132392d343138302d386637652d366435633462336132393138',
});
