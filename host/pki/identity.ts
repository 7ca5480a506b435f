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

/** Why a TLS peer's certificate was not accepted, with the TLS alert that names it (RFC 8446 6.2). */
export interface CertificateRefusal {
  /** OpenSSL's verification code (CERT_HAS_EXPIRED, ...) or NO_CERTIFICATE. */
  readonly reason: string;
  readonly alert: 'certificate_required' | 'unknown_ca' | 'certificate_expired' | 'bad_certificate';
  readonly text: string;
}

const ISSUER_CODES = new Set(['UNABLE_TO_GET_ISSUER_CERT', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'SELF_SIGNED_CERT_IN_CHAIN', 'CERT_SIGNATURE_FAILURE']);

/**
 * The refusal for a peer that completed the handshake without a verified certificate (a server
 * with `rejectUnauthorized: false`), or null for a verified one.
 */
export function certificateRefusal(socket: TLSSocket): CertificateRefusal | null {
  if (socket.authorized) return null;
  const cert = socket.getPeerCertificate();
  if (!cert || Object.keys(cert).length === 0) return { reason: 'NO_CERTIFICATE', alert: 'certificate_required', text: 'no client certificate' };
  const reason = String(socket.authorizationError ?? 'UNVERIFIED');
  if (ISSUER_CODES.has(reason)) return { reason, alert: 'unknown_ca', text: 'the client certificate is not issued by the network CA' };
  if (reason === 'CERT_HAS_EXPIRED') return { reason, alert: 'certificate_expired', text: `the client certificate expired on ${new Date(cert.valid_to).toISOString()}` };
  if (reason === 'CERT_NOT_YET_VALID') return { reason, alert: 'certificate_expired', text: `the client certificate is not valid before ${new Date(cert.valid_from).toISOString()}` };
  return { reason, alert: 'bad_certificate', text: `the client certificate is not accepted (${reason})` };
}
