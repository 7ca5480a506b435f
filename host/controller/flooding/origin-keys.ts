/**
 * Who may originate advertisements, and with which key: the node certificates of the network,
 * each checked against the network CA and named by its CN (OU=KME). An advertisement whose origin
 * is not among them is refused as an unknown origin; one whose signature does not verify with the
 * origin's certificate key is refused as forged.
 */
import { createPrivateKey, sign, verify, X509Certificate, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { ControllerConfigError } from '../errors.js';

export class OriginKeys {
  readonly #keys = new Map<string, KeyObject>();

  /** `certs`: node ID → PEM certificate; each must be issued by `caPem` and name the node. */
  constructor(caPem: string, certs: ReadonlyMap<string, string>) {
    const ca = new X509Certificate(caPem);
    for (const [node, pem] of certs) {
      const c = new X509Certificate(pem);
      if (!c.verify(ca.publicKey)) throw new ControllerConfigError(`certificates.${node}`, 'not issued by the network CA');
      const cn = /(?:^|\n)CN=([^\n]+)/.exec(c.subject)?.[1];
      const ou = /(?:^|\n)OU=([^\n]+)/.exec(c.subject)?.[1];
      if (cn !== node || ou !== 'KME') throw new ControllerConfigError(`certificates.${node}`, `certificate names ${ou ?? '?'} ${cn ?? '?'}`);
      this.#keys.set(node, c.publicKey);
    }
  }

  /** From certificate files: node ID → path. */
  static fromFiles(caPath: string, certPaths: ReadonlyMap<string, string>): OriginKeys {
    return new OriginKeys(readFileSync(caPath, 'utf8'), new Map([...certPaths].map(([n, p]) => [n, readFileSync(p, 'utf8')])));
  }

  has(node: string): boolean {
    return this.#keys.has(node);
  }

  verify(node: string, data: Uint8Array, sig: Uint8Array): boolean {
    const k = this.#keys.get(node);
    if (!k) return false;
    try {
      return verify('sha256', data, k, sig);
    } catch {
      return false; // a malformed signature is a bad one
    }
  }
}

/** Signs with a node's private key (the key of its node certificate). */
export function signer(keyPem: string | Buffer): (data: Uint8Array) => Uint8Array {
  const k = createPrivateKey(keyPem);
  return (data) => new Uint8Array(sign('sha256', data, k));
}
