/**
 * @module api/routes/fingerprints
 * `GET /api/v1/fingerprints/top`, `GET /api/v1/fingerprints/:fp` (totals, counts over time,
 * client addresses, hosts, user agents) and `GET /api/v1/fingerprints/:fp/user-agents`.
 * Counts come from the per-minute rollup for windows up to two days, per whole day beyond.
 */
import type { FastifyInstance } from 'fastify'
import { AppError } from '../../errors.ts'
import {
  MAX_TOP_FINGERPRINTS,
  ROLLUP_FAMILIES,
  type DimensionValue,
  type FingerprintSummary,
  type Grain,
  type RollupFamily,
  type TimelinePoint,
  type UserAgentBreakdown,
} from '../../store/queries.ts'
import type { RouteContext } from '../deps.ts'
import {
  errorResponses,
  fastifyRoute,
  grainFor,
  limitSchema,
  resolveWindow,
  windowResponseSchema,
  windowSchema,
  type JsonSchema,
  type ObjectSchema,
  type RouteSpec,
} from '../schemas.ts'

/** Longest fingerprint accepted in a path (JA4 is 36 characters, JA4T a few dozen). */
export const MAX_FINGERPRINT_CHARS = 256

const familySchema: JsonSchema = {
  type: 'string',
  enum: ROLLUP_FAMILIES,
  default: 'ja4',
  description: 'Fingerprint family (those the store rolls up).',
}

const count = { type: 'integer', minimum: 0 } as const
const time = { type: 'string', format: 'date-time' } as const
const grainSchema: JsonSchema = {
  type: 'string',
  enum: ['minute', 'day'],
  description: 'Rollup the counts come from: per minute up to a 2-day window, per day beyond.',
}

const summarySchema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['fingerprint', 'events', 'src_ips', 'hosts', 'user_agents', 'first_seen', 'last_seen'],
  properties: {
    fingerprint: { type: 'string' },
    events: count,
    src_ips: { ...count, description: 'Distinct client addresses (estimate).' },
    hosts: { ...count, description: 'Distinct SNI (tls families) or Host (http families).' },
    user_agents: { ...count, description: 'Distinct user agents (from sessions for tls).' },
    first_seen: time,
    last_seen: time,
  },
}

const valueSchema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['value', 'events', 'last_seen'],
  properties: { value: { type: 'string' }, events: count, last_seen: time },
}

const fpParams: ObjectSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['fp'],
  properties: {
    fp: {
      type: 'string',
      minLength: 1,
      maxLength: MAX_FINGERPRINT_CHARS,
      description: 'The fingerprint, URL-encoded.',
    },
  },
}

export interface TopQuery {
  family: RollupFamily
  window: string
  limit: number
}

export interface TopResponse {
  family: RollupFamily
  window: { from: string; to: string }
  grain: Grain
  fingerprints: FingerprintSummary[]
}

export const topSpec: RouteSpec = {
  method: 'GET',
  url: '/api/v1/fingerprints/top',
  operationId: 'topFingerprints',
  summary: 'The most seen fingerprints of a family in a window.',
  tags: ['fingerprints'],
  querystring: {
    type: 'object',
    additionalProperties: false,
    properties: {
      family: familySchema,
      window: windowSchema('1h'),
      limit: limitSchema(100, MAX_TOP_FINGERPRINTS, 'Fingerprints to return.'),
    },
  },
  responses: {
    200: {
      description: 'Fingerprints by events, most first.',
      schema: {
        type: 'object',
        additionalProperties: false,
        required: ['family', 'window', 'grain', 'fingerprints'],
        properties: {
          family: { type: 'string' },
          window: windowResponseSchema,
          grain: grainSchema,
          fingerprints: { type: 'array', items: summarySchema },
        },
      },
    },
    ...errorResponses(400, 503),
  },
}

export interface FingerprintQuery {
  family: RollupFamily
  window: string
  limit: number
}

export interface FingerprintResponse {
  family: RollupFamily
  fingerprint: string
  window: { from: string; to: string }
  grain: Grain
  summary: FingerprintSummary
  timeline: TimelinePoint[]
  src_ips: DimensionValue[]
  hosts: DimensionValue[]
  user_agents: DimensionValue[]
}

export const fingerprintSpec: RouteSpec = {
  method: 'GET',
  url: '/api/v1/fingerprints/:fp',
  operationId: 'getFingerprint',
  summary: 'One fingerprint: totals, counts over time, client addresses, hosts, user agents.',
  tags: ['fingerprints'],
  params: fpParams,
  querystring: {
    type: 'object',
    additionalProperties: false,
    properties: {
      family: familySchema,
      window: windowSchema('24h'),
      limit: limitSchema(
        20,
        MAX_TOP_FINGERPRINTS,
        'Entries in each of src_ips, hosts, user_agents.',
      ),
    },
  },
  responses: {
    200: {
      description: 'The fingerprint over the window.',
      schema: {
        type: 'object',
        additionalProperties: false,
        required: [
          'family',
          'fingerprint',
          'window',
          'grain',
          'summary',
          'timeline',
          'src_ips',
          'hosts',
          'user_agents',
        ],
        properties: {
          family: { type: 'string' },
          fingerprint: { type: 'string' },
          window: windowResponseSchema,
          grain: grainSchema,
          summary: summarySchema,
          timeline: {
            type: 'array',
            description: 'Per minute (`…T03:04:00Z`) or per day (`2024-01-02`), oldest first.',
            items: {
              type: 'object',
              additionalProperties: false,
              required: ['t', 'events', 'src_ips'],
              properties: { t: { type: 'string' }, events: count, src_ips: count },
            },
          },
          src_ips: { type: 'array', items: valueSchema },
          hosts: {
            type: 'array',
            description: 'SNI (tls families) or Host (http families).',
            items: valueSchema,
          },
          user_agents: {
            type: 'array',
            description: 'From sessions (tls families) or requests (http families).',
            items: valueSchema,
          },
        },
      },
    },
    ...errorResponses(400, 404, 503),
  },
}

