/**
 * CxiRerouteAbort (Cxi type 0x38): a round ends without a commit: a participant rejected or voted
 * on another digest (`disagreement`), not every vote came before the deadline (`timeout`), or a
 * crossing proposal of higher precedence replaced it (`superseded`). Nobody pushes anything; the
 * relays keep their current routes until a later round commits.
 *
 *   { round: uuid, by: id, reason: disagreement|timeout|superseded }
 */
import { id, object, oneOf, uuid } from '../schema.js';
import { defineMessage } from '../spec.js';

export const ABORT_REASONS = ['disagreement', 'timeout', 'superseded'] as const;
export type AbortReason = (typeof ABORT_REASONS)[number];

export interface CxiRerouteAbort {
  readonly round: string;
  readonly by: string;
  readonly reason: AbortReason;
}

export const CxiRerouteAbortSpec = defineMessage<'CxiRerouteAbort', CxiRerouteAbort>({
  name: 'CxiRerouteAbort',
  rp: 'Cxi',
  type: 0x38,
  answer: false,
  schema: object({ round: uuid, by: id, reason: oneOf(ABORT_REASONS) }),
  bytes: [],
  freeText: [],
  example: { round: '7e6d5c4b-3a29-4180-8f7e-6d5c4b3a2918', by: 'ctl-b', reason: 'timeout' },
  vector: '850118380700a365726f756e64782437653664356334622d336132392d343138302d386637652d3664356334623361323931386262796563746c2d6266726561736f6e6774696d656f7574',
});
