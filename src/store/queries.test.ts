import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { isoFromUs } from '../events/time.ts'
import { openStore, type Store } from './index.ts'
import type { EventCursor, FingerprintSummary, StoredEvent } from './index.ts'
import { chTime } from './queries.ts'
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
const WINDOW = () => ({ from: isoFromUs(nowUs(3600)), to: isoFromUs(nowUs(-60)) })

before(async () => {
  store = await openStore(testConfig(tempDir('queries'), 'q'))
})
after(async () => {
  await store.close()
})

async function writeAll(events: Parameters<Store['writer']['write']>[0][]): Promise<void> {
  const written = Promise.all(events.map((e) => store.writer.write(e)))
  // Flushed now rather than after flush_interval_ms.
  await store.writer.flush()
  await written
}

function paths(events: readonly StoredEvent[]): string[] {
  return events.map((e) => (e as { path: string }).path)
}

test('a cursor pages through events that share timestamps, each exactly once', async () => {
  const sensor = 'ties-sensor'
  const base = nowUs(400)
  // 5 timestamps × 5 events each: every page boundary falls inside a group of equal `ts`.
  const events = Array.from({ length: 25 }, (_, i) =>
    httpEvent(i, {
      sensor,
      ts: isoFromUs(base + Math.floor(i / 5) * 1000),
      src_ip: `198.18.1.${i % 7}`,
      path: `/tie/${i}`,
    }),
  )
  await writeAll(events)
  const seen: string[] = []
  let cursor: EventCursor | undefined
  let pages = 0
  for (;;) {
    const page = await store.queries.listEvents({
      type: 'http',
      ...WINDOW(),
      filter: { sensor },
      limit: 3,
      ...(cursor === undefined ? {} : { cursor }),
    })
    pages++
    seen.push(...paths(page.events))
    assert.equal(page.next_cursor === null, !page.has_more)
    if (page.next_cursor === null) break
    cursor = page.next_cursor
  }
  assert.equal(pages, 9)
  assert.equal(new Set(seen).size, 25)
  // Newest first: group by group.
  const groupOf = (p: string) => Math.floor(Number(p.split('/')[2]) / 5)
  assert.deepEqual(
    seen.map(groupOf),
    [...seen.map(groupOf)].sort((a, b) => b - a),
  )
})

test('a cursor does not shift when newer events arrive; an offset does', async () => {
  const sensor = 'shift-sensor'
  const base = nowUs(500)
  const first = Array.from({ length: 6 }, (_, i) =>
    httpEvent(i, { sensor, ts: isoFromUs(base + i), path: `/old/${i}` }),
  )
  await writeAll(first)
  const q = { type: 'http', ...WINDOW(), filter: { sensor }, limit: 3 }
  const p1 = await store.queries.listEvents(q)
  assert.deepEqual(paths(p1.events), ['/old/5', '/old/4', '/old/3'])
  assert.ok(p1.next_cursor)
  await writeAll([httpEvent(99, { sensor, ts: isoFromUs(base + 100), path: '/new' })])
  const byCursor = await store.queries.listEvents({ ...q, cursor: p1.next_cursor })
  assert.deepEqual(paths(byCursor.events), ['/old/2', '/old/1', '/old/0'])
  assert.equal(byCursor.has_more, false)
  const byOffset = await store.queries.listEvents({ ...q, offset: 3 })
  assert.deepEqual(paths(byOffset.events), ['/old/3', '/old/2', '/old/1'])
})

test('cursor and offset together, or a cursor that is no time, are E_INVALID_ARGUMENT', async () => {
  const cursor = { ts: isoFromUs(nowUs()), skip: 0 }
  await assert.rejects(store.queries.listEvents({ type: 'tls', ...WINDOW(), cursor, offset: 5 }), {
    code: 'E_INVALID_ARGUMENT',
  })
  await assert.rejects(
    store.queries.listEvents({ type: 'tls', ...WINDOW(), cursor: { ts: 'soon', skip: 0 } }),
    { code: 'E_INVALID_ARGUMENT' },
  )
  await assert.rejects(
    store.queries.listEvents({ type: 'tls', ...WINDOW(), cursor: { ts: cursor.ts, skip: -1 } }),
    { code: 'E_INVALID_ARGUMENT' },
  )
})

