/**
 * CxiReroutePropose (Cxi type 0x35; Y.3818 clause 9.1 Fig 10, "share information to change
 * rerouting path simultaneously"): one controller proposes new border crossings for relays that a
 * failure affects. `plan` is the whole decision; `digest` is the SHA-256 of its canonical CBOR
 * (cxi/reroute.ts planDigest), which every vote and the commit repeat, so the KMs of both networks
 * get commands only after both controllers agreed on the same bytes. `epoch` orders rounds: of two
 * proposals crossing each other, the higher epoch (then the lower proposer ID) wins.
 *
 *   { round: uuid, proposer: id, epoch: uint, deadline: ms,
 *     plan: [{ relay: uuid, qx: id, egress: id, ingress: id }], digest: bytes(32) }
 */
import { IwDecodeError } from '../errors.js';
import { array, bytes, id, object, time, uint, uuid } from '../schema.js';
import { defineMessage, LIMITS } from '../spec.js';

export interface RerouteStep {
  readonly relay: string;
  /** The Qx link the relay is to cross from now on. */
  readonly qx: string;
  /** The gateway of the relay's source network, and that of its destination network. */
  readonly egress: string;
  readonly ingress: string;
}

export interface CxiReroutePropose {
  readonly round: string;
  readonly proposer: string;
  readonly epoch: number;
  readonly deadline: number;
  readonly plan: readonly RerouteStep[];
  readonly digest: Uint8Array;
}

/** The schema of a plan alone: the digest is taken over its canonical encoding. */
export const PLAN_SCHEMA = array(object({ relay: uuid, qx: id, egress: id, ingress: id }), 1, LIMITS.entries);

export const CxiRerouteProposeSpec = defineMessage<'CxiReroutePropose', CxiReroutePropose>({
  name: 'CxiReroutePropose',
  rp: 'Cxi',
  type: 0x35,
  answer: false,
  schema: object({ round: uuid, proposer: id, epoch: uint(), deadline: time, plan: PLAN_SCHEMA, digest: bytes(32) }),
  check: (m) => {
    if (m.digest.length !== 32) throw new IwDecodeError('CxiReroutePropose.digest', 'must be 32 bytes (SHA-256)');
    const seen = new Set<string>();
    m.plan.forEach((s, i) => {
      if (seen.has(s.relay)) throw new IwDecodeError(`CxiReroutePropose.plan[${i}].relay`, 'must be distinct');
      seen.add(s.relay);
    });
  },
  bytes: ['digest'],
  freeText: [],
  example: {
    round: '7e6d5c4b-3a29-4180-8f7e-6d5c4b3a2918',
    proposer: 'ctl-a',
    epoch: 5,
    deadline: 1_800_000_005_000,
    plan: [{ relay: '3d2c1b0a-9f8e-4d7c-8b6a-5f4e3d2c1b0a', qx: 'qx-ab2', egress: 'gwn-a2', ingress: 'gwn-b2' }],
    digest: new Uint8Array(32).fill(0x5c),
  },
  vector: '850118350700a665726f756e64782437653664356334622d336132392d343138302d386637652d3664356334623361323931386870726f706f7365726563746c2d616565706f63680568646561646c696e651b000001a3185c638864706c616e81a46572656c6179782433643263316230612d396638652d346437632d386236612d3566346533643263316230616271786671782d616232666567726573736667776e2d613267696e67726573736667776e2d62326664696765737458205c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c',
});
