import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import type { IncomingHttpHeaders } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Readable } from 'node:stream'
import { gzipSync } from 'node:zlib'
import type { FastifyBaseLogger, FastifyInstance } from 'fastify'
import { AppError } from '../errors.ts'
import { isoFromUs } from '../events/time.ts'
import { emptyStats } from '../pipeline/stats.ts'
import { openStore, StoreQueries, type Store, type StoreEvent } from '../store/index.ts'
import {
  FlakyConnection,
  httpEvent,
  nowUs,
  sessionEvent,
  tempDir,
  testConfig,
  tlsEvent,
} from '../store/test-helpers/fixtures.ts'
import type { HttpEvent } from '../events/http.ts'
import type { SessionEvent } from '../events/session.ts'
import type { TlsEvent } from '../events/tls.ts'
import type {
  ErrorResponse,
  EventPageResponse,
  FingerprintResponse,
  HealthResponse,
  StatsResponse,
  TopResponse,
  UserAgentsResponse,
} from './contract.ts'
import type { IngestOutcome } from './deps.ts'
import { Histogram, type MetricsSource, type SourceCountersView } from './metrics.ts'
import { apiRoutes, buildApi } from './server.ts'
import { parsePrometheus, sampleValue } from './test-helpers/prometheus.ts'

// One chDB data directory per process (an engine limit): every test here shares this store.
let store: Store
let api: FastifyInstance
const TOKEN = 'test-token-0123456789abcdef'
const logLines: string[] = []

const FP_A = 't13d1516h2_aaaaaaaaaaaa_aaaaaaaaaaaa'
const FP_B = 't13d1516h2_bbbbbbbbbbbb_bbbbbbbbbbbb'
const JA4H = 'ge11cn060000_4e59edc1297a_000000000000_000000000000'
/** A fingerprint that needs percent-encoding in a path. */
const FP_ODD = 'odd/fp value?#%'

const sources: Record<string, SourceCountersView> = {
  udp: { received: 10, accepted: 7, dropped: { bad_json: 2, untrusted: 1 } },
  tcp: { received: 5, accepted: 4, dropped: { bad_json: 1, untrusted: 0 } },
}
const latency = new Histogram()
latency.observe(0.004)

function metricsSource(): MetricsSource {
  return {
    sources: () => sources,
    writer: () => store.writer.stats,
    batchLatency: () => latency.snapshot(),
    correlator: () => ({
      handshakes: 3,
      requests: 3,
      sessions: 2,
      unmatched: 1,
      evictedRequests: 0,
      evictedHandshakes: 0,
      noPort: 0,
    }),
    capture: () => emptyStats(),
  }
}

/** A pino-shaped logger that keeps every line, to check what is (not) logged. */
function captureLogger(): FastifyBaseLogger {
  const line =
    (level: string) =>
    (...args: unknown[]) => {
      logLines.push(
        `${level} ${JSON.stringify(args, (_k, v: unknown) =>
          v instanceof Error ? { message: v.message, stack: v.stack } : v,
        )}`,
      )
    }
  const logger = {
    level: 'trace',
    fatal: line('fatal'),
    error: line('error'),
    warn: line('warn'),
    info: line('info'),
    debug: line('debug'),
    trace: line('trace'),
    silent: () => undefined,
    child: () => logger,
  }
  return logger as unknown as FastifyBaseLogger
}

async function writeAll(events: StoreEvent[]): Promise<void> {
  const written = Promise.all(events.map((e) => store.writer.write(e)))
  await store.writer.flush()
  await written
}

