/**
 * @module api/deps
 * What `buildApi` is given (store reads, counters, the collector's ingest function, the token)
 * and what its routes share.
 */
import type { IncomingHttpHeaders } from 'node:http'
import type { Readable } from 'node:stream'
import type { FastifyBaseLogger } from 'fastify'
import type { StoreQueries } from '../store/queries.ts'
import type { MetricsSource } from './metrics.ts'

/** Default limit of an ingest body, as sent and after decompression. */
export const DEFAULT_MAX_INGEST_BYTES = 64 * 1024 * 1024

export interface IngestOutcome {
  /** Records read from the body (accepted or dropped). */
  received: number
  /** Events the sink accepted. */
  accepted: number
  /** Records dropped, per reason. */
  dropped: Record<string, number>
}

/**
 * The collector's body handling for `POST /api/v1/ingest`. `body` is the NDJSON itself: already
 * authenticated, gunzipped and held to the size limit (it errors when the limit is crossed).
 * `headers` are the request's without `authorization`, `content-encoding` and `content-length`
 * (those describe the wire, not `body`). Resolves once every record is accepted or dropped.
 */
export type IngestFunction = (
  body: Readable,
  headers: IncomingHttpHeaders,
) => Promise<IngestOutcome>

export interface ApiDeps {
  queries: StoreQueries
  metrics: MetricsSource
  /** Without it `POST /api/v1/ingest` is not mounted (404). */
  ingest?: IngestFunction
  /** `TLSIGHT_API_TOKEN`; without it write APIs answer 403. */
  token?: string
  /**
   * The token of `POST /api/v1/ingest` when it has its own (`TLSIGHT_INGEST_TOKEN`: senders of
   * logs need not hold the API's); empty turns ingest off (403). Default: `token`.
   */
  ingestToken?: string
  /** pino-compatible; without it the API logs nothing. */
  logger?: FastifyBaseLogger
  /** Milliseconds since the epoch (injected by tests). Default `Date.now`. */
  now?: () => number
  /** Default DEFAULT_MAX_INGEST_BYTES. */
  maxIngestBytes?: number
  /** Shown as the OpenAPI document's `info.version`. */
  version?: string
}

/** What route modules get from the server. */
export interface RouteContext {
  queries: StoreQueries
  metrics: MetricsSource
  now: () => number
}