export interface UserAgentsQuery {
  family: RollupFamily
  window: string
  limit: number
}

export interface UserAgentsResponse {
  family: RollupFamily
  fingerprint: string
  window: { from: string; to: string }
  user_agents: UserAgentBreakdown[]
}

export const userAgentsSpec: RouteSpec = {
  method: 'GET',
  url: '/api/v1/fingerprints/:fp/user-agents',
  operationId: 'getFingerprintUserAgents',
  summary: 'The user agents seen with one fingerprint, with shares, addresses and hosts.',
  description:
    'For a tls family (ja4, ja3…) the user agents of its sessions (handshakes joined to a ' +
    'request); for an http family (ja4h, tfh) those of its requests.',
  tags: ['fingerprints'],
  params: fpParams,
  querystring: {
    type: 'object',
    additionalProperties: false,
    properties: {
      family: familySchema,
      window: windowSchema('24h'),
      limit: limitSchema(100, MAX_TOP_FINGERPRINTS, 'User agents to return.'),
    },
  },
  responses: {
    200: {
      description: 'User agents by events, most first (empty if none was seen).',
      schema: {
        type: 'object',
        additionalProperties: false,
        required: ['family', 'fingerprint', 'window', 'user_agents'],
        properties: {
          family: { type: 'string' },
          fingerprint: { type: 'string' },
          window: windowResponseSchema,
          user_agents: {
            type: 'array',
            items: {
              type: 'object',
              additionalProperties: false,
              required: [
                'user_agent',
                'events',
                'share',
                'src_ips',
                'hosts',
                'first_seen',
                'last_seen',
              ],
              properties: {
                user_agent: { type: 'string' },
                events: count,
                share: {
                  type: 'number',
                  minimum: 0,
                  maximum: 1,
                  description: 'Of the events of this fingerprint that carry a user agent.',
                },
                src_ips: count,
                hosts: count,
                first_seen: time,
                last_seen: time,
              },
            },
          },
        },
      },
    },
    ...errorResponses(400, 503),
  },
}

export const fingerprintSpecs: readonly RouteSpec[] = [topSpec, fingerprintSpec, userAgentsSpec]

export function registerFingerprintRoutes(app: FastifyInstance, ctx: RouteContext): void {
  app.route<{ Querystring: TopQuery }>({
    ...fastifyRoute(topSpec),
    handler: async function topFingerprints(req): Promise<TopResponse> {
      const w = resolveWindow(req.query.window, ctx.now())
      const grain = grainFor(w)
      const fingerprints = await ctx.queries.topFingerprints({
        family: req.query.family,
        from: w.from,
        to: w.to,
        limit: req.query.limit,
        grain,
      })
      return {
        family: req.query.family,
        window: { from: w.from, to: w.to },
        grain,
        fingerprints,
      }
    },
  })

  app.route<{ Params: { fp: string }; Querystring: FingerprintQuery }>({
    ...fastifyRoute(fingerprintSpec),
    handler: async function getFingerprint(req): Promise<FingerprintResponse> {
      const w = resolveWindow(req.query.window, ctx.now())
      const grain = grainFor(w)
      const q = { family: req.query.family, fingerprint: req.params.fp, from: w.from, to: w.to }
      const values = (dimension: 'src_ip' | 'host' | 'user_agent') =>
        ctx.queries.fingerprintValues({ ...q, dimension, limit: req.query.limit })
      // Independent reads: run together (the store runs queries off the event loop).
      const [summary, timeline, src_ips, hosts, user_agents] = await Promise.all([
        ctx.queries.fingerprintSummary({ ...q, grain }),
        ctx.queries.fingerprintTimeline({ ...q, grain }),
        values('src_ip'),
        values('host'),
        values('user_agent'),
      ])
      if (summary === null)
        throw new AppError(
          'E_NOT_FOUND',
          `no ${q.family} fingerprint ${JSON.stringify(q.fingerprint)} in the last ${req.query.window}`,
        )
      return {
        family: q.family,
        fingerprint: q.fingerprint,
        window: { from: w.from, to: w.to },
        grain,
        summary,
        timeline,
        src_ips,
        hosts,
        user_agents,
      }
    },
  })

  app.route<{ Params: { fp: string }; Querystring: UserAgentsQuery }>({
    ...fastifyRoute(userAgentsSpec),
    handler: async function getFingerprintUserAgents(req): Promise<UserAgentsResponse> {
      const w = resolveWindow(req.query.window, ctx.now())
      const user_agents = await ctx.queries.fingerprintUserAgents({
        family: req.query.family,
        fingerprint: req.params.fp,
        from: w.from,
        to: w.to,
        limit: req.query.limit,
      })
      return {
        family: req.query.family,
        fingerprint: req.params.fp,
        window: { from: w.from, to: w.to },
        user_agents,
      }
    },
  })
}
