import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { connect } from 'node:tls';
import type { FastifyInstance } from 'fastify';
import { eventually, startTestNetwork, type TestNetwork } from '../km/test-network.js';
import { pkiPaths } from '../pki/pki.js';
import { createCa, issue } from '../pki/pki.js';
import { createApiServer, apiPort } from './server.js';
import { Etsi014Service } from './etsi014.js';
import { EtsiClient, type EtsiResponse } from './client.js';
import { API_ERRORS } from './errors.js';
import type { EtsiLimits } from './request.js';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { API_CHANNELS, type ClientRefusedEvent, type RateLimitedEvent } from './diagnostics.js';
import { CHANNELS, type SupplyOutageEvent } from '../km/diagnostics.js';

const LIMITS: EtsiLimits = { keySize: 256, minKeySize: 64, maxKeySize: 1024, maxKeyPerRequest: 16, maxSaeIdCount: 2 };
let net: TestNetwork;
const servers = new Map<string, FastifyInstance>();
const clients: EtsiClient[] = [];
const delivered: string[] = [];

function client(sae: string, node: string, role: 'SAE' | 'KME' = 'SAE'): EtsiClient {
  const p = pkiPaths(`${net.dir}/pki`);
  const c = new EtsiClient({ url: `https://127.0.0.1:${apiPort(servers.get(node)!)}`, ca: readFileSync(p.ca), cert: readFileSync(p.cert(role, sae)), key: readFileSync(p.key(role, sae)) });
  clients.push(c);
  return c;
}

async function startApi(node: string): Promise<void> {
  const p = pkiPaths(`${net.dir}/pki`);
  const app = await createApiServer({
    service: new Etsi014Service(net.node(node).km, LIMITS),
    tls: { ca: readFileSync(p.ca), cert: readFileSync(p.cert('KME', node)), key: readFileSync(p.key('KME', node)) },
    host: '127.0.0.1',
    port: 0,
  });
  servers.set(node, app);
}

test.before(async () => {
  net = await startTestNetwork({ links: ['A-B', 'B-C'], saes: { alice: 'A', ann: 'A', bob: 'B', bea: 'B', carol: 'C' }, initialUnits: 400 });
  for (const n of ['A', 'B', 'C']) await startApi(n);
});
test.after(async () => {
  for (const c of clients) c.close();
  for (const s of servers.values()) await s.close();
  await net.close();
});

function isError(r: EtsiResponse, status: number): void {
  assert.is(r.status, status, r.raw);
  const b = r.body as { message?: unknown; details?: unknown };
  assert.type(b.message, 'string', `error body has a message: ${r.raw}`);
  assert.ok(Array.isArray(b.details) && b.details.every((d) => typeof d === 'object' && d !== null), `details is an array of objects: ${r.raw}`);
  for (const k of delivered) assert.not.ok(r.raw.includes(k), 'key bytes in an error body');
}

/** storeSnapshot once it has stayed the same over three reads 10 ms apart (fails after 5 s). */
async function settledSnapshot(): Promise<string> {
  let prev = '';
  let same = 0;
  await eventually(() => {
    const t = storeSnapshot();
    same = t === prev ? same + 1 : 0;
    prev = t;
    return same >= 2;
  }, 5000, 'the stores to settle');
  return prev;
}

/** Every pool's counts per state at every node (and the Void outboxes): any store change shows. */
function storeSnapshot(): string {
  return ['A', 'B', 'C']
    .map((n) => {
      const s = net.node(n).store;
      const pools = s.pools().sort((x, y) => `${x.origin}:${x.peer}`.localeCompare(`${y.origin}:${y.peer}`));
      return `${n}:${pools.map((p) => `${p.origin}:${p.peer}=${JSON.stringify(s.counts(p.peer, p.origin))}`).join(',')};outbox=${s.outbox().length}`;
    })
    .join('|');
}

