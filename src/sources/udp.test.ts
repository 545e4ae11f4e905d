import { test } from 'node:test'
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { createSocket } from 'node:dgram'
import { promisify } from 'node:util'
import { requireTool } from '../../test/helpers/tools.ts'
import type { HttpEvent } from '../events/http.ts'
import { sourcesConfigFromEnv, startSources, type RunningSources } from './index.ts'
import type { CollectedEvent, EventSink } from './stats.ts'
import { collectingSink, recordingLogger, waitFor } from './test-helpers.ts'

const run = promisify(execFile)

const REC = (path: string) =>
  `{"remote_addr":"192.0.2.7","remote_port":"40000","request_method":"GET","request_uri":"${path}","status":"200","http_user_agent":"ua/1"}`

async function start(env: Record<string, string> = {}, sink: EventSink = collectingSink().sink) {
  const log = recordingLogger()
  const config = sourcesConfigFromEnv({
    TLSIGHT_UDP_PORT: '0',
    TLSIGHT_TCP_PORT: 'off',
    TLSIGHT_LOG_HOST: '127.0.0.1',
    NODE_NAME: 'collector-test',
    ...env,
  })
  const sources = await startSources(config, sink, log)
  const port = sources.addresses.udp?.port
  assert.ok(port !== undefined && port > 0)
  return { sources, log, port }
}

function send(port: number, ...datagrams: (string | Buffer)[]): Promise<void> {
  const s = createSocket('udp4')
  return new Promise((resolve, reject) => {
    let left = datagrams.length
    for (const d of datagrams) {
      s.send(d, port, '127.0.0.1', (err) => {
        if (err) reject(err)
        if (--left === 0) {
          s.close()
          resolve()
        }
      })
    }
  })
}

async function stop(sources: RunningSources): Promise<void> {
  await sources.close()
}

test('udp: node dgram datagrams, bare JSON and nginx syslog, become events', async () => {
  const c = collectingSink()
  const { sources, port } = await start({}, c.sink)
  try {
    await send(port, REC('/bare'), `<190>Nov 22 15:23:33 web1 nginx: ${REC('/syslog')}`)
    await waitFor(() => c.events.length === 2, 'two events')
    const paths = c.events.map((e) => (e as HttpEvent).path).sort()
    assert.deepEqual(paths, ['/bare', '/syslog'])
    const bySyslog = c.events.find((e) => (e as HttpEvent).path === '/syslog')
    assert.equal(bySyslog?.sensor, 'web1')
    assert.equal(c.events.find((e) => (e as HttpEvent).path === '/bare')?.sensor, 'collector-test')
    assert.equal(sources.stats.by.udp.received, 2)
    assert.equal(sources.stats.by.udp.accepted, 2)
  } finally {
    await stop(sources)
  }
})

test('udp: datagrams from logger(1), RFC 3164 and RFC 5424', async (t) => {
  const req = requireTool('logger', 'bsdutils')
  if (!req.ok) return t.skip(req.skip)
  const c = collectingSink()
  const { sources, port } = await start({}, c.sink)
  try {
    const common = ['-d', '-n', '127.0.0.1', '-P', String(port), '-t', 'nginx']
    await run('logger', [...common, '--rfc3164', '--', REC('/rfc3164')])
    await run('logger', [...common, '--rfc5424', '--', REC('/rfc5424')])
    await waitFor(() => c.events.length === 2, 'two events from logger')
    assert.deepEqual(c.events.map((e) => (e as HttpEvent).path).sort(), ['/rfc3164', '/rfc5424'])
    for (const e of c.events) assert.equal((e as HttpEvent).source, 'nginx')
  } finally {
    await stop(sources)
  }
})

test('udp: senders outside TLSIGHT_TRUSTED_CIDRS are refused and counted', async () => {
  const c = collectingSink()
  const { sources, port, log } = await start({ TLSIGHT_TRUSTED_CIDRS: '10.0.0.0/8' }, c.sink)
  try {
    await send(port, REC('/1'), REC('/2'))
    await waitFor(() => sources.stats.by.udp.dropped.untrusted === 2, 'two refusals')
    assert.equal(c.events.length, 0)
    // One sample per second per reason.
    assert.deepEqual(
      log.lines.filter((l) => l.fields.reason === 'untrusted').map((l) => l.fields.peer),
      ['127.0.0.1'],
    )
  } finally {
    await stop(sources)
  }
})

