/**
 * The management API of a node: fastify over HTTPS with mutual TLS on the management port. Only
 * operator certificates of the network CA (OU=OPERATOR, `qkdn-edge pki issue --operator`) are
 * served; any other valid network certificate gets 401; a client without one does not complete
 * the handshake. JSON, errors `{ message, details: [{code}, ...] }` as on the key API; README.md
 * documents every route. Each request is written to the access log (pino): method, route pattern,
 * status, time and operator; never a body.
 *
 *   GET  /metrics                              Prometheus text format
 *   GET  /api/v1/health
 *   GET  /api/v1/alarms?state=&severity=&type=&limit=
 *   GET  /api/v1/alarms/{id}
 *   POST /api/v1/alarms/{id}/ack
 *   GET  /api/v1/config                        current version
 *   PUT  /api/v1/config                        {config, comment?, baseVersion?}
 *   GET  /api/v1/config/history
 *   GET  /api/v1/config/refusals               versions refused where they apply
 *   GET  /api/v1/config/versions/{version}
 *   GET  /api/v1/config/diff?from=&to=
 *   POST /api/v1/config/rollback               {version}
 *   GET  /api/v1/accounting?dimension=&subject=&from=&to=&format=json|csv
 *   GET  /api/v1/links
 *   POST /api/v1/links/{link}/service          {inService}: take a link out of service (OFF to routing) or back
 *   GET  /api/v1/stocks
 *   GET  /api/v1/performance                   Y.3807 QoS parameters and time series
 *   GET  /api/v1/diagnoses                     XLMO diagnoses and QCLM decisions
 *   GET  /api/v1/security/events
 *   GET  /api/v1/managers, PUT /api/v1/managers  {running}: pause or resume the per-layer managers
 */
import Fastify, { type FastifyError, type FastifyInstance } from 'fastify';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { Logger } from 'pino';
import { peerIdentity } from '../pki/identity.js';
import { publishAuth } from '../km/diagnostics.js';
import { Accounting, DIMENSIONS, type Dimension } from './accounting.js';
import { ALARM_TYPES, SEVERITIES, type AlarmType, type Severity } from './alarms.js';
import { ManagementError } from './errors.js';
import type { Management } from './management.js';
import type { ConfigurationManager } from './configuration.js';

export interface ManagementServerOptions {
  readonly management: Management;
  readonly tls: { readonly key: string | Buffer; readonly cert: string | Buffer; readonly ca: string | Buffer };
  readonly host: string;
  readonly port: number;
  readonly log?: Logger;
}

declare module 'fastify' {
  interface FastifyRequest {
    operator: string;
  }
}

const operators = new WeakMap<object, string>();

function fromFastify(e: FastifyError): ManagementError {
  if (e.validation) {
    const where = e.validationContext ?? 'request';
    return new ManagementError(
      where === 'body' ? 'ERR_MGMT_BAD_REQUEST' : 'ERR_MGMT_INVALID_PARAMETER',
      `invalid ${where}: ${e.validation.slice(0, 4).map((v) => `${where}${v.instancePath || ''} ${v.message ?? 'invalid'}`).join('; ')}`,
      e.validation.slice(0, 8).map((v) => ({ parameter: `${where}${v.instancePath || ''}`, reason: v.message ?? 'invalid' })),
    );
  }
  switch (e.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new ManagementError('ERR_MGMT_BAD_REQUEST', 'the request body is too large');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new ManagementError('ERR_MGMT_BAD_REQUEST', 'the request body must be application/json');
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new ManagementError('ERR_MGMT_BAD_REQUEST', 'the request body is not valid JSON');
  }
  if (typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) return new ManagementError('ERR_MGMT_BAD_REQUEST', `malformed request: ${e.message}`.slice(0, 300));
  return new ManagementError('ERR_MGMT_UNAVAILABLE', 'the node could not complete the request', [{ reason: 'internal' }]);
}

export const LIMIT = { type: 'integer', minimum: 1, maximum: 10_000 } as const;
export const DAY = { type: 'string', pattern: '^\\d{4}-\\d{2}-\\d{2}$' } as const;
export const ALARM_ID = { type: 'object', additionalProperties: false, required: ['id'], properties: { id: { type: 'string', pattern: '^[0-9]{14}-[0-9]{6}$' } } } as const;

export interface OperatorServerOptions {
  /** Who serves (a node, or the network's manager): named in the security events of refusals. */
  readonly node: string;
  readonly tls: { readonly key: string | Buffer; readonly cert: string | Buffer; readonly ca: string | Buffer };
  readonly log?: Logger;
}

/**
 * A fastify app on HTTPS with mutual TLS that serves operator certificates only, with the
 * management API's error shape and access log: the node's management API and the network
 * manager's (network-server.ts) are both built on it. Routes are added by the caller, then listen().
 */