test('status: all eleven fields, integers, consistent', async () => {
  // The count is of keys both KMEs hold: it stays 0 until the first key sync with B has run.
  const c = client('alice', 'A');
  let r = await c.status('bob');
  for (let tries = 0; tries < 100 && r.status === 200 && (r.body as Record<string, number>).stored_key_count === 0; tries++) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    r = await c.status('bob');
  }
  assert.is(r.status, 200, r.raw);
  const s = r.body;
  for (const f of ['source_KME_ID', 'target_KME_ID', 'master_SAE_ID', 'slave_SAE_ID']) assert.type(s[f], 'string', f);
  for (const f of ['key_size', 'stored_key_count', 'max_key_count', 'max_key_per_request', 'max_key_size', 'min_key_size', 'max_SAE_ID_count']) assert.ok(Number.isInteger(s[f]), `${f} = ${s[f]}`);
  assert.equal([s.source_KME_ID, s.target_KME_ID, s.master_SAE_ID, s.slave_SAE_ID], ['A', 'B', 'alice', 'bob']);
  const n = s as Record<string, number>;
  assert.ok(n.max_key_count! >= n.stored_key_count! && n.stored_key_count! > 0);
  assert.ok(n.min_key_size! > 0 && n.min_key_size! <= n.key_size! && n.key_size! <= n.max_key_size!);
  assert.ok(n.max_key_per_request! > 0);
  assert.equal(s.status_extension, { key_source: 'simulated', relayed: false });
  const relayed = await client('alice', 'A').status('carol');
  assert.is(relayed.status, 200);
  assert.equal(relayed.body.status_extension, { key_source: 'simulated', relayed: true });
});

test('enc_keys POST at the master KME, dec_keys POST and GET at the slave KME: identical keys, each once', async () => {
  const enc = await client('alice', 'A').encKeys('bob', { number: 3, size: 512 });
  assert.is(enc.status, 200, enc.raw);
  assert.is(enc.body.keys.length, 3);
  for (const k of enc.body.keys) {
    assert.match(k.key_ID, /^[0-9a-f-]{36}$/);
    assert.is(Buffer.from(k.key, 'base64').length, 64);
    delivered.push(k.key);
  }
  const bob = client('bob', 'B');
  const dec = await bob.decKeys('alice', enc.body.keys.slice(0, 2).map((k) => k.key_ID));
  assert.is(dec.status, 200, dec.raw);
  assert.equal(dec.body.keys, enc.body.keys.slice(0, 2));
  const one = await bob.decKeyGet('alice', enc.body.keys[2]!.key_ID.toUpperCase());
  assert.is(one.status, 200, one.raw);
  assert.equal(one.body.keys, [enc.body.keys[2]]);
  isError(await bob.decKeyGet('alice', enc.body.keys[2]!.key_ID), 400);
});

test('enc_keys GET with number and size; defaults to one key of key_size', async () => {
  const a = client('alice', 'A');
  const r = await a.encKeysGet('bob', 2, 128);
  assert.is(r.status, 200, r.raw);
  assert.equal(r.body.keys.map((k) => Buffer.from(k.key, 'base64').length), [16, 16]);
  const d = await a.encKeysGet('bob');
  assert.equal(d.body.keys.map((k) => Buffer.from(k.key, 'base64').length), [32]);
  delivered.push(...r.body.keys.map((k) => k.key), ...d.body.keys.map((k) => k.key));
});

test('multicast: additional_slave_SAE_IDs on the slave KME each get the key once', async () => {
  const enc = await client('alice', 'A').encKeys('bob', { number: 1, additional_slave_SAE_IDs: ['bea'] });
  assert.is(enc.status, 200, enc.raw);
  const id = enc.body.keys[0]!.key_ID;
  delivered.push(enc.body.keys[0]!.key);
  const b1 = await client('bob', 'B').decKeys('alice', [id]);
  const b2 = await client('bea', 'B').decKeys('alice', [id]);
  assert.equal(b1.body.keys, enc.body.keys);
  assert.equal(b2.body.keys, enc.body.keys);
  isError(await client('bea', 'B').decKeys('alice', [id]), 400);
});

test('keys for an SAE two hops away are relayed, then supplied through ETSI 014', async () => {
  const enc = await client('alice', 'A').encKeys('carol', { number: 2 });
  assert.is(enc.status, 200, enc.raw);
  const dec = await client('carol', 'C').decKeys('alice', enc.body.keys.map((k) => k.key_ID));
  assert.equal(dec.body.keys, enc.body.keys);
  delivered.push(...enc.body.keys.map((k) => k.key));
});

