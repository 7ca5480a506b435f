/**
 * The ETSI GS QKD 014 REST server (Ak): fastify over HTTPS with mutual TLS. TLS 1.2 at least, 1.3
 * when the client offers it (Node negotiates the highest common version); a client without a
 * certificate from the network CA does not complete the handshake (requestCert +
 * rejectUnauthorized). The SAE ID is the CN of the client certificate (OU=SAE); a valid network
 * certificate that is not one of this KME's SAEs gets 401.
 *
 *   GET  /api/v1/keys/{slave_SAE_ID}/status
 *   GET  /api/v1/keys/{slave_SAE_ID}/enc_keys?number=N&size=S
 *   POST /api/v1/keys/{slave_SAE_ID}/enc_keys        Key request
 *   GET  /api/v1/keys/{master_SAE_ID}/dec_keys?key_ID=ID
 *   POST /api/v1/keys/{master_SAE_ID}/dec_keys       Key IDs
 *
 * Every error is `{ message, details }` JSON with 400, 401 or 503 (404 off the API), mapped in
 * one place (errors.ts) and never a 5xx other than 503.
 */
import Fastify, { type FastifyError, type FastifyInstance } from 'fastify';
import type { TLSSocket } from 'node:tls';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { peerIdentity } from '../pki/identity.js';
import { ApiError, type ErrorDetail } from './errors.js';
import { Etsi014Service } from './etsi014.js';
import { parseKeyIdQuery, parseKeyIdsBody, parseKeyRequestBody, parseKeyRequestQuery, parseSaeId } from './request.js';
import { SCHEMAS } from './schemas.js';
import { publishAuth } from '../km/diagnostics.js';

export interface ApiTls {
  readonly key: string | Buffer;
  readonly cert: string | Buffer;
  readonly ca: string | Buffer;
}

export interface ApiServerOptions {
  readonly service: Etsi014Service;
  readonly tls: ApiTls;
  readonly host: string;
  readonly port: number;
  /** Largest request body accepted, bytes. */
  readonly bodyLimit?: number;
  /** Access log (pino): one line per request with the route pattern, never a query or a body. */
  readonly log?: Logger;
}

/** A server with its routes compiled, not yet bound to a key manager or listening. */
export interface PreparedApiServer {
  readonly app: FastifyInstance;
  /** Binds the service and listens; resolves once connections are accepted. */
  serve(service: Etsi014Service, host: string, port: number): Promise<FastifyInstance>;
}

declare module 'fastify' {
  interface FastifyRequest {
    sae: string;
  }
}

const identities = new WeakMap<object, string>();

function fromFastify(e: FastifyError): ApiError {
  if (e.validation) {
    const where = e.validationContext ?? 'request';
    const details: ErrorDetail[] = e.validation.slice(0, 8).map((v) => ({ parameter: `${where}${v.instancePath || ''}`, reason: v.message ?? 'invalid' }));
    return new ApiError(where === 'body' ? 'ERR_API_BAD_REQUEST' : 'ERR_API_INVALID_PARAMETER', `invalid ${where}`, details);
  }
  switch (e.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new ApiError('ERR_API_BODY_TOO_LARGE', 'the request body is too large');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new ApiError('ERR_API_UNSUPPORTED_MEDIA_TYPE', 'the request body must be application/json');
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new ApiError('ERR_API_BAD_REQUEST', 'the request body is not valid JSON');
  }
  if (e instanceof SyntaxError || (typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500)) return new ApiError('ERR_API_BAD_REQUEST', 'malformed request');
  return new ApiError('ERR_API_SERVICE_UNAVAILABLE', 'the KME could not complete the request', [{ reason: 'internal' }]);
}

export async function createApiServer(o: ApiServerOptions): Promise<FastifyInstance> {
  const prepared = await prepareApiServer(o);
  return prepared.serve(o.service, o.host, o.port);
}

/**
 * Builds the server (TLS context, routes, compiled schemas) ahead of the key manager: a standby
 * node does this before it takes over a data directory, so that failover only opens the store.
 */
