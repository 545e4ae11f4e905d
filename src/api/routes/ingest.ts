/**
 * @module api/routes/ingest
 * `POST /api/v1/ingest`: NDJSON records from a remote sender, optionally gzip-compressed,
 * token-authenticated. This route owns the HTTP side (token, media type, encoding, size limit);
 * what the records become is the collector's `IngestFunction`.
 *
 * Order of checks: the token (before a byte of the body is read, 401/403), media type and
 * encoding (415), the declared length (413 without reading), then the body is streamed to the
 * collector through two byte counters (as sent, and after gunzip): crossing either limit stops
 * it and answers 413. An unread body is never drained: the connection is closed instead.
 */
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http'
import { Transform, type Readable } from 'node:stream'
import { createGunzip } from 'node:zlib'
import type { FastifyInstance } from 'fastify'
import { AppError } from '../../errors.ts'
import { requireToken } from '../auth.ts'
import type { IngestFunction, IngestOutcome } from '../deps.ts'
import { errorResponses, fastifyRoute, noQuery, type RouteSpec } from '../schemas.ts'

/** Media types an NDJSON body may be labelled with; no Content-Type at all is accepted too. */
export const INGEST_MEDIA_TYPES: readonly string[] = [
  'application/x-ndjson',
  'application/ndjson',
  'application/jsonl',
  'application/x-jsonlines',
  'application/json',
  'text/plain',
  // Compressed bodies labelled by what they are rather than by Content-Encoding.
  'application/gzip',
  'application/x-gzip',
  'application/octet-stream',
]

const GZIP_MEDIA_TYPES = new Set(['application/gzip', 'application/x-gzip'])

export const ingestSpec: RouteSpec = {
  method: 'POST',
  url: '/api/v1/ingest',
  operationId: 'ingest',
  summary: 'Send events as NDJSON (web-server log records or tlsight events), gzip accepted.',
  description:
    'One JSON object (or syslog line holding one) per line. gzip is accepted (by ' +
    '`Content-Encoding`, a gzip media type, or its magic bytes); the size limit applies to the ' +
    'body as sent and after decompression. The bearer token is the ingest token ' +
    '(`TLSIGHT_INGEST_TOKEN`) where one is configured, else the API token.',
  tags: ['ingest'],
  auth: true,
  querystring: noQuery,
  body: {
    contentTypes: INGEST_MEDIA_TYPES,
    description: 'Newline-delimited JSON records.',
  },
  responses: {
    200: {
      description: 'Every record was read: accepted, or dropped and counted by reason.',
      schema: {
        type: 'object',
        additionalProperties: false,
        required: ['received', 'accepted', 'dropped'],
        properties: {
          received: { type: 'integer', minimum: 0, description: 'Records read from the body.' },
          accepted: { type: 'integer', minimum: 0 },
          dropped: {
            type: 'object',
            description: 'Records dropped per reason.',
            additionalProperties: { type: 'integer', minimum: 0 },
          },
        },
      },
    },
    ...errorResponses(400, 401, 403, 413, 415, 503),
  },
}

/** Headers that describe the wire or the caller's credentials, not the NDJSON handed over. */
const NOT_FORWARDED = new Set(['authorization', 'content-encoding', 'content-length'])

function single(v: string | string[] | undefined): string {
  return (Array.isArray(v) ? v[0] : v)?.trim().toLowerCase() ?? ''
}

interface BodyState {
  tooLarge: boolean
  badGzip: boolean
}

/** Private signal: a byte counter crossed the limit. */
class BodyLimitCrossed extends Error {}

function byteLimit(max: number, state: BodyState): Transform {
  let seen = 0
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      seen += chunk.length
      if (seen > max) {
        state.tooLarge = true
        callback(new BodyLimitCrossed(`body larger than ${max} bytes`))
      } else callback(null, chunk)
    },
  })
}

/**
 * The request body as NDJSON: counted as sent, gunzipped when `gzip`, counted again. Built
 * with `pipe` (not `pipeline`) on purpose: an error downstream must not destroy the request,
 * which still has to be answered.
 */
function decodedBody(
  req: IncomingMessage,
  gzip: boolean,
  max: number,
  state: BodyState,
): { body: Readable; release: () => void } {
  const wire = byteLimit(max, state)
  const streams: Transform[] = [wire]
  req.pipe(wire)
  let body: Transform = wire
  if (gzip) {
    const gunzip = createGunzip()
    const plain = byteLimit(max, state)
    streams.push(gunzip, plain)
    wire.on('error', (e) => plain.destroy(e))
    gunzip.on('error', (e) => {
      if (!state.tooLarge) state.badGzip = true
      plain.destroy(e)
    })
    wire.pipe(gunzip).pipe(plain)
    body = plain
  }
  const onClose = () => {
    if (!req.complete) body.destroy(new Error('the client closed the request'))
  }
  const onError = (e: Error) => body.destroy(e)
  req.on('close', onClose)
  req.on('error', onError)
  return {
    body,
    release() {
      req.off('close', onClose)
      req.off('error', onError)
      req.unpipe(wire)
      for (const s of streams) s.destroy()
    },
  }
}

