import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { subscribe, unsubscribe } from 'node:diagnostics_channel'
import { openStoreConnection, type StoreConnection } from './connection.ts'
import { migrate } from './migrate.ts'
import { REJECTED_DIR } from './spool.ts'
import { openEventWriter, SPOOL_DIR, STORE_CHANNEL, MAX_BATCH_ATTEMPTS } from './writer.ts'
import {
  FlakyConnection,
  httpEvent,
  tlsEvent,
  tempDir,
  testConfig,
  waitFor,
} from './test-helpers/fixtures.ts'

// One chDB data directory per process: the tests share one store, each with its own spool.
const storeConfig = testConfig(tempDir('writer-store'), 'w')
let real: StoreConnection

before(async () => {
  real = await openStoreConnection(storeConfig)
  await migrate(real, storeConfig)
})
after(async () => {
  await real.close()
})

function writerConfig(env: NodeJS.ProcessEnv = {}) {
  return testConfig(tempDir('writer'), 'w', env)
}

async function storedPaths(prefix: string): Promise<string[]> {
  const rows = await real.query<{ path: string }>(
    `SELECT path FROM ${storeConfig.db_logs}.http_events WHERE startsWith(path, {p:String}) ORDER BY ts`,
    { p: prefix },
  )
  return rows.map((r) => r.path)
}

function events(prefix: string, from: number, n: number) {
  return Array.from({ length: n }, (_, k) => httpEvent(from + k, { path: `${prefix}${from + k}` }))
}

function insertedPaths(flaky: FlakyConnection, prefix: string): string[] {
  return flaky.inserted
    .flatMap((b) => b.rows.map((r) => (r as { path: string }).path))
    .filter((p) => p.startsWith(prefix))
}

test('batches by size, then by interval; write() resolves only after the insert', async () => {
  const flaky = new FlakyConnection(real)
  const w = await openEventWriter(
    flaky,
    writerConfig({
      TLSIGHT_STORE__BATCH_MAX_EVENTS: '10',
      TLSIGHT_STORE__FLUSH_INTERVAL_MS: '150',
    }),
  )
  let resolved = 0
  const started = Date.now()
  const ps = events('/size/', 0, 25).map((e) => w.write(e).then(() => void resolved++))
  await Promise.all(ps.slice(0, 20))
  assert.deepEqual(
    flaky.inserted.map((b) => b.rows.length),
    [10, 10],
  )
  assert.equal(resolved, 20, 'the last 5 wait for the interval')
  await Promise.all(ps)
  assert.ok(Date.now() - started >= 140, 'the interval flushed the tail')
  assert.deepEqual(
    flaky.inserted.map((b) => b.rows.length),
    [10, 10, 5],
  )
  assert.equal(new Set(flaky.inserted.map((b) => b.token)).size, 3, 'one dedup token per batch')
  assert.deepEqual(
    await storedPaths('/size/'),
    events('/size/', 0, 25).map((e) => e.path),
  )
  await w.close()
})

test('store down: batches are spooled, then replayed in order when it is back', async () => {
  const flaky = new FlakyConnection(real)
  const config = writerConfig({ TLSIGHT_STORE__BATCH_MAX_EVENTS: '5' })
  const w = await openEventWriter(flaky, config)
  const seen: string[] = []
  const onMessage = (m: unknown): void => void seen.push((m as { name: string }).name)
  subscribe(STORE_CHANNEL, onMessage)
  try {
    flaky.down = true
    await Promise.all(events('/down/', 0, 20).map((e) => w.write(e)))
    assert.equal(w.stats.spooled, 20)
    assert.equal(w.stats.store_available, false)
    assert.ok(w.stats.spool_bytes > 0)
    assert.deepEqual(await storedPaths('/down/'), [])
    // Back up; new events written while the spool drains must land after the old ones.
    flaky.down = false
    await Promise.all(events('/down/', 20, 10).map((e) => w.write(e)))
    await w.flush()
    await waitFor(() => w.stats.store_available && w.stats.spool_bytes === 0)
    await Promise.all(events('/down/', 30, 5).map((e) => w.write(e)))
    await w.flush()
    const want = events('/down/', 0, 35).map((e) => e.path)
    assert.deepEqual(insertedPaths(flaky, '/down/'), want, 'insert order is write order')
    assert.deepEqual(await storedPaths('/down/'), want)
    assert.deepEqual(
      readdirSync(join(config.data_dir, SPOOL_DIR)).filter((f) => f.endsWith('.ndjson')),
      [],
    )
  } finally {
    unsubscribe(STORE_CHANNEL, onMessage)
  }
  assert.ok(seen.includes('StoreInsertFailed'))
  assert.ok(seen.includes('StoreBatchSpooled'))
  await w.close()
})

