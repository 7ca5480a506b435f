/**
 * The network manager's side of a node's management API: HTTPS with mutual TLS under the manager's
 * operator certificate, keep-alive, a deadline and a size limit on every answer, and a schema check
 * (ajv) of every body before the manager believes it. A node that does not answer, answers late,
 * or answers something else than the documented shape is one `NodeUnreachableError` with the reason.
 */
import { Agent, request } from 'node:https';
import { Ajv, type ValidateFunction } from 'ajv';
import { SEVERITIES, type Alarm } from './alarms.js';
import { DIMENSIONS, type UsageRecord } from './accounting.js';
import type { QosParameters } from './performance.js';

export class NodeUnreachableError extends Error {
  readonly code = 'ERR_MGMT_NODE_UNREACHABLE';
  constructor(readonly node: string, reason: string) {
    super(`${node}: ${reason}`);
    this.name = 'NodeUnreachableError';
  }
}

/** A node's answer to a request it refused (4xx/5xx), with the management API's error body. */
export class NodeRefusedError extends Error {
  readonly code = 'ERR_MGMT_NODE_REFUSED';
  constructor(readonly node: string, readonly status: number, readonly body: unknown) {
    super(`${node} answered ${status}: ${typeof body === 'object' && body !== null && typeof (body as { message?: unknown }).message === 'string' ? (body as { message: string }).message : 'no reason given'}`.slice(0, 400));
    this.name = 'NodeRefusedError';
  }
}

export interface NodeHealth {
  readonly node: string;
  readonly zeroized: boolean;
  readonly alarms: Readonly<Record<(typeof SEVERITIES)[number], number>>;
  readonly uptimeS: number;
}

export interface NodeLink {
  readonly link: string;
  readonly role: string;
  readonly state: string;
  readonly qber: number | null;
  readonly keyRateBitsPerS: number | null;
}

export interface NodeStock {
  readonly peer: string;
  readonly origin: string;
  readonly units: number;
  readonly bits: number;
}

const ID = { type: 'string', minLength: 1, maxLength: 200 } as const;
const NUM = { type: 'number' } as const;
const NUM_OR_NULL = { type: ['number', 'null'] } as const;
const ALARM = {
  type: 'object',
  required: ['id', 'node', 'type', 'severity', 'source', 'text', 'details', 'raisedAt', 'lastAt', 'count', 'state'],
  properties: {
    id: { type: 'string', pattern: '^[0-9]{14}-[0-9]{6}$' },
    node: ID,
    // A pattern, not this version's list: a newer node's new alarm type is still shown.
    type: { type: 'string', pattern: '^[a-z][a-z0-9-]{0,63}$' },
    severity: { enum: [...SEVERITIES] },
    source: ID,
    text: { type: 'string', maxLength: 1000 },
    details: { type: 'object', maxProperties: 64, additionalProperties: { type: ['string', 'number', 'boolean'] } },
    raisedAt: NUM,
    lastAt: NUM,
    count: { type: 'integer', minimum: 1 },
    state: { enum: ['active', 'cleared'] },
    clearedAt: NUM,
    acknowledgedBy: ID,
    acknowledgedAt: NUM,
  },
} as const;
const SCHEMAS = {
  health: {
    type: 'object',
    required: ['node', 'zeroized', 'alarms'],
    properties: { node: ID, zeroized: { type: 'boolean' }, uptimeS: NUM, alarms: { type: 'object', required: [...SEVERITIES], properties: Object.fromEntries(SEVERITIES.map((s) => [s, { type: 'integer', minimum: 0 }])) } },
  },
  alarms: { type: 'object', required: ['alarms'], properties: { alarms: { type: 'array', maxItems: 10_000, items: ALARM } } },
  alarm: ALARM,
  performance: {
    type: 'object',
    required: ['qos'],
    properties: {
      qos: {
        type: 'object',
        required: ['windowS', 'requests', 'throughputBitsPerS', 'keyResponseDelayMs', 'deliveryErrorRatio', 'availability'],
        properties: { windowS: NUM, requests: NUM, throughputBitsPerS: NUM, keyResponseDelayMs: NUM_OR_NULL, keyResponseDelayVariationMs: NUM_OR_NULL, deliveryErrorRatio: NUM_OR_NULL, lossRatio: NUM_OR_NULL, availability: NUM_OR_NULL, serviceRestorationTimeMs: NUM_OR_NULL },
      },
    },
  },
  accounting: {
    type: 'object',
    required: ['records'],
    properties: {
      records: {
        type: 'array',
        maxItems: 100_000,
        items: {
          type: 'object',
          required: ['dimension', 'subject', 'day', 'keys', 'bits', 'requests', 'firstAt', 'lastAt'],
          properties: { dimension: { enum: [...DIMENSIONS] }, subject: ID, day: { type: 'string', pattern: '^\\d{4}-\\d{2}-\\d{2}$' }, keys: NUM, bits: NUM, requests: NUM, firstAt: NUM, lastAt: NUM },
        },
      },
    },
  },
  links: { type: 'object', required: ['links'], properties: { links: { type: 'array', maxItems: 1000, items: { type: 'object', required: ['link', 'role', 'state'], properties: { link: ID, role: ID, state: ID, qber: NUM_OR_NULL, keyRateBitsPerS: NUM_OR_NULL } } } } },
  stocks: { type: 'object', required: ['stocks'], properties: { stocks: { type: 'array', maxItems: 10_000, items: { type: 'object', required: ['peer', 'origin', 'units', 'bits'], properties: { peer: ID, origin: ID, units: NUM, bits: NUM } } } } },
  config: { type: 'object', required: ['version', 'config'], properties: { version: { type: 'integer', minimum: 1 }, config: { type: 'object' } } },
  any: {},
} as const;
type Answer = { health: NodeHealth; alarms: { alarms: Alarm[] }; alarm: Alarm; performance: { qos: QosParameters }; accounting: { records: UsageRecord[] }; links: { links: NodeLink[] }; stocks: { stocks: NodeStock[] }; config: { version: number; config: unknown }; any: unknown };
const ajv = new Ajv({ allErrors: false, strict: false, allowUnionTypes: true });
const validators = Object.fromEntries(Object.entries(SCHEMAS).map(([k, s]) => [k, ajv.compile(s)])) as { [K in keyof Answer]: ValidateFunction };

