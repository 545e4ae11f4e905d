/**
 * `tlsight serve` as a whole: inputs → correlator → embedded store → API, and durability through
 * a store outage (a fault injector around the real embedded store).
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { connect } from 'node:net'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import { startServe } from '../src/serve/serve.ts'
import { FlakyConnection, waitFor } from '../src/store/test-helpers/fixtures.ts'
import { httpEvent, tlsEvent } from '../src/correlator/test-helpers/load.ts'
import type { StoreConnection } from '../src/store/connection.ts'

const TOKEN = 'test-ingest-token-0123456789'

function env(dir: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    TLSIGHT_DATA_DIR: dir,
    PORT: '0',
    TLSIGHT_UDP_PORT: '0',
    TLSIGHT_TCP_PORT: '0',
    TLSIGHT_INGEST_TOKEN: TOKEN,
    LOG_LEVEL: 'silent',
    NODE_NAME: 'serve-test',
    TLSIGHT_STORE__FLUSH_INTERVAL_MS: '100',
    TLSIGHT_STORE__RETRY_MIN_MS: '20',
    TLSIGHT_STORE__RETRY_MAX_MS: '200',
    TLSIGHT_CORRELATION_SETTLE_MS: '200',
    ...extra,
  }
}

async function getJson(port: number, path: string): Promise<Record<string, unknown>> {
  const r = await fetch(`http://127.0.0.1:${port}${path}`)
  assert.equal(r.status, 200, `${path}: ${await r.clone().text()}`)
  return (await r.json()) as Record<string, unknown>
}

test('serve: ingested handshake and request are stored and joined into a session', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tlsight-serve-'))
  const server = await startServe({ env: env(dir), host: '127.0.0.1' })
  try {
    const now = Date.now()
    const tls = { ...tlsEvent('198.51.100.7', 40001, now - 500, 'a'.repeat(32)) }
    const req = { ...httpEvent('198.51.100.7', 40001, now - 400, '/checkout') }
    const body = gzipSync(JSON.stringify(tls) + '\n' + JSON.stringify(req) + '\n')
    const bad = await fetch(`http://127.0.0.1:${server.port}/api/v1/ingest`, {
      method: 'POST',
      body: 'x',
      headers: { authorization: 'Bearer wrong-token-wrong-token' },
    })
    assert.equal(bad.status, 401)
    assert.ok(!(await bad.text()).includes(TOKEN))
    const r = await fetch(`http://127.0.0.1:${server.port}/api/v1/ingest`, {
      method: 'POST',
      body,
      headers: {
        authorization: `Bearer ${TOKEN}`,
        'content-type': 'application/x-ndjson',
        'content-encoding': 'gzip',
      },
    })
    assert.equal(r.status, 200, await r.clone().text())
    await waitFor(() => server.correlator.stats.sessions === 1, 10_000)
    await server.store.writer.flush()
    const stats = await getJson(server.port, '/api/v1/stats')
    assert.deepEqual(stats.stored, { tls: 1, http: 1, session: 1 })
    const sessions = await getJson(server.port, '/api/v1/sessions?window=1h')
    const s = (sessions.events as Record<string, unknown>[])[0]
    assert.equal(s?.ja3, 'a'.repeat(32))
    assert.equal(s?.path, '/checkout')
    assert.equal(s?.user_agent, 'Mozilla/5.0')
    assert.equal(s?.lag_ms, 100)
    const metrics = await (await fetch(`http://127.0.0.1:${server.port}/metrics`)).text()
    assert.match(metrics, /# TYPE \w+ counter/)
    const openapi = await getJson(server.port, '/api/v1/openapi.json')
    assert.equal(openapi.openapi, '3.1.0')
    // The ingest route serve mounts is the documented one.
    const paths = openapi.paths as Record<string, Record<string, unknown>>
    assert.ok(paths['/api/v1/ingest']?.post !== undefined, 'ingest is in the OpenAPI document')
  } finally {
    await server.close()
    rmSync(dir, { recursive: true, force: true })
  }
})

test('serve durability: 100k records over TCP through a store outage, none lost', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tlsight-serve-'))
  let flaky: FlakyConnection | undefined
  const server = await startServe({
    env: env(dir, { TLSIGHT_STORE__BATCH_MAX_EVENTS: '5000' }),
    host: '127.0.0.1',
    wrapStoreConnection: (c: StoreConnection) => (flaky = new FlakyConnection(c)),
  })
  const N = 100_000
  try {
    const port = server.sources.addresses.tcp?.port
    assert.ok(port !== undefined && flaky !== undefined)
    const sock = connect(port, '127.0.0.1')
    await new Promise<void>((resolve) => sock.once('connect', resolve))
    const base = Date.now() - 60_000
    for (let i = 0; i < N; i++) {
      // The store goes away for the middle 40 % of the stream, then comes back.
      if (i === 30_000) flaky.down = true
      if (i === 70_000) {
        await waitFor(() => server.store.writer.stats.spooled > 0, 30_000)
        flaky.down = false
      }
      const line =
        JSON.stringify(httpEvent('192.0.2.9', 1 + (i % 60000), base + i, `/r${i}`)) + '\n'
      if (!sock.write(line)) await new Promise<void>((resolve) => sock.once('drain', resolve))
    }
    await new Promise<void>((resolve) => sock.end(resolve))
    await waitFor(() => server.store.writer.stats.acknowledged >= N, 120_000)
    await server.store.writer.flush()
    await waitFor(() => server.store.writer.stats.spool_bytes === 0, 120_000)
    const rows = await server.store.connection.query<{ n: string }>(
      `SELECT count() AS n, uniqExact(path) AS paths FROM tlsight_logs.http_events`,
    )
    assert.equal(Number(rows[0]?.n), N, JSON.stringify(server.store.writer.stats))
    assert.ok(server.store.writer.stats.spooled > 0, 'the outage sent batches to the spool')
  } finally {
    await server.close()
    rmSync(dir, { recursive: true, force: true })
  }
})
