import assert from 'node:assert/strict'
import { createSocket } from 'node:dgram'
import { once } from 'node:events'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { createServer, type Server, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PassThrough, Writable } from 'node:stream'
import { test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import { errorCode } from '../errors.ts'
import type { CaptureEvent } from '../events/capture.ts'
import { captureEventJson } from '../events/json.ts'
import type { TlsEvent } from '../events/tls.ts'
import { CaptureAnalyzer } from '../pipeline/capture-analyzer.ts'
import { SyslogTcpFramer, parseSyslog } from '../protocols/syslog/index.ts'
import { freePort } from '../../test/helpers/ports.ts'
import { MAX_STREAM_QUEUE_BYTES, MAX_UDP_DATAGRAM_BYTES, createOutput } from './outputs.ts'

const FIXTURE = fileURLToPath(
  new URL('../../test/fixtures/pcap/real-clients.pcap', import.meta.url),
)
const SENSOR = 'sensor-1'

/** Real events: those of the real-clients fixture. */
function fixtureEvents(): CaptureEvent[] {
  const events: CaptureEvent[] = []
  const a = new CaptureAnalyzer({ sensor: SENSOR, onEvent: (e) => events.push(e) })
  a.push(new Uint8Array(readFileSync(FIXTURE)))
  a.end()
  assert.ok(events.length >= 10)
  return events
}

const EVENTS = fixtureEvents()

/** A syslog message of ours: RFC 5424, APP-NAME tlsight, MSGID the type, MSG the JSON. */
function assertSyslog(raw: Uint8Array | string, e: CaptureEvent): void {
  const r = parseSyslog(raw)
  assert.ok(r.ok)
  const m = r.value
  assert.equal(m.format, 'rfc5424')
  assert.deepEqual(m.anomalies, [])
  assert.equal(m.appName, 'tlsight')
  assert.equal(m.hostname, SENSOR)
  assert.equal(m.msgId, e.type)
  assert.equal(m.message, captureEventJson(e))
}

function until(cond: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  return (async () => {
    while (!cond()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
      await sleep(10)
    }
  })()
}

test('stdout: JSON lines, or RFC 5424 lines', async () => {
  for (const format of ['jsonl', 'syslog'] as const) {
    const sink = new PassThrough()
    let text = ''
    sink.setEncoding('latin1').on('data', (s: string) => (text += s))
    const out = await createOutput('-', { format, sensor: SENSOR, stdout: sink })
    for (const e of EVENTS) out.write(e)
    out.flush()
    await out.close()
    const lines = text.split('\n').filter((l) => l !== '')
    assert.equal(lines.length, EVENTS.length)
    lines.forEach((l, i) => {
      const e = EVENTS[i]!
      if (format === 'jsonl') assert.equal(l, captureEventJson(e))
      else assertSyslog(l, e)
    })
    assert.deepEqual(out.stats(), { written: EVENTS.length, dropped: 0, errors: 0, connects: 0 })
  }
})

test('stdout: a slow reader pushes back instead of losing events', async () => {
  let received = 0
  let release: (() => void) | undefined
  const sink = new Writable({
    highWaterMark: 1024,
    write(chunk: Buffer, _enc, cb) {
      received += chunk.toString('latin1').split('\n').length - 1
      release = cb
    },
  })
  const out = await createOutput('-', { format: 'jsonl', sensor: SENSOR, stdout: sink })
  for (const e of EVENTS) out.write(e)
  out.flush()
  const wait = out.backpressure
  assert.ok(wait !== undefined, 'over the sink high-water mark')
  let resumed = false
  void wait.then(() => (resumed = true))
  await sleep(20)
  assert.equal(resumed, false)
  const deadline = Date.now() + 5_000
  while (!resumed && Date.now() < deadline) {
    const r = release
    release = undefined
    r?.()
    await sleep(1)
  }
  assert.ok(resumed, 'drained')
  assert.equal(received, EVENTS.length)
  assert.equal(out.backpressure, undefined)
  await out.close()
  assert.equal(out.stats().dropped, 0)
})

test('stdout: a closed pipe (EPIPE) is fatal and later events are counted as dropped', async () => {
  const sink = new Writable({ write: (_c, _e, cb) => cb(new Error('EPIPE')) })
  const fatal: Error[] = []
  const out = await createOutput('-', {
    format: 'jsonl',
    sensor: SENSOR,
    stdout: sink,
    onFatal: (e) => fatal.push(e),
  })
  out.write(EVENTS[0]!)
  out.flush()
  await until(() => fatal.length > 0, 'error')
  out.write(EVENTS[1]!)
  out.flush()
  assert.equal(out.stats().dropped, 1)
  assert.equal(out.backpressure, undefined, 'a dead sink does not hold the capture')
})

test('udp: one RFC 5424 datagram per event (IPv4 and IPv6)', async () => {
  for (const [family, host, url] of [
    ['udp4', '127.0.0.1', '127.0.0.1'],
    ['udp6', '::1', '[::1]'],
  ] as const) {
    const server = createSocket(family)
    const got: Buffer[] = []
    server.on('message', (m) => got.push(m))
    server.bind(0, host)
    await once(server, 'listening')
    const out = await createOutput(`udp://${url}:${server.address().port}`, {
      format: 'jsonl',
      sensor: SENSOR,
    })
    for (const e of EVENTS) out.write(e)
    // Too big for one datagram: dropped and counted, never cut.
    const huge = { ...EVENTS[0], sni: 'x'.repeat(MAX_UDP_DATAGRAM_BYTES) } as TlsEvent
    out.write(huge)
    await until(() => got.length >= EVENTS.length, 'datagrams')
    await out.close()
    server.close()
    got.forEach((d, i) => assertSyslog(d, EVENTS[i]!))
    assert.deepEqual(out.stats(), { written: EVENTS.length, dropped: 1, errors: 0, connects: 0 })
  }
})

test('udp: ?format=jsonl sends the JSON alone', async () => {
  const server = createSocket('udp4')
  const got: string[] = []
  server.on('message', (m) => got.push(m.toString('latin1')))
  server.bind(0, '127.0.0.1')
  await once(server, 'listening')
  const out = await createOutput(`udp://127.0.0.1:${server.address().port}?format=jsonl`, {
    format: 'syslog',
    sensor: SENSOR,
  })
  out.write(EVENTS[0]!)
  await until(() => got.length === 1, 'datagram')
  await out.close()
  server.close()
  assert.equal(got[0], captureEventJson(EVENTS[0]!))
})

/** A TCP (or UNIX) server that collects every byte per connection. */
async function collector(listen: (s: Server) => void): Promise<{
  server: Server
  conns: Socket[]
  bytes: () => Buffer
}> {
  const chunks: Buffer[] = []
  const conns: Socket[] = []
  const server = createServer((s) => {
    conns.push(s)
    s.on('data', (b: Buffer) => chunks.push(b))
    s.on('error', () => {})
  })
  listen(server)
  await once(server, 'listening')
  return { server, conns, bytes: () => Buffer.concat(chunks) }
}

function frames(bytes: Buffer): Uint8Array[] {
  const framer = new SyslogTcpFramer()
  const out = framer.push(bytes).map((f) => f.slice())
  assert.equal(framer.stats.octetCountedFrames, out.length, 'every frame octet-counted')
  assert.equal(framer.bufferedBytes, 0)
  return out
}

test('tcp: octet-counted RFC 5424 frames; waits for the collector and reconnects', async () => {
  const port = await freePort()
  // The collector is not up yet: events queue, the output retries with backoff.
  const out = await createOutput(`tcp://127.0.0.1:${port}`, { format: 'jsonl', sensor: SENSOR })
  const first = EVENTS.slice(0, 5)
  for (const e of first) out.write(e)
  out.flush()
  await sleep(150)
  const c = await collector((s) => s.listen(port, '127.0.0.1'))
  await until(() => frames(c.bytes()).length === first.length, 'first frames', 10_000)
  // The collector drops the connection: the output reconnects and sends the rest.
  for (const s of c.conns) s.destroy()
  await until(() => out.stats().connects === 1 && out.stats().errors >= 0, 'connected')
  await sleep(50)
  const rest = EVENTS.slice(5)
  for (const e of rest) out.write(e)
  out.flush()
  await until(() => frames(c.bytes()).length === EVENTS.length, 'all frames', 10_000)
  await out.close()
  c.server.close()
  frames(c.bytes()).forEach((f, i) => assertSyslog(f, EVENTS[i]!))
  const st = out.stats()
  assert.equal(st.written, EVENTS.length)
  assert.equal(st.dropped, 0)
  assert.equal(st.connects, 2)
  assert.ok(st.errors >= 1, 'the refused connects were counted')
})

test('tcp: a collector that stays away costs a bounded queue, drops counted', async () => {
  const port = await freePort()
  const out = await createOutput(`tcp://127.0.0.1:${port}`, { format: 'syslog', sensor: SENSOR })
  const big = { ...EVENTS[0], sni: 'x'.repeat(60_000) } as TlsEvent
  const n = Math.ceil((MAX_STREAM_QUEUE_BYTES * 2) / 60_000)
  for (let i = 0; i < n; i++) out.write(big)
  await out.close()
  const st = out.stats()
  assert.equal(st.written, 0)
  assert.equal(st.dropped, n, 'over the bound at once, the rest when closing')
})

test('unix: JSON lines over a stream socket', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tlsight-out-'))
  try {
    const path = join(dir, 'events.sock')
    const c = await collector((s) => s.listen(path))
    const out = await createOutput(`unix://${path}`, { format: 'syslog', sensor: SENSOR })
    for (const e of EVENTS) out.write(e)
    out.flush()
    await until(
      () => c.bytes().toString('latin1').split('\n').length > EVENTS.length,
      'lines',
      10_000,
    )
    await out.close()
    c.server.close()
    const lines = c.bytes().toString('latin1').split('\n').slice(0, -1)
    assert.deepEqual(
      lines,
      EVENTS.map((e) => captureEventJson(e)),
    )
    assert.equal(out.stats().written, EVENTS.length)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test('bad --output specs are E_CONFIG_INVALID', async () => {
  for (const spec of [
    'nope',
    'http://x:1',
    'udp://127.0.0.1',
    'tcp://:514',
    'tcp://h:70000',
    'unix://relative/path',
    'udp://127.0.0.1:514?format=xml',
    'udp://no-such-host.invalid:514',
  ]) {
    await assert.rejects(
      createOutput(spec, { format: 'jsonl', sensor: SENSOR }),
      (e) => errorCode(e) === 'E_CONFIG_INVALID',
      spec,
    )
  }
})