test('extensions: unknown optional ones are ignored, unsupported mandatory ones refused with 400, in both forms', async () => {
  const a = client('alice', 'A');
  const ok = await a.send<{ keys: unknown[] }>('POST', '/api/v1/keys/bob/enc_keys', { number: 1, extension_optional: [{ abc_route_type: 'direct' }], misspeled_field: 3 });
  assert.is(ok.status, 200, ok.raw);
  const okDict = await a.send('POST', '/api/v1/keys/bob/enc_keys', { extension_optional: { abc: 1 }, extension_mandatory: [] });
  assert.is(okDict.status, 200, okDict.raw);
  const before = storeSnapshot();
  const arr = await a.send('POST', '/api/v1/keys/bob/enc_keys', { extension_mandatory: [{ abc_route_type: 'direct' }] });
  isError(arr, 400);
  assert.equal((arr.body as { details: unknown[] }).details.slice(1), [{ extension: 'abc_route_type' }]);
  isError(await a.send('POST', '/api/v1/keys/bob/enc_keys', { extension_mandatory: { abc_transfer_method: 'qkd' } }), 400);
  assert.is(storeSnapshot(), before);
});

test('bad input: every malformed request gets 400 with {message, details} and changes nothing', async () => {
  const a = client('alice', 'A');
  const before = storeSnapshot();
  const bad: [string, string, unknown, Record<string, string>?][] = [
    ['POST', '/api/v1/keys/bob/enc_keys', '{"number": 1,'],
    ['POST', '/api/v1/keys/bob/enc_keys', '[1,2]'],
    ['POST', '/api/v1/keys/bob/enc_keys', 'null'],
    ['POST', '/api/v1/keys/bob/enc_keys', ''],
    ['POST', '/api/v1/keys/bob/enc_keys', { number: '1' }],
    ['POST', '/api/v1/keys/bob/enc_keys', { number: true }],
    ['POST', '/api/v1/keys/bob/enc_keys', { number: 0 }],
    ['POST', '/api/v1/keys/bob/enc_keys', { number: -1 }],
    ['POST', '/api/v1/keys/bob/enc_keys', { number: 1.5 }],
    ['POST', '/api/v1/keys/bob/enc_keys', { number: 1e300 }],
    ['POST', '/api/v1/keys/bob/enc_keys', { number: 17 }],
    ['POST', '/api/v1/keys/bob/enc_keys', { size: 0 }],
    ['POST', '/api/v1/keys/bob/enc_keys', { size: 100 }],
    ['POST', '/api/v1/keys/bob/enc_keys', { size: 2048 }],
    ['POST', '/api/v1/keys/bob/enc_keys', { size: 56 }],
    ['POST', '/api/v1/keys/bob/enc_keys', { size: -256 }],
    ['POST', '/api/v1/keys/bob/enc_keys', { additional_slave_SAE_IDs: [] }],
    ['POST', '/api/v1/keys/bob/enc_keys', { additional_slave_SAE_IDs: ['bob'] }],
    ['POST', '/api/v1/keys/bob/enc_keys', { additional_slave_SAE_IDs: ['alice'] }],
    ['POST', '/api/v1/keys/bob/enc_keys', { additional_slave_SAE_IDs: ['bea', 'bea'] }],
    ['POST', '/api/v1/keys/bob/enc_keys', { additional_slave_SAE_IDs: ['bea', 'x', 'y'] }],
    ['POST', '/api/v1/keys/bob/enc_keys', { additional_slave_SAE_IDs: ['carol'] }],
    ['POST', '/api/v1/keys/bob/enc_keys', { additional_slave_SAE_IDs: 'bea' }],
    ['POST', '/api/v1/keys/bob/enc_keys', { extension_mandatory: 'x' }],
    ['POST', '/api/v1/keys/bob/enc_keys', { number: 1 }, { 'content-type': 'text/plain' }],
    ['POST', '/api/v1/keys/bob/enc_keys', JSON.stringify({ number: 1, pad: 'x'.repeat(100_000) })],
    ['GET', '/api/v1/keys/bob/enc_keys?number=0', undefined],
    ['GET', '/api/v1/keys/bob/enc_keys?number=1.5', undefined],
    ['GET', '/api/v1/keys/bob/enc_keys?number=-1', undefined],
    ['GET', '/api/v1/keys/bob/enc_keys?number=abc', undefined],
    ['GET', '/api/v1/keys/bob/enc_keys?number=99999999999', undefined],
    ['GET', '/api/v1/keys/bob/enc_keys?number=1&number=2', undefined],
    ['GET', '/api/v1/keys/bob/enc_keys?size=12', undefined],
    ['GET', '/api/v1/keys/bob/enc_keys?size=', undefined],
    ['GET', '/api/v1/keys/nobody/enc_keys', undefined],
    ['GET', '/api/v1/keys/alice/enc_keys', undefined],
    ['GET', '/api/v1/keys/nobody/status', undefined],
    ['GET', '/api/v1/keys/bad%20id/status', undefined],
    ['GET', `/api/v1/keys/${'x'.repeat(65)}/status`, undefined],
    ['GET', '/api/v1/keys/bob/dec_keys', undefined],
    ['GET', '/api/v1/keys/bob/dec_keys?key_ID=not-a-uuid', undefined],
    ['GET', '/api/v1/keys/bob/dec_keys?key_ID=00000000-0000-4000-8000-000000000000', undefined],
    ['POST', '/api/v1/keys/bob/dec_keys', { key_IDs: [] }],
    ['POST', '/api/v1/keys/bob/dec_keys', { key_IDs: 'x' }],
    ['POST', '/api/v1/keys/bob/dec_keys', { key_IDs: [{ key: 'x' }] }],
    ['POST', '/api/v1/keys/bob/dec_keys', {}],
  ];
  for (const [method, path, body, headers] of bad) {
    const r = await a.send(method as 'GET' | 'POST', path, body, headers);
    try {
      isError(r, 400);
    } catch (e) {
      throw new Error(`${method} ${path} ${JSON.stringify(body)?.slice(0, 80)}: ${(e as Error).message}`, { cause: e });
    }
  }
  assert.is(storeSnapshot(), before);
});