/** The collector's role in these tests: NDJSON lines of events into the store writer. */
const ingestCalls: IncomingHttpHeaders[] = []
async function ingestToStore(body: Readable, headers: IncomingHttpHeaders): Promise<IngestOutcome> {
  ingestCalls.push(headers)
  const dropped: Record<string, number> = {}
  const writes: Promise<boolean>[] = []
  const handle = (line: string) => {
    if (line.trim() === '') return
    try {
      const e = JSON.parse(line) as StoreEvent
      writes.push(
        store.writer.write(e).then(
          () => true,
          () => false,
        ),
      )
    } catch {
      dropped['bad_json'] = (dropped['bad_json'] ?? 0) + 1
    }
  }
  let rest = ''
  for await (const chunk of body) {
    const lines = (rest + String(chunk)).split('\n')
    rest = lines.pop() ?? ''
    lines.forEach(handle)
  }
  handle(rest)
  await store.writer.flush()
  const ok = await Promise.all(writes)
  const failed = ok.filter((x) => !x).length
  if (failed > 0) dropped['bad_field'] = failed
  const bad = Object.values(dropped).reduce((n, v) => n + v, 0) - failed
  return { received: ok.length + bad, accepted: ok.length - failed, dropped }
}

const base = nowUs(300)
const at = (i: number) => isoFromUs(base + i * 1000)

before(async () => {
  store = await openStore(testConfig(tempDir('api'), 'api'))
  await writeAll([
    ...Array.from({ length: 30 }, (_, i) =>
      tlsEvent(i, {
        ja4: FP_A,
        ts: at(i),
        sensor: 'api-sensor',
        src_ip: `10.1.0.${i % 3}`,
        sni: i % 2 === 0 ? 'a.example' : 'b.example',
      }),
    ),
    ...Array.from({ length: 10 }, (_, i) =>
      tlsEvent(100 + i, { ja4: FP_B, ts: at(100 + i), sensor: 'api-sensor', src_ip: '10.2.0.1' }),
    ),
    tlsEvent(200, { ja4: FP_ODD, ts: at(200), sensor: 'odd-sensor' }),
    ...Array.from({ length: 8 }, (_, i) =>
      sessionEvent(300 + i, {
        ja4: FP_A,
        ts: at(300 + i),
        sensor: 'api-sensor',
        user_agent: i < 5 ? 'agent-x' : 'agent-y',
        src_ip: `10.1.0.${i % 2}`,
      }),
    ),
    ...Array.from({ length: 12 }, (_, i) =>
      httpEvent(400 + i, {
        ja4h: JA4H,
        ts: at(400 + i),
        sensor: 'api-sensor',
        user_agent: i < 8 ? 'curl/8' : 'wget/1',
        path: `/h/${i}`,
      }),
    ),
  ])
  api = buildApi({
    queries: store.queries,
    metrics: metricsSource(),
    ingest: ingestToStore,
    token: TOKEN,
    logger: captureLogger(),
    maxIngestBytes: 64 * 1024,
  })
})

after(async () => {
  await api.close()
  await store.close()
})

/** A JSON answer, typed as the contract says it is (checked by the assertions). */
async function get<T = ErrorResponse>(url: string): Promise<{ status: number; body: T }> {
  const r = await api.inject({ method: 'GET', url })
  assert.match(String(r.headers['content-type']), /^application\/json/, url)
  return { status: r.statusCode, body: r.json() as T }
}

/** A 4xx/5xx answer: the JSON error body, no stack, the expected code. */
function assertError(r: { status: number; body: unknown }, status: number, code: string): void {
  assert.equal(r.status, status, JSON.stringify(r.body))
  const body = r.body as ErrorResponse
  assert.deepEqual(Object.keys(body), ['error'])
  assert.equal(body.error.code, code)
  assert.equal(typeof body.error.message, 'string')
  assert.doesNotMatch(JSON.stringify(r.body), /at .*\.ts:\d+|node:internal|stack/)
}

test('GET /health answers with the store state', async () => {
  const r = await get<HealthResponse>('/health')
  assert.equal(r.status, 200)
  assert.equal(r.body.status, 'ok')
  assert.equal(r.body.store_available, true)
  assert.ok(r.body.uptime_s >= 0)
})

test('GET /api/v1/stats: stored per type, received per input, drops per reason, spool', async () => {
  const r = await get<StatsResponse>('/api/v1/stats')
  assert.equal(r.status, 200)
  assert.deepEqual(r.body.stored, await store.queries.countEvents())
  assert.ok(r.body.stored.tls >= 41 && r.body.stored.session >= 8 && r.body.stored.http >= 12)
  assert.deepEqual(r.body.received, { udp: 10, tcp: 5 })
  assert.deepEqual(r.body.dropped, { bad_json: 3, untrusted: 1, store_rejected: 0 })
  assert.equal(r.body.spool_bytes, 0)
})

