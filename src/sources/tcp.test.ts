import { test } from 'node:test'
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { connect, type Socket } from 'node:net'
import { promisify } from 'node:util'
import { requireTool } from '../../test/helpers/tools.ts'
import { octetCountFrame } from '../protocols/syslog/index.ts'
import type { HttpEvent } from '../events/http.ts'
import { sourcesConfigFromEnv, startSources } from './index.ts'
import type { CollectedEvent, EventSink } from './stats.ts'
import { collectingSink, recordingLogger, waitFor } from './test-helpers.ts'

const run = promisify(execFile)

const REC = (path: string, ua = 'ua/1') =>
  `{"remote_addr":"192.0.2.7","request_method":"GET","request_uri":"${path}","http_user_agent":"${ua}"}`

async function start(env: Record<string, string> = {}, sink: EventSink = collectingSink().sink) {
  const config = sourcesConfigFromEnv({
    TLSIGHT_UDP_PORT: 'off',
    TLSIGHT_TCP_PORT: '0',
    TLSIGHT_LOG_HOST: '127.0.0.1',
    ...env,
  })
  const sources = await startSources(config, sink, recordingLogger())
  const port = sources.addresses.tcp?.port
  assert.ok(port !== undefined && port > 0)
  return { sources, port }
}

function open(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1', () => resolve(s))
    s.once('error', reject)
  })
}

function end(s: Socket): Promise<void> {
  return new Promise((resolve) => {
    s.on('close', () => resolve())
    s.end()
  })
}

const paths = (events: CollectedEvent[]) => events.map((e) => (e as HttpEvent).path)

test('tcp: octet-counted and LF frames mixed on one connection, split at every write', async () => {
  const c = collectingSink()
  const { sources, port } = await start({}, c.sink)
  try {
    const stream = Buffer.concat([
      Buffer.from(octetCountFrame(`<190>Nov 22 15:23:33 web1 nginx: ${REC('/counted')}`)),
      Buffer.from(`<190>Nov 22 15:23:33 web1 nginx: ${REC('/lf')}\n`),
      Buffer.from(`${REC('/ndjson')}\r\n`),
      Buffer.from(octetCountFrame(`${REC('/multi\\nline')}\n`)),
    ])
    const s = await open(port)
    // Odd-sized writes cross every kind of boundary.
    for (let i = 0; i < stream.length; i += 7) s.write(stream.subarray(i, i + 7))
    await end(s)
    await waitFor(() => c.events.length === 4, 'four events')
    assert.deepEqual(paths(c.events), ['/counted', '/lf', '/ndjson', '/multi\nline'])
    assert.equal(sources.stats.by.tcp.connections, 1)
    await waitFor(() => sources.stats.by.tcp.open_connections === 0, 'connection closed')
  } finally {
    await sources.close()
  }
})

test('tcp: logger(1) over TCP, octet counting and non-transparent framing', async (t) => {
  const req = requireTool('logger', 'bsdutils')
  if (!req.ok) return t.skip(req.skip)
  const c = collectingSink()
  const { sources, port } = await start({}, c.sink)
  try {
    const common = ['-T', '-n', '127.0.0.1', '-P', String(port), '-t', 'apache']
    await run('logger', [...common, '--octet-count', '--', REC('/octet')])
    await run('logger', [...common, '--', REC('/lf')])
    await waitFor(() => c.events.length === 2, 'two events from logger')
    assert.deepEqual(paths(c.events).sort(), ['/lf', '/octet'])
  } finally {
    await sources.close()
  }
})

test('tcp: an untrusted peer is disconnected and counted', async () => {
  const c = collectingSink()
  const { sources, port } = await start({ TLSIGHT_TRUSTED_CIDRS: '10.0.0.0/8' }, c.sink)
  try {
    const s = await open(port)
    s.write(`${REC('/x')}\n`)
    await new Promise<void>((resolve) => {
      s.on('close', () => resolve())
      s.on('error', () => undefined)
    })
    assert.equal(sources.stats.by.tcp.dropped.untrusted, 1)
    assert.equal(sources.stats.by.tcp.connections, 0)
    assert.equal(c.events.length, 0)
  } finally {
    await sources.close()
  }
})

test('tcp: oversized frames are skipped, a frame cut by the close is counted', async () => {
  const c = collectingSink()
  const { sources, port } = await start({ TLSIGHT_SOURCES__MAX_RECORD_BYTES: '512' }, c.sink)
  try {
    const s = await open(port)
    s.write(`${REC('/big', 'x'.repeat(600))}\n`)
    s.write(octetCountFrame(REC('/big2', 'y'.repeat(600))))
    s.write(`${REC('/ok')}\n`)
    s.write('200 <13>cut short')
    await end(s)
    const d = sources.stats.by.tcp.dropped
    await waitFor(() => d.truncated === 1, 'truncated frame counted')
    assert.equal(d.oversized, 2)
    assert.deepEqual(paths(c.events), ['/ok'])
  } finally {
    await sources.close()
  }
})

test('tcp: a busy sink pauses reading, then every event arrives', async () => {
  const pending: (() => void)[] = []
  let accepted = 0
  const sink = (batch: readonly CollectedEvent[]) =>
    new Promise<void>((resolve) =>
      pending.push(() => {
        accepted += batch.length
        resolve()
      }),
    )
  const MAX = 8
  const { sources, port } = await start({ TLSIGHT_SOURCES__MAX_PENDING_EVENTS: String(MAX) }, sink)
  try {
    const LINES = 2_000
    // ~1 KiB lines: a 64 KiB socket read holds at most ~64 of them.
    const line = `${REC('/p', 'u'.repeat(1000))}\n`
    const s = await open(port)
    const wrote = new Promise<void>((resolve) => {
      let i = 0
      const pump = () => {
        while (i < LINES) if (!s.write(line.replace('/p', `/p${i++}`))) return
        s.end(resolve)
      }
      s.on('drain', pump)
      pump()
    })
    await waitFor(() => sources.stats.pending >= MAX, 'the sink to saturate')
    await new Promise((r) => setTimeout(r, 100))
    // Paused: what is in flight is bounded by the limit plus one socket read.
    assert.ok(sources.stats.pending < MAX + 80, `pending ${sources.stats.pending}`)
    assert.ok(sources.stats.by.tcp.received < LINES)
    while (accepted < LINES) {
      for (const r of pending.splice(0)) r()
      await new Promise((r) => setTimeout(r, 1))
    }
    await wrote
    assert.equal(sources.stats.by.tcp.received, LINES)
    assert.equal(sources.stats.by.tcp.dropped.queue_full, 0)
    await waitFor(() => sources.stats.by.tcp.accepted === LINES, 'all accepted')
  } finally {
    for (const r of pending.splice(0)) r()
    await sources.close()
  }
})