test('property: arbitrary bodies and query strings get a 200 with keys or a 4xx {message, details} that changes no store, never a 5xx', async () => {
  const a = client('alice', 'A');
  const b = client('bob', 'B');
  const value = fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.integer({ min: -(2 ** 40), max: 2 ** 40 }), fc.double(), fc.constantFrom(0, 1, 8, 64, 256, 1024, 1e300, -1, '1', null));
  const body = fc.oneof(
    fc.record({ number: value, size: value, additional_slave_SAE_IDs: value, extension_mandatory: value, extension_optional: value }, { requiredKeys: [] }),
    fc.record({ key_IDs: fc.oneof(value, fc.array(fc.record({ key_ID: fc.oneof(value, fc.uuid()) }, { requiredKeys: [] }), { maxLength: 3 })) }, { requiredKeys: [] }),
    fc.jsonValue({ maxDepth: 3 }),
    fc.string({ maxLength: 64 }),
  );
  const query = fc.array(fc.tuple(fc.constantFrom('number', 'size', 'key_ID', 'x'), fc.oneof(fc.string({ maxLength: 12 }), fc.integer().map(String), fc.uuid())), { maxLength: 3 });
  const request = fc.oneof(
    fc.record({ who: fc.constant(a), method: fc.constant<'POST'>('POST'), path: fc.constantFrom('/api/v1/keys/bob/enc_keys', '/api/v1/keys/carol/enc_keys', '/api/v1/keys/nobody/enc_keys'), body }),
    fc.record({ who: fc.constant(b), method: fc.constant<'POST'>('POST'), path: fc.constantFrom('/api/v1/keys/alice/dec_keys', '/api/v1/keys/nobody/dec_keys'), body }),
    fc.record({
      who: fc.constantFrom(a, b),
      method: fc.constant<'GET'>('GET'),
      path: fc.tuple(fc.constantFrom('/api/v1/keys/bob/enc_keys', '/api/v1/keys/alice/dec_keys', '/api/v1/keys/bob/status'), query).map(([p, q]) => `${p}?${q.map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join('&')}`),
      body: fc.constant(undefined),
    }),
  );
  let ok = 0;
  let lastOk = false;
  await fc.assert(
    fc.asyncProperty(request, async (r) => {
      // A valid request's tail (a relay's follow-ups at the other nodes) may still be running:
      // wait for the stores to settle, so that only this request can change them.
      const before = lastOk ? await settledSnapshot() : storeSnapshot();
      lastOk = false;
      const res = await r.who.send(r.method, r.path, r.body === undefined ? undefined : typeof r.body === 'string' ? r.body : JSON.stringify(r.body));
      assert.ok(res.status < 500, `${r.method} ${r.path} ${JSON.stringify(r.body)}: ${res.status} ${res.raw}`);
      if (res.status === 200) {
        ok++;
        lastOk = true;
        for (const k of (res.body as { keys?: { key: string }[] }).keys ?? []) delivered.push(k.key);
        return;
      }
      isError(res, res.status);
      assert.ok(res.status >= 400, res.raw);
      assert.is(storeSnapshot(), before, `${r.method} ${r.path} ${JSON.stringify(r.body)} changed a store`);
    }),
    { numRuns: 250, seed: 6 },
  );
  assert.ok(ok > 0, 'some random requests were valid');
});

