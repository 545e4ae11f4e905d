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
import { TABLES } from './schema.ts'
import { tempDir, testConfig } from './test-helpers/fixtures.ts'

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
  const [minute] = await conn.query<{ engine_full: string }>(
    `SELECT engine_full FROM system.tables WHERE database = {db:String} AND name = 'fingerprint_minute'`,
    { db: config.db_processing },
  )
  assert.match(minute!.engine_full, /^AggregatingMergeTree.*TTL minute \+ toIntervalDay\(12\)/)
})

test('a changed retention is applied to the existing tables', async () => {
  await migrate(conn, testConfig(dataDir, 'ret', { TLSIGHT_RETENTION_DAYS: '30' }))
  const r = await migrate(conn, testConfig(dataDir, 'ret', { TLSIGHT_RETENTION_DAYS: '5' }))
  assert.deepEqual(r.applied, [])
  assert.equal(r.retention_changed.length, 4)
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
