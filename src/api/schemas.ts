/**
 * @module api/schemas
 * What every route is made of: its `RouteSpec` (method, URL, JSON schemas of the query, path
 * and responses), which the server registers with Fastify (validation, serialization) and
 * `openapi.ts` turns into the OpenAPI document, so the two cannot drift apart. Plus the shared
 * pieces: time windows, limits, the error body, event-page cursors.
 */
import { AppError } from '../errors.ts'
import { isoFromUs } from '../events/time.ts'
import type { EventCursor, Grain } from '../store/queries.ts'

/** A JSON Schema (the draft 2020-12 subset that Ajv and OpenAPI 3.1 both read). */
export type JsonSchema = Readonly<Record<string, unknown>>

export interface ObjectSchema {
  readonly type: 'object'
  readonly additionalProperties: false
  readonly required?: readonly string[]
  readonly properties: Readonly<Record<string, JsonSchema>>
}

export interface ResponseSpec {
  description: string
  schema: JsonSchema
  /** Default `application/json`; anything else is documented only (not serialized by schema). */
  contentType?: string
}

export interface RouteSpec {
  method: 'GET' | 'POST'
  /** Fastify syntax (`:fp`); the OpenAPI document shows `{fp}`. */
  url: string
  operationId: string
  summary: string
  description?: string
  tags: readonly string[]
  /** Needs `Authorization: Bearer <TLSIGHT_API_TOKEN>`. */
  auth?: boolean
  querystring: ObjectSchema
  params?: ObjectSchema
  /** A body read as a stream by the route (documented, not parsed by Fastify). */
  body?: { contentTypes: readonly string[]; description: string }
  responses: Readonly<Record<number, ResponseSpec>>
}

/** Longest window a query may span. */
export const MAX_WINDOW_S = 366 * 86_400
/** Windows up to this long are read from the per-minute rollup, longer ones per whole day. */
export const MINUTE_GRAIN_MAX_S = 2 * 86_400
/**
 * Windows end this far after now: events stamped a little ahead (a sensor's clock running fast)
 * are still in "the last hour".
 */
export const CLOCK_SKEW_ALLOWANCE_S = 60

const WINDOW_UNITS_S = { s: 1, m: 60, h: 3_600, d: 86_400 } as const

export function windowSchema(dflt: string): JsonSchema {
  return {
    type: 'string',
    pattern: '^[0-9]{1,8}[smhd]$',
    default: dflt,
    description:
      `How far back from now: a number and a unit (s, m, h, d), at most ${MAX_WINDOW_S / 86_400}d. ` +
      `The window ends ${CLOCK_SKEW_ALLOWANCE_S} s after now.`,
  }
}

export function limitSchema(dflt: number, max: number, what: string): JsonSchema {
  return { type: 'integer', minimum: 1, maximum: max, default: dflt, description: what }
}

/** The window a request asked for, resolved against the clock. */
export interface ResolvedWindow {
  from: string
  to: string
  seconds: number
}

function isWindowUnit(u: string): u is keyof typeof WINDOW_UNITS_S {
  return Object.hasOwn(WINDOW_UNITS_S, u)
}

/** `1h` → the hour before now (plus the clock-skew allowance); E_INVALID_ARGUMENT if out of range. */
export function resolveWindow(window: string, nowMs: number): ResolvedWindow {
  const m = /^([0-9]{1,8})([smhd])$/.exec(window)
  const unit = m?.[2] ?? ''
  if (m === null || !isWindowUnit(unit))
    throw new AppError('E_INVALID_ARGUMENT', `window: expected <number><s|m|h|d>, got ${window}`)
  const seconds = Number(m[1]) * WINDOW_UNITS_S[unit]
  if (seconds < 1 || seconds > MAX_WINDOW_S)
    throw new AppError(
      'E_INVALID_ARGUMENT',
      `window must be between 1s and ${MAX_WINDOW_S / 86_400}d, got ${window}`,
    )
  const nowUs = Math.floor(nowMs) * 1000
  return {
    from: isoFromUs(nowUs - seconds * 1e6),
    to: isoFromUs(nowUs + CLOCK_SKEW_ALLOWANCE_S * 1e6),
    seconds,
  }
}