test('GET /api/v1/fingerprints/top ranks a family over the window', async () => {
  const r = await get<TopResponse>('/api/v1/fingerprints/top?window=1h&family=ja4')
  assert.equal(r.status, 200)
  assert.equal(r.body.family, 'ja4')
  assert.equal(r.body.grain, 'minute')
  const top = r.body.fingerprints
  assert.deepEqual(
    top.slice(0, 2).map((f) => [f.fingerprint, f.events, f.src_ips]),
    [
      [FP_A, 30, 3],
      [FP_B, 10, 1],
    ],
  )
  assert.equal(top[0]?.hosts, 2)
  assert.equal(top[0]?.user_agents, 2)
  assert.equal(top[0]?.first_seen, at(0))
  const one = await get<TopResponse>('/api/v1/fingerprints/top?limit=1')
  assert.deepEqual(
    one.body.fingerprints.map((f) => f.fingerprint),
    [FP_A],
  )
  const http = await get<TopResponse>('/api/v1/fingerprints/top?family=ja4h')
  assert.equal(http.body.fingerprints[0]?.fingerprint, JA4H)
  assert.equal(http.body.fingerprints[0]?.events, 12)
  const wide = await get<TopResponse>('/api/v1/fingerprints/top?window=30d')
  assert.equal(wide.body.grain, 'day')
  assert.equal(wide.body.fingerprints[0]?.events, 30)
})

test('bad parameters are 400 with a JSON error naming the problem', async () => {
  const cases: [string, RegExp][] = [
    ['/api/v1/fingerprints/top?family=ja4;DROP', /family/],
    ['/api/v1/fingerprints/top?window=1w', /window/],
    ['/api/v1/fingerprints/top?window=367d', /window/],
    ['/api/v1/fingerprints/top?window=0s', /window/],
    ['/api/v1/fingerprints/top?limit=1001', /limit/],
    ['/api/v1/fingerprints/top?limit=0', /limit/],
    ['/api/v1/fingerprints/top?limit=ten', /limit/],
    ['/api/v1/fingerprints/top?colour=red', /additional properties/],
    ['/api/v1/events?type=alert', /type/],
    ['/api/v1/events?offset=100001', /offset/],
    ['/api/v1/events?cursor=not*base64', /cursor/],
    ['/api/v1/events?cursor=bm9wZQ', /cursor/],
    ['/api/v1/events?family=ja4', /fingerprint/],
    ['/api/v1/events?fingerprint=x&family=src_ip', /family/],
    ['/api/v1/events?type=tls&user_agent=curl', /user_agent/],
    ['/api/v1/fingerprints/%zz', /url/],
    [`/api/v1/fingerprints/${'a'.repeat(300)}`, /fp/],
    ['/health?x=1', /additional properties/],
  ]
  for (const [url, message] of cases) {
    const r = await get(url)
    assertError(r, 400, 'E_INVALID_ARGUMENT')
    assert.match(r.body.error.message, message, url)
  }
})

test('GET /api/v1/fingerprints/:fp: totals, timeline, addresses, hosts, user agents', async () => {
  const r = await get<FingerprintResponse>(`/api/v1/fingerprints/${FP_A}?window=1h&limit=2`)
  assert.equal(r.status, 200)
  assert.equal(r.body.fingerprint, FP_A)
  assert.equal(r.body.summary.events, 30)
  assert.equal(
    r.body.timeline.reduce((n, p) => n + p.events, 0),
    30,
  )
  assert.match(r.body.timeline[0]?.t ?? '', /^\d{4}-\d\d-\d\dT\d\d:\d\d:00Z$/)
  assert.deepEqual(
    r.body.src_ips.map((v) => [v.value, v.events]),
    [
      ['10.1.0.0', 10],
      ['10.1.0.1', 10],
    ],
  )
  assert.deepEqual(r.body.hosts.map((v) => v.value).sort(), ['a.example', 'b.example'])
  assert.deepEqual(
    r.body.user_agents.map((v) => [v.value, v.events]),
    [
      ['agent-x', 5],
      ['agent-y', 3],
    ],
  )
  const odd = await get<FingerprintResponse>(`/api/v1/fingerprints/${encodeURIComponent(FP_ODD)}`)
  assert.equal(odd.status, 200)
  assert.equal(odd.body.summary.events, 1)
  const http = await get<FingerprintResponse>(`/api/v1/fingerprints/${JA4H}?family=ja4h`)
  assert.equal(http.body.summary.events, 12)
  assert.equal(http.body.hosts[0]?.value, 'shop.example')
})

