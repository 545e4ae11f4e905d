/**
 * The live sensor on `lo`: real curl, openssl s_client, node:tls (over IPv6) and node:http
 * clients against local servers while `startCapture` runs with the default filter and a plain
 * tcpdump records the same ports unfiltered. Our events must carry tshark's JA3 for the same
 * connections and the same fingerprints as `analyze` of the unfiltered recording.
 */
import assert from 'node:assert/strict'
import { once } from 'node:events'
import { readFileSync, mkdtempSync, rmSync } from 'node:fs'
import { get } from 'node:http'
import { connect as netConnect, createServer as createNetServer } from 'node:net'
import { createServer as createHttpServer } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { connect, createServer as createTlsServer } from 'node:tls'
import { AppError, errorCode } from '../errors.ts'
import type { CaptureEvent } from '../events/capture.ts'
import { endpoint } from '../events/endpoint.ts'
import type { HttpEvent } from '../events/http.ts'
import type { TlsEvent } from '../events/tls.ts'
import { CaptureAnalyzer } from '../pipeline/capture-analyzer.ts'
import { runOk } from '../../test/helpers/run.ts'
import { startTcpdump } from '../../test/helpers/tcpdump.ts'
import { createSelfSignedCert, startNodeTlsServer } from '../../test/helpers/tls-server.ts'
import { allOf, requireRoot, requireTool } from '../../test/helpers/tools.ts'
import { tsharkJa3Flows } from '../../test/helpers/tshark.ts'
import { captureSettingsFromEnv, startCapture } from './capture.ts'
import { DEFAULT_TLS_PORTS } from './filter.ts'

const GET = 'GET / HTTP/1.0\r\n\r\n'
const UA = 'tlsight-live-test/1'

function liveRequirements() {
  return allOf(
    requireRoot('capturing on lo with tcpdump'),
    requireTool('tcpdump', 'tcpdump'),
    requireTool('tshark', 'tshark'),
    requireTool('openssl', 'openssl'),
    requireTool('curl', 'curl'),
  )
}

async function curl(port: number): Promise<void> {
  await runOk('curl', [
    '-k',
    '-sS',
    '-o',
    '/dev/null',
    '--max-time',
    '10',
    `https://127.0.0.1:${port}/`,
  ])
}

async function opensslClient(port: number): Promise<void> {
  await runOk('openssl', ['s_client', '-connect', `127.0.0.1:${port}`, '-quiet'], {
    input: GET,
    timeoutMs: 15_000,
  })
}

/** node:tls over IPv6 (the filter's `ip6[]` clauses). */
function nodeTls6(port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: '::1', port, rejectUnauthorized: false, servername: 'tlsight.test' })
    s.on('secureConnect', () => s.end(GET))
    s.on('data', () => {})
    s.on('error', reject)
    s.on('close', () => resolve())
  })
}

function httpGet(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = get({ host: '127.0.0.1', port, path: '/live?x=1', headers: { 'User-Agent': UA } })
    req.on('socket', (s) => s.once('connect', () => resolve(s.localPort ?? 0)))
    req.on('response', (res) => res.resume())
    req.on('error', reject)
  })
}

async function servers(dir: string) {
  const certs = await createSelfSignedCert(dir)
  const tls4 = await startNodeTlsServer({ ...certs, alpn: ['http/1.1'] })
  const tls6 = createTlsServer({ cert: readFileSync(certs.cert), key: readFileSync(certs.key) })
  tls6.on('secureConnection', (s) => {
    s.on('error', () => s.destroy())
    s.on('data', () => s.end('HTTP/1.0 200 OK\r\n\r\nok\n'))
  })
  tls6.on('tlsClientError', () => {})
  tls6.listen(0, '::1')
  await once(tls6, 'listening')
  const http = createHttpServer((_req, res) => res.end('ok\n'))
  http.listen(0, '127.0.0.1')
  await once(http, 'listening')
  const port = (s: { address(): unknown }): number => {
    const a = s.address()
    return typeof a === 'object' && a !== null && 'port' in a && typeof a.port === 'number'
      ? a.port
      : 0
  }
  return {
    tls: tls4.port,
    tls6: port(tls6),
    http: port(http),
    async close() {
      await tls4.close()
      http.closeAllConnections()
      await Promise.all([new Promise((r) => tls6.close(r)), new Promise((r) => http.close(r))])
    },
  }
}

function analyzeFile(file: string): CaptureEvent[] {
  const events: CaptureEvent[] = []
  const a = new CaptureAnalyzer({ onEvent: (e) => events.push(e) })
  a.push(new Uint8Array(readFileSync(file)))
  a.end()
  return events
}

