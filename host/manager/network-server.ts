/**
 * The network manager's API: the same operator-only mutual-TLS server, error shape and access log
 * as a node's management API (server.ts), over what the manager collected from every node.
 * README.md documents every route.
 *
 *   GET  /metrics                                Prometheus text format (network-metrics.ts)
 *   GET  /api/v1/health                          {manager, nodes: {reachable, unreachable, unknown}, alarms}
 *   GET  /api/v1/nodes                           each node's status
 *   GET  /api/v1/alarms?state=&node=&severity=&type=&limit=
 *   POST /api/v1/alarms/{node}/{id}/ack          acknowledged at the node that holds it
 *   GET  /api/v1/accounting?node=&dimension=&subject=&from=&to=&format=json|csv
 *   GET  /api/v1/performance                     {nodes: {N1: {at, qos}}}
 *   GET  /api/v1/links, /api/v1/stocks           per node
 */
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { DIMENSIONS, type Dimension } from './accounting.js';
import { SEVERITIES, type AlarmType, type Severity } from './alarms.js';
import { NetworkManager } from './network.js';
import type { NetworkMetrics } from './network-metrics.js';
import { ALARM_ID, DAY, LIMIT, operatorServer } from './server.js';

export interface NetworkServerOptions {
  readonly manager: NetworkManager;
  readonly metrics: NetworkMetrics;
  readonly tls: { readonly key: string | Buffer; readonly cert: string | Buffer; readonly ca: string | Buffer };
  readonly host: string;
  readonly port: number;
  readonly log?: Logger;
}

const NODE = { type: 'string', pattern: '^[A-Za-z0-9._~-]{1,64}$' } as const;

export async function createNetworkServer(o: NetworkServerOptions): Promise<FastifyInstance> {
  const m = o.manager;
  const app = operatorServer({ node: m.id, tls: o.tls, ...(o.log ? { log: o.log } : {}) });

  app.get('/metrics', async (_req, reply) => {
    void reply.type(o.metrics.contentType);
    return o.metrics.text();
  });
  app.get('/api/v1/health', async () => {
    const nodes = m.nodes();
    return {
      manager: m.id,
      nodes: { reachable: nodes.filter((n) => n.reachable === true).length, unreachable: nodes.filter((n) => n.reachable === false).length, unknown: nodes.filter((n) => n.reachable === null).length },
      alarms: m.activeBySeverity(),
      uptimeS: Math.round(process.uptime()),
    };
  });
  app.get('/api/v1/nodes', async () => ({ nodes: m.nodes() }));

  type AlarmsQ = { Querystring: { state?: 'active' | 'cleared' | 'all'; node?: string; severity?: Severity; type?: AlarmType; limit?: number } };
  app.get<AlarmsQ>(
    '/api/v1/alarms',
    {
      schema: {
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { state: { enum: ['active', 'cleared', 'all'] }, node: NODE, severity: { enum: [...SEVERITIES] }, type: { type: 'string', pattern: '^[a-z][a-z0-9-]{0,63}$' }, limit: LIMIT },
        },
      },
    },
    async (req) => ({ alarms: m.listAlarms({ state: req.query.state ?? 'active', limit: req.query.limit ?? 100, ...(req.query.node ? { node: req.query.node } : {}), ...(req.query.severity ? { severity: req.query.severity } : {}), ...(req.query.type ? { type: req.query.type } : {}) }) }),
  );
  app.post<{ Params: { node: string; id: string } }>(
    '/api/v1/alarms/:node/:id/ack',
    { schema: { params: { type: 'object', additionalProperties: false, required: ['node', 'id'], properties: { node: NODE, id: ALARM_ID.properties.id } } } },
    async (req) => m.acknowledge(req.params.node, req.params.id, req.operator),
  );

  app.get<{ Querystring: { node?: string; dimension?: Dimension; subject?: string; from?: string; to?: string; format?: 'json' | 'csv' } }>(
    '/api/v1/accounting',
    {
      schema: {
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { node: NODE, dimension: { enum: [...DIMENSIONS] }, subject: { type: 'string', minLength: 1, maxLength: 200 }, from: DAY, to: DAY, format: { enum: ['json', 'csv'] } },
        },
      },
    },
    async (req, reply) => {
      const { format, ...q } = req.query;
      const records = m.accounting(q);
      if (format === 'csv') {
        void reply.type('text/csv; charset=utf-8').header('content-disposition', `attachment; filename="accounting-${m.id}.csv"`);
        return NetworkManager.csv(records);
      }
      return { manager: m.id, records };
    },
  );
  app.get('/api/v1/performance', async () => ({ nodes: m.performance() }));
  app.get('/api/v1/links', async () => ({ nodes: m.links() }));
  app.get('/api/v1/stocks', async () => ({ nodes: m.stocks() }));

  await app.listen({ host: o.host, port: o.port });
  return app;
}
