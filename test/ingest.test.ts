/**
 * `POST /api/v1/ingest` as `tlsight serve` mounts it: the API's route (token, media type, gzip,
 * limits, answers) over the collector's record decoding, on a real socket, with the embedded
 * store behind the API. The collector's events go to the test's sink (to see them, or to fail).
 */
import { after, test } from 'node:test'
import assert from 'node:assert/strict'
import { request } from 'node:http'
import { gzipSync } from 'node:zlib'
import type { FastifyInstance } from 'fastify'
import { AppError } from '../src/errors.ts'
import { buildApi } from '../src/api/index.ts'
import { openStore, type Store } from '../src/store/index.ts'
import { tempDir, testConfig } from '../src/store/test-helpers/fixtures.ts'
import { sourcesConfigFromEnv, startSources, type RunningSources } from '../src/sources/index.ts'
import type { CollectedEvent, EventSink } from '../src/sources/stats.ts'
import { collectingSink, recordingLogger, type LogLine } from '../src/sources/test-helpers.ts'

const TOKEN = 's3cret-token-0123456789'
const API_TOKEN = 'the-api-token-not-for-ingest'
const REC = (i: number) =>
  `{"ClientIP":"198.51.100.${i % 250}","ClientRequestMethod":"GET","ClientRequestURI":"/r${i}","EdgeResponseStatus":200,"JA4":"t13d1516h2_8daaf6152771_02713d6af862"}`

let store: Store | undefined
async function sharedStore(): Promise<Store> {
  store ??= await openStore(testConfig(tempDir('ingest'), 'ingest'))
  return store
}
after(() => store?.close())

interface Harness {
  sources: RunningSources
  api: FastifyInstance
  port: number
  events: CollectedEvent[]
  log: LogLine[]
}

async function start(
  env: Record<string, string> = { TLSIGHT_INGEST_TOKEN: TOKEN },
  sink?: EventSink,
): Promise<Harness> {
  const c = collectingSink()
  const log = recordingLogger()
  const config = sourcesConfigFromEnv({ TLSIGHT_UDP_PORT: 'off', TLSIGHT_TCP_PORT: 'off', ...env })
  const sources = await startSources(config, sink ?? c.sink, log)
  const st = await sharedStore()
  // As serve builds it (src/serve/serve.ts).
  const api = buildApi({
    queries: st.queries,
    metrics: { sources: () => sources.stats.snapshot().sources, writer: () => st.writer.stats },
    token: API_TOKEN,
    ingest: (body) => sources.ingest(body),
    ingestToken: config.ingest_token ?? '',
    maxIngestBytes: config.max_ingest_bytes,
  })
  await api.listen({ port: 0, host: '127.0.0.1' })
  const address = api.server.address()
  const port = typeof address === 'object' && address !== null ? address.port : 0
  return { sources, api, port, events: c.events, log: log.lines }
}

async function stop(h: Harness): Promise<void> {
  await h.api.close()
  await h.sources.close()
}

interface Answer {
  status: number
  headers: Record<string, unknown>
  body: Record<string, unknown>
}

function post(
  port: number,
  body: Buffer | string,
  headers: Record<string, string | number>,
  method = 'POST',
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, path: '/api/v1/ingest', method, headers },
      (res) => {
        const chunks: Buffer[] = []
        res.on('data', (c: Buffer) => chunks.push(c))
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: JSON.parse(Buffer.concat(chunks).toString() || '{}') as Record<string, unknown>,
          }),
        )
      },
    )
    // A refused body may be cut off by the server: the answer still counts.
    req.on('error', (e: NodeJS.ErrnoException) => (e.code === 'EPIPE' ? undefined : reject(e)))
    req.end(body)
  })
}

function errorCode(a: Answer): unknown {
  const e = a.body.error
  return typeof e === 'object' && e !== null && 'code' in e ? e.code : undefined
}

const auth = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/x-ndjson' }

test('ingest: NDJSON body with the token → events, with per-request counts', async () => {
  const h = await start()
  try {
    const body = [REC(1), '', REC(2), 'not json', '{"x":1}', REC(3)].join('\n')
    const r = await post(h.port, body, auth)
    assert.equal(r.status, 200, JSON.stringify(r.body))
    assert.deepEqual(r.body, { received: 5, accepted: 3, dropped: { not_json: 1, unmapped: 1 } })
    assert.equal(h.events.length, 3)
    assert.equal(h.events[0]?.type === 'http' && h.events[0].source, 'cloudflare')
    assert.equal(h.sources.stats.by.ingest.accepted, 3)
  } finally {
    await stop(h)
  }
})

