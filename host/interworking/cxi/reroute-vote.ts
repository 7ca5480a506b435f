/**
 * CxiRerouteVote (Cxi type 0x36): a controller's vote on a CxiReroutePropose. The voter recomputes
 * the plan's digest itself and checks the plan against its own network (its gateways, stock and
 * policy); it accepts only if both hold, and repeats the digest it voted on. A vote is only
 * counted from the controller its Cxi connection authenticated, for a round it knows, on that
 * round's digest (cxi/reroute.ts).
 *
 *   { round: uuid, voter: id, digest: bytes(32), vote: accept|reject, reason?: text }
 */
import { IwDecodeError } from '../errors.js';
import { bytes, id, object, oneOf, text, uuid } from '../schema.js';
import { defineMessage, LIMITS } from '../spec.js';

export interface CxiRerouteVote {
  readonly round: string;
  readonly voter: string;
  readonly digest: Uint8Array;
  readonly vote: 'accept' | 'reject';
  readonly reason?: string;
}

export const CxiRerouteVoteSpec = defineMessage<'CxiRerouteVote', CxiRerouteVote>({
  name: 'CxiRerouteVote',
  rp: 'Cxi',
  type: 0x36,
  answer: false,
  schema: object({ round: uuid, voter: id, digest: bytes(32), vote: oneOf(['accept', 'reject']) }, { reason: text(LIMITS.text) }),
  check: (m) => {
    if (m.digest.length !== 32) throw new IwDecodeError('CxiRerouteVote.digest', 'must be 32 bytes (SHA-256)');
  },
  bytes: ['digest'],
  freeText: ['reason'],
  example: { round: '7e6d5c4b-3a29-4180-8f7e-6d5c4b3a2918', voter: 'ctl-b', digest: new Uint8Array(32).fill(0x5c), vote: 'accept' },
  vector: '850118360700a465726f756e64782437653664356334622d336132392d343138302d386637652d36643563346233613239313865766f7465726563746c2d626664696765737458205c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c64766f746566616363657074',
});