test('unknown, foreign and same-KME SAEs get the same refusal, saying nothing about which', async () => {
  const a = client('alice', 'A');
  const bodies = await Promise.all(['nobody', 'alice', 'bob-typo'].map(async (s) => (await a.encKeys(s)).body as unknown as { message: string }));
  assert.is(new Set(bodies.map((b) => b.message)).size, 1);
});

test('dec_keys: a key addressed to another SAE or from another master is refused like an unknown one', async () => {
  const enc = await client('alice', 'A').encKeys('bob', { number: 1 });
  delivered.push(enc.body.keys[0]!.key);
  const id = enc.body.keys[0]!.key_ID;
  const foreign = await client('bea', 'B').decKeys('alice', [id]);
  isError(foreign, 400);
  const wrongMaster = await client('bob', 'B').decKeys('carol', [id]);
  isError(wrongMaster, 400);
  const unknown = await client('bob', 'B').decKeys('alice', ['00000000-0000-4000-8000-000000000000']);
  assert.is((foreign.body as unknown as { message: string }).message, (unknown.body as unknown as { message: string }).message);
  const mine = await client('bob', 'B').decKeys('alice', [id]);
  assert.is(mine.status, 200);
});

test('401 for a network certificate that is not an SAE of this KME; TLS below 1.2 fails the handshake', async () => {
  isError(await client('bob', 'A').status('alice'), 401); // bob is B's SAE
  isError(await client('B', 'A', 'KME').status('bob'), 401); // a KME certificate is not an SAE
  const p = pkiPaths(`${net.dir}/pki`);
  const alice = { cert: readFileSync(p.cert('SAE', 'alice')), key: readFileSync(p.key('SAE', 'alice')) };
  assert.match(await handshake({ ...alice, maxVersion: 'TLSv1.1', minVersion: 'TLSv1' }), /^error:/);
  assert.match(await handshake({ ...alice, maxVersion: 'TLSv1.2' }), /^HTTP\/1.1 200/);
});

/** A request over a fresh TLS connection to A's API with `opts`: the response text, or what went wrong. */
function handshake(opts: Record<string, unknown>): Promise<string> {
  const p = pkiPaths(`${net.dir}/pki`);
  return new Promise<string>((resolve) => {
    const s = connect({ host: '127.0.0.1', port: apiPort(servers.get('A')!), servername: 'localhost', ca: readFileSync(p.ca), ...opts });
    let text = '';
    s.on('secureConnect', () => s.write('GET /api/v1/keys/bob/status HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'));
    s.on('data', (d: Buffer) => (text += d.toString()));
    s.on('error', (e) => resolve(`error:${e.message}`));
    s.on('close', () => resolve(text || 'closed'));
  });
}

test('a client certificate that is missing, from another CA, expired or not yet valid gets 401 naming the reason and its TLS alert (not a silent close), and the refusal is logged', async () => {
  const events: ClientRefusedEvent[] = [];
  const onEvent = (m: unknown) => events.push(m as ClientRefusedEvent);
  subscribe(API_CHANNELS.clientRefused, onEvent);
  try {
    const other = await createCa('other');
    const foreign = await issue(other, { role: 'SAE', id: 'alice' });
    const caPem = readFileSync(pkiPaths(`${net.dir}/pki`).ca, 'utf8');
    const ca = { name: 'qkdn', cert: caPem, key: readFileSync(`${net.dir}/pki/ca.key`, 'utf8') };
    const day = 86400_000;
    const expired = await issue(ca, { role: 'SAE', id: 'alice', validity: { notBefore: new Date(Date.now() - 10 * day), notAfter: new Date(Date.now() - day) } });
    const future = await issue(ca, { role: 'SAE', id: 'alice', validity: { notBefore: new Date(Date.now() + day), notAfter: new Date(Date.now() + 10 * day) } });
    const cases: [string, Record<string, unknown>, string, string][] = [
      ['no certificate', {}, 'NO_CERTIFICATE', 'certificate_required'],
      ['another CA', { ...foreign }, 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'unknown_ca'],
      ['expired', { ...expired }, 'CERT_HAS_EXPIRED', 'certificate_expired'],
      ['not yet valid', { ...future }, 'CERT_NOT_YET_VALID', 'certificate_expired'],
    ];
    for (const [what, opts, reason, alert] of cases) {
      const text = await handshake(opts);
      assert.match(text, /^HTTP\/1.1 401 /, `${what}: ${text}`);
      const body = JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4)) as { message: string; details: Record<string, string>[] };
      assert.equal(body.details, [{ code: 'ERR_API_UNAUTHORIZED' }, { reason, tls_alert: alert }], what);
      assert.type(body.message, 'string');
    }
    assert.equal(events.map((e) => [e.reason, e.alert]), cases.map(([, , reason, alert]) => [reason, alert]));
    assert.is(events[1]!.subject, 'CN=alice, OU=SAE');
  } finally {
    unsubscribe(API_CHANNELS.clientRefused, onEvent);
  }
});

