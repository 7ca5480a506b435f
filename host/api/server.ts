/**
 * The ETSI GS QKD 014 REST server (Ak): fastify over HTTPS with mutual TLS. TLS 1.2 at least, 1.3
 * when the client offers it (Node negotiates the highest common version). The SAE ID is the CN of
 * the client certificate (OU=SAE), verified against the network CA; a client with no, a foreign,
 * an expired or a not yet valid certificate, or a network certificate that is not one of this
 * KME's SAEs, gets 401 naming the reason (and the TLS alert that names it) on every request.
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
import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply } from 'fastify';
import rateLimit from '@fastify/rate-limit';
import type { TLSSocket } from 'node:tls';
import type { AddressInfo, Socket } from 'node:net';
import type { Logger } from 'pino';
import { certificateRefusal, peerIdentity } from '../pki/identity.js';
import { ApiError, type ErrorDetail } from './errors.js';
import { API_CHANNELS, RefusalLog, type ClientRefusedEvent, type RateLimitedEvent } from './diagnostics.js';
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
  /** Requests each SAE may send per window (default 2000 per second); `false`: no limit. */
  readonly rateLimit?: ApiRateLimit | false;
  /** Access log (pino): one line per request with the route pattern, never a query or a body. */
  readonly log?: Logger;
}

export interface ApiRateLimit {
  readonly max: number;
  readonly windowMs: number;
}

const DEFAULT_RATE_LIMIT: ApiRateLimit = { max: 2000, windowMs: 1000 };

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

/** Per TLS connection: the SAE it is, or the refusal it gets on every request. */
const identities = new WeakMap<object, string | ApiError>();

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

/** An ETSI error as the response; a 503 says when to retry. */
function sendError(reply: FastifyReply, e: ApiError): void {
  if (e.status === 503) void reply.header('retry-after', String(e.retryAfterS ?? 1));
  void reply.code(e.status).type('application/json').send(e.body());
}

/**
 * Requests Node's HTTP parser refuses before fastify sees them (headers too large, not HTTP, too
 * slow): the same error body, written on the socket, which is then closed.
 */