export function grainFor(w: ResolvedWindow): Grain {
  return w.seconds <= MINUTE_GRAIN_MAX_S ? 'minute' : 'day'
}

export const windowResponseSchema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['from', 'to'],
  properties: {
    from: { type: 'string', format: 'date-time' },
    to: { type: 'string', format: 'date-time' },
  },
}

/** Body of every error answer; `code` is one of docs/errors.md. */
export const errorSchema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      additionalProperties: false,
      required: ['code', 'message'],
      properties: {
        code: { type: 'string', description: 'A stable code from docs/errors.md.' },
        message: { type: 'string' },
      },
    },
  },
}

const ERROR_DESCRIPTIONS: Readonly<Record<number, string>> = {
  400: 'A parameter is malformed, unknown or out of range (E_INVALID_ARGUMENT).',
  401: 'The bearer token is missing or wrong (E_UNAUTHORIZED).',
  403: 'Write APIs are off: no token is configured (E_WRITE_DISABLED).',
  404: 'Nothing at this path (E_NOT_FOUND).',
  413: 'The body is larger than the limit, compressed or not (E_PAYLOAD_TOO_LARGE).',
  415: 'The body is not NDJSON, or its encoding is neither gzip nor identity.',
  500: 'An internal error; the details are in the server log only (E_INTERNAL).',
  503: 'The store is unavailable or pushing back; retry after the Retry-After delay.',
}

/** Documented error answers of a route. */
export function errorResponses(...statuses: number[]): Record<number, ResponseSpec> {
  const out: Record<number, ResponseSpec> = {}
  for (const s of [...statuses, 500])
    out[s] = { description: ERROR_DESCRIPTIONS[s] ?? 'Error.', schema: errorSchema }
  return out
}

export const noQuery: ObjectSchema = { type: 'object', additionalProperties: false, properties: {} }

/** A page cursor as the API shows it: opaque, URL-safe. */
export function encodeCursor(c: EventCursor): string {
  return Buffer.from(JSON.stringify([c.ts, c.skip]), 'utf8').toString('base64url')
}

/** The cursor a previous page returned; E_INVALID_ARGUMENT for anything else. */
export function decodeCursor(s: string): EventCursor {
  const bad = () => new AppError('E_INVALID_ARGUMENT', 'cursor: not a cursor this API returned')
  let v: unknown
  try {
    v = JSON.parse(Buffer.from(s, 'base64url').toString('utf8'))
  } catch {
    throw bad()
  }
  if (!Array.isArray(v) || v.length !== 2) throw bad()
  const ts: unknown = v[0]
  const skip: unknown = v[1]
  if (typeof ts !== 'string' || !/^\d{4}-\d\d-\d\dT[\d:.]+Z$/.test(ts)) throw bad()
  if (typeof skip !== 'number' || !Number.isSafeInteger(skip) || skip < 0) throw bad()
  return { ts, skip }
}

/** The Fastify side of a spec: validation of query and path, serialization of JSON answers. */
export function fastifyRoute(spec: RouteSpec): {
  method: RouteSpec['method']
  url: string
  schema: {
    querystring: ObjectSchema
    params?: ObjectSchema
    response: Record<number, JsonSchema>
  }
} {
  const response: Record<number, JsonSchema> = {}
  for (const [status, r] of Object.entries(spec.responses))
    if (r.contentType === undefined) response[Number(status)] = r.schema
  return {
    method: spec.method,
    url: spec.url,
    schema: {
      querystring: spec.querystring,
      ...(spec.params === undefined ? {} : { params: spec.params }),
      response,
    },
  }
}
