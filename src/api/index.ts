/**
 * @module api
 * The REST API of `tlsight serve` (Fastify 5): health, Prometheus metrics, stats, top
 * fingerprints, one fingerprint's details and user agents, event and session pages, the
 * token-authenticated NDJSON ingest, and the OpenAPI 3.1 document at `/api/v1/openapi.json`.
 *
 * @example
 * const api = buildApi({
 *   queries: store.queries,
 *   metrics: { sources: () => sources.stats.snapshot().sources, writer: () => store.writer.stats },
 *   ingest: collectorIngest,
 *   token: process.env.TLSIGHT_API_TOKEN,
 *   logger,
 * })
 * await api.listen({ port: 4000, host: '::' })
 */
export { apiRoutes, buildApi, RETRY_AFTER_S, STATUS_BY_CODE } from './server.ts'
export { DEFAULT_MAX_INGEST_BYTES } from './deps.ts'
export type { ApiDeps, IngestFunction, IngestOutcome } from './deps.ts'
export {
  collectMetrics,
  escapeLabelValue,
  formatValue,
  Histogram,
  LATENCY_BUCKETS_S,
  PROMETHEUS_CONTENT_TYPE,
  renderPrometheus,
  RequestMetrics,
} from './metrics.ts'
export type {
  HistogramSnapshot,
  Labels,
  MetricFamily,
  MetricsSource,
  Sample,
  SourceCountersView,
} from './metrics.ts'
export { openApiDocument, openApiPath, type OpenApiDocument } from './openapi.ts'
export { bearerMatches, requireToken } from './auth.ts'
export { INGEST_MEDIA_TYPES } from './routes/ingest.ts'
export { MAX_WINDOW_S, MINUTE_GRAIN_MAX_S, CLOCK_SKEW_ALLOWANCE_S } from './schemas.ts'
export type * from './contract.ts'
