import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { readdirSync } from 'node:fs'
import { join } from 'node:path'
import { isoFromUs } from '../events/time.ts'
import { STAGING_DIR } from './connection.ts'
import { openStore, type Store } from './index.ts'
import type { StoreEvent, StoredEvent } from './schema.ts'
import {
  httpEvent,
  nowUs,
  sessionEvent,
  tempDir,
  testConfig,
  tlsEvent,
} from './test-helpers/fixtures.ts'

// One chDB data directory per process (an engine limit): every test here shares this store.
let store: Store
const dataDir = tempDir('store')
const WINDOW = () => ({ from: isoFromUs(nowUs(3600)), to: isoFromUs(nowUs(-60)) })

before(async () => {
  store = await openStore(testConfig(dataDir, 'rt'))
})
after(async () => {
  await store.close()
})

async function writeAll(events: Parameters<Store['writer']['write']>[0][]): Promise<void> {
  await Promise.all(events.map((e) => store.writer.write(e)))
}

test('each event type round-trips through the store unchanged', async () => {
  const tls = tlsEvent(1, { src_ip: '2001:db8::1', sni: null, alpn: [], resumption: [] })
  const http = httpEvent(2, { request_time_ms: 0.125, dst_ip: '198.51.100.1' })
  const session = sessionEvent(3, { status: null, host: null })
  await writeAll([tls, http, session])
  await store.writer.flush()
  const got: StoredEvent[] = []
  for (const type of ['tls', 'http', 'session'])
    got.push(...(await store.queries.listEvents({ type, ...WINDOW(), limit: 10 })).events)
  assert.deepEqual(got, [tls, http, session])
})

test('a tls event without sensor gets the configured one', async () => {
  const { sensor: _s, ...bare } = tlsEvent(4, { ja4: 'no-sensor-ja4' })
  // A producer that predates the field: the writer stamps NODE_NAME.
  await store.writer.write(bare as unknown as StoreEvent)
  const page = await store.queries.listEvents({
    type: 'tls',
    ...WINDOW(),
    filter: { fingerprint: { family: 'ja4', value: 'no-sensor-ja4' } },
  })
  assert.equal(page.events.length, 1)
  assert.equal((page.events[0] as { sensor: string }).sensor, 'sensor-test')
})

test('values with quotes and backslashes round-trip (bound parameters, never spliced)', async () => {
  const nasty = `it's \\' OR 1=1 -- \\\\ "x" {y:String} é\u0001`
  const http = httpEvent(5, { host: nasty, path: `/${nasty}`, user_agent: nasty, ja4h: nasty })
  await store.writer.write(http)
  const page = await store.queries.listEvents({
    type: 'http',
    ...WINDOW(),
    filter: { host: nasty },
  })
  assert.deepEqual(page.events, [http])
  const uas = await store.queries.fingerprintValues({
    family: 'ja4h',
    fingerprint: nasty,
    dimension: 'user_agent',
    ...WINDOW(),
  })
  assert.deepEqual(
    uas.map((u) => [u.value, u.events]),
    [[nasty, 1]],
  )
  const top = await store.queries.topFingerprints({ family: 'ja4h', ...WINDOW() })
  assert.ok(top.some((t) => t.fingerprint === nasty))
})

