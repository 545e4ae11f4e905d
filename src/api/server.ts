/**
 * @module api/server
 * `buildApi`: the Fastify instance of `tlsight serve`'s REST API. Every route has JSON schemas
 * (query and path validated, unknown parameters refused; answers serialized by schema), and
 * one error handler decides every error status from the `AppError` code: nothing else in the
 * API picks a status, and no answer carries a stack trace or a driver message.
 */
import Fastify, {
  LogController,
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
} from 'fastify'
import { AppError, type ErrorCode } from '../errors.ts'
import { DEFAULT_MAX_INGEST_BYTES, type ApiDeps, type RouteContext } from './deps.ts'
import { RequestMetrics } from './metrics.ts'
import { openApiDocument } from './openapi.ts'
import { eventSpecs, registerEventRoutes } from './routes/events.ts'
import {
  fingerprintSpecs,
  MAX_FINGERPRINT_CHARS,
  registerFingerprintRoutes,
} from './routes/fingerprints.ts'
import { ingestSpec, registerIngestRoute } from './routes/ingest.ts'
import { registerSystemRoutes, systemSpecs } from './routes/system.ts'
import type { RouteSpec } from './schemas.ts'

/** HTTP status per error code; a code not listed is a 500. */
export const STATUS_BY_CODE: Readonly<Partial<Record<ErrorCode, number>>> = {
  E_INVALID_ARGUMENT: 400,
  E_UNAUTHORIZED: 401,
  E_WRITE_DISABLED: 403,
  E_NOT_FOUND: 404,
  E_PAYLOAD_TOO_LARGE: 413,
  E_UNSUPPORTED_MEDIA_TYPE: 415,
  E_STORAGE_UNAVAILABLE: 503,
  E_STORE_BACKPRESSURE: 503,
  E_SPOOL_FULL: 503,
  E_WRITER_CLOSED: 503,
}

/** What a 5xx answer says instead of the error's own message (kept for the log). */
const PUBLIC_MESSAGES: Readonly<Partial<Record<ErrorCode, string>>> = {
  E_STORAGE_UNAVAILABLE: 'the store is unavailable; retry later',
  E_STORE_BACKPRESSURE: 'the store is falling behind; retry later',
  E_SPOOL_FULL: 'the store is unavailable and the spool is full; retry later',
  E_WRITER_CLOSED: 'the server is shutting down',
}

/** An error message may quote the request (a bad URL): it is cut here. */
const MAX_MESSAGE_CHARS = 512

/** Seconds a client is asked to wait after a 503. */
export const RETRY_AFTER_S = 5

/** The routes `buildApi` mounts (ingest only when given an ingest function). */
export function apiRoutes(withIngest: boolean): RouteSpec[] {
  return [...systemSpecs, ...fingerprintSpecs, ...eventSpecs, ...(withIngest ? [ingestSpec] : [])]
}

function isFastifyError(e: unknown): e is FastifyError {
  return (
    e instanceof Error &&
    typeof Reflect.get(e, 'code') === 'string' &&
    String(Reflect.get(e, 'code')).startsWith('FST_')
  )
}

/** Any failure as an AppError: ours as they are, Fastify's by their status, the rest internal. */
function asAppError(e: unknown): AppError {
  if (e instanceof AppError) return e
  if (isFastifyError(e)) {
    // Schema validation: the message names the parameter (`querystring/limit must be <= 1000`).
    if (e.validation !== undefined || e.statusCode === 400)
      return new AppError('E_INVALID_ARGUMENT', e.message, { cause: e })
    if (e.statusCode === 404) return new AppError('E_NOT_FOUND', e.message, { cause: e })
    if (e.statusCode === 413) return new AppError('E_PAYLOAD_TOO_LARGE', e.message, { cause: e })
    if (e.statusCode === 415)
      return new AppError('E_UNSUPPORTED_MEDIA_TYPE', e.message, { cause: e })
    if (e.statusCode !== undefined && e.statusCode >= 400 && e.statusCode < 500)
      return new AppError('E_INVALID_ARGUMENT', e.message, { cause: e })
  }
  return new AppError('E_INTERNAL', 'internal error', { cause: e })
}