test('a retrying SAE during an outage of the slave KME: 503 with Retry-After, keys burnt once, not per retry; one log line for the outage', async () => {
  const events: SupplyOutageEvent[] = [];
  const onEvent = (m: unknown) => events.push(m as SupplyOutageEvent);
  subscribe(CHANNELS.supplyOutage, onEvent);
  const a = client('alice', 'A');
  const burnt = () => net.node('A').store.counts('B', 'link').failed;
  await net.stopNode('B');
  try {
    const before = burnt();
    const answers = [];
    for (let i = 0; i < 20; i++) answers.push(await a.send('POST', '/api/v1/keys/bob/enc_keys', { number: 1 }));
    for (const r of answers) {
      isError(r, 503);
      assert.is((r.body as { details: { code: string }[] }).details[0]!.code, 'ERR_API_KEYS_UNAVAILABLE', r.raw);
      assert.ok(Number(r.headers['retry-after']) >= 1, `Retry-After: ${r.headers['retry-after']}`);
    }
    // The first request reserved a key and burnt it; the retries within the window reserved none
    // (a slow machine may let the window pass once: one more).
    assert.ok(burnt() - before >= 1 && burnt() - before <= 2, `${burnt() - before} keys burnt by 20 requests`);
    assert.equal(events.map((e) => [e.kme, e.state]).slice(0, 1), [['B', 'begun']]);
    assert.ok(events.length <= 2, `${events.length} outage lines for 20 retries`);
  } finally {
    await servers.get('B')!.close();
    await net.startNode('B');
    await startApi('B');
  }
  // After the window, a request reaches B again: the outage ends, and the log says so once.
  let r = await a.encKeys('bob', { number: 1 });
  for (let tries = 0; r.status === 503 && tries < 120; tries++) {
    await new Promise((resolve) => setTimeout(resolve, Number(r.headers['retry-after'] ?? 1) * 1000));
    r = await a.encKeys('bob', { number: 1 });
  }
  assert.is(r.status, 200, r.raw);
  delivered.push(r.body.keys[0]!.key);
  unsubscribe(CHANNELS.supplyOutage, onEvent);
  const ended = events.filter((e) => e.state === 'ended');
  assert.is(ended.length, 1);
  assert.is(ended[0]!.kme, 'B');
});

test('a per-SAE rate limit: over it, 503 ERR_API_RATE_LIMITED with Retry-After; other SAEs unaffected; summarised in one log line', async () => {
  const p = pkiPaths(`${net.dir}/pki`);
  const app = await createApiServer({
    service: new Etsi014Service(net.node('A').km, LIMITS),
    tls: { ca: readFileSync(p.ca), cert: readFileSync(p.cert('KME', 'A')), key: readFileSync(p.key('KME', 'A')) },
    host: '127.0.0.1',
    port: 0,
    rateLimit: { max: 3, windowMs: 60_000 },
  });
  const events: RateLimitedEvent[] = [];
  const onEvent = (m: unknown) => events.push(m as RateLimitedEvent);
  subscribe(API_CHANNELS.rateLimited, onEvent);
  const as = (sae: string) => {
    const c = new EtsiClient({ url: `https://127.0.0.1:${apiPort(app)}`, ca: readFileSync(p.ca), cert: readFileSync(p.cert('SAE', sae)), key: readFileSync(p.key('SAE', sae)) });
    clients.push(c);
    return c;
  };
  try {
    const alice = as('alice');
    const statuses = [];
    for (let i = 0; i < 6; i++) statuses.push(await alice.status('bob'));
    assert.equal(statuses.map((r) => r.status), [200, 200, 200, 503, 503, 503]);
    for (const r of statuses.slice(3)) {
      isError(r, 503);
      assert.is((r.body as { details: { code: string }[] }).details[0]!.code, 'ERR_API_RATE_LIMITED');
      assert.ok(Number(r.headers['retry-after']) >= 1 && Number(r.headers['retry-after']) <= 60, String(r.headers['retry-after']));
    }
    assert.is((await as('ann').status('bob')).status, 200, "another SAE's budget is its own");
    assert.equal(events.map((e) => [e.sae, e.refused]), [['alice', 1]]);
  } finally {
    unsubscribe(API_CHANNELS.rateLimited, onEvent);
    await app.close();
  }
});