export function operatorServer(o: OperatorServerOptions): FastifyInstance {
  const app = Fastify({
    https: { key: o.tls.key, cert: o.tls.cert, ca: o.tls.ca, requestCert: true, rejectUnauthorized: true, minVersion: 'TLSv1.2' },
    bodyLimit: 256 * 1024,
    logger: false,
    return503OnClosing: true,
    forceCloseConnections: true,
    ajv: { customOptions: { coerceTypes: true, removeAdditional: false, useDefaults: true, allErrors: false } },
  });
  app.decorateRequest('operator', '');

  app.setErrorHandler((error: FastifyError, _req, reply) => {
    const e = error instanceof ManagementError ? error : fromFastify(error);
    void reply.code(e.status).type('application/json').send(e.body());
  });
  app.setNotFoundHandler((_req, reply) => {
    const e = new ManagementError('ERR_MGMT_NOT_FOUND', 'not a management API path');
    void reply.code(e.status).type('application/json').send(e.body());
  });

  app.addHook('onRequest', async (req) => {
    const socket = req.raw.socket as TLSSocket;
    let who = operators.get(socket);
    if (who === undefined) {
      const id = peerIdentity(socket);
      if (!id || id.role !== 'OPERATOR') {
        publishAuth({ node: o.node, where: 'api', kind: 'certificate-refused', peer: id?.id ?? null, code: 'ERR_MGMT_UNAUTHORIZED', reason: `management API: ${id ? `${id.role} ${id.id}` : 'an unidentified client'} is not an operator` });
        throw new ManagementError('ERR_MGMT_UNAUTHORIZED', 'the client certificate is not an operator certificate of this network');
      }
      who = id.id;
      operators.set(socket, who);
    }
    req.operator = who;
  });
  app.server.on('tlsClientError', (e: Error & { code?: string }) => {
    publishAuth({ node: o.node, where: 'api', kind: 'tls-handshake', peer: null, code: e.code ?? 'ERR_TLS', reason: `management API: ${e.message}`.slice(0, 200) });
  });
  // Access log: the route pattern, not the URL (no query strings, no IDs from paths).
  app.addHook('onResponse', async (req, reply) => {
    o.log?.info({ access: 'management', method: req.method, route: req.routeOptions.url ?? 'unknown', status: reply.statusCode, ms: Math.round(reply.elapsedTime * 10) / 10, operator: req.operator || null }, 'request');
  });
  return app;
}

/** The configuration routes (versions, history, diff, put, rollback, refusals) over `c`: a node's, or the network manager's. */
export function configRoutes(app: FastifyInstance, c: ConfigurationManager): void {
  app.get('/api/v1/config', async () => c.current());
  app.get('/api/v1/config/history', async () => ({ versions: c.history().map(({ config: _c, ...v }) => v) }));
  app.get('/api/v1/config/refusals', async () => ({ refusals: c.refusals() }));
  const VERSION = { type: 'integer', minimum: 1, maximum: 1_000_000_000 } as const;
  app.get<{ Params: { version: number } }>('/api/v1/config/versions/:version', { schema: { params: { type: 'object', required: ['version'], properties: { version: VERSION } } } }, async (req) => c.get(req.params.version));
  app.get<{ Querystring: { from: number; to?: number } }>(
    '/api/v1/config/diff',
    { schema: { querystring: { type: 'object', additionalProperties: false, required: ['from'], properties: { from: VERSION, to: VERSION } } } },
    async (req) => {
      const to = req.query.to ?? c.current().version;
      return { from: req.query.from, to, changes: c.diff(req.query.from, to) };
    },
  );
  app.put<{ Body: { config: unknown; comment?: string; baseVersion?: number } }>(
    '/api/v1/config',
    { schema: { body: { type: 'object', additionalProperties: false, required: ['config'], properties: { config: { type: 'object' }, comment: { type: 'string', maxLength: 500 }, baseVersion: VERSION } } } },
    async (req) => c.put(req.body.config, req.operator, req.body.comment ?? '', req.body.baseVersion),
  );
  app.post<{ Body: { version: number } }>(
    '/api/v1/config/rollback',
    { schema: { body: { type: 'object', additionalProperties: false, required: ['version'], properties: { version: VERSION } } } },
    async (req) => c.rollback(req.body.version, req.operator),
  );
}