test('sessions and requests filter on user_agent; tls events have none', async () => {
  const ua = `ua-filter/1.0 "quoted" \\ ${Date.now()}`
  await writeAll([
    sessionEvent(1, { user_agent: ua, path: '/s1' }),
    sessionEvent(2, { user_agent: 'other', path: '/s2' }),
    httpEvent(3, { user_agent: ua, path: '/h3' }),
  ])
  const sessions = await store.queries.listEvents({
    type: 'session',
    ...WINDOW(),
    filter: { user_agent: ua },
  })
  assert.deepEqual(paths(sessions.events), ['/s1'])
  const http = await store.queries.listEvents({
    type: 'http',
    ...WINDOW(),
    filter: { user_agent: ua },
  })
  assert.deepEqual(paths(http.events), ['/h3'])
  await assert.rejects(
    store.queries.listEvents({ type: 'tls', ...WINDOW(), filter: { user_agent: ua } }),
    { code: 'E_INVALID_ARGUMENT' },
  )
})

test('fingerprintSummary totals one fingerprint, or null when unseen in the window', async () => {
  const ja4 = 't13d9999h2_summary00000_summary00000'
  const base = nowUs(200)
  await writeAll(
    Array.from({ length: 12 }, (_, i) =>
      tlsEvent(i, { ja4, ts: isoFromUs(base + i), src_ip: `10.9.0.${i % 4}` }),
    ),
  )
  const s = await store.queries.fingerprintSummary({ family: 'ja4', fingerprint: ja4, ...WINDOW() })
  assert.ok(s)
  assert.equal(s.fingerprint, ja4)
  assert.equal(s.events, 12)
  assert.equal(s.src_ips, 4)
  assert.equal(s.first_seen, isoFromUs(base))
  assert.equal(
    await store.queries.fingerprintSummary({
      family: 'ja4',
      fingerprint: 'never-seen',
      ...WINDOW(),
    }),
    null,
  )
  await assert.rejects(
    store.queries.fingerprintSummary({ family: 'nope', fingerprint: ja4, ...WINDOW() }),
    { code: 'E_INVALID_ARGUMENT' },
  )
})

test('fingerprintUserAgents breaks a tls fingerprint down by the user agents of its sessions', async () => {
  const ja4 = 't13d8888h2_useragents00_useragents00'
  const base = nowUs(250)
  const sessions = Array.from({ length: 10 }, (_, i) =>
    sessionEvent(i, {
      ja4,
      ts: isoFromUs(base + i),
      user_agent: i < 6 ? 'agent-a' : i < 9 ? 'agent-b' : null,
      src_ip: `10.8.0.${i % 3}`,
      host: i % 2 === 0 ? 'a.example' : null,
      sni: 'sni.example',
    }),
  )
  await writeAll(sessions)
  const rows = await store.queries.fingerprintUserAgents({
    family: 'ja4',
    fingerprint: ja4,
    ...WINDOW(),
  })
  assert.deepEqual(
    rows.map((r) => [r.user_agent, r.events]),
    [
      ['agent-a', 6],
      ['agent-b', 3],
    ],
  )
  const a = rows[0]!
  assert.ok(Math.abs(a.share - 6 / 9) < 1e-9)
  assert.equal(a.src_ips, 3)
  // Host when the request had one, else the SNI.
  assert.equal(a.hosts, 2)
  assert.equal(a.first_seen, isoFromUs(base))
  assert.equal(a.last_seen, isoFromUs(base + 5))
  // The share counts every user agent, not only those within the limit.
  const top1 = await store.queries.fingerprintUserAgents({
    family: 'ja4',
    fingerprint: ja4,
    ...WINDOW(),
    limit: 1,
  })
  assert.equal(top1.length, 1)
  assert.ok(Math.abs(top1[0]!.share - 6 / 9) < 1e-9)
})

test('fingerprintUserAgents of an http family reads the requests', async () => {
  const ja4h = `ge11cn99_${Date.now()}`
  await writeAll([
    httpEvent(1, { ja4h, user_agent: 'curl/8' }),
    httpEvent(2, { ja4h, user_agent: 'curl/8' }),
    httpEvent(3, { ja4h, user_agent: 'wget/1' }),
  ])
  const rows = await store.queries.fingerprintUserAgents({
    family: 'ja4h',
    fingerprint: ja4h,
    ...WINDOW(),
  })
  assert.deepEqual(
    rows.map((r) => [r.user_agent, r.events, r.hosts]),
    [
      ['curl/8', 2, 1],
      ['wget/1', 1, 1],
    ],
  )
})

/** Distinct counts are uniqCombined(12) estimates: exact while small, then within a few %. */
function near(actual: number, exact: number, what: string): void {
  assert.ok(Math.abs(actual - exact) <= Math.max(1, exact * 0.03), `${what}: ${actual} vs ${exact}`)
}