test('ingest: gzip bodies, by Content-Encoding, media type or magic bytes', async () => {
  const h = await start()
  try {
    const lines = Array.from({ length: 20_000 }, (_, i) => REC(i)).join('\n') + '\n'
    const r = await post(h.port, gzipSync(lines), { ...auth, 'content-encoding': 'gzip' })
    assert.equal(r.status, 200)
    assert.deepEqual(r.body, { received: 20_000, accepted: 20_000, dropped: {} })
    assert.equal(h.events.length, 20_000)
    const one = gzipSync(`${REC(1)}\n`)
    for (const type of ['application/octet-stream', 'application/gzip', undefined]) {
      const headers: Record<string, string> = { authorization: auth.authorization }
      if (type !== undefined) headers['content-type'] = type
      const sniffed = await post(h.port, one, headers)
      assert.deepEqual(sniffed.body, { received: 1, accepted: 1, dropped: {} }, String(type))
    }
    const bad = await post(h.port, Buffer.from('not gzip at all'), {
      ...auth,
      'content-encoding': 'gzip',
    })
    assert.equal(bad.status, 400)
    assert.equal(errorCode(bad), 'E_INVALID_ARGUMENT')
  } finally {
    await stop(h)
  }
})

test('ingest: its own token (not the API token), 403 when none is configured; never logged', async () => {
  const h = await start()
  try {
    for (const authorization of [
      undefined,
      'Bearer wrong',
      `Basic ${TOKEN}`,
      `Bearer ${TOKEN}x`,
      `Bearer ${API_TOKEN}`,
    ]) {
      const headers: Record<string, string> = { 'content-type': 'application/x-ndjson' }
      if (authorization !== undefined) headers.authorization = authorization
      const r = await post(h.port, REC(1), headers)
      assert.equal(r.status, 401, String(authorization))
      assert.equal(errorCode(r), 'E_UNAUTHORIZED')
      assert.match(String(r.headers['www-authenticate']), /^Bearer/)
    }
    assert.equal(h.events.length, 0)
    assert.ok(!JSON.stringify(h.log).includes(TOKEN))
    const spaced = await post(h.port, REC(1), { ...auth, authorization: `bearer   ${TOKEN} ` })
    assert.equal(spaced.status, 200)
  } finally {
    await stop(h)
  }
  const off = await start({})
  try {
    const r = await post(off.port, REC(1), auth)
    assert.equal(r.status, 403)
    assert.equal(errorCode(r), 'E_WRITE_DISABLED')
    assert.match(JSON.stringify(r.body), /TLSIGHT_INGEST_TOKEN/)
  } finally {
    await stop(off)
  }
})

test('ingest: 415 for other media types and encodings, 404 for other methods', async () => {
  const h = await start()
  try {
    const html = await post(h.port, REC(1), { ...auth, 'content-type': 'text/html' })
    assert.equal(html.status, 415)
    assert.equal(errorCode(html), 'E_UNSUPPORTED_MEDIA_TYPE')
    const br = await post(h.port, REC(1), { ...auth, 'content-encoding': 'br' })
    assert.equal(br.status, 415)
    const get = await post(h.port, '', auth, 'GET')
    assert.equal(get.status, 404)
    // A parameter on the media type is fine.
    const plain = await post(h.port, REC(1), {
      authorization: auth.authorization,
      'content-type': 'application/json; charset=utf-8',
    })
    assert.equal(plain.status, 200)
  } finally {
    await stop(h)
  }
})

test('ingest: 413 by Content-Length, while streaming, and for a gzip bomb', async () => {
  const h = await start({
    TLSIGHT_INGEST_TOKEN: TOKEN,
    TLSIGHT_SOURCES__MAX_INGEST_BYTES: '100000',
  })
  try {
    const big = await post(h.port, 'x'.repeat(200_000), auth)
    assert.equal(big.status, 413)
    assert.equal(errorCode(big), 'E_PAYLOAD_TOO_LARGE')
    // Chunked, with no Content-Length to refuse up front: cut while streaming.
    const before = h.events.length
    const chunked = await post(h.port, `${REC(1)}\n`.repeat(2_000), {
      ...auth,
      'transfer-encoding': 'chunked',
    })
    assert.equal(chunked.status, 413)
    assert.ok(h.events.length > before, 'records before the limit were taken')
    // 10 MB of newlines compresses to ~10 KB: within the compressed limit, far over once inflated.
    const bomb = gzipSync(
      Buffer.concat([Buffer.from(`${REC(1)}\n`), Buffer.alloc(10_000_000, 0x0a)]),
    )
    assert.ok(bomb.length < 100_000)
    const r = await post(h.port, bomb, { ...auth, 'content-encoding': 'gzip' })
    assert.equal(r.status, 413)
  } finally {
    await stop(h)
  }
})

test('ingest: a failing sink answers 503 so the sender retries', async () => {
  let failing = true
  const sink = async () => {
    if (failing) throw new AppError('E_STORE_BACKPRESSURE', 'busy')
  }
  const h = await start({ TLSIGHT_INGEST_TOKEN: TOKEN }, sink)
  try {
    const body = [REC(1), REC(2), REC(3), REC(4)].join('\n')
    const r = await post(h.port, body, auth)
    assert.equal(r.status, 503)
    assert.equal(r.headers['retry-after'], '5')
    assert.equal(errorCode(r), 'E_STORE_BACKPRESSURE')
    assert.equal(h.sources.stats.by.ingest.dropped.sink_error, 4)
    failing = false
    const again = await post(h.port, body, auth)
    assert.equal(again.status, 200)
    assert.equal(again.body.accepted, 4)
  } finally {
    await stop(h)
  }
})
