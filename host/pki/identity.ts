/**
 * Who is on the other end of a mutually authenticated TLS connection: the role (OU) and ID (CN)
 * of its certificate, which Node has already verified against the network CA
 * (`rejectUnauthorized`). An SAE certificate cannot act as a KME on Kx and a KME certificate
 * cannot fetch keys as an SAE.
 */
import type { TLSSocket } from 'node:tls';
import { ID_PATTERN, type Role } from './ids.js';

export interface PeerIdentity {
  readonly role: Role;
  readonly id: string;
}

/** The verified identity of a TLS peer, or null (no certificate, unverified, no usable CN/OU). */
export function peerIdentity(socket: TLSSocket): PeerIdentity | null {
  if (!socket.authorized) return null;
  const cert = socket.getPeerCertificate();
  if (!cert || !cert.subject) return null;
  const cn = one(cert.subject.CN);
  const ou = one(cert.subject.OU);
  if (!cn || !ID_PATTERN.test(cn)) return null;
  if (ou !== 'KME' && ou !== 'SAE' && ou !== 'OPERATOR') return null;
  return { role: ou, id: cn };
}

function one(v: string | string[] | undefined): string | undefined {
  if (Array.isArray(v)) return v.length === 1 ? v[0] : undefined;
  return v;
}
