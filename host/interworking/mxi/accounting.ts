/**
 * MxiAccounting (Mxi type 0x45; Y.3818 clause 7.1 accounting management function): the use of
 * the cross-border key supply service over [from, to), per pair of SAEs (master in one network,
 * slave in the other) and direction, for the providers' charging and billing. Counts only: which
 * SAEs used how many keys of how many bits, never key IDs or material.
 *
 *   { reporter: id, provider: id, peer: id, from: ms, to: ms,
 *     usage: [{ master: sae, slave: sae, direction: out|in, keys: uint, bits: uint }] }
 */
import { IwDecodeError } from '../errors.js';
import { array, id, object, oneOf, sae, time, uint } from '../schema.js';
import { defineMessage, LIMITS } from '../spec.js';

export interface UsageRecord {
  readonly master: string;
  readonly slave: string;
  /** `out`: keys relayed from the reporter's network to the peer's; `in`: the other way. */
  readonly direction: 'out' | 'in';
  readonly keys: number;
  readonly bits: number;
}

export interface MxiAccounting {
  readonly reporter: string;
  readonly provider: string;
  readonly peer: string;
  readonly from: number;
  readonly to: number;
  readonly usage: readonly UsageRecord[];
}

export const MxiAccountingSpec = defineMessage<'MxiAccounting', MxiAccounting>({
  name: 'MxiAccounting',
  rp: 'Mxi',
  type: 0x45,
  answer: false,
  schema: object({
    reporter: id,
    provider: id,
    peer: id,
    from: time,
    to: time,
    usage: array(object({ master: sae, slave: sae, direction: oneOf(['out', 'in']), keys: uint(), bits: uint() }), 0, LIMITS.entries),
  }),
  check: (m) => {
    if (m.to <= m.from) throw new IwDecodeError('MxiAccounting.to', 'must be after from');
    if (m.provider === m.peer) throw new IwDecodeError('MxiAccounting.peer', 'must differ from provider');
  },
  bytes: [],
  freeText: [],
  example: {
    reporter: 'xlmo-a',
    provider: 'qkdn-a',
    peer: 'qkdn-b',
    from: 1_800_000_000_000,
    to: 1_800_003_600_000,
    usage: [{ master: 'alice', slave: 'bob', direction: 'out', keys: 120, bits: 30720 }],
  },
  vector: '850118450700a6687265706f7274657266786c6d6f2d616870726f766964657266716b646e2d61647065657266716b646e2d626466726f6d1b000001a3185c500062746f1b000001a318933e8065757361676581a5666d617374657265616c69636565736c61766563626f6269646972656374696f6e636f7574646b65797318786462697473197800',
});