test('an unseen fingerprint is 404; so is an unknown route', async () => {
  assertError(await get('/api/v1/fingerprints/t13d0000h2_nothing'), 404, 'E_NOT_FOUND')
  assertError(await get(`/api/v1/fingerprints/${FP_A}?family=ja3`), 404, 'E_NOT_FOUND')
  assertError(await get('/api/v2/nothing'), 404, 'E_NOT_FOUND')
})

test('GET /api/v1/fingerprints/:fp/user-agents breaks a fingerprint down by user agent', async () => {
  const r = await get<UserAgentsResponse>(`/api/v1/fingerprints/${FP_A}/user-agents`)
  assert.equal(r.status, 200)
  const uas = r.body.user_agents
  assert.deepEqual(
    uas.map((u) => [u.user_agent, u.events, u.src_ips]),
    [
      ['agent-x', 5, 2],
      ['agent-y', 3, 2],
    ],
  )
  assert.ok(Math.abs((uas[0]?.share ?? 0) - 5 / 8) < 1e-9)
  const http = await get<UserAgentsResponse>(
    `/api/v1/fingerprints/${JA4H}/user-agents?family=ja4h&limit=1`,
  )
  assert.deepEqual(
    http.body.user_agents.map((u) => [u.user_agent, u.events]),
    [['curl/8', 8]],
  )
  assert.ok(Math.abs((http.body.user_agents[0]?.share ?? 0) - 8 / 12) < 1e-9)
  const none = await get<UserAgentsResponse>('/api/v1/fingerprints/never-seen/user-agents')
  assert.deepEqual(none.body.user_agents, [])
})

test('GET /api/v1/events filters by fingerprint, address, host and sensor', async () => {
  const byFp = await get<EventPageResponse>(`/api/v1/events?type=tls&fingerprint=${FP_B}&limit=100`)
  assert.equal(byFp.status, 200)
  assert.equal(byFp.body.type, 'tls')
  assert.equal(byFp.body.events.length, 10)
  assert.ok(byFp.body.events.every((e) => e.ja4 === FP_B && e.type === 'tls'))
  // A full event: every field of the schema, certificates included.
  assert.equal((byFp.body.events[0] as TlsEvent).certs.length, 2)
  assert.equal(byFp.body.has_more, false)
  assert.equal(byFp.body.next_cursor, null)
  const byIp = await get<EventPageResponse>('/api/v1/events?src_ip=10.1.0.2&sensor=api-sensor')
  assert.equal(byIp.body.events.length, 10)
  const byHost = await get<EventPageResponse>(`/api/v1/events?host=a.example&fingerprint=${FP_A}`)
  assert.equal(byHost.body.events.length, 15)
  const byJa4h = await get<EventPageResponse>(
    `/api/v1/events?type=http&fingerprint=${JA4H}&user_agent=wget/1`,
  )
  assert.deepEqual(
    byJa4h.body.events.map((e) => (e as HttpEvent).path),
    ['/h/11', '/h/10', '/h/9', '/h/8'],
  )
  const byColumn = await get<EventPageResponse>(
    '/api/v1/events?family=ja4s&fingerprint=t130200_1301_234ea6891581',
  )
  assert.ok(byColumn.body.events.length > 0)
})

