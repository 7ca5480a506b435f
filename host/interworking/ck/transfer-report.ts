/**
 * CkTransferReport (Ck type 0x55; Fig 14 and accounting): the KMLM of a KM in the interworking
 * node reports to its network's XLMO, outside the IWN, a key transfer that failed (`failed`: the
 * step and status, where Fig 14 starts) or one that ended well (`done`: keys and bits per SAE pair
 * and direction, for the accounting management function).
 *
 *   { transfer: uuid, outcome: failed|done, master: sae, slave: sae,
 *     step?: control|kxi-1|kxi-2|hand-over, status?: text, reason?: text,
 *     direction?: out|in, keys?: uint, bits?: uint (of one key), ms?: uint }
 */
import { object, oneOf, sae, text, uint, uuid } from '../schema.js';
import { defineMessage, LIMITS } from '../spec.js';
import { IwDecodeError } from '../errors.js';

export const TRANSFER_STEPS = ['control', 'kxi-1', 'kxi-2', 'hand-over'] as const;

export interface CkTransferReport {
  readonly transfer: string;
  readonly outcome: 'failed' | 'done';
  readonly master: string;
  readonly slave: string;
  readonly step?: (typeof TRANSFER_STEPS)[number];
  readonly status?: string;
  readonly reason?: string;
  readonly direction?: 'out' | 'in';
  readonly keys?: number;
  readonly bits?: number;
  readonly ms?: number;
}

export const CkTransferReportSpec = defineMessage<'CkTransferReport', CkTransferReport>({
  name: 'CkTransferReport',
  rp: 'Ck',
  type: 0x55,
  answer: false,
  schema: object(
    { transfer: uuid, outcome: oneOf(['failed', 'done']), master: sae, slave: sae },
    { step: oneOf(TRANSFER_STEPS), status: text(64), reason: text(LIMITS.text), direction: oneOf(['out', 'in']), keys: uint(LIMITS.keys), bits: uint(LIMITS.bits), ms: uint() },
  ),
  check: (m) => {
    if (m.outcome === 'failed' && (m.step === undefined || m.status === undefined)) throw new IwDecodeError('CkTransferReport.step', 'a failure names its step and status');
    if (m.outcome === 'done' && (m.direction === undefined || m.keys === undefined || m.bits === undefined)) throw new IwDecodeError('CkTransferReport.keys', 'a finished transfer names its direction, keys and bits');
  },
  bytes: [],
  freeText: ['status', 'reason'],
  example: { transfer: '1f2e3d4c-5b6a-4978-8695-a4b3c2d1e0f9', outcome: 'failed', master: 'alice', slave: 'bob', step: 'hand-over', status: 'no_known_route', reason: 'hand-over failed: ERR_KM_PEER_UNREACHABLE' },
  vector: '850118550700a7687472616e73666572782431663265336434632d356236612d343937382d383639352d613462336332643165306639676f7574636f6d65666661696c6564666d617374657265616c69636565736c61766563626f6264737465706968616e642d6f766572667374617475736e6e6f5f6b6e6f776e5f726f75746566726561736f6e782968616e642d6f766572206661696c65643a204552525f4b4d5f504545525f554e524541434841424c45',
});