/** The largest answer read from a node (an accounting export of a busy node fits many times). */
const MAX_BODY = 8 * 1024 * 1024;

export interface NodeClientOptions {
  readonly node: string;
  /** host:port of the node's management API. */
  readonly endpoint: string;
  readonly tls: { readonly ca: string | Buffer; readonly cert: string | Buffer; readonly key: string | Buffer };
  readonly timeoutMs?: number;
}

export class NodeClient {
  readonly node: string;
  readonly #host: string;
  readonly #port: number;
  readonly #agent: Agent;
  readonly #timeoutMs: number;

  constructor(o: NodeClientOptions) {
    this.node = o.node;
    const i = o.endpoint.lastIndexOf(':');
    this.#host = o.endpoint.slice(0, i).replace(/^\[|\]$/g, '');
    this.#port = Number(o.endpoint.slice(i + 1));
    this.#timeoutMs = o.timeoutMs ?? 2000;
    this.#agent = new Agent({ keepAlive: true, maxSockets: 2, ca: o.tls.ca, cert: o.tls.cert, key: o.tls.key, servername: 'localhost' });
  }

  get<K extends keyof Answer>(what: K, path: string): Promise<Answer[K]> {
    return this.send(what, 'GET', path);
  }

  /** One request; the body checked against the schema of `what`. */
  send<K extends keyof Answer>(what: K, method: 'GET' | 'POST' | 'PUT', path: string, body?: unknown): Promise<Answer[K]> {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    return new Promise((resolve, reject) => {
      const fail = (reason: string) => reject(new NodeUnreachableError(this.node, reason));
      const req = request(
        { host: this.#host, port: this.#port, path, method, agent: this.#agent, timeout: this.#timeoutMs, headers: payload !== undefined ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } : {} },
        (res) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (c: Buffer) => {
            size += c.length;
            if (size > MAX_BODY) {
              req.destroy();
              fail(`answer to ${method} ${path.split('?')[0]} larger than ${MAX_BODY} bytes`);
            } else chunks.push(c);
          });
          res.on('error', (e) => fail(e.message));
          res.on('end', () => {
            let parsed: unknown;
            try {
              parsed = JSON.parse(Buffer.concat(chunks).toString('utf8'));
            } catch {
              return fail(`answer to ${method} ${path.split('?')[0]} is not JSON (status ${res.statusCode})`);
            }
            const status = res.statusCode ?? 0;
            if (status >= 400) return reject(new NodeRefusedError(this.node, status, parsed));
            if (!validators[what](parsed)) return fail(`answer to ${method} ${path.split('?')[0]} is not of its shape: ${ajv.errorsText(validators[what].errors).slice(0, 200)}`);
            resolve(parsed as Answer[K]);
          });
        },
      );
      req.on('timeout', () => {
        req.destroy();
        fail(`no answer within ${this.#timeoutMs} ms`);
      });
      req.on('error', (e: Error & { code?: string }) => fail(e.code ?? e.message));
      if (payload !== undefined) req.write(payload);
      req.end();
    });
  }

  close(): void {
    this.#agent.destroy();
  }
}