export async function createManagementServer(o: ManagementServerOptions): Promise<FastifyInstance> {
  const m = o.management;
  const app = operatorServer({ node: m.node, tls: o.tls, ...(o.log ? { log: o.log } : {}) });

  app.get('/metrics', async (_req, reply) => {
    void reply.type(m.metrics.contentType);
    return m.metrics.text();
  });

  app.get('/api/v1/health', async () => ({ node: m.node, zeroized: m.zeroized, alarms: m.xlmo.activeBySeverity(), uptimeS: Math.round(process.uptime()) }));

  type AlarmsQ = { Querystring: { state?: 'active' | 'cleared' | 'all'; severity?: Severity; type?: AlarmType; limit?: number } };
  app.get<AlarmsQ>(
    '/api/v1/alarms',
    {
      schema: {
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { state: { enum: ['active', 'cleared', 'all'] }, severity: { enum: [...SEVERITIES] }, type: { enum: Object.keys(ALARM_TYPES) }, limit: LIMIT },
        },
      },
    },
    async (req) => ({ alarms: m.alarms.list({ state: req.query.state ?? 'active', ...(req.query.severity ? { severity: req.query.severity } : {}), ...(req.query.type ? { type: req.query.type } : {}), limit: req.query.limit ?? 100 }) }),
  );

  type IdP = { Params: { id: string } };
  app.get<IdP>('/api/v1/alarms/:id', { schema: { params: ALARM_ID } }, async (req) => {
    const a = m.alarms.get(req.params.id);
    if (!a) throw new ManagementError('ERR_MGMT_NOT_FOUND', `no alarm ${req.params.id}`);
    return a;
  });
  app.post<IdP>('/api/v1/alarms/:id/ack', { schema: { params: ALARM_ID } }, async (req) => m.alarms.acknowledge(req.params.id, req.operator));

  configRoutes(app, m.configuration);

  app.get<{ Querystring: { dimension?: Dimension; subject?: string; from?: string; to?: string; format?: 'json' | 'csv' } }>(
    '/api/v1/accounting',
    {
      schema: {
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { dimension: { enum: [...DIMENSIONS] }, subject: { type: 'string', minLength: 1, maxLength: 200 }, from: DAY, to: DAY, format: { enum: ['json', 'csv'] } },
        },
      },
    },
    async (req, reply) => {
      const { format, ...q } = req.query;
      const records = m.accounting.records(q);
      if (format === 'csv') {
        void reply.type('text/csv; charset=utf-8').header('content-disposition', `attachment; filename="accounting-${m.node}.csv"`);
        return Accounting.csv(records);
      }
      return { node: m.node, records };
    },
  );

  app.get('/api/v1/links', async () => ({ links: m.qlm.links() }));
  app.post<{ Params: { link: string }; Body: { inService: boolean } }>(
    '/api/v1/links/:link/service',
    { schema: { params: { type: 'object', required: ['link'], properties: { link: { type: 'string', minLength: 1, maxLength: 128 } } }, body: { type: 'object', additionalProperties: false, required: ['inService'], properties: { inService: { type: 'boolean' } } } } },
    async (req) => {
      const s = m.linkService;
      if (!s) throw new ManagementError('ERR_MGMT_UNAVAILABLE', 'this node runs no control layer: its links are always in service');
      if (!(await s.setInService(req.params.link, req.body.inService))) throw new ManagementError('ERR_MGMT_NOT_FOUND', `${req.params.link} is not a link of this node`);
      o.log?.warn({ link: req.params.link, inService: req.body.inService, operator: req.operator }, 'link service changed');
      return { link: req.params.link, inService: s.inService(req.params.link) };
    },
  );
  app.get('/api/v1/stocks', async () => ({ stocks: m.kmlm.stocks() }));
  app.get<{ Querystring: { series?: string; since?: number } }>(
    '/api/v1/performance',
    { schema: { querystring: { type: 'object', additionalProperties: false, properties: { series: { type: 'string', pattern: '^[a-z_]{1,64}$' }, since: { type: 'integer', minimum: 0 } } } } },
    async (req) => ({ qos: m.qos.compute(), series: req.query.series ? m.series.query(req.query.series, req.query.since ?? 0) : m.series.names() }),
  );
  app.get('/api/v1/diagnoses', async () => ({ diagnoses: m.xlmo.diagnoses(), decisions: m.qclm.decisions() }));
  app.get('/api/v1/security/events', async () => ({ events: m.security.events() }));
  app.get('/api/v1/managers', async () => ({ running: m.running }));
  app.put<{ Body: { running: boolean } }>('/api/v1/managers', { schema: { body: { type: 'object', additionalProperties: false, required: ['running'], properties: { running: { type: 'boolean' } } } } }, async (req) => {
    m.setRunning(req.body.running);
    o.log?.warn({ running: req.body.running, operator: req.operator }, 'managers paused or resumed');
    return { running: m.running };
  });

  await app.listen({ host: o.host, port: o.port });
  return app;
}

export function managementPort(app: FastifyInstance): number {
  return (app.server.address() as AddressInfo).port;
}