function clientError(err: Error & { code?: string }, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const e =
    err.code === 'HPE_HEADER_OVERFLOW'
      ? new ApiError('ERR_API_HEADERS_TOO_LARGE', 'the request headers are too large')
      : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? new ApiError('ERR_API_BAD_REQUEST', 'the request did not arrive in time', [{ reason: 'timeout' }])
        : new ApiError('ERR_API_BAD_REQUEST', 'not a valid HTTP/1.1 request');
  const body = JSON.stringify(e.body());
  if (socket.writable) socket.write(`HTTP/1.1 ${e.status} Bad Request\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
  socket.destroy();
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
    // rejectUnauthorized off: the certificate is still verified (socket.authorized), but a refusal
    // is answered with its reason (identify below) instead of a silent close.
    https: { key: o.tls.key, cert: o.tls.cert, ca: o.tls.ca, requestCert: true, rejectUnauthorized: false, minVersion: 'TLSv1.2' },
    bodyLimit: o.bodyLimit ?? 64 * 1024,
    routerOptions: { maxParamLength: 128 },
    logger: false,
    // fastify's own answer while closing has its own body: ours is given by the hook below.
    return503OnClosing: false,
    forceCloseConnections: true,
    clientErrorHandler: clientError,
    // Refusals the router makes before any route or hook (a path segment too long or not
    // percent-decodable): the SAE ID in the path is what is wrong.
    frameworkErrors: (error, _req, reply) => {
      const reason = error.code === 'FST_ERR_MAX_PARAM_LENGTH' ? 'longer than 64 characters' : 'not a valid URL component';
      sendError(reply, new ApiError('ERR_API_INVALID_PARAMETER', `invalid SAE_ID: ${reason}`, [{ parameter: 'SAE_ID', reason }]));
    },
    // Types are checked exactly: "number": "5" or true is a bad request, not a 5.
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, useDefaults: false, allErrors: false, allowUnionTypes: true } },
  });
  app.decorateRequest('sae', '');
  // Only JSON bodies: without this, fastify parses text/plain itself and the schema then refuses
  // the string as a bad request instead of an unsupported media type.
  app.removeContentTypeParser('text/plain');

  app.setErrorHandler((error: FastifyError, _req, reply) => sendError(reply, error instanceof ApiError ? error : fromFastify(error)));
  app.setNotFoundHandler((_req, reply) => sendError(reply, new ApiError('ERR_API_NOT_FOUND', 'not an ETSI GS QKD 014 path')));

  const refusals = new RefusalLog<ClientRefusedEvent>(API_CHANNELS.clientRefused);
  /**
   * The caller's SAE ID, or its 401. Node's TLS layer verifies the client certificate itself but,
   * when it fails, closes the connection without an alert (curl: "empty reply"); the handshake
   * is therefore completed and the first request answered with the reason and the TLS alert that
   * names it (certificate_required, unknown_ca, certificate_expired, bad_certificate).
   */
  const identify = (socket: TLSSocket): string | ApiError => {
    const refusal = certificateRefusal(socket);
    if (refusal) {
      const cert = refusal.reason === 'NO_CERTIFICATE' ? undefined : socket.getPeerCertificate();
      const subject = cert ? `CN=${String(cert.subject?.CN ?? '')}, OU=${String(cert.subject?.OU ?? '')}` : undefined;
      refusals.refused(refusal.reason, (refused) => ({ node: bound?.km.nodeId ?? '', reason: refusal.reason, alert: refusal.alert, ...(subject ? { subject } : {}), refused }));
      publishAuth({ node: bound?.km.nodeId ?? '', where: 'api', kind: 'certificate-refused', peer: null, code: refusal.reason, reason: `${refusal.text}${subject ? ` (${subject})` : ''}`.slice(0, 200) });
      return new ApiError('ERR_API_UNAUTHORIZED', refusal.text, [{ reason: refusal.reason, tls_alert: refusal.alert }]);
    }
    const who = peerIdentity(socket);
    try {
      return service().authenticate(who);
    } catch (e) {
      if (e instanceof ApiError && e.code === 'ERR_API_UNAUTHORIZED') {
        publishAuth({ node: bound?.km.nodeId ?? '', where: 'api', kind: 'certificate-refused', peer: who?.id ?? null, code: e.code, reason: who ? `${who.role} ${who.id} is not an SAE of this KME` : 'no usable certificate identity' });
        return e;
      }
      throw e;
    }
  };

  // The route pattern and the caller, not the URL: a dec_keys query names key IDs.
  if (o.log) {
    const log = o.log;
    app.addHook('onResponse', async (req, reply) => {
      const who = req.sae || peerIdentity(req.raw.socket as TLSSocket)?.id || null;
      log.info({ access: 'key-api', method: req.method, route: req.routeOptions.url ?? 'unknown', status: reply.statusCode, ms: Math.round(reply.elapsedTime * 10) / 10, sae: who }, 'request');
    });
  }

  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  // Who is calling: resolved once per TLS connection, before anything is parsed.
  app.addHook('onRequest', async (req, reply) => {
    if (closing) {
      void reply.header('connection', 'close');
      throw new ApiError('ERR_API_SERVICE_UNAVAILABLE', 'the KME is shutting down', [], 1);
    }
    const socket = req.raw.socket as TLSSocket;
    let sae = identities.get(socket);
    if (sae === undefined) {
      sae = identify(socket);
      identities.set(socket, sae);
    }
    if (sae instanceof ApiError) {
      void reply.header('connection', 'close');
      throw sae;
    }
    req.sae = sae;
  });

  // Per SAE, after it is identified (so one SAE's retry loop cannot starve the others).
  const limit = o.rateLimit === undefined ? DEFAULT_RATE_LIMIT : o.rateLimit;
  const rateLog = new RefusalLog<RateLimitedEvent>(API_CHANNELS.rateLimited);
  if (limit) {
    await app.register(rateLimit, {
      max: limit.max,
      timeWindow: limit.windowMs,
      hook: 'preParsing',
      keyGenerator: (req) => req.sae,
      addHeadersOnExceeding: { 'x-ratelimit-limit': false, 'x-ratelimit-remaining': false, 'x-ratelimit-reset': false },
      addHeaders: { 'x-ratelimit-limit': false, 'x-ratelimit-remaining': false, 'x-ratelimit-reset': false, 'retry-after': false },
      onExceeded: (req) => rateLog.refused(req.sae, (refused) => ({ node: bound?.km.nodeId ?? '', sae: req.sae, refused })),
      errorResponseBuilder: (_req, ctx) => new ApiError('ERR_API_RATE_LIMITED', `more than ${ctx.max} requests in ${limit.windowMs} ms from this SAE`, [{ limit: ctx.max, window_ms: limit.windowMs }], Math.max(1, Math.ceil(ctx.ttl / 1000))),
    });
  }

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