/** One raw HTTP/1.1 exchange over mutual TLS as alice: what the server sends, byte for byte. */
function raw(request: string | Buffer): Promise<{ status: number; headers: string; body: string }> {
  const p = pkiPaths(`${net.dir}/pki`);
  return new Promise((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port: apiPort(servers.get('A')!), servername: 'localhost', ca: readFileSync(p.ca), cert: readFileSync(p.cert('SAE', 'alice')), key: readFileSync(p.key('SAE', 'alice')) });
    const chunks: Buffer[] = [];
    s.on('secureConnect', () => s.end(request));
    s.on('data', (d: Buffer) => chunks.push(d));
    s.on('error', reject);
    s.on('close', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const [head = '', ...rest] = text.split('\r\n\r\n');
      resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0), headers: head, body: rest.join('\r\n\r\n') });
    });
  });
}

test("the HTTP layer's own refusals are ETSI errors with a documented code: a 300-character SAE ID, 20 kB of headers, bodies of other media types, a bad URL", async () => {
  const get = (path: string, extra = '') => `GET ${path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n${extra}\r\n`;
  const post = (type: string | null, body: string) => `POST /api/v1/keys/bob/enc_keys HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n${type === null ? '' : `Content-Type: ${type}\r\n`}Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
  const cases: [string, string, number, string][] = [
    ['a 300-character SAE ID', get(`/api/v1/keys/${'x'.repeat(300)}/status`), 400, 'ERR_API_INVALID_PARAMETER'],
    ['20 kB of headers', get('/api/v1/keys/bob/status', `X-Pad: ${'x'.repeat(20_000)}\r\n`), 400, 'ERR_API_HEADERS_TOO_LARGE'],
    ['text/plain', post('text/plain', '{"number":1}'), 400, 'ERR_API_UNSUPPORTED_MEDIA_TYPE'],
    ['no content type', post(null, '{"number":1}'), 400, 'ERR_API_UNSUPPORTED_MEDIA_TYPE'],
    ['application/xml', post('application/xml', '<number>1</number>'), 400, 'ERR_API_UNSUPPORTED_MEDIA_TYPE'],
    ['a bad percent-encoding', get('/api/v1/keys/%zz/status'), 400, 'ERR_API_INVALID_PARAMETER'],
    ['a malformed request line', 'GARBAGE\r\n\r\n', 400, 'ERR_API_BAD_REQUEST'],
  ];
  const doc = readFileSync(new URL('./README.md', import.meta.url), 'utf8');
  for (const [what, req, status, code] of cases) {
    const r = await raw(req);
    assert.is(r.status, status, `${what}: ${r.headers} ${r.body}`);
    assert.match(r.headers, /content-type: application\/json/i, what);
    let body: { message?: unknown; details?: { code?: string }[] };
    try {
      body = JSON.parse(r.body) as typeof body;
    } catch {
      throw new Error(`${what}: not JSON: ${r.body}`);
    }
    assert.type(body.message, 'string', what);
    assert.equal(Object.keys(body).sort(), ['details', 'message'], `${what}: ${r.body}`);
    assert.is(body.details?.[0]?.code, code, `${what}: ${r.body}`);
    assert.ok(doc.includes(code), `${code} documented`);
  }
});

test('every error code is documented in host/api/README.md', () => {
  const doc = readFileSync(new URL('./README.md', import.meta.url), 'utf8');
  for (const code of Object.keys(API_ERRORS)) assert.ok(doc.includes(code), `${code} missing from host/api/README.md`);
});

test.run();
