/**
 * A small PKI for a test network: one CA per QKDN, a certificate per node (its KME: serves ETSI
 * 014 to SAEs and Kx to other KMs) and per SAE (a client of ETSI 014). ECDSA P-256, made with
 * @peculiar/x509 over Node's WebCrypto. The role is in the subject's OU (`KME` or `SAE`) and the
 * ID in its CN; host/pki/identity.ts reads them back from a TLS peer.
 *
 * Layout written by `initPki` (and `qkdn-edge pki init`):
 *   <dir>/ca.pem, ca.key                 the network CA (keep ca.key offline in a real network)
 *   <dir>/nodes/<id>.pem, <id>.key       node (KME) certificate: serverAuth + clientAuth
 *   <dir>/saes/<id>.pem, <id>.key        SAE certificate: clientAuth
 *   <dir>/operators/<id>.pem, <id>.key   operator certificate (management API): clientAuth
 */
import './reflect-metadata.js';
import { webcrypto } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as x509 from '@peculiar/x509';
import { ID_PATTERN, type Role } from './ids.js';

// Node's webcrypto is the WebCrypto the library expects; only the DOM typings differ.
x509.cryptoProvider.set(webcrypto as never);

const ALG: webcrypto.EcKeyGenParams & webcrypto.EcdsaParams = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
export { ID_PATTERN, type Role };

export interface PemPair {
  readonly cert: string;
  readonly key: string;
}

export interface CaMaterial extends PemPair {
  readonly name: string;
}

export class PkiError extends Error {
  readonly code = 'ERR_PKI';
  constructor(message: string) {
    super(message);
    this.name = 'PkiError';
  }
}

function checkId(id: string): void {
  if (!ID_PATTERN.test(id) || id === '.' || id === '..') throw new PkiError(`ID ${JSON.stringify(id)}: use 1-64 of A-Z a-z 0-9 . _ ~ -`);
}