/**
 * The body's first bytes, put back for whoever reads it next; undefined for an empty body. Two
 * bytes are enough to tell gzip, and the first chunk holds them unless it is one byte long.
 */
function peekBody(req: IncomingMessage): Promise<Buffer | undefined> {
  if (req.readableEnded) return Promise.resolve(undefined)
  return new Promise((resolve, reject) => {
    const cleanup = (): void => {
      req.off('readable', onReadable)
      req.off('end', onEnd)
      req.off('error', onError)
    }
    const onReadable = (): void => {
      const chunk: unknown = req.read()
      if (!Buffer.isBuffer(chunk)) return
      cleanup()
      req.unshift(chunk)
      resolve(chunk)
    }
    const onEnd = (): void => {
      cleanup()
      resolve(undefined)
    }
    const onError = (e: Error): void => {
      cleanup()
      reject(e)
    }
    req.on('readable', onReadable)
    req.on('end', onEnd)
    req.on('error', onError)
  })
}

function forwardedHeaders(headers: IncomingHttpHeaders): IncomingHttpHeaders {
  const out: IncomingHttpHeaders = {}
  for (const [k, v] of Object.entries(headers)) if (!NOT_FORWARDED.has(k)) out[k] = v
  return out
}

export function registerIngestRoute(
  app: FastifyInstance,
  o: { ingest: IngestFunction; token: string | undefined; setting: string; maxBytes: number },
): void {
  // Its own scope: this route alone reads its body as a raw stream (no parser, no buffering).
  void app.register(async function ingestScope(scope) {
    scope.removeAllContentTypeParsers()
    scope.addContentTypeParser('*', function rawBody(_req, _payload, done) {
      done(null, undefined)
    })
    scope.route({
      ...fastifyRoute(ingestSpec),
      onRequest: requireToken(o.token, o.setting),
      handler: async function ingest(req, reply): Promise<IngestOutcome> {
        const headers = req.headers
        const type = single(headers['content-type']).split(';')[0]?.trim() ?? ''
        if (type !== '' && !INGEST_MEDIA_TYPES.includes(type))
          throw new AppError(
            'E_UNSUPPORTED_MEDIA_TYPE',
            `content-type ${type} is not accepted (send ${INGEST_MEDIA_TYPES[0]})`,
          )
        const encoding = single(headers['content-encoding'])
        let gzip = encoding === 'gzip' || encoding === 'x-gzip' || GZIP_MEDIA_TYPES.has(type)
        if (!gzip && encoding !== '' && encoding !== 'identity')
          throw new AppError(
            'E_UNSUPPORTED_MEDIA_TYPE',
            `content-encoding ${encoding} is not accepted (gzip or identity)`,
          )
        const declared = Number(single(headers['content-length']) || 0)
        if (declared > o.maxBytes)
          throw new AppError(
            'E_PAYLOAD_TOO_LARGE',
            `body of ${declared} bytes is over the ${o.maxBytes}-byte limit`,
          )
        // RFC 1952 §2.3.1: ID1 ID2 = 1f 8b. Some shippers gzip without saying so; JSON text can
        // never start with these bytes.
        if (!gzip && encoding === '') {
          const head = await peekBody(req.raw)
          gzip = head !== undefined && head[0] === 0x1f && head[1] === 0x8b
        }
        const state: BodyState = { tooLarge: false, badGzip: false }
        const { body, release } = decodedBody(req.raw, gzip, o.maxBytes, state)
        let outcome: IngestOutcome | undefined
        let failure: unknown
        try {
          outcome = await o.ingest(body, forwardedHeaders(headers))
        } catch (e) {
          failure = e
        } finally {
          release()
        }
        // The body's own faults first: whatever the collector made of a cut stream.
        if (state.tooLarge)
          throw new AppError(
            'E_PAYLOAD_TOO_LARGE',
            `body over the ${o.maxBytes}-byte limit (as sent or decompressed); records ` +
              'before the limit may have been accepted',
          )
        if (state.badGzip)
          throw new AppError('E_INVALID_ARGUMENT', 'the body is not valid gzip', {
            cause: failure,
          })
        if (outcome === undefined) throw failure
        // The collector stopped before the end of the body: the rest is not drained.
        if (!req.raw.complete) void reply.header('connection', 'close')
        return { received: outcome.received, accepted: outcome.accepted, dropped: outcome.dropped }
      },
    })
  })
}