test('GET /api/v1/events pages newest first by cursor and by offset', async () => {
  const all: string[] = []
  let url = '/api/v1/events?sensor=api-sensor&limit=7'
  let pages = 0
  for (;;) {
    const r = await get<EventPageResponse>(url)
    assert.equal(r.status, 200)
    pages++
    all.push(...r.body.events.map((e) => e.ts))
    if (r.body.next_cursor === null) {
      assert.equal(r.body.has_more, false)
      break
    }
    url = `/api/v1/events?sensor=api-sensor&limit=7&cursor=${r.body.next_cursor}`
  }
  assert.equal(pages, 6)
  assert.equal(all.length, 40)
  assert.equal(new Set(all).size, 40)
  assert.deepEqual(all, [...all].sort().reverse())
  const byOffset: string[] = []
  for (let offset = 0; offset < 40; offset += 15) {
    const r = await get<EventPageResponse>(
      `/api/v1/events?sensor=api-sensor&limit=15&offset=${offset}`,
    )
    byOffset.push(...r.body.events.map((e) => e.ts))
  }
  assert.deepEqual(byOffset, all)
  const first = await get<EventPageResponse>('/api/v1/events?sensor=api-sensor&limit=7')
  const both = await get(
    `/api/v1/events?sensor=api-sensor&limit=7&offset=7&cursor=${first.body.next_cursor}`,
  )
  assertError(both, 400, 'E_INVALID_ARGUMENT')
})

test('GET /api/v1/sessions lists sessions, filtered by user agent, paged', async () => {
  const r = await get<EventPageResponse>('/api/v1/sessions?user_agent=agent-y')
  assert.equal(r.status, 200)
  assert.equal(r.body.type, 'session')
  assert.equal(r.body.events.length, 3)
  assert.ok(
    r.body.events.every(
      (e) => e.type === 'session' && (e as SessionEvent).user_agent === 'agent-y',
    ),
  )
  const p1 = await get<EventPageResponse>(`/api/v1/sessions?fingerprint=${FP_A}&limit=5`)
  assert.equal(p1.body.events.length, 5)
  assert.equal(p1.body.has_more, true)
  const p2 = await get<EventPageResponse>(
    `/api/v1/sessions?fingerprint=${FP_A}&limit=5&cursor=${p1.body.next_cursor}`,
  )
  assert.equal(p2.body.events.length, 3)
  assert.equal(p2.body.has_more, false)
  const byHost = await get<EventPageResponse>(
    '/api/v1/sessions?host=shop.example&sensor=api-sensor',
  )
  assert.equal(byHost.body.events.length, 8)
  assertError(await get('/api/v1/sessions?type=tls'), 400, 'E_INVALID_ARGUMENT')
})

test('the window is resolved against the injected clock', async () => {
  const fixed = buildApi({
    queries: store.queries,
    metrics: metricsSource(),
    now: () => Date.parse('2030-01-01T00:00:00Z'),
  })
  const r = await fixed.inject({ url: '/api/v1/fingerprints/top?window=90m' })
  assert.deepEqual(r.json().window, {
    from: '2029-12-31T22:30:00.000000Z',
    to: '2030-01-01T00:01:00.000000Z',
  })
  assert.deepEqual(r.json().fingerprints, [])
  await fixed.close()
})

test('GET /metrics is valid Prometheus text with the counters of every part', async () => {
  await get('/api/v1/fingerprints/top')
  const r = await api.inject({ url: '/metrics' })
  assert.equal(r.statusCode, 200)
  assert.equal(r.headers['content-type'], 'text/plain; version=0.0.4; charset=utf-8')
  const m = parsePrometheus(r.body)
  assert.equal(sampleValue(m, 'tlsight_source_received_events_total', { source: 'udp' }), 10)
  assert.equal(
    sampleValue(m, 'tlsight_source_dropped_events_total', { source: 'tcp', reason: 'bad_json' }),
    1,
  )
  assert.ok(sampleValue(m, 'tlsight_store_events_total', { outcome: 'inserted' })! >= 61)
  assert.equal(sampleValue(m, 'tlsight_store_spool_bytes'), 0)
  assert.equal(sampleValue(m, 'tlsight_correlator_sessions_total'), 2)
  assert.equal(
    sampleValue(
      m,
      'tlsight_store_batch_latency_seconds_bucket',
      { le: '+Inf' },
      'tlsight_store_batch_latency_seconds',
    ),
    1,
  )
  assert.ok(
    sampleValue(m, 'tlsight_api_requests_total', {
      route: '/api/v1/fingerprints/top',
      method: 'GET',
      status: '200',
    })! >= 1,
  )
  assert.ok(m.has('tlsight_api_request_duration_seconds'))
})