function dnValue(s: string): string {
  // IDs are restricted to unreserved characters, so only the network name may need quoting.
  return s.replace(/([,+"\\<>;=])/g, '\\$1');
}

type CryptoKey = webcrypto.CryptoKey;

async function keyPem(k: CryptoKey): Promise<string> {
  const der = await webcrypto.subtle.exportKey('pkcs8', k);
  return x509.PemConverter.encode(der, 'PRIVATE KEY');
}

async function importKey(pem: string): Promise<CryptoKey> {
  const der = x509.PemConverter.decode(pem)[0];
  if (!der) throw new PkiError('no PEM block in the CA key');
  return webcrypto.subtle.importKey('pkcs8', der, ALG, false, ['sign']);
}

function validity(days: number): { notBefore: Date; notAfter: Date } {
  const now = Date.now();
  // an hour back: a peer whose clock is a little behind still accepts a fresh certificate
  return { notBefore: new Date(now - 3600_000), notAfter: new Date(now + days * 86400_000) };
}

export async function createCa(name: string, days = 3650): Promise<CaMaterial> {
  const keys = await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify']);
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    name: `CN=${dnValue(name)} QKDN CA, O=${dnValue(name)}`,
    keys,
    signingAlgorithm: ALG,
    ...validity(days),
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { name, cert: cert.toString('pem'), key: await keyPem(keys.privateKey) };
}

export interface IssueOptions {
  readonly role: Role;
  readonly id: string;
  /** DNS names and IP addresses the node answers on (KME only); localhost and loopback are always in. */
  readonly hosts?: readonly string[];
  readonly days?: number;
  /** An explicit validity (tests of expired and not yet valid certificates); otherwise from `days`. */
  readonly validity?: { readonly notBefore: Date; readonly notAfter: Date };
}

export async function issue(ca: CaMaterial, o: IssueOptions): Promise<PemPair> {
  checkId(o.id);
  const caCert = new x509.X509Certificate(ca.cert);
  const caKey = await importKey(ca.key);
  const keys = await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify']);
  const eku = o.role === 'KME' ? [x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth] : [x509.ExtendedKeyUsage.clientAuth];
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
    new x509.ExtendedKeyUsageExtension(eku, false),
    await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    await x509.AuthorityKeyIdentifierExtension.create(caCert.publicKey),
  ];
  if (o.role === 'KME') {
    const hosts = new Set(['localhost', '127.0.0.1', '::1', ...(o.hosts ?? [])]);
    const names = [...hosts].map((h) => (/^[\d.]+$/.test(h) || h.includes(':') ? { type: 'ip' as const, value: h } : { type: 'dns' as const, value: h }));
    extensions.push(new x509.SubjectAlternativeNameExtension(names, false));
  }
  const cert = await x509.X509CertificateGenerator.create({
    subject: `CN=${o.id}, OU=${o.role}, O=${dnValue(ca.name)}`,
    issuer: caCert.subject,
    publicKey: keys.publicKey,
    signingKey: caKey,
    signingAlgorithm: ALG,
    ...(o.validity ?? validity(o.days ?? 825)),
    extensions,
  });
  return { cert: cert.toString('pem'), key: await keyPem(keys.privateKey) };
}

export interface PkiPaths {
  readonly ca: string;
  cert(role: Role, id: string): string;
  key(role: Role, id: string): string;
}

export function pkiPaths(dir: string): PkiPaths {
  const sub = (role: Role) => (role === 'KME' ? 'nodes' : role === 'SAE' ? 'saes' : 'operators');
  return {
    ca: join(dir, 'ca.pem'),
    cert: (role, id) => join(dir, sub(role), `${id}.pem`),
    key: (role, id) => join(dir, sub(role), `${id}.key`),
  };
}

function write(path: string, text: string, secret: boolean): void {
  writeFileSync(path, text, { mode: secret ? 0o600 : 0o644 });
}

export function loadCa(dir: string): CaMaterial {
  const certPath = join(dir, 'ca.pem');
  const keyPath = join(dir, 'ca.key');
  if (!existsSync(certPath) || !existsSync(keyPath)) throw new PkiError(`no CA in ${dir}: run \`qkdn-edge pki init ${dir}\` first`);
  const cert = readFileSync(certPath, 'utf8');
  const name = /O=([^,]+)/.exec(new x509.X509Certificate(cert).subject)?.[1] ?? 'qkdn';
  return { name, cert, key: readFileSync(keyPath, 'utf8') };
}

export interface InitOptions {
  readonly network?: string;
  readonly nodes: readonly string[];
  readonly saes: readonly string[];
  /** Operators of the management API (OU=OPERATOR). */
  readonly operators?: readonly string[];
  readonly hosts?: readonly string[];
  readonly days?: number;
}

/** Creates a CA (unless `dir` has one) and certificates for the given nodes and SAEs. */
export async function initPki(dir: string, o: InitOptions): Promise<PkiPaths> {
  mkdirSync(join(dir, 'nodes'), { recursive: true });
  mkdirSync(join(dir, 'saes'), { recursive: true });
  if (o.operators?.length) mkdirSync(join(dir, 'operators'), { recursive: true });
  let ca: CaMaterial;
  if (existsSync(join(dir, 'ca.pem'))) ca = loadCa(dir);
  else {
    ca = await createCa(o.network ?? 'qkdn');
    write(join(dir, 'ca.pem'), ca.cert, false);
    write(join(dir, 'ca.key'), ca.key, true);
  }
  const paths = pkiPaths(dir);
  const jobs: [Role, string][] = [...o.nodes.map((n): [Role, string] => ['KME', n]), ...o.saes.map((s): [Role, string] => ['SAE', s]), ...(o.operators ?? []).map((s): [Role, string] => ['OPERATOR', s])];
  for (const [role, id] of jobs) {
    const pair = await issue(ca, { role, id, hosts: o.hosts, days: o.days });
    write(paths.cert(role, id), pair.cert, false);
    write(paths.key(role, id), pair.key, true);
  }
  return paths;
}
