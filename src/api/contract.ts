/**
 * @module api/contract
 * The API's request and response types, for clients in TypeScript (the dashboard imports this
 * module type-only). The wire shapes are the route schemas; these types mirror them.
 */
export type {
  FingerprintQuery,
  FingerprintResponse,
  TopQuery,
  TopResponse,
  UserAgentsQuery,
  UserAgentsResponse,
} from './routes/fingerprints.ts'
export type { EventPageResponse, EventsQuery, SessionsQuery } from './routes/events.ts'
export type { HealthResponse, StatsResponse } from './routes/system.ts'
export type { IngestOutcome as IngestResponse } from './deps.ts'
export type {
  DimensionValue,
  FingerprintSummary,
  TimelinePoint,
  UserAgentBreakdown,
} from '../store/queries.ts'

/** Body of every error answer; `code` is one of docs/errors.md. */
export interface ErrorResponse {
  error: { code: string; message: string }
}