test('GET /api/v1/openapi.json documents every mounted route', async () => {
  const r = await get<{ openapi: string; paths: Record<string, object> }>('/api/v1/openapi.json')
  assert.equal(r.status, 200)
  assert.equal(r.body.openapi, '3.1.0')
  const documented = new Set(
    Object.entries(r.body.paths).flatMap(([path, item]) =>
      Object.keys(item as object).map((m) => `${m.toUpperCase()} ${path}`),
    ),
  )
  // What Fastify actually mounted, read from its router (HEAD twins of GET left out).
  // A tree: `├── /a (GET)` then `│   └── /b (GET)` for /a/b, nested by 4 columns a level.
  const mounted = new Set<string>()
  const prefix: string[] = []
  for (const line of api.printRoutes({ commonPrefix: false }).split('\n')) {
    const m = /── (\S+)(?: \(([A-Z, ]+)\))?$/.exec(line)
    if (m === null) continue
    const depth = (line.indexOf('── ') - 1) / 4
    const path = (prefix[depth - 1] ?? '') + m[1]!
    prefix[depth] = path
    for (const method of (m[2] ?? '').split(', '))
      if (method !== '' && method !== 'HEAD')
        mounted.add(`${method} ${path.replace(/:([a-z_]+)/g, '{$1}')}`)
  }
  assert.ok(mounted.size >= apiRoutes(true).length, [...mounted].join('; '))
  assert.deepEqual([...mounted].sort(), [...documented].sort())
})

test('a store that fails is 503 with Retry-After and no driver detail', async () => {
  const flaky = new FlakyConnection(store.connection)
  flaky.down = true
  const down = buildApi({
    queries: new StoreQueries(flaky, testConfig(tempDir('api-down'), 'api')),
    metrics: metricsSource(),
    logger: captureLogger(),
  })
  for (const url of ['/api/v1/stats', '/api/v1/fingerprints/top', '/api/v1/events']) {
    const r = await down.inject({ url })
    assertError({ status: r.statusCode, body: r.json() }, 503, 'E_STORAGE_UNAVAILABLE')
    assert.equal(r.headers['retry-after'], '5')
    assert.doesNotMatch(r.body, /injected|SELECT/)
  }
  assert.ok(logLines.some((l) => l.includes('injected: store unreachable')))
  await down.close()
})

test('an unexpected failure is 500 "internal error", logged with its stack', async () => {
  const broken = buildApi({
    queries: store.queries,
    metrics: {
      sources: () => {
        throw new Error('counter snapshot exploded')
      },
      writer: () => store.writer.stats,
    },
    logger: captureLogger(),
  })
  const r = await broken.inject({ url: '/metrics' })
  assertError({ status: r.statusCode, body: r.json() }, 500, 'E_INTERNAL')
  assert.equal(r.json().error.message, 'internal error')
  assert.ok(logLines.some((l) => l.includes('counter snapshot exploded') && l.includes('stack')))
  await broken.close()
})

function ndjson(events: object[]): string {
  return events.map((e) => JSON.stringify(e)).join('\n') + '\n'
}

async function postIngest(
  payload: string | Buffer | Readable,
  headers: Record<string, string> = {},
  app: FastifyInstance = api,
) {
  const r = await app.inject({
    method: 'POST',
    url: '/api/v1/ingest',
    headers: {
      authorization: `Bearer ${TOKEN}`,
      'content-type': 'application/x-ndjson',
      ...headers,
    },
    payload,
  })
  return { status: r.statusCode, body: r.json(), headers: r.headers, raw: r.body }
}

