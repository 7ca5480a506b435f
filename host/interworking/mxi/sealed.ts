/**
 * MxiSealed (Mxi type 0x4f; Y.3818 clause 7.1: management information is shared "with encryption
 * between QKDNs"): every other Mxi message crosses the border inside one of these, encrypted end
 * to end from the sending manager to the receiving one (mxi/seal.ts: X25519 with an ephemeral and
 * the sender's static key, HKDF-SHA-256, AES-256-GCM; the header is the associated data).
 * `seq` grows per sender and recipient; a receiver refuses one it has seen (replay).
 *
 *   { from: id, to: id, seq: uint, epk: bytes(32), iv: bytes(12), ct: bytes (ciphertext ‖ 16-byte tag) }
 */
import { IwDecodeError } from '../errors.js';
import { bytes, id, object, uint } from '../schema.js';
import { defineMessage, LIMITS } from '../spec.js';

export interface MxiSealed {
  readonly from: string;
  readonly to: string;
  readonly seq: number;
  readonly epk: Uint8Array;
  readonly iv: Uint8Array;
  readonly ct: Uint8Array;
}

export const MxiSealedSpec = defineMessage<'MxiSealed', MxiSealed>({
  name: 'MxiSealed',
  rp: 'Mxi',
  type: 0x4f,
  answer: false,
  schema: object({ from: id, to: id, seq: uint(), epk: bytes(32), iv: bytes(12), ct: bytes(LIMITS.sealed) }),
  check: (m) => {
    if (m.epk.length !== 32) throw new IwDecodeError('MxiSealed.epk', 'must be 32 bytes (X25519)');
    if (m.iv.length !== 12) throw new IwDecodeError('MxiSealed.iv', 'must be 12 bytes');
    if (m.ct.length < 16) throw new IwDecodeError('MxiSealed.ct', 'must hold at least the 16-byte tag');
    if (m.from === m.to) throw new IwDecodeError('MxiSealed.to', 'must differ from from');
  },
  bytes: ['epk', 'iv', 'ct'],
  freeText: [],
  example: { from: 'mgr-a', to: 'mgr-b', seq: 1, epk: new Uint8Array(32).fill(0x11), iv: new Uint8Array(12).fill(0x22), ct: new Uint8Array(20).fill(0x33) },
  vector: '8501184f0700a66466726f6d656d67722d6162746f656d67722d6263736571016365706b582011111111111111111111111111111111111111111111111111111111111111116269764c222222222222222222222222626374543333333333333333333333333333333333333333',
});