const BUCKETS = {
  minute: {
    t: "toDateTime(toStartOfMinute(ts), 'UTC')",
    where:
      "toStartOfMinute(ts) >= toStartOfMinute({from:DateTime64(6, 'UTC')}) " +
      "AND toStartOfMinute(ts) < {to:DateTime64(6, 'UTC')}",
  },
  day: {
    t: 'toDate(ts)',
    where:
      "toDate(ts) >= toDate({from:DateTime64(6, 'UTC')}) " +
      "AND toDate(ts) < toDate({to:DateTime64(6, 'UTC')}) + 1",
  },
} as const

/** What `topFingerprints` returns, counted exactly from the raw events. */
type RawStats = FingerprintSummary

/** The top fingerprints of a family straight from the raw events, over whole buckets. */
async function rawTop(
  family: 'ja4' | 'ja4h',
  grain: 'minute' | 'day',
  limit: number,
): Promise<RawStats[]> {
  const logs = 'logs_q'
  const w = { from: chTime(WINDOW().from), to: chTime(WINDOW().to) }
  const where = `${family} IS NOT NULL AND ${BUCKETS[grain].where}`
  if (family === 'ja4h')
    return store.connection.query<RawStats>(
      `SELECT assumeNotNull(ja4h) AS fingerprint, count() AS events, uniqExact(src_ip) AS src_ips, ` +
        `uniqExactIf(host, host IS NOT NULL) AS hosts, ` +
        `uniqExactIf(user_agent, user_agent IS NOT NULL) AS user_agents, ` +
        `min(ts) AS first_seen, max(ts) AS last_seen FROM ${logs}.http_events WHERE ${where} ` +
        `GROUP BY fingerprint ORDER BY events DESC, fingerprint LIMIT ${limit}`,
      w,
    )
  // Handshakes count events, addresses and SNI; sessions add user agents and first / last seen.
  const tls = await store.connection.query<RawStats>(
    `SELECT assumeNotNull(ja4) AS fingerprint, count() AS events, uniqExact(src_ip) AS src_ips, ` +
      `uniqExactIf(sni, sni IS NOT NULL) AS hosts, min(ts) AS first_seen, max(ts) AS last_seen ` +
      `FROM ${logs}.tls_events WHERE ${where} ` +
      `GROUP BY fingerprint ORDER BY events DESC, fingerprint LIMIT ${limit}`,
    w,
  )
  const sessions = await store.connection.query<RawStats>(
    `SELECT assumeNotNull(ja4) AS fingerprint, uniqExactIf(user_agent, user_agent IS NOT NULL) ` +
      `AS user_agents, min(ts) AS first_seen, max(ts) AS last_seen ` +
      `FROM ${logs}.session_events WHERE ${where} GROUP BY fingerprint`,
    w,
  )
  return tls.map((t) => {
    const s = sessions.find((x) => x.fingerprint === t.fingerprint)
    if (s === undefined) return { ...t, user_agents: 0 }
    return {
      ...t,
      user_agents: s.user_agents,
      first_seen: s.first_seen < t.first_seen ? s.first_seen : t.first_seen,
      last_seen: s.last_seen > t.last_seen ? s.last_seen : t.last_seen,
    }
  })
}