test('POST /api/v1/ingest without the right token is 401, and the token is never echoed', async () => {
  const calls = ingestCalls.length
  const body = ndjson([httpEvent(1, { sensor: 'should-not-land' })])
  const wrong = 'wrong-token-but-long-enough-99'
  for (const authorization of [undefined, `Bearer ${wrong}`, `Basic ${TOKEN}`, TOKEN, 'Bearer ']) {
    const headers: Record<string, string> = { 'content-type': 'application/x-ndjson' }
    if (authorization !== undefined) headers['authorization'] = authorization
    const r = await api.inject({ method: 'POST', url: '/api/v1/ingest', headers, payload: body })
    assertError({ status: r.statusCode, body: r.json() }, 401, 'E_UNAUTHORIZED')
    assert.equal(r.headers['www-authenticate'], 'Bearer realm="tlsight"')
    assert.ok(!r.body.includes(TOKEN) && !r.body.includes(wrong))
  }
  assert.equal(ingestCalls.length, calls, 'the body was never handed over')
  const ok = await postIngest(ndjson([httpEvent(1, { sensor: 'token-check' })]))
  assert.equal(ok.status, 200)
  assert.ok(!ok.raw.includes(TOKEN))
  // Passed on without the credentials or the wire headers.
  const last = ingestCalls[ingestCalls.length - 1]!
  assert.equal(last['authorization'], undefined)
  assert.equal(last['content-length'], undefined)
  assert.equal(last['content-type'], 'application/x-ndjson')
  assert.ok(!logLines.some((l) => l.includes(TOKEN) || l.includes(wrong)))
})

test('POST /api/v1/ingest stores NDJSON and gzip-compressed NDJSON', async () => {
  const plain = Array.from({ length: 5 }, (_, i) =>
    httpEvent(i, { sensor: 'ingest-plain', path: `/p/${i}` }),
  )
  const r = await postIngest(ndjson(plain) + 'not json\n')
  assert.equal(r.status, 200)
  assert.deepEqual(r.body, { received: 6, accepted: 5, dropped: { bad_json: 1 } })
  const zipped = Array.from({ length: 7 }, (_, i) =>
    httpEvent(i, { sensor: 'ingest-gzip', path: `/z/${i}` }),
  )
  const z = await postIngest(gzipSync(ndjson(zipped)), { 'content-encoding': 'gzip' })
  assert.equal(z.status, 200)
  assert.deepEqual(z.body, { received: 7, accepted: 7, dropped: {} })
  const stored = await get<EventPageResponse>(
    '/api/v1/events?type=http&sensor=ingest-gzip&limit=100',
  )
  assert.deepEqual(
    stored.body.events.map((e) => (e as HttpEvent).path),
    zipped.map((e) => e.path).reverse(),
  )
  // No content type at all is accepted too.
  const bare = await api.inject({
    method: 'POST',
    url: '/api/v1/ingest',
    headers: { authorization: `Bearer ${TOKEN}` },
    payload: ndjson([httpEvent(9, { sensor: 'ingest-bare' })]),
  })
  assert.equal(bare.statusCode, 200, bare.body)
  assert.equal(bare.json().accepted, 1)
})

test('POST /api/v1/ingest: oversized bodies are 413, as sent or once decompressed', async () => {
  const big = 'x'.repeat(70 * 1024)
  const declared = await postIngest(big)
  assertError(declared, 413, 'E_PAYLOAD_TOO_LARGE')
  assert.equal(declared.headers['connection'], 'close')
  // No Content-Length: the counter stops the stream.
  const streamed = await postIngest(
    Readable.from([Buffer.from(big.slice(0, 40_000)), Buffer.from(big)]),
  )
  assertError(streamed, 413, 'E_PAYLOAD_TOO_LARGE')
  // A small gzip body that inflates past the limit.
  const bomb = gzipSync(Buffer.alloc(1024 * 1024, 0x0a))
  assert.ok(bomb.length < 64 * 1024)
  const inflated = await postIngest(bomb, { 'content-encoding': 'gzip' })
  assertError(inflated, 413, 'E_PAYLOAD_TOO_LARGE')
})

