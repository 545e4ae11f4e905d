/**
 * @module sources/ingest
 * `POST /api/v1/ingest`: an NDJSON body (each line bare JSON or a syslog line, as on the sockets),
 * gzip accepted, authenticated by `Authorization: Bearer <TLSIGHT_INGEST_TOKEN>`. The decision
 * is a typed result; the HTTP server only writes it out (`ingestBody`), or mounts the plain
 * node handler (`createIngestHandler`). The token is what makes a sender trusted here, so
 * TLSIGHT_TRUSTED_CIDRS does not apply.
 */
import { createHash, timingSafeEqual } from 'node:crypto'
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http'
import { Readable, pipeline } from 'node:stream'
import { createGunzip } from 'node:zlib'
import { SyslogTcpFramer } from '../protocols/syslog/index.ts'
import { decodeMessage } from './decode.ts'
import type { DropReason } from './mapping.ts'
import type { CollectedEvent, SinkGate } from './stats.ts'

/** Default limit of a body, after decompression (and before it, for gzip). */
export const MAX_INGEST_BODY_BYTES = 64 * 1024 * 1024

export interface IngestOptions {
  /** Bearer token; null turns the endpoint off (403). */
  token: string | null
  gate: SinkGate
  sensor: string
  maxRecordBytes: number
  maxBodyBytes: number
}

export type IngestError =
  | 'ingest_disabled'
  | 'unauthorized'
  | 'unsupported_media_type'
  | 'unsupported_encoding'
  | 'body_too_large'
  | 'bad_gzip'
  | 'body_error'
  | 'sink_error'

export interface IngestResponseBody {
  error?: IngestError
  /** Records read from the body (events and drops). */
  received: number
  /** Events the sink accepted. */
  accepted: number
  /** Non-zero drop counts of this request. */
  dropped: Partial<Record<DropReason, number>>
}

export interface IngestResult {
  status: 200 | 400 | 401 | 403 | 413 | 415 | 503
  headers: Record<string, string>
  body: IngestResponseBody
}

/** Media types an NDJSON body may be sent as (none at all is accepted too). */
const MEDIA_TYPES = new Set([
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
])

function digest(s: string): Buffer {
  return createHash('sha256').update(s).digest()
}

/**
 * Constant-time token check. Both sides are hashed first so that neither the comparison nor its
 * length check says anything about the configured token.
 */
export function tokenMatches(header: string | undefined, token: string): boolean {
  if (header === undefined) return false
  const m = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header)
  if (m === null) return false
  return timingSafeEqual(digest(m[1] ?? ''), digest(token))
}

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name]
  return Array.isArray(v) ? v[0] : v
}

function result(
  status: IngestResult['status'],
  error?: IngestError,
  counts?: Omit<IngestResponseBody, 'error'>,
): IngestResult {
  const body: IngestResponseBody = counts ?? { received: 0, accepted: 0, dropped: {} }
  if (error !== undefined) body.error = error
  const headers: Record<string, string> = {}
  if (status === 401) headers['www-authenticate'] = 'Bearer realm="tlsight"'
  // The rest of a refused body is not read; the connection cannot be reused.
  if (status === 413) headers.connection = 'close'
  return { status, headers, body }
}

class TooLarge extends Error {}

/**
 * An iterator over `body` whose early `return` does not destroy it: a request left unread can
 * still be answered (413) before its connection is closed.
 */
function detached(body: AsyncIterable<Uint8Array>, max: number): AsyncIterable<Uint8Array> {
  const it = body[Symbol.asyncIterator]()
  let total = 0
  return {
    [Symbol.asyncIterator]: () => ({
      next: async () => {
        const r = await it.next()
        if (!r.done) {
          total += r.value.length
          if (total > max) throw new TooLarge()
        }
        return r
      },
      return: () => Promise.resolve({ done: true, value: undefined }),
    }),
  }
}

/** `first` then the rest of `it`. */
async function* prepend(
  first: Uint8Array,
  it: AsyncIterator<Uint8Array>,
): AsyncGenerator<Uint8Array> {
  yield first
  for (let r = await it.next(); !r.done; r = await it.next()) yield r.value
}

function gunzip(body: AsyncIterable<Uint8Array>): AsyncIterable<Uint8Array> {
  // The pipeline's own error is the one iteration throws; its callback has nothing to add.
  return pipeline(Readable.from(body, { objectMode: false }), createGunzip(), () => undefined)
}

/**
 * Authenticates, decodes and delivers one ingest body.
 * @example
 * const r = await ingestBody(req, req.headers, opts); res.writeHead(r.status, r.headers)
 */
