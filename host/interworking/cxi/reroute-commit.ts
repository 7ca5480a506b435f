/**
 * CxiRerouteCommit (Cxi type 0x37): the proposer, holding an accepting vote on the same digest
 * from every participant, commits the round; each controller then pushes its part of the plan to
 * its own KMs (the configuration control function, clause 7.1), and not before.
 *
 *   { round: uuid, committer: id, digest: bytes(32) }
 */
import { IwDecodeError } from '../errors.js';
import { bytes, id, object, uuid } from '../schema.js';
import { defineMessage } from '../spec.js';

export interface CxiRerouteCommit {
  readonly round: string;
  readonly committer: string;
  readonly digest: Uint8Array;
}

export const CxiRerouteCommitSpec = defineMessage<'CxiRerouteCommit', CxiRerouteCommit>({
  name: 'CxiRerouteCommit',
  rp: 'Cxi',
  type: 0x37,
  answer: false,
  schema: object({ round: uuid, committer: id, digest: bytes(32) }),
  check: (m) => {
    if (m.digest.length !== 32) throw new IwDecodeError('CxiRerouteCommit.digest', 'must be 32 bytes (SHA-256)');
  },
  bytes: ['digest'],
  freeText: [],
  example: { round: '7e6d5c4b-3a29-4180-8f7e-6d5c4b3a2918', committer: 'ctl-a', digest: new Uint8Array(32).fill(0x5c) },
  vector: '850118370700a365726f756e64782437653664356334622d336132392d343138302d386637652d36643563346233613239313869636f6d6d69747465726563746c2d616664696765737458205c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c',
});