test('udp: oversized and garbage datagrams are counted by reason; the listener carries on', async () => {
  const c = collectingSink()
  const { sources, port, log } = await start({ TLSIGHT_SOURCES__MAX_RECORD_BYTES: '1024' }, c.sink)
  try {
    await send(
      port,
      Buffer.alloc(2000, 0x41),
      'hello',
      Buffer.from([0xff, 0x00, 0xfe]),
      '{"a":',
      '{"remote_addr":"999.1.1.1","request_method":"GET","request_uri":"/"}',
    )
    const d = sources.stats.by.udp.dropped
    await waitFor(
      () => d.oversized + d.not_json + d.bad_json + d.bad_field === 5,
      'five counted drops',
    )
    assert.deepEqual([d.oversized, d.not_json, d.bad_json, d.bad_field], [1, 2, 1, 1])
    await send(port, REC('/after'))
    await waitFor(() => c.events.length === 1, 'an event after the garbage')
    const sampled = log.lines.find((l) => l.fields.reason === 'bad_field')
    assert.equal(sampled?.fields.field, 'src_ip')
    assert.equal(sampled?.fields.source, 'udp')
  } finally {
    await stop(sources)
  }
})

test('udp: a saturated sink drops datagrams queue_full, memory stays bounded', async () => {
  const pending: (() => void)[] = []
  let inSink = 0
  const sink = (batch: readonly CollectedEvent[]) =>
    new Promise<void>((resolve) => {
      inSink += batch.length
      pending.push(resolve)
    })
  const { sources, port } = await start({ TLSIGHT_SOURCES__MAX_PENDING_EVENTS: '2' }, sink)
  try {
    await send(port, REC('/1'), REC('/2'), REC('/3'), REC('/4'), REC('/5'))
    await waitFor(() => sources.stats.by.udp.received === 5, 'five datagrams')
    await waitFor(() => inSink === 2, 'the two events let in to reach the sink')
    assert.equal(sources.stats.pending, 2)
    assert.equal(sources.stats.by.udp.dropped.queue_full, 3)
    for (const r of pending.splice(0)) r()
    // close() waits for the events in flight.
    await stop(sources)
    assert.equal(sources.stats.by.udp.accepted, 2)
  } finally {
    await sources.close()
  }
})

test('udp: while this thread is busy the listener thread keeps the socket drained', async () => {
  const c = collectingSink()
  const { sources, port } = await start({}, c.sink)
  const total = 20_000
  try {
    // Another process sends 20 MB over ~1 s, five times what the kernel's receive buffer holds,
    // while this thread is blocked for 2.5 s: only the listener thread can take them off the
    // socket. Without it the kernel keeps ~10 % and drops the rest.
    const sender = run(process.execPath, [
      '-e',
      `const s = require('node:dgram').createSocket('udp4')
       const rec = Buffer.from(${JSON.stringify(REC('/x'.padEnd(900, 'x')))})
       let sent = 0, done = 0
       const burst = () => {
         for (let i = 0; i < 100 && sent < ${total}; i++, sent++)
           s.send(rec, ${port}, '127.0.0.1', () => { if (++done === ${total}) s.close() })
         if (sent < ${total}) setTimeout(burst, 5)
       }
       setTimeout(burst, 200)`,
    ])
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 2_500)
    await sender
    const udp = sources.stats.by.udp
    // Settled: every datagram counted is stored, and none has arrived for half a second.
    let seen = -1
    for (let t = 0; t < 40 && (seen !== udp.received || c.events.length !== seen); t++) {
      seen = udp.received
      await new Promise((resolve) => setTimeout(resolve, 500))
    }
    assert.equal(c.events.length, udp.received)
    // Loopback UDP may still lose a few if the listener thread itself is starved on a busy host.
    assert.ok(udp.received >= total * 0.9, `received ${udp.received} of ${total}`)
  } finally {
    await stop(sources)
  }
})
