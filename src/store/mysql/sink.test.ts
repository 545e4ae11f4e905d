import { after, before, test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { subscribe, unsubscribe } from 'node:diagnostics_channel'
import { cpSync, existsSync, readdirSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { inspect } from 'node:util'
import type { RowDataPacket } from 'mysql2/promise'
import { isoFromUs } from '../../events/time.ts'
import type { StoreEvent } from '../schema.ts'
import { REJECTED_DIR, Spool } from '../spool.ts'
import { httpEvent, sessionEvent, tempDir, tlsEvent, waitFor } from '../test-helpers/fixtures.ts'
import {
  MYSQL_MAX_BATCH_ATTEMPTS,
  MYSQL_CHANNEL,
  MysqlConnection,
  mysqlSinkConfigFromEnv,
  openMysqlSink,
  type MysqlSink,
  type MysqlSinkConfig,
} from './index.ts'
import { TestMariaDb } from './test-helpers/mariadb.ts'
import { TcpProxy } from './test-helpers/proxy.ts'

const req = await TestMariaDb.open()
const skip = req.ok ? false : req.skip
const db: TestMariaDb | null = req.ok ? req.db : null
let proxy: TcpProxy | null = null

before(async () => {
  if (db !== null) proxy = await TcpProxy.start(db.host, db.port)
})
after(async () => {
  await proxy?.close()
  await db?.close()
})

function server(): TestMariaDb {
  if (db === null) throw new Error('no server')
  return db
}

function tcpProxy(): TcpProxy {
  if (proxy === null) throw new Error('no proxy')
  return proxy
}

function sinkConfig(url: string, env: NodeJS.ProcessEnv = {}, dataDir = tempDir('mysql-sink')) {
  const c = mysqlSinkConfigFromEnv({
    DATABASE_URL: url,
    TLSIGHT_DATA_DIR: dataDir,
    TLSIGHT_MYSQL__RETRY_MIN_MS: '10',
    TLSIGHT_MYSQL__RETRY_MAX_MS: '100',
    TLSIGHT_MYSQL__REQUEST_TIMEOUT_MS: '5000',
    TLSIGHT_MYSQL__FLUSH_INTERVAL_MS: '50',
    ...env,
  })
  assert.ok(c !== null)
  return c
}

const b64sha1 = (s: string) => createHash('sha1').update(s).digest('base64')
const FPS = Array.from({ length: 50 }, (_, k) => ({
  cf_ciphers_sha1: b64sha1(`ciphers-${k % 7}`),
  cf_extensions_sha1: b64sha1(`extensions-${k}`),
  hello_length: 500 + (k % 3) * 17,
}))

/** 2024-03-01T23:58:00Z: a run of events crosses midnight, so two dates. */
const T0_US = Date.UTC(2024, 2, 1, 23, 58, 0) * 1000

/**
 * `n` events from index `from`, `stepUs` apart, over `fps` fingerprints, alternating `tls` and
 * `http`; every 50th lacks the Cloudflare fields and every 1000th is a `session` (not counted).
 */
function events(from: number, n: number, fps = 5, stepUs = 24_000): StoreEvent[] {
  const out: StoreEvent[] = []
  for (let i = from; i < from + n; i++) {
    const ts = isoFromUs(T0_US + i * stepUs)
    const fp = FPS[i % fps]!
    if (i % 1000 === 999) out.push(sessionEvent(i, { ts, ...fp }))
    else if (i % 50 === 49) out.push(httpEvent(i, { ts }))
    else if (i % 2 === 0) out.push(tlsEvent(i, { ts, ...fp }))
    else out.push(httpEvent(i, { ts, ...fp }))
  }
  return out
}

interface Counts {
  fingerprints: Map<string, { hits: number; first: string; last: string }>
  daily: Map<string, number>
}

function secondOf(ts: string): string {
  return `${ts.slice(0, 10)} ${ts.slice(11, 19)}`
}

/** What the tables must hold for `evs`, computed independently of the sink. */
function expected(evs: readonly StoreEvent[]): Counts {
  const fingerprints = new Map<string, { hits: number; first: string; last: string }>()
  const daily = new Map<string, number>()
  for (const e of evs) {
    if (e.type === 'session' || e.cf_ciphers_sha1 === null) continue
    const key = `${e.cf_ciphers_sha1}|${e.cf_extensions_sha1}|${e.hello_length}`
    const s = secondOf(e.ts)
    const cur = fingerprints.get(key)
    if (cur === undefined) fingerprints.set(key, { hits: 1, first: s, last: s })
    else {
      cur.hits++
      if (s < cur.first) cur.first = s
      if (s > cur.last) cur.last = s
    }
    const dk = `${s.slice(0, 10)}|${key}`
    daily.set(dk, (daily.get(dk) ?? 0) + 1)
  }
  return { fingerprints, daily }
}

async function actual(database: string): Promise<Counts> {
  const conn = await server().admin(database)
  try {
    const [fps] = await conn.query<RowDataPacket[]>(
      'SELECT tls_client_ciphers_sha1 AS c, tls_client_extensions_sha1 AS e, ' +
        'tls_client_hello_length AS l, hit_count, first_seen, last_seen FROM tls_fingerprints',
    )
    const [days] = await conn.query<RowDataPacket[]>(
      'SELECT stat_date, tls_client_ciphers_sha1 AS c, tls_client_extensions_sha1 AS e, ' +
        'tls_client_hello_length AS l, request_count FROM tls_fingerprint_daily_stats',
    )
    return {
      fingerprints: new Map(
        fps.map((r) => [
          `${r.c}|${r.e}|${r.l}`,
          { hits: Number(r.hit_count), first: String(r.first_seen), last: String(r.last_seen) },
        ]),
      ),
      daily: new Map(
        days.map((r) => [`${r.stat_date}|${r.c}|${r.e}|${r.l}`, Number(r.request_count)]),
      ),
    }
  } finally {
    await conn.end()
  }
}

function counted(evs: readonly StoreEvent[]): number {
  return evs.filter((e) => e.type !== 'session' && e.cf_ciphers_sha1 !== null).length
}

async function assertExact(database: string, evs: readonly StoreEvent[]): Promise<void> {
  const want = expected(evs)
  const got = await actual(database)
  assert.deepEqual(got.fingerprints, want.fingerprints)
  assert.deepEqual(got.daily, want.daily)
}

async function writeAll(sink: MysqlSink, evs: readonly StoreEvent[]): Promise<void> {
  await Promise.all(evs.map((e) => sink.write(e)))
}

/** Messages published on the sink's channel while `fn` runs. */
async function recordTelemetry<T>(fn: (seen: unknown[]) => Promise<T>): Promise<[T, unknown[]]> {
  const seen: unknown[] = []
  const onMessage = (m: unknown) => void seen.push(m)
  subscribe(MYSQL_CHANNEL, onMessage)
  try {
    return [await fn(seen), seen]
  } finally {
    unsubscribe(MYSQL_CHANNEL, onMessage)
  }
}

async function drained(sink: MysqlSink, timeoutMs = 30_000): Promise<void> {
  await waitFor(() => sink.stats.available && sink.stats.spool_bytes === 0, timeoutMs)
}

test('creates the signalytics tables (InnoDB, utf8mb4), idempotently', { skip }, async () => {
  const database = await server().createDatabase('schema')
  const config = sinkConfig(server().url(database))
  await (await openMysqlSink(config)).close()
  await (await openMysqlSink(config)).close() // a second start keeps the tables as they are
  const conn = await server().admin(database)
  try {
    const [tables] = await conn.query<RowDataPacket[]>(
      'SELECT TABLE_NAME AS t, ENGINE AS engine, TABLE_COLLATION AS coll FROM information_schema.TABLES ' +
        'WHERE TABLE_SCHEMA = ? ORDER BY TABLE_NAME',
      [database],
    )
    assert.deepEqual(tables.map((t) => [t.t, t.engine]).sort(), [
      ['tls_fingerprint_daily_stats', 'InnoDB'],
      ['tls_fingerprints', 'InnoDB'],
      ['tlsight_applied_batches', 'InnoDB'],
    ])
    for (const t of tables)
      if (String(t.t).startsWith('tls_')) assert.match(String(t.coll), /^utf8mb4_/)
    const [cols] = await conn.query<RowDataPacket[]>(
      'SELECT TABLE_NAME AS t, COLUMN_NAME AS c, COLUMN_TYPE AS type, ORDINAL_POSITION AS pos ' +
        'FROM information_schema.COLUMNS ' +
        "WHERE TABLE_SCHEMA = ? AND TABLE_NAME LIKE 'tls\\_%' ORDER BY TABLE_NAME, ORDINAL_POSITION",
      [database],
    )
    // signalytics' migrations/1767994759_tls_fingerprint_aggregations.sql, column for column.
    assert.deepEqual(
      // MySQL 8 drops the integer display widths MariaDB still shows.
      cols
        .sort((a, b) => (a.t < b.t ? -1 : a.t > b.t ? 1 : Number(a.pos) - Number(b.pos)))
        .map((c) => `${c.t}.${c.c} ${String(c.type).replace(/int\(\d+\)/, 'int')}`),
      [
        'tls_fingerprint_daily_stats.stat_date date',
        'tls_fingerprint_daily_stats.tls_client_ciphers_sha1 varchar(64)',
        'tls_fingerprint_daily_stats.tls_client_extensions_sha1 varchar(64)',
        'tls_fingerprint_daily_stats.tls_client_hello_length int unsigned',
        'tls_fingerprint_daily_stats.request_count bigint unsigned',
        'tls_fingerprints.id bigint unsigned',
        'tls_fingerprints.tls_client_ciphers_sha1 varchar(64)',
        'tls_fingerprints.tls_client_extensions_sha1 varchar(64)',
        'tls_fingerprints.tls_client_hello_length int unsigned',
        'tls_fingerprints.first_seen timestamp',
        'tls_fingerprints.last_seen timestamp',
        'tls_fingerprints.hit_count bigint unsigned',
      ],
    )
  } finally {
    await conn.end()
  }
})

test(
  'an existing table without the columns fails the start, E_MIGRATION_FAILED',
  { skip },
  async () => {
    const database = await server().createDatabase('foreign')
    const conn = await server().admin(database)
    await conn.query('CREATE TABLE tls_fingerprints (id INT PRIMARY KEY, hits INT)')
    await conn.end()
    await assert.rejects(openMysqlSink(sinkConfig(server().url(database))), (e: unknown) => {
      assert.equal((e as { code?: string }).code, 'E_MIGRATION_FAILED')
      assert.match(String(e), /tls_fingerprints .*hit_count/)
      return true
    })
  },
)

test(
  '10k events over a handful of fingerprints and two dates: exact counts',
  { skip },
  async () => {
    const database = await server().createDatabase('exact')
    const sink = await openMysqlSink(
      sinkConfig(server().url(database), { TLSIGHT_MYSQL__BATCH_MAX_EVENTS: '1000' }),
    )
    const evs = events(0, 10_000)
    const [, seen] = await recordTelemetry(async () => {
      await writeAll(sink, evs)
      await sink.close()
    })
    const want = expected(evs)
    assert.equal(want.fingerprints.size, 5)
    assert.equal(new Set([...want.daily.keys()].map((k) => k.slice(0, 10))).size, 2, 'two dates')
    await assertExact(database, evs)
    const s = sink.stats
    assert.equal(s.applied, counted(evs))
    assert.equal(s.acknowledged, counted(evs))
    assert.deepEqual(s.ignored, { no_fingerprint: 190, invalid: 0, other_type: 10 })
    assert.equal(s.spooled, 0)
    assert.equal(s.pending, 0)
    const applied = seen.filter((m) => (m as { name: string }).name === 'MysqlBatchApplied')
    assert.ok(applied.length >= 9, 'several batches upserted the same rows')
  },
)

test(
  'upserts across batches: hits add up, first_seen is the least, last_seen the greatest',
  { skip },
  async () => {
    const database = await server().createDatabase('upsert')
    const config = sinkConfig(server().url(database))
    const fp = FPS[0]!
    const at = (s: string) => tlsEvent(0, { ts: s, ...fp })
    let sink = await openMysqlSink(config)
    await writeAll(sink, [at('2024-05-02T12:00:00.500000Z'), at('2024-05-02T13:00:00.000000Z')])
    await sink.flush()
    // Older and newer events arrive later, in a separate batch and by a second sink.
    await writeAll(sink, [at('2024-05-02T11:00:00.999999Z')])
    await sink.close()
    sink = await openMysqlSink(config)
    await writeAll(sink, [at('2024-05-02T14:00:01.000000Z'), at('2024-05-03T00:00:00.000000Z')])
    await sink.close()
    const got = await actual(database)
    const key = `${fp.cf_ciphers_sha1}|${fp.cf_extensions_sha1}|${fp.hello_length}`
    assert.deepEqual(got.fingerprints.get(key), {
      hits: 5,
      first: '2024-05-02 11:00:00',
      last: '2024-05-03 00:00:00',
    })
    assert.equal(got.daily.get(`2024-05-02|${key}`), 4)
    assert.equal(got.daily.get(`2024-05-03|${key}`), 1)
  },
)

test(
  'connections cut and the port closed while writing: spooled, replayed, exact',
  { skip },
  async () => {
    const p = tcpProxy()
    const database = await server().createDatabase('outage')
    const sink = await openMysqlSink(
      sinkConfig(server().url(database, undefined, p.port), {
        TLSIGHT_MYSQL__BATCH_MAX_EVENTS: '250',
      }),
    )
    const evs = events(0, 9_000, 8)
    const acks: Promise<void>[] = []
    for (let chunk = 0; chunk < 36; chunk++) {
      if (chunk === 10) p.cut() // connections drop mid-stream
      if (chunk === 12) await p.down() // then the port is closed: connection refused
      if (chunk === 24) await p.up()
      for (const e of evs.slice(chunk * 250, chunk * 250 + 250)) acks.push(sink.write(e))
      await new Promise((r) => setTimeout(r, 5))
      if (chunk === 20) {
        // Everything written so far is acknowledged although the server cannot be reached.
        await Promise.all(acks)
        assert.equal(sink.stats.available, false)
        assert.ok(sink.stats.spool_bytes > 0)
      }
    }
    await Promise.all(acks)
    await drained(sink)
    await sink.close()
    const s = sink.stats
    assert.ok(s.spooled > 0, 'batches went to the spool')
    assert.equal(s.applied + s.spooled, counted(evs))
    assert.equal(s.replayed, s.spooled)
    assert.equal(s.failed + s.rejected, 0)
    await assertExact(database, evs)
  },
)

test(
  'the server stopped and restarted while writing: nothing lost',
  { skip },
  async (t: TestContext) => {
    if (!server().owned) {
      t.skip('MARIADB_TEST_URL is an external server: the tests do not stop it')
      return
    }
    const database = await server().createDatabase('restart')
    const sink = await openMysqlSink(
      sinkConfig(server().url(database), { TLSIGHT_MYSQL__BATCH_MAX_EVENTS: '500' }),
    )
    const evs = events(0, 6_000, 6)
    await writeAll(sink, evs.slice(0, 2_000))
    await server().stop()
    await writeAll(sink, evs.slice(2_000, 4_000))
    assert.equal(sink.stats.available, false)
    assert.ok(sink.stats.spooled > 0)
    await server().start()
    await writeAll(sink, evs.slice(4_000))
    await drained(sink, 60_000)
    await sink.close()
    assert.equal(sink.stats.failed, 0)
    await assertExact(database, evs)
  },
)

test(
  'a lost commit acknowledgement: the replay does not count the batch twice',
  { skip },
  async () => {
    const p = tcpProxy()
    const database = await server().createDatabase('lostack')
    const sink = await openMysqlSink(
      sinkConfig(server().url(database, undefined, p.port), {
        TLSIGHT_MYSQL__BATCH_MAX_EVENTS: '1000',
      }),
    )
    const evs = events(0, 3_000)
    p.loseNextCommitAck()
    const [, seen] = await recordTelemetry(async () => {
      await writeAll(sink, evs)
      await drained(sink)
    })
    await sink.close()
    assert.equal(p.lostCommitAcks, 1)
    // The batch whose acknowledgement was lost went to the spool (and the ones after it until
    // the spool drained, or all of them); its replay found its id applied and changed nothing.
    const dup = seen.filter((m) => (m as { duplicate?: boolean }).duplicate === true)
    assert.equal(dup.length, 1)
    const s = sink.stats
    assert.equal(s.duplicate, (dup[0] as { events: number }).events)
    assert.equal(s.applied + s.spooled, counted(evs))
    assert.equal(s.replayed, s.spooled)
    await assertExact(database, evs)
  },
)

test(
  'a spool left by an earlier run is replayed at start; replaying it twice counts once',
  { skip },
  async () => {
    const p = tcpProxy()
    const database = await server().createDatabase('leftover')
    const dataDir = tempDir('mysql-leftover')
    const config = sinkConfig(server().url(database, undefined, p.port), {}, dataDir)
    // Schema first, then the server goes away: the first run only spools.
    await (await openMysqlSink(config)).close()
    await p.down()
    const evs = events(0, 4_000)
    const first = await openMysqlSink(config)
    await writeAll(first, evs)
    await first.close()
    assert.equal(first.stats.spooled, counted(evs))
    const backup = tempDir('mysql-spool-copy')
    cpSync(config.spool_dir, backup, { recursive: true })

    await p.up()
    const second = await openMysqlSink(config)
    await drained(second)
    await second.close()
    assert.equal(second.stats.replayed, counted(evs))
    assert.equal(second.stats.duplicate, 0)
    await assertExact(database, evs)

    // A crash after the commits but before the spool let go of them: the same batches again.
    rmSync(config.spool_dir, { recursive: true })
    cpSync(backup, config.spool_dir, { recursive: true })
    const third = await openMysqlSink(config)
    await drained(third)
    await third.close()
    assert.equal(third.stats.duplicate, counted(evs))
    await assertExact(database, evs)
  },
)

test('a batch the server keeps refusing is set aside; the rest goes on', { skip }, async () => {
  const database = await server().createDatabase('refused')
  const config = sinkConfig(server().url(database), { TLSIGHT_MYSQL__BATCH_MAX_EVENTS: '2' })
  const sink = await openMysqlSink(config)
  const conn = await server().admin(database)
  await conn.query(
    'CREATE TRIGGER refuse BEFORE INSERT ON tls_fingerprints FOR EACH ROW ' +
      "IF NEW.tls_client_ciphers_sha1 = 'refuse-me' THEN SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'no'; END IF",
  )
  await conn.end()
  const bad = tlsEvent(0, { ...FPS[0]!, cf_ciphers_sha1: 'refuse-me', ts: '2024-05-01T00:00:00Z' })
  const good = events(0, 100, 3)
  const [, seen] = await recordTelemetry(async () => {
    await writeAll(sink, [bad, bad]) // acknowledged: spooled
    await writeAll(sink, good)
    await drained(sink)
  })
  await sink.close()
  assert.equal(sink.stats.rejected, 2)
  const refused = seen.filter((m) => (m as { error_type?: string }).error_type === 'refused')
  assert.equal(refused.length, MYSQL_MAX_BATCH_ATTEMPTS)
  assert.equal(readdirSync(join(config.spool_dir, REJECTED_DIR)).length, 1)
  await assertExact(database, good)
})

test('spooled lines that are not sink rows are set aside, never applied', { skip }, async () => {
  const database = await server().createDatabase('foreignspool')
  const config = sinkConfig(server().url(database))
  const spool = await Spool.open(config.spool_dir, {
    max_bytes: 1 << 20,
    segment_max_bytes: 1 << 16,
  })
  await spool.append({ id: 'foreign', type: 'http', rows: 1, body: Buffer.from('{"path":"/"}\n') })
  await spool.close()
  const sink = await openMysqlSink(config)
  await drained(sink)
  await writeAll(sink, events(0, 10))
  await sink.close()
  assert.ok(existsSync(join(config.spool_dir, REJECTED_DIR, 'foreign.ndjson')))
  await assertExact(database, events(0, 10))
})

test(
  'the password appears in no error, telemetry message or printed config',
  { skip },
  async () => {
    const p = tcpProxy()
    const database = await server().createDatabase('secret')
    const PW = 'pw:S3cr3t/@%?#-tlsight'
    const creds = await server().createUser('tlsight_sink', PW, database)
    const leaks = (x: unknown) =>
      [String(x), inspect(x, { depth: Infinity, showHidden: true }), JSON.stringify(x) ?? '']
        .join('\n')
        .includes(creds.password)

    // Unreachable at start: the sink opens, spools, and says so with a redacted URL.
    await p.down()
    const config: MysqlSinkConfig = sinkConfig(server().url(database, creds, p.port))
    assert.ok(!leaks(config))
    const [, seen] = await recordTelemetry(async () => {
      const sink = await openMysqlSink(config)
      await writeAll(sink, events(0, 100))
      await p.up()
      await drained(sink)
      await sink.close()
    })
    const start = seen.find((m) => (m as { name: string }).name === 'MysqlUnavailableAtStart')
    assert.match(
      (start as { url: string }).url,
      /^mysql:\/\/tlsight_sink:\*\*\*@127\.0\.0\.1:\d+\//,
    )
    assert.ok(seen.length > 3 && !seen.some(leaks))

    // A request that fails: the message names the server, never the password.
    await p.down()
    const unreachable = new MysqlConnection({ ...config, request_timeout_ms: 1000 })
    const down = await unreachable.ensureSchema().then(
      () => null,
      (e: unknown) => e,
    )
    await unreachable.close()
    await p.up()
    assert.equal((down as { code?: string }).code, 'E_STORAGE_UNAVAILABLE')
    assert.ok(!leaks(down))

    // A wrong password is refused at start.
    const wrong = sinkConfig(
      server().url(database, { user: creds.user, password: `x${creds.password}` }),
    )
    const refused = await openMysqlSink(wrong).then(
      () => null,
      (e: unknown) => e,
    )
    assert.equal((refused as { code?: string }).code, 'E_STORAGE_UNAVAILABLE')
    assert.match(String(refused), /Access denied/)
    assert.ok(!leaks(refused))

    // Malformed URLs holding the password.
    for (const url of [
      `mysql://u:${PW}@host:99999/db`,
      `http://u:${encodeURIComponent(PW)}@host/db`,
      `mysql://u:${encodeURIComponent(PW)}@host/`,
      `mysql://u:${encodeURIComponent(PW)}@host/db?password=${encodeURIComponent(PW)}`,
    ])
      assert.throws(
        () => mysqlSinkConfigFromEnv({ DATABASE_URL: url }),
        (e: unknown) => (e as { code?: string }).code === 'E_CONFIG_INVALID' && !leaks(e),
      )
  },
)

test('applied batch ids are kept for the retention, then pruned', { skip }, async () => {
  const database = await server().createDatabase('prune')
  const config = sinkConfig(server().url(database), {
    TLSIGHT_MYSQL__APPLIED_BATCHES_RETENTION_DAYS: '30',
  })
  await (await openMysqlSink(config)).close()
  const conn = await server().admin(database)
  try {
    await conn.query(
      'INSERT INTO tlsight_applied_batches (batch_id, events, applied_at) VALUES ' +
        "('old', 1, CURRENT_TIMESTAMP - INTERVAL 31 DAY), ('recent', 1, CURRENT_TIMESTAMP - INTERVAL 29 DAY)",
    )
    const sink = await openMysqlSink(config)
    await writeAll(sink, events(0, 10))
    await sink.close() // waits for the prune the first commit started
    const [rows] = await conn.query<RowDataPacket[]>('SELECT batch_id FROM tlsight_applied_batches')
    const ids = rows.map((r) => String(r.batch_id))
    assert.ok(!ids.includes('old') && ids.includes('recent'), ids.join(','))
    assert.equal(ids.length, 1 + 2, 'the two new batches (tls, http) are recorded')
  } finally {
    await conn.end()
  }
})

test('upsert rate: 100k events', { skip }, async (t: TestContext) => {
  const database = await server().createDatabase('rate')
  const sink = await openMysqlSink(sinkConfig(server().url(database)))
  const evs = events(0, 100_000, 50, 1_000)
  const started = performance.now()
  await writeAll(sink, evs)
  await sink.flush()
  const ms = performance.now() - started
  await sink.close()
  t.diagnostic(
    `${counted(evs)} events over 50 fingerprints in ${ms.toFixed(0)} ms: ` +
      `${Math.round((counted(evs) / ms) * 1000)} events/s`,
  )
  await assertExact(database, evs)
})