/**
 * Builds the API (not listening: call `listen`, or `inject` in tests).
 * @example
 * const api = buildApi({ queries: store.queries, metrics, ingest, token: env.TLSIGHT_API_TOKEN })
 * await api.listen({ port: 4000, host: '::' })
 */
export function buildApi(deps: ApiDeps): FastifyInstance {
  const now = deps.now ?? Date.now
  const token = deps.token === '' ? undefined : deps.token
  const app: FastifyInstance = Fastify({
    ...(deps.logger === undefined ? { logger: false } : { loggerInstance: deps.logger }),
    // One line per failure from the error handler, none per request.
    logController: new LogController({ disableRequestLogging: true }),
    // A fingerprint in the path may be percent-encoded (3 characters per byte).
    routerOptions: { maxParamLength: MAX_FINGERPRINT_CHARS * 3 },
    // Unknown parameters are refused (400), not silently dropped.
    ajv: { customOptions: { removeAdditional: false, coerceTypes: true, useDefaults: true } },
    // No route parses a JSON body; ingest streams its own with its own limit.
    bodyLimit: 64 * 1024,
    frameworkErrors: function frameworkError(error, request, reply) {
      onError(error, request, reply)
    },
  })

  function onError(error: unknown, request: FastifyRequest, reply: FastifyReply): void {
    const e = asAppError(error)
    const status = STATUS_BY_CODE[e.code] ?? 500
    if (status >= 500) {
      const fields = { err: e.cause ?? e, code: e.code, route: request.routeOptions.url }
      if (status === 503) request.log.warn(fields, 'API request failed: store unavailable.')
      else request.log.error(fields, 'API request failed.')
    }
    if (status === 401) void reply.header('www-authenticate', 'Bearer realm="tlsight"')
    if (status === 503) void reply.header('retry-after', String(RETRY_AFTER_S))
    // A body left unread is not drained: the connection goes instead.
    const raw = request.raw
    const hasBody =
      raw.headers['transfer-encoding'] !== undefined ||
      Number(raw.headers['content-length'] ?? 0) > 0
    if (hasBody && !raw.complete) void reply.header('connection', 'close')
    const message =
      status >= 500
        ? (PUBLIC_MESSAGES[e.code] ?? 'internal error')
        : (e.message || e.code).slice(0, MAX_MESSAGE_CHARS)
    void reply.code(status).send({ error: { code: e.code, message } })
  }

  app.setErrorHandler(function errorHandler(error, request, reply) {
    onError(error, request, reply)
  })
  app.setNotFoundHandler(function notFound(request) {
    throw new AppError('E_NOT_FOUND', `no route ${request.method} ${request.url.split('?')[0]}`)
  })

  const requests = new RequestMetrics()
  app.addHook('onResponse', async function countRequest(request, reply) {
    const route = request.routeOptions.url ?? 'unmatched'
    requests.observe(route, request.method, reply.statusCode, reply.elapsedTime / 1000)
  })

  const ctx: RouteContext = { queries: deps.queries, metrics: deps.metrics, now }
  const document = openApiDocument(apiRoutes(deps.ingest !== undefined), {
    version: deps.version ?? 'v1',
  })
  registerSystemRoutes(app, {
    ...ctx,
    apiMetrics: () => requests.families(),
    openapi: () => document,
    startedMs: now(),
  })
  registerFingerprintRoutes(app, ctx)
  registerEventRoutes(app, ctx)
  if (deps.ingest !== undefined)
    registerIngestRoute(app, {
      ingest: deps.ingest,
      token: deps.ingestToken ?? token,
      setting: deps.ingestToken !== undefined ? 'TLSIGHT_INGEST_TOKEN' : 'TLSIGHT_API_TOKEN',
      maxBytes: deps.maxIngestBytes ?? DEFAULT_MAX_INGEST_BYTES,
    })
  return app
}
