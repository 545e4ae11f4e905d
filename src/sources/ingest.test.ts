import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createServer, request, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { gzipSync } from 'node:zlib'
import { AppError } from '../errors.ts'
import { sourcesConfigFromEnv, startSources, type RunningSources } from './index.ts'
import { tokenMatches } from './ingest.ts'
import type { CollectedEvent, EventSink } from './stats.ts'
import { collectingSink, recordingLogger, type LogLine } from './test-helpers.ts'

const TOKEN = 's3cret-token-0123456789'
const REC = (i: number) =>
  `{"ClientIP":"198.51.100.${i % 250}","ClientRequestMethod":"GET","ClientRequestURI":"/r${i}","EdgeResponseStatus":200,"JA4":"t13d1516h2_8daaf6152771_02713d6af862"}`

interface Harness {
  sources: RunningSources
  server: Server
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
  const config = sourcesConfigFromEnv({
    TLSIGHT_UDP_PORT: 'off',
    TLSIGHT_TCP_PORT: 'off',
    ...env,
  })
  const sources = await startSources(config, sink ?? c.sink, log)
  const server = createServer((req, res) => sources.ingestHandler(req, res))
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()))
  const { port } = server.address() as AddressInfo
  return { sources, server, port, events: c.events, log: log.lines }
}

async function stop(h: Harness): Promise<void> {
  await new Promise<void>((resolve) => h.server.close(() => resolve()))
  await h.sources.close()
}

function post(
  port: number,
  body: Buffer | string,
  headers: Record<string, string | number>,
  method = 'POST',
): Promise<{ status: number; headers: Record<string, unknown>; body: Record<string, unknown> }> {
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
            body: JSON.parse(Buffer.concat(chunks).toString() || '{}'),
          }),
        )
      },
    )
    req.on('error', reject)
    req.end(body)
  })
}

const auth = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/x-ndjson' }

test('ingest: NDJSON body with the token → events, with per-request counts', async () => {
  const h = await start()
  try {
    const body = [REC(1), '', REC(2), 'not json', '{"x":1}', REC(3)].join('\n')
    const r = await post(h.port, body, auth)
    assert.equal(r.status, 200)
    assert.deepEqual(r.body, {
      received: 5,
      accepted: 3,
      dropped: { not_json: 1, unmapped: 1 },
    })
    assert.equal(h.events.length, 3)
    assert.equal(h.events[0]?.type === 'http' && h.events[0].source, 'cloudflare')
    assert.equal(h.sources.stats.by.ingest.accepted, 3)
  } finally {
    await stop(h)
  }
})

test('ingest: gzip bodies, including a large one in many chunks', async () => {
  const h = await start()
  try {
    const lines = Array.from({ length: 20_000 }, (_, i) => REC(i)).join('\n') + '\n'
    const r = await post(h.port, gzipSync(lines), { ...auth, 'content-encoding': 'gzip' })
    assert.equal(r.status, 200)
    assert.deepEqual(r.body, { received: 20_000, accepted: 20_000, dropped: {} })
    assert.equal(h.events.length, 20_000)
    // gzip sent without Content-Encoding is recognised by its magic bytes.
    const sniffed = await post(h.port, gzipSync(`${REC(1)}\n`), {
      authorization: auth.authorization,
      'content-type': 'application/octet-stream',
    })
    assert.deepEqual(sniffed.body, { received: 1, accepted: 1, dropped: {} })
    const bad = await post(h.port, Buffer.from('not gzip at all'), {
      ...auth,
      'content-encoding': 'gzip',
    })
    assert.equal(bad.status, 400)
    assert.equal(bad.body.error, 'bad_gzip')
  } finally {
    await stop(h)
  }
})

test('ingest: 401 without the right token, 403 when no token is configured; never logged', async () => {
  const h = await start()
  try {
    for (const authorization of [undefined, 'Bearer wrong', `Basic ${TOKEN}`, `Bearer ${TOKEN}x`]) {
      const headers: Record<string, string> = { 'content-type': 'application/x-ndjson' }
      if (authorization !== undefined) headers.authorization = authorization
      const r = await post(h.port, REC(1), headers)
      assert.equal(r.status, 401, String(authorization))
      assert.equal(r.body.error, 'unauthorized')
      assert.match(String(r.headers['www-authenticate']), /^Bearer/)
    }
    assert.equal(h.events.length, 0)
    assert.ok(!JSON.stringify(h.log).includes(TOKEN))
  } finally {
    await stop(h)
  }
  const off = await start({})
  try {
    const r = await post(off.port, REC(1), auth)
    assert.equal(r.status, 403)
    assert.equal(r.body.error, 'ingest_disabled')
  } finally {
    await stop(off)
  }
  assert.equal(tokenMatches(`bearer   ${TOKEN} `, TOKEN), true)
})

test('ingest: 415 for other media types and encodings, 405 for other methods', async () => {
  const h = await start()
  try {
    const html = await post(h.port, REC(1), { ...auth, 'content-type': 'text/html' })
    assert.equal(html.status, 415)
    assert.equal(html.body.error, 'unsupported_media_type')
    const br = await post(h.port, REC(1), { ...auth, 'content-encoding': 'br' })
    assert.equal(br.status, 415)
    assert.equal(br.body.error, 'unsupported_encoding')
    const get = await post(h.port, '', auth, 'GET')
    assert.equal(get.status, 405)
    // No content type at all, or a parameter on it, is fine.
    const plain = await post(h.port, REC(1), {
      authorization: auth.authorization,
      'content-type': 'application/json; charset=utf-8',
    })
    assert.equal(plain.status, 200)
  } finally {
    await stop(h)
  }
})

test('ingest: 413 by Content-Length, and for a gzip bomb, answered before the body ends', async () => {
  const h = await start({
    TLSIGHT_INGEST_TOKEN: TOKEN,
    TLSIGHT_SOURCES__MAX_INGEST_BYTES: '100000',
  })
  try {
    const big = await post(h.port, 'x'.repeat(200_000), auth)
    assert.equal(big.status, 413)
    assert.equal(big.body.error, 'body_too_large')
    // Chunked, with no Content-Length to refuse up front: cut while streaming.
    const chunked = await post(h.port, `${REC(1)}\n`.repeat(2_000), {
      ...auth,
      'transfer-encoding': 'chunked',
    })
    assert.equal(chunked.status, 413)
    assert.ok(Number(chunked.body.accepted) > 0)
    // 10 MB of newlines compresses to ~10 KB: within the compressed limit, far over once inflated.
    const bomb = gzipSync(
      Buffer.concat([Buffer.from(`${REC(1)}\n`), Buffer.alloc(10_000_000, 0x0a)]),
    )
    assert.ok(bomb.length < 100_000)
    const r = await post(h.port, bomb, { ...auth, 'content-encoding': 'gzip' })
    assert.equal(r.status, 413)
    assert.deepEqual(r.body, {
      error: 'body_too_large',
      received: 1,
      accepted: 1,
      dropped: {},
    })
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
    assert.deepEqual(r.body, {
      error: 'sink_error',
      received: 4,
      accepted: 0,
      dropped: { sink_error: 4 },
    })
    failing = false
    const again = await post(h.port, body, auth)
    assert.equal(again.status, 200)
    assert.equal((again.body as { accepted: number }).accepted, 4)
  } finally {
    await stop(h)
  }
})
