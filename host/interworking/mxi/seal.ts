/**
 * End-to-end encryption between the QKDN managers over Mxi (Y.3818 clause 7.1: the performance
 * management function and the security management function share their information "with
 * encryption between QKDNs"). Each manager has a static
 * X25519 key; each peer manager's public key is pinned in configuration beside its certificate
 * fingerprint. A message to a peer is sealed as
 *
 *   eph      = a fresh X25519 key pair
 *   ikm      = X25519(eph, peer) ‖ X25519(self, peer)     (forward secrecy ‖ sender authentication)
 *   key      = HKDF-SHA-256(ikm, salt = epk ‖ self pub ‖ peer pub, info = "qkdn-edge/mxi/v1", 32 bytes)
 *   ct       = AES-256-GCM(key, iv = 12 random bytes, aad = CBOR [from, to, seq, epk], inner payload) ‖ tag
 *
 * and carried as MxiSealed; the inner payload is the whole envelope of one other Mxi message.
 * Only the addressed manager can open it, only a pinned sender can have sealed it, a changed
 * header or ciphertext fails the tag, and a `seq` not above the last one opened from that sender
 * is refused as a replay. Messages are passed through the border filter before they are sealed:
 * once sealed, nothing on the way can read them, and nothing internal may be inside.
 */
import { createCipheriv, createDecipheriv, createPublicKey, diffieHellman, generateKeyPairSync, hkdfSync, randomBytes, type KeyObject } from 'node:crypto';
import { IwError } from '../errors.js';
import type { BorderFilter } from '../border/filter.js';
import { canonicalCbor, decodePayload, encodePayload, type IwBody, type IwMessage, type IwMessageName } from '../messages.js';
import type { MxiSealed } from './sealed.js';

const INFO = Buffer.from('qkdn-edge/mxi/v1');

export interface ManagerKeys {
  readonly id: string;
  readonly privateKey: KeyObject;
  /** The raw 32-byte X25519 public key, as peers pin it. */
  readonly publicKey: Uint8Array;
}

export function rawPublicKey(k: KeyObject): Uint8Array {
  const x = k.export({ format: 'jwk' }).x;
  if (typeof x !== 'string') throw new IwError('ERR_IW_CONFIG', 'not an X25519 key');
  return new Uint8Array(Buffer.from(x, 'base64url'));
}

export function publicKeyFromRaw(raw: Uint8Array): KeyObject {
  if (raw.length !== 32) throw new IwError('ERR_IW_CONFIG', 'an X25519 public key is 32 bytes');
  return createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: Buffer.from(raw).toString('base64url') }, format: 'jwk' });
}

export function generateManagerKeys(id: string): ManagerKeys {
  const { privateKey, publicKey } = generateKeyPairSync('x25519');
  return { id, privateKey, publicKey: rawPublicKey(publicKey) };
}

type MxiName = Extract<IwMessageName, `Mxi${string}`>;
type MxiInnerName = Exclude<MxiName, 'MxiSealed'>;

function sealError(message: string): IwError {
  return new IwError('ERR_IW_MXI_SEAL', message);
}

/** A first seq above any a process of this manager sent before: the clock in µs (fewer than 1000 sealed messages per ms, a clock that does not go back). */
export function epochSeq(): number {
  return Date.now() * 1000;
}

export class MxiSealer {
  readonly #self: ManagerKeys;
  readonly #peers: ReadonlyMap<string, KeyObject>;
  readonly #peerRaw: ReadonlyMap<string, Uint8Array>;
  readonly #sent = new Map<string, number>();
  readonly #opened = new Map<string, number>();
  readonly #firstSeq: number;

