/**
 * A node's check of its own TLS material before it serves anything: the certificate must be its
 * own (CN = node ID, OU = KME), issued by the configured CA, valid now, and the private key must
 * be the certificate's. Without it a node configured with another node's or an SAE's certificate
 * starts, reports ready and serves nothing (peers refuse it, SAEs see it as someone else).
 * Each refusal is one line naming the configuration field, the file and what is wrong.
 */
import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';

export type TlsField = 'tls.ca' | 'tls.cert' | 'tls.key';

export class NodeIdentityError extends Error {
  readonly code = 'ERR_PKI_NODE_IDENTITY';
  readonly field: TlsField;
  readonly file: string;
  constructor(field: TlsField, file: string, problem: string) {
    super(`${field} (${file}): ${problem}`);
    this.name = 'NodeIdentityError';
    this.field = field;
    this.file = file;
  }
}

export interface TlsFile {
  /** Where it was read from, as the configuration names it. */
  readonly file: string;
  readonly pem: string;
}

const PEM_CERT = /-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g;

function certificates(field: TlsField, f: TlsFile): X509Certificate[] {
  const blocks = f.pem.match(PEM_CERT) ?? [];
  if (blocks.length === 0) throw new NodeIdentityError(field, f.file, 'no PEM certificate in the file');
  return blocks.map((b) => {
    try {
      return new X509Certificate(b);
    } catch (e) {
      throw new NodeIdentityError(field, f.file, `not a readable certificate (${(e as Error).message})`);
    }
  });
}

/** The one value of a subject attribute (`CN`, `OU`), or what is wrong with it. */
function attribute(subject: string, name: string): string[] {
  return subject
    .split('\n')
    .filter((l) => l.startsWith(`${name}=`))
    .map((l) => l.slice(name.length + 1));
}

/** Throws a NodeIdentityError naming the first thing that is wrong. */
export function checkNodeIdentity(nodeId: string, tls: { readonly ca: TlsFile; readonly cert: TlsFile; readonly key: TlsFile }, now = new Date()): void {
  const cas = certificates('tls.ca', tls.ca);
  const [cert] = certificates('tls.cert', tls.cert);
  let key: KeyObject;
  try {
    key = createPrivateKey(tls.key.pem);
  } catch (e) {
    throw new NodeIdentityError('tls.key', tls.key.file, `not a readable private key (${(e as Error).message})`);
  }
  const cn = attribute(cert!.subject, 'CN');
  const ou = attribute(cert!.subject, 'OU');
  if (ou.length !== 1 || ou[0] !== 'KME') throw new NodeIdentityError('tls.cert', tls.cert.file, `the certificate's OU is ${ou.length ? ou.map((o) => JSON.stringify(o)).join(', ') : 'missing'}, expected "KME" (a node certificate, not an SAE's)`);
  if (cn.length !== 1 || cn[0] !== nodeId) throw new NodeIdentityError('tls.cert', tls.cert.file, `the certificate's CN is ${cn.length ? cn.map((c) => JSON.stringify(c)).join(', ') : 'missing'}, expected the node ID ${JSON.stringify(nodeId)}`);
  if (!cas.some((ca) => cert!.checkIssued(ca) && cert!.verify(ca.publicKey))) throw new NodeIdentityError('tls.cert', tls.cert.file, `not issued by the CA in tls.ca (${tls.ca.file}): issuer is ${cert!.issuer.replace(/\n/g, ', ')}`);
  if (now < new Date(cert!.validFrom)) throw new NodeIdentityError('tls.cert', tls.cert.file, `not valid before ${new Date(cert!.validFrom).toISOString()}`);
  if (now > new Date(cert!.validTo)) throw new NodeIdentityError('tls.cert', tls.cert.file, `expired on ${new Date(cert!.validTo).toISOString()}`);
  if (!cert!.checkPrivateKey(key)) throw new NodeIdentityError('tls.key', tls.key.file, `not the private key of the certificate in tls.cert (${tls.cert.file})`);
}
