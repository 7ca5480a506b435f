/**
 * Border peers and their pins (Y.3818 clause 10; clause 6.1 "authentication" on Kxi-1; part of the
 * security management function of clause 7.1): each
 * provider keeps its own CA (host/pki), and a border endpoint trusts a peer provider's CA only for
 * the peer nodes pinned by certificate fingerprint. A certificate from any other CA (a third
 * provider's GWN) fails the TLS handshake; one from the right CA but not pinned (another node of
 * the peer provider, a re-issued key) is refused after it; so is a pinned certificate whose
 * chain does not end at the CA configured for that peer.
 */
import { X509Certificate } from 'node:crypto';
import type { TLSSocket } from 'node:tls';
import { IwError, PeerPinningError } from '../errors.js';

export interface BorderPeer {
  readonly provider: string;
  /** The peer node's ID (the CN of its certificate). */
  readonly node: string;
  /** SHA-256 fingerprint of the peer's certificate, as Node prints it (`AB:CD:...`). */
  readonly fingerprint: string;
  /** The peer provider's CA certificate (PEM). */
  readonly ca: string;
  /** Where to dial the peer (omit for peers that only dial in). */
  readonly host?: string;
  readonly port?: number;
}

export function fingerprintOf(certPem: string): string {
  return new X509Certificate(certPem).fingerprint256;
}

export class PeerPins {
  readonly #byFingerprint: ReadonlyMap<string, BorderPeer>;
  readonly #byNode: ReadonlyMap<string, BorderPeer>;
  readonly #caFingerprints: ReadonlyMap<string, string>;

  constructor(peers: readonly BorderPeer[]) {
    const fp = new Map<string, BorderPeer>();
    const node = new Map<string, BorderPeer>();
    for (const p of peers) {
      if (fp.has(p.fingerprint) || node.has(p.node)) throw new IwError('ERR_IW_CONFIG', `border peer ${p.node} is pinned twice`);
      fp.set(p.fingerprint, p);
      node.set(p.node, p);
    }
    this.#byFingerprint = fp;
    this.#byNode = node;
    this.#caFingerprints = new Map(peers.map((p) => [p.node, fingerprintOf(p.ca)]));
  }

  /** The distinct CA certificates of the pinned peers' providers: all a border endpoint trusts. */
  cas(): string[] {
    return [...new Set([...this.#byNode.values()].map((p) => p.ca))];
  }

  peer(node: string): BorderPeer | undefined {
    return this.#byNode.get(node);
  }

  /** The pinned peer on the other end of a verified TLS connection; throws PeerPinningError otherwise. */
  verify(socket: TLSSocket): BorderPeer {
    if (!socket.authorized) throw new PeerPinningError('ERR_IW_PEER_NOT_PINNED', `certificate not from a pinned provider's CA (${String(socket.authorizationError)})`);
    const cert = socket.getPeerCertificate(true);
    if (!cert || !cert.fingerprint256) throw new PeerPinningError('ERR_IW_PEER_NOT_PINNED', 'no peer certificate');
    const peer = this.#byFingerprint.get(cert.fingerprint256);
    if (!peer) throw new PeerPinningError('ERR_IW_PEER_NOT_PINNED', `certificate ${cert.fingerprint256} is not pinned`);
    const cn = Array.isArray(cert.subject.CN) ? cert.subject.CN.join(',') : cert.subject.CN;
    if (cn !== peer.node) throw new PeerPinningError('ERR_IW_PEER_MISMATCH', `pinned certificate of ${peer.node} names ${String(cn)}`);
    // the top of the verified chain must be the CA configured for this peer, not another peer's
    let top = cert;
    while (top.issuerCertificate && top.issuerCertificate !== top && top.issuerCertificate.fingerprint256 !== top.fingerprint256) top = top.issuerCertificate;
    if (top.fingerprint256 !== this.#caFingerprints.get(peer.node)) throw new PeerPinningError('ERR_IW_PEER_MISMATCH', `${peer.node}'s certificate does not chain to ${peer.provider}'s CA`);
    return peer;
  }
}