/** JA4L `latency_ttl`: same TTL, latency (µs / 2) within JA4L_TOLERANCE. */
function assertNearJa4l(live: string | null, reference: string | null): void {
  const [l, lt] = (live ?? '').split('_')
  const [r, rt] = (reference ?? '').split('_')
  assert.equal(lt, rt, `JA4L TTL: ${live} vs ${reference}`)
  assert.ok(Math.abs(Number(l) - Number(r)) <= JA4L_TOLERANCE, `JA4L: ${live} vs ${reference}`)
}

const JA4L_TOLERANCE = 50

const tlsOf = (events: readonly CaptureEvent[]): TlsEvent[] =>
  events.filter((e): e is TlsEvent => e.type === 'tls')

test(
  'live capture on lo: real clients, JA3 = tshark, JA4L, http, kernel counters',
  { timeout: 120_000 },
  async (t) => {
    const req = liveRequirements()
    if (!req.ok) return t.skip(req.skip)
    const dir = mkdtempSync(join(tmpdir(), 'tlsight-capture-'))
    const srv = await servers(dir)
    let passed = false
    const pcap = join(dir, 'reference.pcap')
    try {
      const reference = await startTcpdump({
        file: pcap,
        filter: `tcp port ${srv.tls} or tcp port ${srv.tls6} or tcp port ${srv.http}`,
      })
      const events: CaptureEvent[] = []
      const cap = await startCapture({
        iface: 'lo',
        filter: { tlsPorts: [...DEFAULT_TLS_PORTS, srv.tls, srv.tls6], httpPorts: [srv.http] },
        sensor: 'live-test',
        dedupTtlSeconds: 0,
        kernelStatsIntervalMs: 100,
        onEvent: (e) => events.push(e),
      })
      await curl(srv.tls)
      await curl(srv.tls)
      await opensslClient(srv.tls)
      await nodeTls6(srv.tls6)
      const httpPort = await httpGet(srv.http)
      // Let the last loopback packets reach both captures.
      await sleep(300)
      const running = cap.stats()
      assert.ok(running.kernel.captured > 0, 'SIGUSR1 counters while running')
      const st = await cap.stop()
      await reference.stop()

      const tls = tlsOf(events)
      assert.equal(tls.length, 4, 'one tls event per client (dedup off: both curls)')
      for (const e of events) assert.equal(e.sensor, 'live-test')
      assert.equal(tls.filter((e) => e.src_ip === '::1').length, 1, 'the IPv6 client')

      // JA3/JA3S equal tshark's on the unfiltered recording of the same connections.
      const theirs = await tsharkJa3Flows(pcap)
      assert.equal(theirs.length, 4)
      for (const flow of theirs) {
        const ours = tls.find((e) => endpoint(e.src_ip, e.src_port) === flow.client)
        assert.ok(ours !== undefined, `no event for ${flow.client}`)
        assert.deepEqual([ours.ja3], flow.ja3, `${flow.client} ja3`)
        assert.deepEqual([ours.ja3s], flow.ja3s, `${flow.client} ja3s`)
      }
      // Every other fingerprint equals analyze on the unfiltered recording.
      const full = analyzeFile(pcap)
      for (const e of full) {
        const ours = events.find(
          (o) => o.type === e.type && o.src_ip === e.src_ip && o.src_port === e.src_port,
        )
        assert.ok(ours !== undefined, `live capture missed ${e.type} from ${e.src_port}`)
        const pick = (x: CaptureEvent) =>
          x.type === 'tls'
            ? [x.ja4, x.ja4s, x.ja4t, x.ja4ts, x.sni, x.tft]
            : x.type === 'http'
              ? [x.ja4h, x.tfh, x.host, x.path]
              : [x.ja4t, x.ja4ts]
        assert.deepEqual(pick(ours), pick(e), `${e.type} from ${e.src_port}`)
        if (e.type !== 'http' && ours.type !== 'http') {
          // JA4L: the two captures stamp the same packets a few µs apart; the TTL part is exact.
          assertNearJa4l(ours.ja4l_c, e.ja4l_c)
          assertNearJa4l(ours.ja4l_s, e.ja4l_s)
        }
      }
      for (const e of tls) {
        assert.match(e.ja4l_c ?? '', /^\d+_\d+$/, 'JA4L-C')
        assert.match(e.ja4l_s ?? '', /^\d+_\d+$/, 'JA4L-S')
      }

      const http = events.filter((e): e is HttpEvent => e.type === 'http')
      assert.equal(http.length, 1)
      const h = http[0]!
      assert.equal(h.src_port, httpPort)
      assert.equal(h.method, 'GET')
      assert.equal(h.path, '/live?x=1')
      assert.equal(h.user_agent, UA)
      assert.match(h.ja4h ?? '', /^ge11/)

      for (const n of Object.values(st.kernel)) assert.equal(typeof n, 'number')
      assert.equal(st.kernel.droppedByKernel, 0)
      assert.equal(st.ownDrops, 0)
      assert.ok(st.kernel.captured >= st.packets - 1 && st.packets > 0, JSON.stringify(st.kernel))
      assert.equal(st.events.suppressed, 0)
      passed = true
      t.diagnostic(
        `${events.length} events; ${st.packets} packets through the default filter; ` +
          `kernel ${JSON.stringify(st.kernel)}`,
      )
    } finally {
      await srv.close()
      if (passed) rmSync(dir, { recursive: true, force: true })
      else t.diagnostic(`reference capture kept: ${pcap}`)
    }
  },
)