test('materialized views fill the per-minute and per-day rollups', async () => {
  const ja4 = 't13d0000h2_rollup000000_rollup000000'
  const base = nowUs(120)
  const events = Array.from({ length: 30 }, (_, i) =>
    tlsEvent(i, {
      ja4,
      ts: isoFromUs(base + i * 1000),
      src_ip: `10.0.0.${i % 3}`,
      sni: i % 2 === 0 ? 'a.example' : 'b.example',
    }),
  )
  const sessions = Array.from({ length: 4 }, (_, i) =>
    sessionEvent(100 + i, { ja4, ts: isoFromUs(base + i), user_agent: `agent-${i % 2}` }),
  )
  await writeAll([...events, ...sessions])
  await store.writer.flush()
  for (const grain of ['minute', 'day'] as const) {
    const top = await store.queries.topFingerprints({ family: 'ja4', grain, ...WINDOW() })
    const row = top.find((t) => t.fingerprint === ja4)
    assert.ok(row, grain)
    // Events and addresses come from tls events; user agents from the sessions.
    assert.equal(row.events, 30)
    assert.equal(row.src_ips, 3)
    assert.equal(row.hosts, 2)
    assert.equal(row.user_agents, 2)
    assert.equal(row.first_seen, isoFromUs(base))
    assert.ok(row.last_seen >= isoFromUs(base + 29_000))
  }
  const timeline = await store.queries.fingerprintTimeline({
    family: 'ja4',
    fingerprint: ja4,
    ...WINDOW(),
  })
  assert.equal(
    timeline.reduce((n, p) => n + p.events, 0),
    30,
  )
  assert.match(timeline[0]!.t, /^\d{4}-\d\d-\d\dT\d\d:\d\d:00Z$/)
  const ips = await store.queries.fingerprintValues({
    family: 'ja4',
    fingerprint: ja4,
    dimension: 'src_ip',
    ...WINDOW(),
  })
  assert.deepEqual(
    ips.map((v) => [v.value, v.events]),
    [
      ['10.0.0.0', 10],
      ['10.0.0.1', 10],
      ['10.0.0.2', 10],
    ],
  )
  const hosts = await store.queries.fingerprintValues({
    family: 'ja4',
    fingerprint: ja4,
    dimension: 'host',
    ...WINDOW(),
  })
  assert.deepEqual(
    hosts.map((v) => v.value),
    ['a.example', 'b.example'],
  )
})

test('a fingerprint family the rollups do not know is E_INVALID_ARGUMENT', async () => {
  await assert.rejects(store.queries.topFingerprints({ family: 'ja4; DROP', ...WINDOW() }), {
    code: 'E_INVALID_ARGUMENT',
  })
  await assert.rejects(
    store.queries.listEvents({
      type: 'tls',
      ...WINDOW(),
      filter: { fingerprint: { family: 'src_ip = src_ip OR 1', value: 'x' } },
    }),
    { code: 'E_INVALID_ARGUMENT' },
  )
  await assert.rejects(store.queries.listEvents({ type: 'tls', ...WINDOW(), limit: 100_000 }), {
    code: 'E_INVALID_ARGUMENT',
  })
})

test('listEvents pages newest first with filters; countEvents counts per type', async () => {
  const ip = '198.18.0.99'
  const base = nowUs(300)
  const events = Array.from({ length: 25 }, (_, i) =>
    httpEvent(i, { src_ip: ip, ts: isoFromUs(base + i), path: `/p${i}` }),
  )
  await writeAll(events)
  await store.writer.flush()
  const seen: string[] = []
  let offset = 0
  for (;;) {
    const page = await store.queries.listEvents({
      type: 'http',
      ...WINDOW(),
      filter: { src_ip: ip },
      limit: 10,
      offset,
    })
    seen.push(...page.events.map((e) => (e as { path: string }).path))
    if (!page.has_more) break
    offset += 10
  }
  assert.deepEqual(seen, events.map((e) => e.path).reverse())
  const before = await store.queries.countEvents()
  await store.writer.write(tlsEvent(999))
  await store.writer.flush()
  const afterCounts = await store.queries.countEvents()
  assert.equal(afterCounts.tls, before.tls + 1)
  assert.equal(afterCounts.http, before.http)
  assert.ok(afterCounts.session >= 5)
})

test('invalid events are refused at write(), before they can spoil a batch', async () => {
  await assert.rejects(store.writer.write({ ...tlsEvent(1), src_port: 70_000 }), {
    code: 'E_INVALID_ARGUMENT',
  })
  await assert.rejects(store.writer.write({ ...httpEvent(1), ts: 'yesterday' }), {
    code: 'E_INVALID_ARGUMENT',
  })
  await assert.rejects(store.writer.write({ ...httpEvent(1), type: 'nope' } as never), {
    code: 'E_INVALID_ARGUMENT',
  })
})

test('batches staged for the embedded engine are removed once inserted', async () => {
  await writeAll([httpEvent(90), tlsEvent(91), sessionEvent(92)])
  await store.writer.flush()
  assert.deepEqual(readdirSync(join(dataDir, STAGING_DIR)), [])
})