test('a spool left on disk by a stopped process is replayed at the next start', async () => {
  const config = writerConfig({ TLSIGHT_STORE__BATCH_MAX_EVENTS: '4' })
  const flaky = new FlakyConnection(real)
  flaky.down = true
  const first = await openEventWriter(flaky, config)
  await Promise.all(events('/restart/', 0, 10).map((e) => first.write(e)))
  await first.close() // the store is still down: the events stay in the spool
  assert.deepEqual(await storedPaths('/restart/'), [])
  assert.ok(readdirSync(join(config.data_dir, SPOOL_DIR)).some((f) => f.endsWith('.ndjson')))

  const second = await openEventWriter(real, config)
  assert.equal(second.stats.store_available, false, 'replays before taking new batches directly')
  await second.write(httpEvent(10, { path: '/restart/10' }))
  await waitFor(() => second.stats.store_available)
  await second.flush()
  assert.deepEqual(
    await storedPaths('/restart/'),
    events('/restart/', 0, 11).map((e) => e.path),
  )
  await second.close()
})

test('a batch replayed after its insert did land is stored once (dedup token)', async () => {
  // The insert lands but the answer is lost: the writer sees a failure and spools the batch.
  let lose = true
  const wrapped: StoreConnection = {
    kind: real.kind,
    query: (sql, params) => real.query(sql, params),
    command: (sql, params) => real.command(sql, params),
    ping: () => real.ping(),
    close: () => real.close(),
    async insert(table, rows, o) {
      await real.insert(table, rows, o)
      if (lose) {
        lose = false
        throw new Error('injected: answer lost')
      }
    },
  }
  const w2 = await openEventWriter(wrapped, writerConfig())
  await Promise.all(events('/dedup/', 0, 3).map((e) => w2.write(e)))
  await w2.flush()
  await waitFor(() => w2.stats.store_available && w2.stats.replayed === 3)
  assert.deepEqual(
    await storedPaths('/dedup/'),
    events('/dedup/', 0, 3).map((e) => e.path),
  )
  await w2.close()
})

test('store down and spool full: write() rejects E_SPOOL_FULL, nothing is dropped silently', async () => {
  const flaky = new FlakyConnection(real)
  flaky.down = true
  const w = await openEventWriter(
    flaky,
    writerConfig({ TLSIGHT_STORE__SPOOL_MAX_BYTES: '4096', TLSIGHT_STORE__BATCH_MAX_EVENTS: '5' }),
  )
  const results = await Promise.allSettled(events('/full/', 0, 60).map((e) => w.write(e)))
  const ok = results.filter((r) => r.status === 'fulfilled').length
  const full = results.filter(
    (r) => r.status === 'rejected' && (r.reason as { code?: string }).code === 'E_SPOOL_FULL',
  ).length
  assert.ok(ok > 0 && full > 0, `${ok} spooled, ${full} refused`)
  assert.equal(ok + full, 60)
  assert.equal(w.stats.failed, full)
  assert.ok(w.stats.spool_bytes <= 4096)
  // Every acknowledged event reaches the store once it is back.
  flaky.down = false
  await w.flush()
  await waitFor(() => w.stats.store_available)
  assert.equal((await storedPaths('/full/')).length, ok)
  await w.close()
})