test(
  'live capture: DEDUP_TTL suppresses a repeated identical client',
  { timeout: 60_000 },
  async (t) => {
    const req = liveRequirements()
    if (!req.ok) return t.skip(req.skip)
    const dir = mkdtempSync(join(tmpdir(), 'tlsight-capture-'))
    const srv = await servers(dir)
    try {
      const events: CaptureEvent[] = []
      const cap = await startCapture({
        iface: 'lo',
        filter: { tlsPorts: [srv.tls], httpPorts: [srv.http] },
        dedupTtlSeconds: 300,
        onEvent: (e) => events.push(e),
      })
      await curl(srv.tls)
      await curl(srv.tls)
      await curl(srv.tls)
      await opensslClient(srv.tls)
      await sleep(200)
      const st = await cap.stop()
      const tls = tlsOf(events)
      assert.equal(tls.length, 2, 'one curl event, one openssl event')
      assert.equal(st.events.produced, 4)
      assert.equal(st.events.suppressed, 2)
      assert.equal(st.dedup.suppressed, 2)
    } finally {
      await srv.close()
      rmSync(dir, { recursive: true, force: true })
    }
  },
)

test('startCapture: missing tcpdump and unknown interface', async (t) => {
  await assert.rejects(startCapture({ iface: 'lo', tcpdumpPath: '/nonexistent/tcpdump' }), (e) => {
    assert.ok(e instanceof AppError)
    assert.equal(e.code, 'E_CAPTURE_TOOL_MISSING')
    assert.match(e.message, /tcpdump/)
    return true
  })
  const req = allOf(requireRoot('tcpdump'), requireTool('tcpdump', 'tcpdump'))
  if (!req.ok) return t.skip(req.skip)
  await assert.rejects(
    startCapture({ iface: 'tlsight-nope0' }),
    (e) => errorCode(e) === 'E_CAPTURE_INTERFACE',
  )
})

test(
  'live capture: on an idle link a session still ends by its TTL',
  { timeout: 30_000 },
  async (t) => {
    const req = liveRequirements()
    if (!req.ok) return t.skip(req.skip)
    // A TCP server that says nothing: its connection yields a `tcp` event (JA4T, JA4L) only when
    // the flow ends, here by the session TTL, with no packet after the handshake to move time.
    const server = createNetServer((c) => c.on('error', () => {}))
    server.listen(0, '127.0.0.1')
    await once(server, 'listening')
    const addr = server.address()
    const port = typeof addr === 'object' && addr !== null ? addr.port : 0
    const events: CaptureEvent[] = []
    const cap = await startCapture({
      iface: 'lo',
      filter: { tlsPorts: [port], httpPorts: [] },
      sessionTtlSeconds: 1,
      onEvent: (e) => events.push(e),
    })
    const client = netConnect(port, '127.0.0.1')
    try {
      await once(client, 'connect')
      const deadline = Date.now() + 10_000
      while (events.length === 0 && Date.now() < deadline) await sleep(100)
      assert.equal(events.length, 1, 'the event came while the connection was still open')
      assert.equal(events[0]?.type, 'tcp')
      assert.equal(events[0]?.dst_port, port)
    } finally {
      client.destroy()
      await cap.stop()
      server.close()
    }
  },
)

test('captureSettingsFromEnv: TLSIGHT_TLS_PORTS replaces or (+) extends the TLS ports', () => {
  assert.deepEqual(captureSettingsFromEnv({}).filter, { tlsPorts: undefined })
  assert.deepEqual(
    captureSettingsFromEnv({ TLSIGHT_TLS_PORTS: '4433, 8443' }).filter.tlsPorts,
    [4433, 8443],
  )
  assert.deepEqual(captureSettingsFromEnv({ TLSIGHT_TLS_PORTS: '+4433' }).filter.tlsPorts, [
    ...DEFAULT_TLS_PORTS,
    4433,
  ])
  for (const bad of ['0', '443,x', '70000', '+', ','])
    assert.throws(
      () => captureSettingsFromEnv({ TLSIGHT_TLS_PORTS: bad }),
      (e) => errorCode(e) === 'E_CONFIG_INVALID',
      bad,
    )
})