export async function ingestBody(
  body: AsyncIterable<Uint8Array>,
  headers: IncomingHttpHeaders,
  o: IngestOptions,
): Promise<IngestResult> {
  if (o.token === null || o.token === '') return result(403, 'ingest_disabled')
  if (!tokenMatches(header(headers, 'authorization'), o.token)) return result(401, 'unauthorized')
  const type = header(headers, 'content-type')?.split(';')[0]?.trim().toLowerCase()
  if (type !== undefined && type !== '' && !MEDIA_TYPES.has(type))
    return result(415, 'unsupported_media_type')
  const encoding = header(headers, 'content-encoding')?.trim().toLowerCase()
  let gzip = encoding === 'gzip' || encoding === 'x-gzip'
  const unlabelled = encoding === undefined || encoding === ''
  if (!gzip && !unlabelled && encoding !== 'identity') return result(415, 'unsupported_encoding')
  const length = Number(header(headers, 'content-length') ?? 0)
  if (length > o.maxBodyBytes) return result(413, 'body_too_large')

  const gate = o.gate
  const dropped: Partial<Record<DropReason, number>> = {}
  let received = 0
  let accepted = 0
  let failed = 0
  let inFlight = 0
  let settledAll: (() => void) | undefined
  const drop = (reason: DropReason, n = 1) => {
    dropped[reason] = (dropped[reason] ?? 0) + n
    received += n
  }
  const settle = (ok: boolean, n: number) => {
    if (ok) accepted += n
    else failed += n
    if (--inFlight === 0) settledAll?.()
  }
  const framer = new SyslogTcpFramer({ octetCounting: false, maxFrameBytes: o.maxRecordBytes })
  let oversized = 0
  const handle = (frames: Uint8Array[]) => {
    const now = new Date()
    // One batch per chunk of the body: accepted or refused together.
    const events: CollectedEvent[] = []
    for (const f of frames) {
      const out = decodeMessage(f, {
        source: 'ingest',
        sensor: o.sensor,
        now,
        maxRecordBytes: o.maxRecordBytes,
      })
      gate.account('ingest', out, 'ingest')
      for (const d of out.drops) drop(d.reason)
      for (const e of out.events) events.push(e)
    }
    const n = events.length
    received += n
    const r = gate.submit('ingest', events)
    if (typeof r === 'boolean') {
      if (r) accepted += n
      else failed += n
    } else {
      inFlight++
      void r.then((ok) => settle(ok, n))
    }
    const skipped = framer.stats.oversizedFrames - oversized
    if (skipped > 0) {
      oversized = framer.stats.oversizedFrames
      gate.refuse('ingest', 'oversized', { peer: 'ingest', limit: o.maxRecordBytes }, skipped)
      drop('oversized', skipped)
    }
  }

  let error: { status: 400 | 413; error: IngestError } | undefined
  let total = 0
  try {
    const it = detached(body, o.maxBodyBytes)[Symbol.asyncIterator]()
    const head = await it.next()
    if (head.done) {
      handle(framer.end())
    } else {
      // RFC 1952 §2.3.1: ID1 ID2 = 1f 8b. Some shippers gzip without saying so; JSON text can
      // never start with these bytes.
      if (unlabelled && head.value[0] === 0x1f && head.value[1] === 0x8b) gzip = true
      const raw = prepend(head.value, it)
      for await (const chunk of gzip ? gunzip(raw) : raw) {
        total += chunk.length
        if (total > o.maxBodyBytes) throw new TooLarge()
        handle(framer.push(chunk))
        if (gate.saturated) await gate.room()
      }
      handle(framer.end())
    }
  } catch (err) {
    error =
      err instanceof TooLarge
        ? { status: 413, error: 'body_too_large' }
        : { status: 400, error: gzip ? 'bad_gzip' : 'body_error' }
  }
  if (inFlight > 0) await new Promise<void>((resolve) => (settledAll = resolve))
  if (failed > 0) dropped.sink_error = failed
  const counts = { received, accepted, dropped }
  if (error !== undefined) return result(error.status, error.error, counts)
  // Some events were not stored: the sender should retry later (the batch may be partly kept).
  if (failed > 0) return { ...result(503, 'sink_error', counts), headers: { 'retry-after': '5' } }
  return result(200, undefined, counts)
}

/** A plain node `(req, res)` handler around `ingestBody`, for any HTTP server. */
export function createIngestHandler(
  o: IngestOptions,
): (req: IncomingMessage, res: ServerResponse) => void {
  return function ingestHandler(req, res) {
    if (req.method !== 'POST') {
      res.writeHead(405, { allow: 'POST', 'content-type': 'application/json' })
      res.end('{"error":"method_not_allowed"}')
      return
    }
    void ingestBody(req, req.headers, o).then((r) => {
      res.writeHead(r.status, { ...r.headers, 'content-type': 'application/json' })
      res.end(JSON.stringify(r.body))
    })
  }
}
