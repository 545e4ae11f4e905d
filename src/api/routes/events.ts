/**
 * @module api/routes/events
 * `GET /api/v1/events` (tls, http or session events) and `GET /api/v1/sessions`: filtered,
 * newest first, paginated by an opaque `cursor` (stable while new events arrive) or an `offset`.
 */
import type { FastifyInstance } from 'fastify'
import { AppError } from '../../errors.ts'
import {
  EVENT_FINGERPRINT_COLUMNS,
  MAX_OFFSET_EVENTS,
  MAX_PAGE_EVENTS,
  type EventFilter,
} from '../../store/queries.ts'
import { STORE_EVENT_TYPES, type StoredEvent, type StoreEventType } from '../../store/schema.ts'
import type { RouteContext } from '../deps.ts'
import {
  decodeCursor,
  encodeCursor,
  errorResponses,
  fastifyRoute,
  limitSchema,
  resolveWindow,
  windowResponseSchema,
  windowSchema,
  type JsonSchema,
  type ObjectSchema,
  type RouteSpec,
} from '../schemas.ts'

/**
 * An event as the store returns it. NOTE: the OpenAPI document shows the event schemas of
 * `src/events` here (openapi.ts recognises this object); Fastify only passes the object through.
 */
export const EVENT_ITEM_SCHEMA: JsonSchema = {
  type: 'object',
  additionalProperties: true,
  required: ['type', 'ts'],
  properties: { type: { type: 'string', enum: STORE_EVENT_TYPES }, ts: { type: 'string' } },
}

const text = (maxLength: number, description: string): JsonSchema => ({
  type: 'string',
  minLength: 1,
  maxLength,
  description,
})

const filterProperties: Readonly<Record<string, JsonSchema>> = {
  window: windowSchema('24h'),
  src_ip: text(64, 'Client address, exactly as stored (`2001:db8::1`, `192.0.2.1`).'),
  sensor: text(256, 'Sensor name (NODE_NAME of the capturing or collecting process).'),
  host: text(256, 'SNI for tls events, Host for http events, either for sessions.'),
  fingerprint: text(2048, 'A fingerprint value; its column is `family`.'),
  family: {
    type: 'string',
    enum: EVENT_FINGERPRINT_COLUMNS,
    description: 'Column of `fingerprint`; default ja4 (ja4h for http events).',
  },
  limit: limitSchema(100, MAX_PAGE_EVENTS, 'Events per page.'),
  offset: {
    type: 'integer',
    minimum: 0,
    maximum: MAX_OFFSET_EVENTS,
    description: 'Events to skip; prefer `cursor`, which does not shift as events arrive.',
  },
  cursor: {
    type: 'string',
    minLength: 1,
    maxLength: 256,
    pattern: '^[A-Za-z0-9_-]+$',
    description: '`next_cursor` of the previous page. Not with `offset`.',
  },
}

const pageSchema = (description: string): JsonSchema => ({
  type: 'object',
  additionalProperties: false,
  required: ['type', 'window', 'events', 'has_more', 'next_cursor'],
  properties: {
    type: { type: 'string', enum: STORE_EVENT_TYPES },
    window: windowResponseSchema,
    events: { type: 'array', description, items: EVENT_ITEM_SCHEMA },
    has_more: { type: 'boolean' },
    next_cursor: {
      type: ['string', 'null'],
      description: 'Pass as `cursor` for the next page; null on the last one.',
    },
  },
})

export interface EventsQuery {
  type: StoreEventType
  window: string
  src_ip?: string
  sensor?: string
  host?: string
  user_agent?: string
  fingerprint?: string
  family?: string
  limit: number
  offset?: number
  cursor?: string
}

export type SessionsQuery = Omit<EventsQuery, 'type'>

export interface EventPageResponse {
  type: StoreEventType
  window: { from: string; to: string }
  events: StoredEvent[]
  has_more: boolean
  next_cursor: string | null
}

const eventsQuery: ObjectSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    type: {
      type: 'string',
      enum: STORE_EVENT_TYPES,
      default: 'tls',
      description: 'Which events: handshakes, requests or sessions (the two joined).',
    },
    ...filterProperties,
    user_agent: text(1024, 'User agent, exactly (http and session events only).'),
  },
}

export const eventsSpec: RouteSpec = {
  method: 'GET',
  url: '/api/v1/events',
  operationId: 'listEvents',
  summary: 'Stored events of one type, filtered, newest first, one page at a time.',
  tags: ['events'],
  querystring: eventsQuery,
  responses: {
    200: { description: 'One page of events.', schema: pageSchema('Events, newest first.') },
    ...errorResponses(400, 503),
  },
}

export const sessionsSpec: RouteSpec = {
  method: 'GET',
  url: '/api/v1/sessions',
  operationId: 'listSessions',
  summary: 'Sessions (a handshake joined to a request made on it), filtered, newest first.',
  tags: ['events'],
  querystring: {
    type: 'object',
    additionalProperties: false,
    properties: {
      ...filterProperties,
      user_agent: text(1024, 'User agent of the request, exactly.'),
    },
  },
  responses: {
    200: {
      description: 'One page of sessions.',
      schema: pageSchema('Session events, newest first.'),
    },
    ...errorResponses(400, 503),
  },
}

export const eventSpecs: readonly RouteSpec[] = [eventsSpec, sessionsSpec]

function filterOf(type: StoreEventType, q: SessionsQuery): EventFilter {
  const f: EventFilter = {}
  if (q.src_ip !== undefined) f.src_ip = q.src_ip
  if (q.sensor !== undefined) f.sensor = q.sensor
  if (q.host !== undefined) f.host = q.host
  if (q.user_agent !== undefined) f.user_agent = q.user_agent
  if (q.fingerprint !== undefined)
    f.fingerprint = { family: q.family ?? (type === 'http' ? 'ja4h' : 'ja4'), value: q.fingerprint }
  else if (q.family !== undefined)
    throw new AppError('E_INVALID_ARGUMENT', 'family selects the column of fingerprint: give both')
  return f
}

async function page(
  ctx: RouteContext,
  type: StoreEventType,
  q: SessionsQuery,
): Promise<EventPageResponse> {
  const w = resolveWindow(q.window, ctx.now())
  if (q.cursor !== undefined && q.offset !== undefined)
    throw new AppError('E_INVALID_ARGUMENT', 'cursor and offset cannot be combined')
  const result = await ctx.queries.listEvents({
    type,
    from: w.from,
    to: w.to,
    filter: filterOf(type, q),
    limit: q.limit,
    ...(q.offset === undefined ? {} : { offset: q.offset }),
    ...(q.cursor === undefined ? {} : { cursor: decodeCursor(q.cursor) }),
  })
  return {
    type,
    window: { from: w.from, to: w.to },
    events: result.events,
    has_more: result.has_more,
    next_cursor: result.next_cursor === null ? null : encodeCursor(result.next_cursor),
  }
}

export function registerEventRoutes(app: FastifyInstance, ctx: RouteContext): void {
  app.route<{ Querystring: EventsQuery }>({
    ...fastifyRoute(eventsSpec),
    handler: async function listEvents(req): Promise<EventPageResponse> {
      const { type, ...rest } = req.query
      return page(ctx, type, rest)
    },
  })
  app.route<{ Querystring: SessionsQuery }>({
    ...fastifyRoute(sessionsSpec),
    handler: async function listSessions(req): Promise<EventPageResponse> {
      return page(ctx, 'session', req.query)
    },
  })
}
