/**
 * A small ETSI GS QKD 014 client, as an SAE uses the API: HTTPS with its client certificate,
 * keep-alive connections. Used by the tests, the benchmark and the demo network; any other client
 * (curl, a VPN's KMS plugin) speaks the same API.
 */
import { Agent, request } from 'node:https';

export interface EtsiClientOptions {
  /** https://host:port of the KME. */
  readonly url: string;
  readonly ca: string | Buffer;
  readonly cert?: string | Buffer;
  readonly key?: string | Buffer;
  /** Parallel connections kept open. */
  readonly maxSockets?: number;
  readonly minVersion?: 'TLSv1' | 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3';
  readonly maxVersion?: 'TLSv1' | 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3';
}

export interface EtsiResponse<T = unknown> {
  readonly status: number;
  readonly body: T;
  readonly raw: string;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
}

export interface EtsiKey {
  readonly key_ID: string;
  readonly key: string;
}

/** A request written on a pooled socket the server had already closed: it never reached the server. */
class StaleSocketError extends Error {
  readonly code = 'ECONNRESET';
  constructor(readonly original: Error) {
    super(original.message);
  }
}

export class EtsiClient {
  readonly #url: URL;
  readonly #agent: Agent;

  constructor(o: EtsiClientOptions) {
    this.#url = new URL(o.url);
    this.#agent = new Agent({
      keepAlive: true,
      maxSockets: o.maxSockets ?? 16,
      ca: o.ca,
      cert: o.cert,
      key: o.key,
      minVersion: o.minVersion,
      maxVersion: o.maxVersion,
      servername: 'localhost',
    });
  }

  /**
   * One request. A kept-alive socket the KME closed while it sat idle in the pool fails the request
   * written on it with ECONNRESET before the KME read it (`reusedSocket`, Node's keep-alive race):
   * that request is sent once more on a fresh socket. Any other failure is the caller's.
   */
  async send<T = unknown>(method: 'GET' | 'POST' | 'PUT', path: string, body?: unknown, headers: Record<string, string> = {}): Promise<EtsiResponse<T>> {
    try {
      return await this.#send<T>(method, path, body, headers);
    } catch (e) {
      if (!(e instanceof StaleSocketError)) throw e;
      return this.#send<T>(method, path, body, headers);
    }
  }

  #send<T>(method: 'GET' | 'POST' | 'PUT', path: string, body: unknown, headers: Record<string, string>): Promise<EtsiResponse<T>> {
    const payload = body === undefined ? undefined : typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body);
    return new Promise((resolve, reject) => {
      const req = request(
        {
          host: this.#url.hostname,
          port: this.#url.port,
          path,
          method,
          agent: this.#agent,
          headers: { ...(payload !== undefined ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } : {}), ...headers },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const raw = Buffer.concat(chunks).toString('utf8');
            let parsed: unknown = raw;
            try {
              parsed = JSON.parse(raw);
            } catch {
              // leave the raw text: a test will say the body was not JSON
            }
            resolve({ status: res.statusCode ?? 0, body: parsed as T, raw, headers: res.headers });
          });
          res.on('error', reject);
        },
      );
      req.on('error', (e: NodeJS.ErrnoException) => reject(req.reusedSocket && e.code === 'ECONNRESET' ? new StaleSocketError(e) : e));
      if (payload !== undefined) req.write(payload);
      req.end();
    });
  }

  status(slave: string): Promise<EtsiResponse<Record<string, unknown>>> {
    return this.send('GET', `/api/v1/keys/${encodeURIComponent(slave)}/status`);
  }

  encKeys(slave: string, req: { number?: number; size?: number; additional_slave_SAE_IDs?: string[] } = {}): Promise<EtsiResponse<{ keys: EtsiKey[] }>> {
    return this.send('POST', `/api/v1/keys/${encodeURIComponent(slave)}/enc_keys`, req);
  }

  encKeysGet(slave: string, number?: number, size?: number): Promise<EtsiResponse<{ keys: EtsiKey[] }>> {
    const q = new URLSearchParams();
    if (number !== undefined) q.set('number', String(number));
    if (size !== undefined) q.set('size', String(size));
    const qs = q.toString();
    return this.send('GET', `/api/v1/keys/${encodeURIComponent(slave)}/enc_keys${qs ? `?${qs}` : ''}`);
  }

  decKeys(master: string, ids: readonly string[]): Promise<EtsiResponse<{ keys: EtsiKey[] }>> {
    return this.send('POST', `/api/v1/keys/${encodeURIComponent(master)}/dec_keys`, { key_IDs: ids.map((key_ID) => ({ key_ID })) });
  }

  decKeyGet(master: string, id: string): Promise<EtsiResponse<{ keys: EtsiKey[] }>> {
    return this.send('GET', `/api/v1/keys/${encodeURIComponent(master)}/dec_keys?key_ID=${encodeURIComponent(id)}`);
  }

  close(): void {
    this.#agent.destroy();
  }
}