  /**
   * `peers`: manager ID → its pinned raw X25519 public key. `firstSeq`: the first `seq` sent to
   * each (default 1). A manager process that may restart while its peer keeps running starts
   * above every seq it sent before (epochSeq), or the peer refuses it as replays until it catches up.
   */
  constructor(self: ManagerKeys, peers: ReadonlyMap<string, Uint8Array>, o: { readonly firstSeq?: number } = {}) {
    this.#firstSeq = o.firstSeq ?? 1;
    this.#self = self;
    this.#peerRaw = peers;
    this.#peers = new Map([...peers].map(([id, raw]) => [id, publicKeyFromRaw(raw)]));
  }

  #key(ephShared: Buffer, staticShared: Buffer, epk: Uint8Array, senderPub: Uint8Array, recipientPub: Uint8Array): Buffer {
    const salt = Buffer.concat([epk, senderPub, recipientPub]);
    return Buffer.from(hkdfSync('sha256', Buffer.concat([ephShared, staticShared]), salt, INFO, 32));
  }

  /** Filters `body` for the border, then seals it for manager `to`. */
  seal<N extends MxiInnerName>(to: string, name: N, body: IwBody<N>, filter: BorderFilter, ctx: 'border' | 'iwn' = 'border'): MxiSealed {
    const peer = this.#peers.get(to);
    if (!peer) throw sealError(`no pinned key for manager ${to}`);
    filter.check(name, body);
    const inner = encodePayload(name, 0, body, ctx);
    const seq = (this.#sent.get(to) ?? this.#firstSeq - 1) + 1;
    this.#sent.set(to, seq);
    const eph = generateKeyPairSync('x25519');
    const epk = rawPublicKey(eph.publicKey);
    const key = this.#key(diffieHellman({ privateKey: eph.privateKey, publicKey: peer }), diffieHellman({ privateKey: this.#self.privateKey, publicKey: peer }), epk, this.#self.publicKey, this.#peerRaw.get(to)!);
    const iv = randomBytes(12);
    const c = createCipheriv('aes-256-gcm', key, iv);
    c.setAAD(canonicalCbor([this.#self.id, to, seq, epk]));
    const ct = Buffer.concat([c.update(inner), c.final(), c.getAuthTag()]);
    key.fill(0);
    return { from: this.#self.id, to, seq, epk, iv: new Uint8Array(iv), ct: new Uint8Array(ct) };
  }

  /** Opens a sealed message addressed to this manager; returns the inner Mxi message. */
  open(s: MxiSealed): IwMessage {
    if (s.to !== this.#self.id) throw sealError(`sealed for ${s.to}, not for ${this.#self.id}`);
    const sender = this.#peers.get(s.from);
    if (!sender) throw sealError(`no pinned key for manager ${s.from}`);
    if (s.seq <= (this.#opened.get(s.from) ?? 0)) throw new IwError('ERR_IW_MXI_REPLAY', `seq ${s.seq} from ${s.from} is not above the last one opened`);
    const epk = publicKeyFromRaw(s.epk);
    const key = this.#key(diffieHellman({ privateKey: this.#self.privateKey, publicKey: epk }), diffieHellman({ privateKey: this.#self.privateKey, publicKey: sender }), s.epk, this.#peerRaw.get(s.from)!, this.#self.publicKey);
    const d = createDecipheriv('aes-256-gcm', key, s.iv);
    d.setAAD(canonicalCbor([s.from, s.to, s.seq, s.epk]));
    d.setAuthTag(s.ct.subarray(s.ct.length - 16));
    let inner: Buffer;
    try {
      inner = Buffer.concat([d.update(s.ct.subarray(0, s.ct.length - 16)), d.final()]);
    } catch {
      throw sealError(`sealed message ${s.seq} from ${s.from} does not authenticate`);
    } finally {
      key.fill(0);
    }
    const m = decodePayload(inner);
    if (m.rp !== 'Mxi' || m.name === 'MxiSealed') throw sealError(`a sealed Mxi message may only carry another Mxi message, not ${m.name}`);
    this.#opened.set(s.from, s.seq);
    return m;
  }
}
