import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createSocket } from 'node:dgram'
import { createServer } from 'node:net'
import { errorCode } from '../errors.ts'
import { sourcesConfigFromEnv, SOURCES_TUNING_DEFAULTS, startSources } from './index.ts'
import { collectingSink, recordingLogger } from './test-helpers.ts'

test('config: defaults', () => {
  const c = sourcesConfigFromEnv({ NODE_NAME: 'node-a' })
  assert.equal(c.udp_port, 9000)
  assert.equal(c.tcp_port, 9000)
  assert.equal(c.host, '::')
  assert.equal(c.unix_socket, null)
  assert.equal(c.unix_socket_mode, 0o660)
  assert.equal(c.ingest_token, null)
  assert.equal(c.sensor, 'node-a')
  assert.equal(c.trusted_cidrs.length, 2)
  assert.equal(c.max_pending_events, SOURCES_TUNING_DEFAULTS.max_pending_events)
  assert.equal(c.max_record_bytes, 65_536)
})

test('config: env overrides, `off`, port 0 and the file section', () => {
  const c = sourcesConfigFromEnv(
    {
      TLSIGHT_UDP_PORT: '0',
      TLSIGHT_TCP_PORT: 'off',
      TLSIGHT_UNIX_SOCKET: '/run/tlsight/log.sock',
      TLSIGHT_UNIX_SOCKET_MODE: '0600',
      TLSIGHT_TRUSTED_CIDRS: '10.0.0.0/8 , 2001:db8::/32',
      TLSIGHT_INGEST_TOKEN: 'a'.repeat(32),
      TLSIGHT_SOURCES__MAX_PENDING_EVENTS: '50',
    },
    { max_connections: 7, max_pending_events: 10 },
  )
  assert.equal(c.udp_port, 0)
  assert.equal(c.tcp_port, null)
  assert.equal(c.unix_socket, '/run/tlsight/log.sock')
  assert.equal(c.unix_socket_mode, 0o600)
  assert.equal(c.trusted_cidrs.length, 2)
  assert.equal(c.ingest_token, 'a'.repeat(32))
  // Env wins over the file.
  assert.equal(c.max_pending_events, 50)
  assert.equal(c.max_connections, 7)
})

test('config: every bad value is E_CONFIG_INVALID naming its key', () => {
  const cases: [Record<string, string>, unknown, RegExp][] = [
    [{ TLSIGHT_UDP_PORT: '65536' }, {}, /TLSIGHT_UDP_PORT/],
    [{ TLSIGHT_TCP_PORT: 'http' }, {}, /TLSIGHT_TCP_PORT/],
    [{ TLSIGHT_TRUSTED_CIDRS: '10.0.0.0/40' }, {}, /TLSIGHT_TRUSTED_CIDRS/],
    [{ TLSIGHT_UNIX_SOCKET_MODE: 'rw' }, {}, /TLSIGHT_UNIX_SOCKET_MODE/],
    [{ TLSIGHT_INGEST_TOKEN: 'short' }, {}, /TLSIGHT_INGEST_TOKEN/],
    [{ TLSIGHT_INGEST_TOKEN: 'has a space in the middle' }, {}, /TLSIGHT_INGEST_TOKEN/],
    [{ TLSIGHT_SOURCES__MAX_PENDING: '1' }, {}, /TLSIGHT_SOURCES__MAX_PENDING.*known/],
    [{ TLSIGHT_SOURCES__MAX_RECORD_BYTES: '10' }, {}, /MAX_RECORD_BYTES/],
    [{}, { max_pending_events: '5' }, /sources.max_pending_events/],
    [{}, { nope: 1 }, /sources.nope: unknown key/],
    [{}, [], /sources/],
  ]
  for (const [env, file, msg] of cases) {
    assert.throws(
      () => sourcesConfigFromEnv(env, file),
      (e) => errorCode(e) === 'E_CONFIG_INVALID' && msg.test(String(e)),
      JSON.stringify(env),
    )
  }
})

test('start: a port in use fails E_CONFIG_INVALID and closes what already started', async () => {
  const busy = createServer()
  await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', () => resolve()))
  const { port } = busy.address() as { port: number }
  const udpProbe = createSocket('udp4')
  try {
    const config = sourcesConfigFromEnv({
      TLSIGHT_UDP_PORT: String(port),
      TLSIGHT_TCP_PORT: String(port),
      TLSIGHT_LOG_HOST: '127.0.0.1',
    })
    await assert.rejects(
      startSources(config, collectingSink().sink, recordingLogger()),
      (e) => errorCode(e) === 'E_CONFIG_INVALID' && /TLSIGHT_TCP_PORT/.test(String(e)),
    )
    // The UDP listener that did start was closed again: its port is free.
    await new Promise<void>((resolve, reject) => {
      udpProbe.once('error', reject)
      udpProbe.bind(port, '127.0.0.1', () => resolve())
    })
  } finally {
    udpProbe.close()
    await new Promise<void>((resolve) => busy.close(() => resolve()))
  }
})

test('start: dual-stack default host, close is idempotent', async () => {
  const log = recordingLogger()
  const s = await startSources(
    sourcesConfigFromEnv({ TLSIGHT_UDP_PORT: '0', TLSIGHT_TCP_PORT: '0' }),
    collectingSink().sink,
    log,
  )
  assert.ok((s.addresses.udp?.port ?? 0) > 0)
  assert.ok((s.addresses.tcp?.port ?? 0) > 0)
  assert.equal(log.lines[0]?.msg, 'Log sources listening.')
  await Promise.all([s.close(), s.close()])
})
