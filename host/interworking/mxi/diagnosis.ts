/**
 * MxiDiagnosis (Mxi type 0x41; Y.3818 clause 7.1 fault management function, clause 9.1 Fig 11): an XLMO's diagnosis of an interworking
 * fault, shared with the other XLMO and reported to its own QCLM, which decides (MxiDecision).
 * `scope` says on whose side the cause lies, as far as the diagnosing manager can tell.
 *
 *   { fault: uuid, diagnoser: id, cause: enum, scope: local|peer|border, at: ms, detail?: text }
 */
import { id, object, oneOf, text, time, uuid } from '../schema.js';
import { defineMessage, LIMITS } from '../spec.js';

export const CAUSES = ['qx_exhausted', 'qx_down', 'peer_unreachable', 'route_lost', 'key_sync_mismatch', 'authentication', 'unknown'] as const;
export type Cause = (typeof CAUSES)[number];

export interface MxiDiagnosis {
  readonly fault: string;
  readonly diagnoser: string;
  readonly cause: Cause;
  readonly scope: 'local' | 'peer' | 'border';
  readonly at: number;
  readonly detail?: string;
}

export const MxiDiagnosisSpec = defineMessage<'MxiDiagnosis', MxiDiagnosis>({
  name: 'MxiDiagnosis',
  rp: 'Mxi',
  type: 0x41,
  answer: false,
  schema: object({ fault: uuid, diagnoser: id, cause: oneOf(CAUSES), scope: oneOf(['local', 'peer', 'border']), at: time }, { detail: text(LIMITS.text) }),
  bytes: [],
  freeText: ['detail'],
  example: { fault: '9a8b7c6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d', diagnoser: 'xlmo-b', cause: 'qx_exhausted', scope: 'border', at: 1_800_000_000_100 },
  vector: '850118410700a5656661756c74782439613862376336642d356534662d346133622d396332642d31653066396138623763366469646961676e6f73657266786c6d6f2d626563617573656c71785f6578686175737465646573636f706566626f726465726261741b000001a3185c5064',
});
