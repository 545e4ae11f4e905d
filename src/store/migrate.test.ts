import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { cpSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { openStoreConnection, type StoreConnection } from './connection.ts'
import {
  checksumOf,
  loadMigrations,
  migrate,
  MIGRATIONS_DIR,
  renderMigration,
  splitStatements,
} from './migrate.ts'
import { isoFromUs } from '../events/time.ts'
import { eventLine, TABLES, type StoreEvent } from './schema.ts'
import {
  httpEvent,
  nowUs,
  sessionEvent,
  tempDir,
  testConfig,
  tlsEvent,
} from './test-helpers/fixtures.ts'

const dataDir = tempDir('migrate')
let conn: StoreConnection

before(async () => {
  conn = await openStoreConnection(testConfig(dataDir, 'boot'))
})
after(async () => {
  await conn.close()
})

test('splitStatements ignores ; in quotes and comments', () => {
  const sql = `-- a; comment
CREATE TABLE a (x String DEFAULT 'a;b\\';c'); /* ; */
SELECT "q;", \`b;\`;
-- only a comment;
`
  assert.deepEqual(splitStatements(sql), [
    `-- a; comment\nCREATE TABLE a (x String DEFAULT 'a;b\\';c')`,
    '/* ; */\nSELECT "q;", `b;`',
  ])
})

test('renderMigration substitutes the known placeholders only', () => {
  const vars = { db_logs: 'l', db_processing: 'p', retention_days: 9 }
  assert.deepEqual(
    renderMigration(
      { name: 'x', sql: 'SELECT {n:UInt8} FROM {db_logs}.t TTL {retention_days};' },
      vars,
    ),
    ['SELECT {n:UInt8} FROM l.t TTL 9'],
  )
  assert.throws(() => renderMigration({ name: 'x', sql: 'SELECT {other}' }, vars), {
    code: 'E_MIGRATION_FAILED',
  })
  assert.throws(() => renderMigration({ name: 'x', sql: '' }, { ...vars, db_logs: 'a.b' }), {
    code: 'E_MIGRATION_FAILED',
  })
})

test('migrations load in version order with stable checksums', async () => {
  const ms = await loadMigrations()
  assert.ok(ms.length >= 3)
  assert.deepEqual(
    ms.map((m) => m.version),
    [...ms.map((m) => m.version)].sort((a, b) => a - b),
  )
  for (const m of ms) assert.equal(m.checksum, checksumOf(m.sql.replace(/\n/g, '\r\n')))
})

test('migrate applies everything once; a second run is a no-op', async () => {
  const config = testConfig(dataDir, 'idem')
  const first = await migrate(conn, config)
  const all = (await loadMigrations()).map((m) => m.version)
  assert.deepEqual(first.applied, all)
  assert.deepEqual(first.skipped, [])
  const second = await migrate(conn, config)
  assert.deepEqual(second.applied, [])
  assert.deepEqual(second.skipped, all)
  assert.deepEqual(second.retention_changed, [])
  const ledger = await conn.query<{ version: number; checksum: string }>(
    `SELECT version, checksum FROM ${config.db_processing}.schema_migrations ORDER BY version`,
  )
  assert.deepEqual(
    ledger.map((r) => r.version),
    all,
  )
})

test('raw tables have exactly the columns the writer sends, and a retention TTL', async () => {
  const config = testConfig(dataDir, 'cols', { TLSIGHT_RETENTION_DAYS: '12' })
  await migrate(conn, config)
  for (const spec of Object.values(TABLES)) {
    const cols = await conn.query<{ name: string }>(
      'SELECT name FROM system.columns WHERE database = {db:String} AND table = {t:String} ORDER BY position',
      { db: config.db_logs, t: spec.table },
    )
    assert.deepEqual(
      cols.map((c) => c.name).sort(),
      spec.columns.map((c) => c.name).sort(),
      spec.table,
    )
    const [t] = await conn.query<{ engine_full: string; sorting_key: string }>(
      'SELECT engine_full, sorting_key FROM system.tables WHERE database = {db:String} AND name = {t:String}',
      { db: config.db_logs, t: spec.table },
    )
    assert.match(t!.engine_full, /TTL toDateTime\(ts\) \+ toIntervalDay\(12\)/)
    assert.match(t!.sorting_key, /, ts$/, 'ordered by fingerprint, then time')
  }
  // The rollups: sketches ordered by fingerprint, counts by time; minute rows expire with the raw
  // events, day rows are kept.
  const rollups = await conn.query<{ name: string; engine_full: string; sorting_key: string }>(
    `SELECT name, engine_full, sorting_key FROM system.tables WHERE database = {db:String} ` +
      `AND startsWith(name, 'fingerprint_') ORDER BY name`,
    { db: config.db_processing },
  )
  assert.deepEqual(
    rollups.map((t) => [t.name, t.sorting_key]),
    [
      ['fingerprint_count_day', 'family, day, fingerprint'],
      ['fingerprint_count_minute', 'family, minute, fingerprint'],
      ['fingerprint_sketch_day', 'family, fingerprint, day'],
      ['fingerprint_sketch_minute', 'family, fingerprint, minute'],
    ],
  )
  for (const t of rollups) {
    assert.match(t.engine_full, /^AggregatingMergeTree/, t.name)
    if (t.name.endsWith('_minute'))
      assert.match(t.engine_full, /TTL minute \+ toIntervalDay\(12\)/, t.name)
    else assert.doesNotMatch(t.engine_full, /TTL/, t.name)
  }
  const [projection] = await conn.query<{ sorting_key: string[] }>(
    `SELECT sorting_key FROM system.projections WHERE database = {db:String} ` +
      `AND table = 'http_events' AND name = 'by_ts'`,
    { db: config.db_logs },
  )
  assert.deepEqual(projection?.sorting_key, ['ts'], 'newest http events are read by time')
})

test('a changed retention is applied to the existing tables', async () => {
  await migrate(conn, testConfig(dataDir, 'ret', { TLSIGHT_RETENTION_DAYS: '30' }))
  const r = await migrate(conn, testConfig(dataDir, 'ret', { TLSIGHT_RETENTION_DAYS: '5' }))
  assert.deepEqual(r.applied, [])
  assert.equal(r.retention_changed.length, 5)
  const [t] = await conn.query<{ engine_full: string }>(
    `SELECT engine_full FROM system.tables WHERE database = 'logs_ret' AND name = 'tls_events'`,
  )
  assert.match(t!.engine_full, /toIntervalDay\(5\)/)
})

test('an applied migration whose file changed is refused with E_MIGRATION_FAILED', async () => {
  const dir = tempDir('migrations')
  cpSync(MIGRATIONS_DIR, dir, { recursive: true })
  const config = testConfig(dataDir, 'chk')
  await migrate(conn, config, { dir })
  const file = join(dir, '0002_raw_events.sql')
  writeFileSync(file, readFileSync(file, 'utf8') + '\n-- edited\n')
  await assert.rejects(migrate(conn, config, { dir }), (e: Error & { code?: string }) => {
    assert.equal(e.code, 'E_MIGRATION_FAILED')
    assert.match(e.message, /0002_raw_events\.sql changed after it was applied/)
    return true
  })
})

test('a store migrated by a newer release is refused', async () => {
  const dir = tempDir('migrations')
  cpSync(MIGRATIONS_DIR, dir, { recursive: true })
  writeFileSync(join(dir, '0999_future.sql'), 'SELECT 1;\n')
  const config = testConfig(dataDir, 'newer')
  await migrate(conn, config, { dir })
  await assert.rejects(migrate(conn, config), { code: 'E_MIGRATION_FAILED' })
})

test('a failing statement names the migration and is retried by the next run', async () => {
  const dir = tempDir('migrations')
  cpSync(MIGRATIONS_DIR, dir, { recursive: true })
  writeFileSync(
    join(dir, '0998_broken.sql'),
    'CREATE TABLE {db_logs}.broken (x NoSuchType) ENGINE = Memory;\n',
  )
  const config = testConfig(dataDir, 'broken')
  await assert.rejects(migrate(conn, config, { dir }), /0998_broken\.sql, statement 1/)
  writeFileSync(
    join(dir, '0998_broken.sql'),
    'CREATE TABLE IF NOT EXISTS {db_logs}.broken (x String) ENGINE = Memory;\n',
  )
  const r = await migrate(conn, config, { dir })
  assert.deepEqual(r.applied, [998])
})

/** Rows of one rollup per (family, fingerprint, bucket), sketches as estimates. */
async function rollupRows(table: string, bucket: 'minute' | 'day'): Promise<unknown[]> {
  return conn.query(
    `SELECT family, fingerprint, toString(${bucket}) AS b, sum(events) AS events, ` +
      `uniqCombinedMerge(12)(src_ips) AS src_ips, uniqCombinedMerge(12)(hosts) AS hosts, ` +
      `uniqCombinedMerge(12)(user_agents) AS user_agents, min(first_seen) AS first_seen, ` +
      `max(last_seen) AS last_seen FROM ${table} GROUP BY family, fingerprint, b ` +
      `ORDER BY family, fingerprint, b`,
  )
}

async function countRows(table: string, bucket: 'minute' | 'day'): Promise<unknown[]> {
  return conn.query(
    `SELECT family, fingerprint, toString(${bucket}) AS b, sum(events) AS events FROM ${table} ` +
      `GROUP BY family, fingerprint, b ORDER BY family, fingerprint, b`,
  )
}

async function insertEvents(
  config: { db_logs: string },
  events: StoreEvent[],
  token: string,
): Promise<void> {
  for (const type of ['tls', 'http', 'session'] as const) {
    const lines = events
      .map((e) => eventLine(e, 'sensor-test'))
      .filter((l) => l.type === type)
      .map((l) => l.line + '\n')
    if (lines.length > 0)
      await conn.insert(`${config.db_logs}.${TABLES[type].table}`, Buffer.from(lines.join('')), {
        dedup_token: `${token}:${type}`,
      })
  }
}

/** A store migrated up to `version` (the files up to it, in a directory of their own). */
async function migratedUpTo(version: number, name: string): Promise<ReturnType<typeof testConfig>> {
  const config = testConfig(dataDir, name)
  const dir = tempDir('migrations')
  for (const m of await loadMigrations())
    if (m.version <= version) writeFileSync(join(dir, m.name), m.sql)
  await migrate(conn, config, { dir })
  return config
}

/** tls, http and session events of a few fingerprints, spread over minutes from `base`. */
function rollupEvents(base: number, tag: string, prefix: string, n: number): StoreEvent[] {
  return [
    ...Array.from({ length: n }, (_, i) =>
      tlsEvent(i, {
        ts: isoFromUs(base + i * 7_000_000),
        ja4: `t13d0000h2_${prefix}${i % 3}_${tag}`,
        src_ip: `10.5.${i % 4}.1`,
        sni: i % 5 === 0 ? null : `h${i % 2}.example`,
      }),
    ),
    ...Array.from({ length: n }, (_, i) =>
      httpEvent(i, { ts: isoFromUs(base + i * 5_000_000), ja4h: `ge11_${prefix}${i % 2}` }),
    ),
    ...Array.from({ length: 4 }, (_, i) =>
      sessionEvent(i, {
        ts: isoFromUs(base + i),
        ja4: `t13d0000h2_${prefix}0_${tag}`,
        user_agent: `agent-${i}`,
      }),
    ),
  ]
}

/** The test connection, whose first command matching `fails` throws, as a lost answer would. */
function failingOnce(fails: (sql: string) => boolean): StoreConnection {
  let failed = false
  return {
    kind: conn.kind,
    query: (sql, params) => conn.query(sql, params),
    insert: (table, rows, o) => conn.insert(table, rows, o),
    ping: () => conn.ping(),
    close: () => conn.close(),
    async command(sql, params) {
      if (!failed && fails(sql)) {
        failed = true
        throw new Error('injected: connection lost')
      }
      await conn.command(sql, params)
    },
  }
}

/** Events per rollup table among the fingerprints containing "new". */
async function newTotals(p: string): Promise<[string, number][]> {
  const rows = await conn.query<{ t: string; events: number }>(
    'SELECT * FROM (' +
      ['sketch_minute', 'sketch_day', 'count_minute', 'count_day']
        .map(
          (t) =>
            `SELECT '${t}' AS t, sum(events) AS events FROM ${p}.fingerprint_${t} ` +
            `WHERE fingerprint LIKE '%new%'`,
        )
        .join(' UNION ALL ') +
      ') ORDER BY t',
  )
  return rows.map((x) => [x.t, Number(x.events)])
}

test('0005 carries the 0004 rollups over (day rows past retention too), also after a failed run', async () => {
  const config = await migratedUpTo(4, 'carry')
  const p = config.db_processing
  const base = nowUs(600)
  const events = (prefix: string, n: number): StoreEvent[] => rollupEvents(base, 'carry', prefix, n)
  await insertEvents(config, events('old', 40), 'carry-1')
  // Day rows older than any raw event exist only in the rollup.
  await conn.command(
    `INSERT INTO ${p}.fingerprint_day SELECT 'ja4', 'past-retention', today() - 400, 7, ` +
      `uniqCombinedState(12)('192.0.2.1'), uniqCombinedState(12)('a.example'), ` +
      `uniqCombinedStateIf(12)('', 0), now64(6) - INTERVAL 400 DAY, now64(6) - INTERVAL 400 DAY`,
  )
  const minute = await rollupRows(`${p}.fingerprint_minute`, 'minute')
  const day = await rollupRows(`${p}.fingerprint_day`, 'day')
  assert.ok(minute.length > 10 && day.length > 5)

  // A run that fails after the copies, as a crash or a lost answer would leave it.
  const failing = failingOnce(
    (sql) => sql.includes('VIEW IF NOT EXISTS') && sql.includes('mv_tls_'),
  )
  await assert.rejects(migrate(failing, config), { code: 'E_MIGRATION_FAILED' })
  const r = await migrate(conn, config)
  assert.deepEqual(r.applied, [5, 6])

  const counted = (rows: unknown[]): unknown[] =>
    rows
      .map((x) => {
        const { family, fingerprint, b, events } = x as Record<string, unknown>
        return { family, fingerprint, b, events }
      })
      .filter((x) => x.events !== 0)
  assert.deepEqual(await rollupRows(`${p}.fingerprint_sketch_minute`, 'minute'), minute)
  assert.deepEqual(await rollupRows(`${p}.fingerprint_sketch_day`, 'day'), day)
  assert.deepEqual(await countRows(`${p}.fingerprint_count_minute`, 'minute'), counted(minute))
  assert.deepEqual(await countRows(`${p}.fingerprint_count_day`, 'day'), counted(day))
  const left = await conn.query<{ name: string }>(
    `SELECT name FROM system.tables WHERE database = {db:String} ORDER BY name`,
    { db: p },
  )
  assert.deepEqual(
    left.map((t) => t.name),
    [
      'fingerprint_count_day',
      'fingerprint_count_minute',
      'fingerprint_sketch_day',
      'fingerprint_sketch_minute',
      'mv_fingerprint_count_day',
      'mv_fingerprint_count_minute',
      'mv_fingerprint_sketch_day',
      'mv_http_fingerprint_sketch_minute',
      'mv_session_fingerprint_sketch_minute',
      'mv_tls_fingerprint_sketch_minute',
      'schema_migrations',
    ],
  )

  // New events reach all four through the new views, once even when a batch is replayed.
  await insertEvents(config, events('new', 10), 'carry-2')
  await insertEvents(config, events('new', 10), 'carry-2')
  assert.deepEqual(await newTotals(p), [
    ['count_day', 20],
    ['count_minute', 20],
    ['sketch_day', 20],
    ['sketch_minute', 20],
  ])
  const again = await migrate(conn, config, { onApply: (m) => assert.fail(m.name) })
  assert.deepEqual(again.applied, [])
  assert.equal((await newTotals(p))[0]?.[1], 20)
})

test('0006 rebuilds the sketch rollups with byte-bounded granules, rows intact, also after a failed run', async () => {
  const config = await migratedUpTo(5, 'granules')
  const p = config.db_processing
  const base = nowUs(600)
  const events = (prefix: string, n: number): StoreEvent[] => rollupEvents(base, 'gran', prefix, n)
  await insertEvents(config, events('old', 40), 'gran-1')
  const before = {
    sketchMinute: await rollupRows(`${p}.fingerprint_sketch_minute`, 'minute'),
    sketchDay: await rollupRows(`${p}.fingerprint_sketch_day`, 'day'),
    countMinute: await countRows(`${p}.fingerprint_count_minute`, 'minute'),
    countDay: await countRows(`${p}.fingerprint_count_day`, 'day'),
  }
  assert.ok(before.sketchMinute.length > 10 && before.countDay.length > 3)

  // Stopped after both copies, before the views are back.
  const failing = failingOnce((sql) => sql.includes('CREATE MATERIALIZED VIEW'))
  await assert.rejects(migrate(failing, config), { code: 'E_MIGRATION_FAILED' })
  const told: string[] = []
  const r = await migrate(conn, config, { onApply: (m) => told.push(m.name) })
  assert.deepEqual(r.applied, [6])
  assert.deepEqual(told, ['0006_sketch_granules_by_bytes.sql'])

  assert.deepEqual(
    await rollupRows(`${p}.fingerprint_sketch_minute`, 'minute'),
    before.sketchMinute,
  )
  assert.deepEqual(await rollupRows(`${p}.fingerprint_sketch_day`, 'day'), before.sketchDay)
  assert.deepEqual(await countRows(`${p}.fingerprint_count_minute`, 'minute'), before.countMinute)
  assert.deepEqual(await countRows(`${p}.fingerprint_count_day`, 'day'), before.countDay)
  const tables = await conn.query<{ name: string; bytes: number }>(
    `SELECT name, position(create_table_query, 'index_granularity_bytes = 65536') > 0 AS bytes ` +
      `FROM system.tables WHERE database = {db:String} AND name LIKE 'fingerprint_%' ORDER BY name`,
    { db: p },
  )
  assert.deepEqual(
    tables.map((t) => [t.name, Boolean(t.bytes)]),
    [
      ['fingerprint_count_day', false],
      ['fingerprint_count_minute', false],
      ['fingerprint_sketch_day', true],
      ['fingerprint_sketch_minute', true],
    ],
  )

  // The views write to the rebuilt tables, once per batch even when it is replayed.
  await insertEvents(config, events('new', 10), 'gran-2')
  await insertEvents(config, events('new', 10), 'gran-2')
  assert.deepEqual(await newTotals(p), [
    ['count_day', 20],
    ['count_minute', 20],
    ['sketch_day', 20],
    ['sketch_minute', 20],
  ])
})