test('a batch the answering store keeps refusing is moved to rejected/ and does not block', async () => {
  const flaky = new FlakyConnection(real)
  const config = writerConfig({ TLSIGHT_STORE__BATCH_MAX_EVENTS: '2' })
  const w = await openEventWriter(flaky, config)
  flaky.refuse = (_t, rows) => rows.some((r) => (r as { path: string }).path === '/poison/1')
  await Promise.all(events('/poison/', 0, 6).map((e) => w.write(e)))
  await w.flush()
  await waitFor(() => w.stats.store_available, 20_000)
  assert.equal(w.stats.rejected, 2)
  assert.deepEqual(await storedPaths('/poison/'), [
    '/poison/2',
    '/poison/3',
    '/poison/4',
    '/poison/5',
  ])
  const kept = readdirSync(join(config.data_dir, SPOOL_DIR, REJECTED_DIR))
  assert.equal(kept.length, 1)
  assert.ok(MAX_BATCH_ATTEMPTS > 1)
  await w.close()
})

test('close() flushes what is pending; later writes fail E_WRITER_CLOSED', async () => {
  const config = writerConfig({ TLSIGHT_STORE__FLUSH_INTERVAL_MS: '3600000' })
  const w = await openEventWriter(real, config)
  const ps = events('/close/', 0, 7).map((e) => w.write(e))
  await w.close()
  await Promise.all(ps)
  assert.equal((await storedPaths('/close/')).length, 7)
  await assert.rejects(w.write(httpEvent(0)), { code: 'E_WRITER_CLOSED' })
  assert.equal(existsSync(join(config.data_dir, SPOOL_DIR, 'spool.lock')), false)
})

test('more than max_pending_events unacknowledged: E_STORE_BACKPRESSURE', async () => {
  const w = await openEventWriter(
    real,
    writerConfig({
      TLSIGHT_STORE__MAX_PENDING_EVENTS: '3',
      TLSIGHT_STORE__FLUSH_INTERVAL_MS: '3600000',
    }),
  )
  const ps = events('/bp/', 0, 3).map((e) => w.write(e))
  await assert.rejects(w.write(httpEvent(3)), { code: 'E_STORE_BACKPRESSURE' })
  await w.flush()
  await Promise.all(ps)
  const last = w.write(httpEvent(4, { path: '/bp/4' }))
  await w.close()
  await last
  assert.equal((await storedPaths('/bp/')).length, 4)
})

test('writeMany: one promise for events of several tables, settled when every batch is', async () => {
  const flaky = new FlakyConnection(real)
  const w = await openEventWriter(flaky, writerConfig({ TLSIGHT_STORE__BATCH_MAX_EVENTS: '1000' }))
  const mixed = [
    ...events('/many/', 0, 3),
    tlsEvent(1, { sni: 'many.example' }),
    ...events('/many/', 3, 2),
  ]
  let settled = false
  const p = w.writeMany(mixed).then(() => (settled = true))
  await new Promise((r) => setTimeout(r, 20))
  assert.equal(settled, false, 'waits for the flush')
  assert.equal(w.stats.pending, 6)
  await w.flush()
  await p
  assert.deepEqual(flaky.inserted.map((b) => b.rows.length).sort(), [1, 5], 'one batch per table')
  assert.equal(w.stats.acknowledged, 6)
  assert.deepEqual(
    await storedPaths('/many/'),
    events('/many/', 0, 5).map((e) => e.path),
  )

  // One bad event refuses the call, and none of its events is taken.
  const bad = { ...httpEvent(9, { path: '/many/bad' }), status: 70_000 }
  await assert.rejects(
    w.writeMany([httpEvent(8, { path: '/many/ok' }), bad]),
    (e) => (e as { code?: string }).code === 'E_INVALID_ARGUMENT',
  )
  await w.flush()
  assert.equal(w.stats.pending, 0)
  assert.deepEqual(await storedPaths('/many/ok'), [])

  // A call is refused when any batch holding its events fails: with the store down, the http
  // batch does not fit the spool while the tls batch does.
  flaky.down = true
  const full = await openEventWriter(
    flaky,
    writerConfig({
      TLSIGHT_STORE__SPOOL_MAX_BYTES: '4096',
      TLSIGHT_STORE__BATCH_MAX_EVENTS: '1000',
    }),
  )
  const big = httpEvent(10, { path: '/many/full', user_agent: 'u'.repeat(5_000) })
  const refused = full.writeMany([big, tlsEvent(11)])
  await full.flush()
  await assert.rejects(refused, (e) => (e as { code?: string }).code === 'E_SPOOL_FULL')
  assert.deepEqual([full.stats.failed, full.stats.spooled], [1, 1])
  await full.close()
  await w.close()
})