test('topFingerprints and fingerprintTimeline agree with the raw events, per minute and per day', async () => {
  const base = nowUs(900)
  const tag = Date.now().toString(36)
  const ja4 = (k: number) => `t13d7777h2_${tag}${k}_topn00000000`
  // One busy fingerprint with thousands of addresses (its sketches leave the exact mode) over
  // several minutes, and a few smaller ones with some sessions.
  const events: Parameters<Store['writer']['write']>[0][] = [
    ...Array.from({ length: 3000 }, (_, i) =>
      tlsEvent(i, {
        ja4: ja4(0),
        ts: isoFromUs(base + i * 150_000),
        src_ip: `10.${(i >> 8) & 255}.${i & 255}.7`,
        sni: `h${i % 700}.example`,
      }),
    ),
    ...Array.from({ length: 60 }, (_, i) =>
      tlsEvent(i, {
        ja4: ja4(1 + (i % 4)),
        ts: isoFromUs(base + i * 9_000_000),
        src_ip: `10.77.0.${i % 9}`,
        sni: i % 3 === 0 ? null : `s${i % 5}.example`,
      }),
    ),
    ...Array.from({ length: 12 }, (_, i) =>
      sessionEvent(i, {
        ja4: ja4(i % 3),
        ts: isoFromUs(base - 1000 + i),
        user_agent: i % 4 === 0 ? null : `agent-${i % 5}`,
      }),
    ),
    ...Array.from({ length: 400 }, (_, i) =>
      httpEvent(i, {
        ja4h: `ge11cn_${tag}_${i % 7 === 0 ? 'b' : 'a'}${i % 3}`,
        ts: isoFromUs(base + i * 1_100_000),
        src_ip: `10.88.${i % 50}.1`,
        host: i % 10 === 0 ? null : `shop${i % 6}.example`,
        user_agent: `ua-${i % 11}`,
      }),
    ),
  ]
  await writeAll(events)
  for (const grain of ['minute', 'day'] as const)
    for (const family of ['ja4', 'ja4h'] as const) {
      const what = `${family} per ${grain}`
      const got = await store.queries.topFingerprints({ family, grain, ...WINDOW(), limit: 8 })
      const want = await rawTop(family, grain, 8)
      assert.deepEqual(
        got.map((r) => [r.fingerprint, r.events, r.first_seen, r.last_seen]),
        want.map((r) => [r.fingerprint, r.events, r.first_seen, r.last_seen]),
        what,
      )
      for (const [i, r] of got.entries()) {
        const x = want[i]!
        near(r.src_ips, x.src_ips, `${what} ${r.fingerprint} src_ips`)
        near(r.hosts, x.hosts, `${what} ${r.fingerprint} hosts`)
        near(r.user_agents, x.user_agents, `${what} ${r.fingerprint} user_agents`)
      }
      assert.ok(
        got.some((r) => r.fingerprint.includes(tag)),
        what,
      )
    }

  for (const grain of ['minute', 'day'] as const) {
    const timeline = await store.queries.fingerprintTimeline({
      family: 'ja4',
      fingerprint: ja4(0),
      grain,
      ...WINDOW(),
    })
    const raw = await store.connection.query<{ t: string; events: number; src_ips: number }>(
      `SELECT ${BUCKETS[grain].t} AS t, count() AS events, uniqExact(src_ip) AS src_ips ` +
        `FROM logs_q.tls_events WHERE ja4 = {fp:String} AND ${BUCKETS[grain].where} ` +
        `GROUP BY t ORDER BY t`,
      { fp: ja4(0), from: chTime(WINDOW().from), to: chTime(WINDOW().to) },
    )
    assert.ok(raw.length >= (grain === 'minute' ? 7 : 1))
    assert.deepEqual(
      timeline.map((p) => [p.t, p.events]),
      raw.map((p) => [p.t, p.events]),
      grain,
    )
    for (const [i, p] of timeline.entries()) near(p.src_ips, raw[i]!.src_ips, `${grain} ${p.t}`)
  }
})

test('the events of one ja4 page newest first, by cursor and by offset, each exactly once', async () => {
  const ja4 = `t13d6666h2_${Date.now().toString(36)}_pages0000000`
  const base = nowUs(300)
  // 4 timestamps × 3 events, plus newer events of another fingerprint that must not show up.
  await writeAll([
    ...Array.from({ length: 12 }, (_, i) =>
      tlsEvent(i, { ja4, ts: isoFromUs(base + Math.floor(i / 3) * 1000), src_port: 20_000 + i }),
    ),
    ...Array.from({ length: 5 }, (_, i) => tlsEvent(i, { ts: isoFromUs(base + 10_000 + i) })),
  ])
  const q = { type: 'tls', ...WINDOW(), filter: { fingerprint: { family: 'ja4', value: ja4 } } }
  const all = await store.queries.listEvents({ ...q, limit: 100 })
  const port = (e: StoredEvent) => (e as { src_port: number }).src_port
  assert.equal(all.events.length, 12)
  assert.deepEqual(
    all.events.map((e) => e.ts),
    [...all.events.map((e) => e.ts)].sort().reverse(),
  )
  const byCursor: number[] = []
  let cursor: EventCursor | undefined
  for (;;) {
    const page = await store.queries.listEvents({
      ...q,
      limit: 5,
      ...(cursor === undefined ? {} : { cursor }),
    })
    byCursor.push(...page.events.map(port))
    if (page.next_cursor === null) break
    cursor = page.next_cursor
  }
  const byOffset: number[] = []
  for (const offset of [0, 5, 10])
    byOffset.push(...(await store.queries.listEvents({ ...q, limit: 5, offset })).events.map(port))
  assert.deepEqual(byCursor, all.events.map(port))
  assert.deepEqual(byOffset, all.events.map(port))
})
