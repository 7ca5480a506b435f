import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, createServer, type TLSSocket } from 'node:tls';
import type { AddressInfo } from 'node:net';
import { createCa, initPki, issue, PkiError } from './pki.js';
import { peerIdentity, type PeerIdentity } from './identity.js';

const dir = mkdtempSync(join(tmpdir(), 'qkdn-pki-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

test('pki init writes a CA, node and SAE certificates that chain to it, private keys 0600', async () => {
  const paths = await initPki(dir, { network: 'test net', nodes: ['A'], saes: ['alice'] });
  const ca = new X509Certificate(readFileSync(paths.ca));
  const node = new X509Certificate(readFileSync(paths.cert('KME', 'A')));
  const sae = new X509Certificate(readFileSync(paths.cert('SAE', 'alice')));
  assert.ok(ca.ca);
  assert.ok(node.verify(ca.publicKey));
  assert.ok(sae.verify(ca.publicKey));
  assert.match(node.subject, /CN=A/);
  assert.match(node.subject, /OU=KME/);
  assert.match(sae.subject, /OU=SAE/);
  assert.ok(node.checkHost('localhost'));
  assert.ok(node.checkIP('127.0.0.1'));
  assert.is(statSync(paths.key('SAE', 'alice')).mode & 0o777, 0o600);
  assert.is(statSync(join(dir, 'ca.key')).mode & 0o777, 0o600);
  // a second init reuses the CA
  await initPki(dir, { nodes: ['B'], saes: [] });
  assert.ok(new X509Certificate(readFileSync(paths.cert('KME', 'B'))).verify(ca.publicKey));
});

test('pki init --operators writes operator certificates (OU=OPERATOR, client only) for the management API', async () => {
  const paths = await initPki(dir, { nodes: [], saes: [], operators: ['op-1'] });
  const ca = new X509Certificate(readFileSync(paths.ca));
  const op = new X509Certificate(readFileSync(paths.cert('OPERATOR', 'op-1')));
  assert.ok(op.verify(ca.publicKey));
  assert.match(op.subject, /OU=OPERATOR/);
  assert.ok(paths.cert('OPERATOR', 'op-1').includes('/operators/'));
  assert.is(op.keyUsage?.includes('1.3.6.1.5.5.7.3.1') ?? false, false, 'an operator certificate cannot serve TLS');
  assert.is(statSync(paths.key('OPERATOR', 'op-1')).mode & 0o777, 0o600);
});

test('IDs that would break URL paths or file names are refused', async () => {
  const ca = await createCa('x');
  for (const bad of ['', 'a/b', '..', 'a b', 'x'.repeat(65), 'é']) {
    try {
      await issue(ca, { role: 'SAE', id: bad });
      assert.unreachable(bad);
    } catch (e) {
      assert.instance(e, PkiError);
    }
  }
});

async function handshake(clientCert: { cert: string; key: string } | null, clientCa: string): Promise<PeerIdentity | null | 'refused'> {
  const key = readFileSync(join(dir, 'nodes', 'A.key'));
  const cert = readFileSync(join(dir, 'nodes', 'A.pem'));
  const ca = readFileSync(join(dir, 'ca.pem'));
  let seen: PeerIdentity | null = null;
  const server = createServer({ key, cert, ca, requestCert: true, rejectUnauthorized: true, minVersion: 'TLSv1.2' }, (s: TLSSocket) => {
    seen = peerIdentity(s);
    s.end('ok');
  });
  server.on('tlsClientError', () => {});
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  try {
    return await new Promise((resolve) => {
      const c = connect({ host: '127.0.0.1', port, servername: 'localhost', ca: clientCa, ...(clientCert ?? {}) });
      c.on('data', () => {
        c.end();
        resolve(seen);
      });
      c.on('error', () => resolve('refused'));
      c.on('close', () => resolve(seen ?? 'refused'));
    });
  } finally {
    await new Promise((r) => server.close(r));
  }
}

test('a TLS peer with an SAE certificate is identified by role and ID; no or foreign certificates are refused', async () => {
  const ca = readFileSync(join(dir, 'ca.pem'), 'utf8');
  const sae = { cert: readFileSync(join(dir, 'saes', 'alice.pem'), 'utf8'), key: readFileSync(join(dir, 'saes', 'alice.key'), 'utf8') };
  assert.equal(await handshake(sae, ca), { role: 'SAE', id: 'alice' });
  assert.is(await handshake(null, ca), 'refused');
  const other = await createCa('other');
  const foreign = await issue(other, { role: 'SAE', id: 'alice' });
  assert.is(await handshake(foreign, ca), 'refused');
});

test.run();