test('POST /api/v1/ingest: other media types or encodings are 415, bad gzip 400', async () => {
  const body = ndjson([httpEvent(1)])
  assertError(
    await postIngest(body, { 'content-type': 'image/png' }),
    415,
    'E_UNSUPPORTED_MEDIA_TYPE',
  )
  assertError(await postIngest(body, { 'content-encoding': 'br' }), 415, 'E_UNSUPPORTED_MEDIA_TYPE')
  const bad = await postIngest(Buffer.from('this is not gzip'), { 'content-encoding': 'gzip' })
  assertError(bad, 400, 'E_INVALID_ARGUMENT')
  assert.match(bad.body.error.message, /gzip/)
})

test('POST /api/v1/ingest: a collector that stops early or pushes back', async () => {
  const early = buildApi({
    queries: store.queries,
    metrics: metricsSource(),
    token: TOKEN,
    ingest: async () => ({ received: 1, accepted: 0, dropped: { queue_full: 1 } }),
  })
  const body = Readable.from([Buffer.from(ndjson([httpEvent(1)])), Buffer.from('{"more":1}\n')])
  const r = await postIngest(body, {}, early)
  assert.equal(r.status, 200)
  assert.deepEqual(r.body, { received: 1, accepted: 0, dropped: { queue_full: 1 } })
  await early.close()
  const busy = buildApi({
    queries: store.queries,
    metrics: metricsSource(),
    token: TOKEN,
    ingest: async () => {
      throw new AppError('E_STORE_BACKPRESSURE', '100000 events wait for the store')
    },
  })
  const b = await postIngest(ndjson([httpEvent(1)]), {}, busy)
  assertError(b, 503, 'E_STORE_BACKPRESSURE')
  assert.equal(b.headers['retry-after'], '5')
  await busy.close()
})

test('write APIs are off without a token (403), and absent without an ingest function', async () => {
  const noToken = buildApi({
    queries: store.queries,
    metrics: metricsSource(),
    ingest: ingestToStore,
  })
  const r = await postIngest(ndjson([httpEvent(1)]), {}, noToken)
  assertError(r, 403, 'E_WRITE_DISABLED')
  await noToken.close()
  const noIngest = buildApi({ queries: store.queries, metrics: metricsSource(), token: TOKEN })
  assertError(await postIngest('', {}, noIngest), 404, 'E_NOT_FOUND')
  await noIngest.close()
})

test('a real socket: GET top and a gzip ingest over HTTP', async () => {
  const live = buildApi({
    queries: store.queries,
    metrics: metricsSource(),
    ingest: ingestToStore,
    token: TOKEN,
  })
  await live.listen({ port: 0, host: '127.0.0.1' })
  try {
    const { port } = live.server.address() as AddressInfo
    const base = `http://127.0.0.1:${port}`
    const top = await fetch(`${base}/api/v1/fingerprints/top?window=1h&family=ja4&limit=1`)
    assert.equal(top.status, 200)
    assert.match(top.headers.get('content-type') ?? '', /^application\/json/)
    const body = (await top.json()) as TopResponse
    assert.equal(body.fingerprints[0]?.fingerprint, FP_A)
    const events = Array.from({ length: 3 }, (_, i) => httpEvent(i, { sensor: 'over-socket' }))
    const post = await fetch(`${base}/api/v1/ingest`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${TOKEN}`,
        'content-type': 'application/x-ndjson',
        'content-encoding': 'gzip',
      },
      body: gzipSync(ndjson(events)),
    })
    assert.equal(post.status, 200)
    assert.deepEqual(await post.json(), { received: 3, accepted: 3, dropped: {} })
    const denied = await fetch(`${base}/api/v1/ingest`, { method: 'POST', body: 'x\n' })
    assert.equal(denied.status, 401)
    assert.equal(((await denied.json()) as ErrorResponse).error.code, 'E_UNAUTHORIZED')
  } finally {
    await live.close()
  }
})
