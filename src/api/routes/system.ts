/**
 * @module api/routes/system
 * `GET /health`, `GET /metrics` (Prometheus text), `GET /api/v1/stats` and
 * `GET /api/v1/openapi.json`. None of them but stats touches the store: a scrape or a probe
 * costs counter reads only.
 */
import type { FastifyInstance } from 'fastify'
import type { StoreEventType } from '../../store/schema.ts'
import type { RouteContext } from '../deps.ts'
import {
  collectMetrics,
  PROMETHEUS_CONTENT_TYPE,
  renderPrometheus,
  type MetricFamily,
} from '../metrics.ts'
import {
  errorResponses,
  fastifyRoute,
  noQuery,
  type JsonSchema,
  type RouteSpec,
} from '../schemas.ts'

export interface SystemContext extends RouteContext {
  /** The API's own metric families (requests, latency). */
  apiMetrics: () => MetricFamily[]
  /** The OpenAPI document, built once. */
  openapi: () => Readonly<Record<string, unknown>>
  startedMs: number
}

export interface HealthResponse {
  /** `degraded` while the store refuses inserts (events go to the spool meanwhile). */
  status: 'ok' | 'degraded'
  store_available: boolean
  uptime_s: number
}

export const healthSpec: RouteSpec = {
  method: 'GET',
  url: '/health',
  operationId: 'health',
  summary: 'Liveness: answers 200 while the process serves, with the store state.',
  tags: ['system'],
  querystring: noQuery,
  responses: {
    200: {
      description: 'The process is up.',
      schema: {
        type: 'object',
        additionalProperties: false,
        required: ['status', 'store_available', 'uptime_s'],
        properties: {
          status: { type: 'string', enum: ['ok', 'degraded'] },
          store_available: { type: 'boolean' },
          uptime_s: { type: 'number', minimum: 0 },
        },
      },
    },
    ...errorResponses(400),
  },
}

export const metricsSpec: RouteSpec = {
  method: 'GET',
  url: '/metrics',
  operationId: 'metrics',
  summary: 'Prometheus metrics (text exposition format 0.0.4).',
  description:
    'Records received, accepted and dropped per input and reason; store writer outcomes, ' +
    'pending events, spool size and batch latency; correlator and capture counters when they ' +
    'run; API requests and latency per route.',
  tags: ['system'],
  querystring: noQuery,
  responses: {
    200: {
      description: 'Metrics as text.',
      schema: { type: 'string' },
      contentType: PROMETHEUS_CONTENT_TYPE,
    },
    ...errorResponses(400),
  },
}

const counts = (description: string): JsonSchema => ({
  type: 'object',
  description,
  additionalProperties: { type: 'integer', minimum: 0 },
})

export interface StatsResponse {
  stored: Record<StoreEventType, number>
  received: Record<string, number>
  dropped: Record<string, number>
  spool_bytes: number
}

export const statsSpec: RouteSpec = {
  method: 'GET',
  url: '/api/v1/stats',
  operationId: 'stats',
  summary: 'Stored events per type, records received per input, drops per reason, spool size.',
  tags: ['system'],
  querystring: noQuery,
  responses: {
    200: {
      description: 'Counts since the process started (stored: all in the store).',
      schema: {
        type: 'object',
        additionalProperties: false,
        required: ['stored', 'received', 'dropped', 'spool_bytes'],
        properties: {
          stored: {
            type: 'object',
            additionalProperties: false,
            required: ['tls', 'http', 'session'],
            properties: {
              tls: { type: 'integer', minimum: 0 },
              http: { type: 'integer', minimum: 0 },
              session: { type: 'integer', minimum: 0 },
            },
          },
          received: counts('Records received per input (udp, tcp, unix, ingest, capture…).'),
          dropped: counts(
            'Records dropped per reason, over every input; `store_rejected`: events the ' +
              'store refused, kept in spool/rejected/.',
          ),
          spool_bytes: { type: 'integer', minimum: 0 },
        },
      },
    },
    ...errorResponses(400, 503),
  },
}

export const openapiSpec: RouteSpec = {
  method: 'GET',
  url: '/api/v1/openapi.json',
  operationId: 'openapi',
  summary: 'This API as an OpenAPI 3.1 document.',
  tags: ['system'],
  querystring: noQuery,
  responses: {
    200: {
      description: 'The OpenAPI document.',
      schema: {
        type: 'object',
        additionalProperties: true,
        required: ['openapi'],
        properties: { openapi: { type: 'string' } },
      },
    },
    ...errorResponses(400),
  },
}

export const systemSpecs: readonly RouteSpec[] = [healthSpec, metricsSpec, statsSpec, openapiSpec]

export function registerSystemRoutes(app: FastifyInstance, ctx: SystemContext): void {
  app.route({
    ...fastifyRoute(healthSpec),
    handler: async function health(): Promise<HealthResponse> {
      const available = ctx.metrics.writer().store_available
      return {
        status: available ? 'ok' : 'degraded',
        store_available: available,
        uptime_s: Math.max(0, (ctx.now() - ctx.startedMs) / 1000),
      }
    },
  })

  app.route({
    ...fastifyRoute(metricsSpec),
    handler: async function metrics(_req, reply): Promise<string> {
      const text = renderPrometheus(collectMetrics(ctx.metrics, ctx.apiMetrics()))
      void reply.type(PROMETHEUS_CONTENT_TYPE)
      return text
    },
  })

  app.route({
    ...fastifyRoute(statsSpec),
    handler: async function stats(): Promise<StatsResponse> {
      const stored = await ctx.queries.countEvents()
      const received: Record<string, number> = {}
      const dropped: Record<string, number> = {}
      for (const [source, c] of Object.entries(ctx.metrics.sources())) {
        received[source] = c.received
        for (const [reason, n] of Object.entries(c.dropped))
          dropped[reason] = (dropped[reason] ?? 0) + n
      }
      const w = ctx.metrics.writer()
      dropped['store_rejected'] = (dropped['store_rejected'] ?? 0) + w.rejected
      return { stored, received, dropped, spool_bytes: w.spool_bytes }
    },
  })

  app.route({
    ...fastifyRoute(openapiSpec),
    handler: async function openapi() {
      return ctx.openapi()
    },
  })
}
