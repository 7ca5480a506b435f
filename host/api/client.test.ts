import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { createCa, issue } from '../pki/pki.js';
import { EtsiClient } from './client.js';

/**
 * An HTTPS server that drops (destroys without answering) the requests `drop` picks, given the
 * request's position on its connection (1 = the first on a fresh socket), and counts what it saw.
 */
async function server(drop: (nthOnSocket: number) => boolean): Promise<{ url: string; seen: { requests: number; connections: number }; client: () => Promise<EtsiClient>; close: () => Promise<void> }> {
  const ca = await createCa('client-test');
  const kme = await issue(ca, { role: 'KME', id: 'kme' });
  const sae = await issue(ca, { role: 'SAE', id: 'alice' });
  const seen = { requests: 0, connections: 0 };
  const perSocket = new WeakMap<object, number>();
  const s: Server = createServer({ ca: ca.cert, cert: kme.cert, key: kme.key, requestCert: true, rejectUnauthorized: true }, (req, res) => {
    seen.requests++;
    const n = (perSocket.get(req.socket) ?? 0) + 1;
    perSocket.set(req.socket, n);
    req.resume();
    req.on('end', () => {
      if (drop(n)) return void req.socket.destroy();
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ n }));
    });
  });
  s.on('secureConnection', () => seen.connections++);
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const url = `https://127.0.0.1:${(s.address() as AddressInfo).port}`;
  const clients: EtsiClient[] = [];
  return {
    url,
    seen,
    client: async () => {
      const c = new EtsiClient({ url, ca: ca.cert, cert: sae.cert, key: sae.key });
      clients.push(c);
      return c;
    },
    close: async () => {
      for (const c of clients) c.close();
      s.closeAllConnections();
      await new Promise((r) => s.close(r));
    },
  };
}

test('a request written on a pooled socket the server drops is sent once more on a fresh one', async () => {
  const srv = await server((n) => n === 2);
  try {
    const c = await srv.client();
    assert.is((await c.send('POST', '/x', {})).status, 200);
    // The second request goes out on the kept-alive socket; the server drops it unread.
    const r = await c.send('POST', '/x', {});
    assert.is(r.status, 200);
    assert.equal(r.body, { n: 1 }, 'answered as the first request of a new connection');
    assert.equal(srv.seen, { requests: 3, connections: 2 });
  } finally {
    await srv.close();
  }
});

test('a request dropped on a fresh socket is not sent again: the caller gets the error', async () => {
  const srv = await server(() => true);
  try {
    const c = await srv.client();
    await c.send('POST', '/x', {}).then(
      () => assert.unreachable('no answer came'),
      (e: NodeJS.ErrnoException) => assert.is(e.code, 'ECONNRESET'),
    );
    assert.is(srv.seen.requests, 1, 'an enc_keys the KME may have served is never repeated');
  } finally {
    await srv.close();
  }
});

test.run();
