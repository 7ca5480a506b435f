import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createCa, initPki, issue, pkiPaths, type Role } from '../pki/pki.js';
import { checkNodeIdentity, NodeIdentityError, type TlsFile } from '../pki/node-identity.js';
import { KxTransport } from '../km/kx/transport.js';
import type { KxEndpoint } from '../km/kx/transport.js';

const dir = mkdtempSync(join(tmpdir(), 'qkdn-identity-'));
const pki = join(dir, 'pki');
const p = pkiPaths(pki);
test.before(async () => {
  await initPki(pki, { nodes: ['A', 'B', 'C'], saes: ['alice'] });
});
test.after(() => rmSync(dir, { recursive: true, force: true }));

const file = (path: string): TlsFile => ({ file: path, pem: readFileSync(path, 'utf8') });
const own = (role: Role, id: string) => ({ cert: file(p.cert(role, id)), key: file(p.key(role, id)) });

function refusal(f: () => void): NodeIdentityError {
  try {
    f();
  } catch (e) {
    assert.instance(e, NodeIdentityError);
    assert.not.match((e as Error).message, '\n', 'one line');
    return e as NodeIdentityError;
  }
  throw new Error('accepted');
}

test("a node's own certificate and key pass; another node's, an SAE's, a foreign CA's, a wrong key, expired or not yet valid are refused naming the field and file", async () => {
  const ca = file(p.ca);
  checkNodeIdentity('A', { ca, ...own('KME', 'A') });

  let e = refusal(() => checkNodeIdentity('A', { ca, ...own('KME', 'B') }));
  assert.is(e.field, 'tls.cert');
  assert.match(e.message, `tls.cert (${p.cert('KME', 'B')}): the certificate's CN is "B", expected the node ID "A"`);

  e = refusal(() => checkNodeIdentity('alice', { ca, ...own('SAE', 'alice') }));
  assert.match(e.message, /^tls\.cert \(.*alice\.pem\): the certificate's OU is "SAE", expected "KME"/);

  e = refusal(() => checkNodeIdentity('A', { ca, cert: file(p.cert('KME', 'A')), key: file(p.key('KME', 'B')) }));
  assert.is(e.field, 'tls.key');
  assert.match(e.message, `tls.key (${p.key('KME', 'B')}): not the private key of the certificate in tls.cert`);

  const other = await createCa('other');
  const foreign = await issue(other, { role: 'KME', id: 'A' });
  e = refusal(() => checkNodeIdentity('A', { ca, cert: { file: 'foreign.pem', pem: foreign.cert }, key: { file: 'foreign.key', pem: foreign.key } }));
  assert.match(e.message, `tls.cert (foreign.pem): not issued by the CA in tls.ca (${p.ca})`);

  e = refusal(() => checkNodeIdentity('A', { ca, ...own('KME', 'A') }, new Date(Date.now() + 3000 * 86400_000)));
  assert.match(e.message, /: expired on \d{4}-/);
  e = refusal(() => checkNodeIdentity('A', { ca, ...own('KME', 'A') }, new Date(Date.now() - 86400_000)));
  assert.match(e.message, /: not valid before \d{4}-/);

  e = refusal(() => checkNodeIdentity('A', { ca, cert: { file: 'key-as-cert.pem', pem: readFileSync(p.key('KME', 'A'), 'utf8') }, key: file(p.key('KME', 'A')) }));
  assert.is(e.message, 'tls.cert (key-as-cert.pem): no PEM certificate in the file');
  e = refusal(() => checkNodeIdentity('A', { ca, cert: file(p.cert('KME', 'A')), key: { file: 'cert-as-key.key', pem: readFileSync(p.cert('KME', 'A'), 'utf8') } }));
  assert.match(e.message, /^tls\.key \(cert-as-key\.key\): not a readable private key/);
  e = refusal(() => checkNodeIdentity('A', { ca: { file: 'empty.pem', pem: '' }, ...own('KME', 'A') }));
  assert.is(e.message, 'tls.ca (empty.pem): no PEM certificate in the file');
});

function config(node: string, cert: string, key: string): string {
  const path = join(dir, `${node}-${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(
    path,
    [
      `node: ${node}`,
      `dataDir: ${join(dir, 'data', node)}`,
      `tls: { ca: ${p.ca}, cert: ${cert}, key: ${key} }`,
      'api: { host: 127.0.0.1, port: 0 }',
      'kx: { host: 127.0.0.1, port: 0 }',
      'network:',
      '  nodes: [{ id: A, kx: "127.0.0.1:1" }, { id: B, kx: "127.0.0.1:2" }]',
      '  links: []',
      '  saes: []',
      '',
    ].join('\n'),
  );
  return path;
}

test('qkdn-edge node with the certificate of another node exits at once with one line naming tls.cert, and never reports ready', async () => {
  const cli = fileURLToPath(new URL('../cli/qkdn-edge.mjs', import.meta.url));
  const r = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
    execFile(process.execPath, [cli, 'node', '--config', config('A', p.cert('KME', 'B'), p.key('KME', 'B'))], { timeout: 60_000 }, (e, stdout, stderr) =>
      resolve({ code: e ? ((e as { code?: number }).code ?? null) : 0, stdout, stderr }),
    ),
  );
  assert.is(r.code, 1, r.stderr);
  assert.not.match(r.stdout, '"ready"');
  assert.is(r.stderr.trim().split('\n').length, 1, r.stderr);
  assert.match(r.stderr, `qkdn-edge node A: ERR_PKI_NODE_IDENTITY: tls.cert (${p.cert('KME', 'B')}): the certificate's CN is "B", expected the node ID "A"`);
});

function transport(nodeId: string, certOf: string, peers: Record<string, KxEndpoint>): KxTransport {
  const tls = { ca: readFileSync(p.ca), cert: readFileSync(p.cert('KME', certOf)), key: readFileSync(p.key('KME', certOf)) };
  return new KxTransport({ nodeId, bootId: randomUUID(), tls, listen: { host: '127.0.0.1', port: 0 }, peers: new Map(Object.entries(peers)), onRequest: () => ({ name: 'Response', body: { status: 'ok' } }), connectTimeoutMs: 10_000 });
}

test('Kx: a peer whose certificate is another node than the one it claims, or than the one dialled, is refused and counted', async () => {
  const refused: string[] = [];
  const all: KxTransport[] = [];
  const make = (nodeId: string, certOf: string, peers: Record<string, KxEndpoint>) => {
    const t = transport(nodeId, certOf, peers);
    all.push(t);
    t.on('identityRefused', (claimed, cert, dir) => refused.push(`${nodeId}: ${dir} ${claimed} ${cert}`));
    return t;
  };
  const outcome = (p: Promise<unknown>) =>
    p.then(
      () => 'answered',
      (e: unknown) => `${(e as { code?: string }).code}: ${(e as Error).message}`,
    );
  try {
    // A knows B only; C (a valid network node) dials it claiming to be B: refused at TLS.
    const a = make('A', 'A', { B: { host: '127.0.0.1', port: 1 } });
    const aPort = await a.listen();
    const impostor = make('B', 'C', { A: { host: '127.0.0.1', port: aPort } });
    assert.match(await outcome(impostor.request('A', 'KeySync', { pools: [] } as never, 5000)), /^ERR_KM_PEER_UNREACHABLE/);
    // A knows B and C: C's connection, whose Hello says B, is refused at the Hello.
    const a2 = make('A', 'A', { B: { host: '127.0.0.1', port: 1 }, C: { host: '127.0.0.1', port: 1 } });
    const a2Port = await a2.listen();
    const impostor2 = make('B', 'C', { A: { host: '127.0.0.1', port: a2Port } });
    assert.match(await outcome(impostor2.request('A', 'KeySync', { pools: [] } as never, 5000)), /^ERR_KM_PEER_UNREACHABLE/);
    // B's address is served with C's certificate: A dialling B refuses it.
    const fakeB = make('C', 'C', {});
    const fakeBPort = await fakeB.listen();
    const a3 = make('A', 'A', { B: { host: '127.0.0.1', port: fakeBPort } });
    assert.match(await outcome(a3.request('B', 'KeySync', { pools: [] } as never, 5000)), 'certificate names KME C, expected KME B');
    await eventually(() => a.identityRefusals + a2.identityRefusals + a3.identityRefusals === 3);
    assert.equal([a.identityRefusals, a2.identityRefusals, a3.identityRefusals], [1, 1, 1], refused.join("; "));
    assert.ok(refused.includes('A: in null KME C'), refused.join('; '));
    assert.ok(refused.includes('A: in B KME C'), refused.join('; '));
    assert.ok(refused.includes('A: out B KME C'), refused.join('; '));
  } finally {
    for (const t of all) await t.close();
  }
});

/** Resolves once `cond` holds; fails after 30 s (a loaded machine is slow, not wrong). */
async function eventually(cond: () => boolean): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > 30_000) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
}

test.run();