export async function prepareApiServer(o: Omit<ApiServerOptions, 'service' | 'host' | 'port'>): Promise<PreparedApiServer> {
  let bound: Etsi014Service | null = null;
  const service = (): Etsi014Service => {
    if (!bound) throw new ApiError('ERR_API_SERVICE_UNAVAILABLE', 'the KME is starting');
    return bound;
  };
  const app = Fastify({
    https: { key: o.tls.key, cert: o.tls.cert, ca: o.tls.ca, requestCert: true, rejectUnauthorized: true, minVersion: 'TLSv1.2' },
    bodyLimit: o.bodyLimit ?? 64 * 1024,
    routerOptions: { maxParamLength: 128 },
    logger: false,
    return503OnClosing: true,
    forceCloseConnections: true,
    // Types are checked exactly: "number": "5" or true is a bad request, not a 5.
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, useDefaults: false, allErrors: false, allowUnionTypes: true } },
  });
  app.decorateRequest('sae', '');

  app.setErrorHandler((error: FastifyError, _req, reply) => {
    const e = error instanceof ApiError ? error : fromFastify(error);
    void reply.code(e.status).type('application/json').send(e.body());
  });
  app.setNotFoundHandler((_req, reply) => {
    const e = new ApiError('ERR_API_NOT_FOUND', 'not an ETSI GS QKD 014 path');
    void reply.code(e.status).type('application/json').send(e.body());
  });

  // Who is calling: resolved once per TLS connection, before anything is parsed.
  app.addHook('onRequest', async (req) => {
    const socket = req.raw.socket as TLSSocket;
    let sae = identities.get(socket);
    if (sae === undefined) {
      const who = peerIdentity(socket);
      try {
        sae = service().authenticate(who);
      } catch (e) {
        if (e instanceof ApiError && e.code === 'ERR_API_UNAUTHORIZED') {
          publishAuth({ node: bound?.km.nodeId ?? '', where: 'api', kind: 'certificate-refused', peer: who?.id ?? null, code: e.code, reason: who ? `${who.role} ${who.id} is not an SAE of this KME` : 'no usable certificate identity' });
        }
        throw e;
      }
      identities.set(socket, sae);
    }
    req.sae = sae;
  });
  // The route pattern and the caller, not the URL: a dec_keys query names key IDs.
  if (o.log) {
    const log = o.log;
    app.addHook('onResponse', async (req, reply) => {
      const who = req.sae || peerIdentity(req.raw.socket as TLSSocket)?.id || null;
      log.info({ access: 'key-api', method: req.method, route: req.routeOptions.url ?? 'unknown', status: reply.statusCode, ms: Math.round(reply.elapsedTime * 10) / 10, sae: who }, 'request');
    });
  }
  app.server.on('tlsClientError', (e: Error & { code?: string }) => {
    publishAuth({ node: bound?.km.nodeId ?? '', where: 'api', kind: 'tls-handshake', peer: null, code: e.code ?? 'ERR_TLS', reason: e.message.slice(0, 200) });
  });

  type P = { Params: { SAE_ID: string } };

  app.get<P>('/api/v1/keys/:SAE_ID/status', { schema: { params: SCHEMAS.params, response: { 200: SCHEMAS.status } } }, async (req) =>
    service().status(req.sae, parseSaeId(req.params.SAE_ID, 'slave_SAE_ID')),
  );

  app.get<P>('/api/v1/keys/:SAE_ID/enc_keys', { schema: { params: SCHEMAS.params, querystring: SCHEMAS.encQuery, response: { 200: SCHEMAS.keyContainer } } }, async (req) => {
    const slave = parseSaeId(req.params.SAE_ID, 'slave_SAE_ID');
    const svc = service();
    return svc.encKeys(req.sae, slave, parseKeyRequestQuery(req.query, svc.limits));
  });

  app.post<P>('/api/v1/keys/:SAE_ID/enc_keys', { schema: { params: SCHEMAS.params, body: SCHEMAS.keyRequest, response: { 200: SCHEMAS.keyContainer } } }, async (req) => {
    const slave = parseSaeId(req.params.SAE_ID, 'slave_SAE_ID');
    const svc = service();
    return svc.encKeys(req.sae, slave, parseKeyRequestBody(req.body, req.sae, slave, svc.limits));
  });

  app.get<P>('/api/v1/keys/:SAE_ID/dec_keys', { schema: { params: SCHEMAS.params, querystring: SCHEMAS.decQuery, response: { 200: SCHEMAS.keyContainer } } }, async (req) => {
    const master = parseSaeId(req.params.SAE_ID, 'master_SAE_ID');
    return service().decKeys(req.sae, master, parseKeyIdQuery(req.query));
  });

  app.post<P>('/api/v1/keys/:SAE_ID/dec_keys', { schema: { params: SCHEMAS.params, body: SCHEMAS.keyIds, response: { 200: SCHEMAS.keyContainer } } }, async (req) => {
    const master = parseSaeId(req.params.SAE_ID, 'master_SAE_ID');
    const svc = service();
    return svc.decKeys(req.sae, master, parseKeyIdsBody(req.body, svc.limits));
  });

  await app.ready();
  return {
    app,
    serve: async (svc, host, port) => {
      bound = svc;
      await app.listen({ host, port });
      return app;
    },
  };
}

export function apiPort(app: FastifyInstance): number {
  return (app.server.address() as AddressInfo).port;
}
