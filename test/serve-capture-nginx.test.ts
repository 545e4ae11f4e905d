/**
 * Issue 5: `tlsight serve --interface lo` with a real nginx on loopback. nginx serves TLS and
 * logs every request as JSON (examples/nginx/tlsight.conf, with `$remote_port`) to the collector
 * over UDP syslog; the live capture sees the handshakes. curl (HTTP/1.1, HTTP/2, TLS 1.2, two
 * requests on one connection), `openssl s_client` and node:https make the requests while a plain
 * tcpdump records the same port for tshark. Every request must be stored as one `session` whose
 * JA3 is tshark's for that connection and whose user agent is the one sent.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { request as httpsRequest } from 'node:https'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import type { HttpEvent } from '../src/events/http.ts'
import type { SessionEvent } from '../src/events/session.ts'
import { startServe, type Server } from '../src/serve/serve.ts'
import { DEFAULT_CORRELATION_SKEW_MS } from '../src/correlator/correlator.ts'
import { endpoint } from './helpers/ja3-flows.ts'
import { freePort } from './helpers/ports.ts'
import { daemon, listening, type Daemon } from './helpers/daemon.ts'
import { run, runOk } from './helpers/run.ts'
import { startTcpdump, type Capture } from './helpers/tcpdump.ts'
import { createSelfSignedCert } from './helpers/tls-server.ts'
import { allOf, requireRoot, requireTool } from './helpers/tools.ts'
import { tsharkJa3Flows } from './helpers/tshark.ts'

const ROOT = new URL('..', import.meta.url).pathname
const LOOPBACK = '127.0.0.1'

/** One request the test makes, and what it knows of it before asking tlsight. */
interface Sent {
  path: string
  userAgent: string
  client: string
  /** The client's own port when the client can tell (curl `%{local_port}`, node's socket). */
  localPort?: number
}

/** The shipped nginx snippet with only the collector's address changed. */
function shippedLogConfig(udpPort: number): string {
  const text = readFileSync(join(ROOT, 'examples/nginx/tlsight.conf'), 'utf8')
  const from = 'syslog:server=127.0.0.1:9000'
  assert.ok(text.includes(from), `examples/nginx/tlsight.conf no longer contains ${from}`)
  assert.ok(text.includes('$remote_port'), 'the shipped log_format must log $remote_port')
  return text.split(from).join(`syslog:server=${LOOPBACK}:${udpPort}`)
}

function nginxConfig(dir: string, tlsPort: number, cert: string, key: string): string {
  return `daemon off;
error_log ${dir}/error.log;
pid ${dir}/nginx.pid;
events { worker_connections 64; }
http {
  include ${dir}/tlsight.conf;
  server {
    # \`http2\` on listen: nginx 1.22; newer ones warn and accept it.
    listen ${LOOPBACK}:${tlsPort} ssl http2;
    ssl_certificate ${cert};
    ssl_certificate_key ${key};
    # nginx before 1.23.4 leaves TLS 1.3 out of its default.
    ssl_protocols TLSv1.2 TLSv1.3;
    location / { return 200 "ok\\n"; }
  }
}
`
}

/** curl with `-w %{local_port}`: one port per URL, in order. */
async function curl(port: number, paths: string[], ua: string, args: string[]): Promise<number[]> {
  // `-o` pairs with one URL each: the bodies of all of them are discarded.
  const urls = paths.flatMap((p) => ['-o', '/dev/null', `https://${LOOPBACK}:${port}${p}`])
  const r = await runOk(
    'curl',
    ['-k', '-sS', '--max-time', '10', '-A', ua, '-w', '%{http_code} %{local_port}\\n', ...args, ...urls],
    { timeoutMs: 15_000 },
  ) // prettier-ignore
  const lines = r.stdout.trim().split('\n')
  assert.equal(lines.length, paths.length, r.stdout)
  return lines.map((line) => {
    const [code, localPort] = line.split(' ')
    assert.equal(code, '200', `curl ${args.join(' ')}: ${line}`)
    return Number(localPort)
  })
}

/** A hand-written HTTP/1.1 request through `openssl s_client`; nginx must answer it 200. */
async function opensslGet(port: number, path: string, ua: string, args: string[]): Promise<void> {
  const head =
    `GET ${path} HTTP/1.1\r\nHost: localhost\r\nUser-Agent: ${ua}\r\n` + `Connection: close\r\n\r\n`
  // -quiet implies -ign_eof: s_client waits for nginx to close after answering.
  const r = await run(
    'openssl',
    ['s_client', '-connect', `${LOOPBACK}:${port}`, '-servername', 'localhost', '-quiet', ...args],
    { input: head, timeoutMs: 15_000 },
  )
  assert.match(r.stdout, /^HTTP\/1\.1 200 /, `s_client ${args.join(' ')}:\n${r.stderr}`)
}

/** node:https on its own connection; resolves with the client port. */
function nodeGet(port: number, path: string, ua: string): Promise<number> {
  return new Promise((resolve, reject) => {
    let localPort = 0
    const req = httpsRequest({
      host: LOOPBACK,
      port,
      path,
      headers: { 'user-agent': ua },
      servername: 'localhost',
      rejectUnauthorized: false,
      agent: false,
    })
    req.on('socket', (s) => s.once('secureConnect', () => (localPort = s.localPort ?? 0)))
    req.on('response', (res) => {
      res.resume()
      res.on('end', () =>
        res.statusCode === 200 ? resolve(localPort) : reject(new Error(`${res.statusCode}`)),
      )
    })
    req.on('error', reject)
    req.end()
  })
}

async function waitUntil(cond: () => boolean, what: () => string, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting: ${what()}`)
    await sleep(50)
  }
}

test(
  'serve --interface lo + nginx: every request is a session with tshark’s JA3 and its user agent',
  { timeout: 120_000 },
  async (t) => {
    const req = allOf(
      requireRoot('capturing on lo with tcpdump'),
      requireTool('nginx', 'nginx'),
      requireTool('tcpdump', 'tcpdump'),
      requireTool('tshark', 'tshark'),
      requireTool('curl', 'curl'),
      requireTool('openssl', 'openssl'),
    )
    if (!req.ok) return t.skip(req.skip)
    const dir = mkdtempSync(join(tmpdir(), 'tlsight-serve-nginx-'))
    const tlsPort = await freePort()
    let server: Server | undefined
    let nginx: Daemon | undefined
    let recorder: Capture | undefined
    try {
      const startedMs = Date.now()
      server = await startServe({
        env: {
          TLSIGHT_DATA_DIR: join(dir, 'data'),
          PORT: '0',
          TLSIGHT_UDP_PORT: '0',
          TLSIGHT_TCP_PORT: 'off',
          TLSIGHT_LOG_HOST: LOOPBACK,
          LOG_LEVEL: 'silent',
          NODE_NAME: 'serve-nginx-test',
          TLSIGHT_STORE__FLUSH_INTERVAL_MS: '100',
          // The sensor follows nginx's port only.
          TLSIGHT_TLS_PORTS: String(tlsPort),
          // The default dedup (300 s) must not hide repeated handshakes from the correlator:
          // serve turns it off for its capture, whatever DEDUP_TTL says.
          DEDUP_TTL: '300',
          // Sequential requests: the next handshake moves the watermark; the last request waits
          // this long for its handshake (a busy host may deliver it late).
          TLSIGHT_CORRELATION_SETTLE_MS: '3000',
        },
        iface: 'lo',
        host: LOOPBACK,
      })
      const s = server
      const udp = s.sources.addresses.udp?.port
      assert.ok(udp !== undefined, 'the UDP source listens')

      const { cert, key } = await createSelfSignedCert(dir)
      writeFileSync(join(dir, 'tlsight.conf'), shippedLogConfig(udp))
      writeFileSync(join(dir, 'nginx.conf'), nginxConfig(dir, tlsPort, cert, key))
      nginx = daemon('nginx', ['-p', dir, '-c', join(dir, 'nginx.conf'), '-e', join(dir, 'error.log')]) // prettier-ignore
      await listening(tlsPort, nginx)
      // Ground truth: every packet of nginx's port, unfiltered, for tshark.
      const pcap = join(dir, 'truth.pcap')
      recorder = await startTcpdump({ file: pcap, filter: `tcp port ${tlsPort}` })

      const sent: Sent[] = []
      const add = (path: string, userAgent: string, client: string, localPort?: number) =>
        sent.push({ path, userAgent, client, localPort })
      for (const i of [1, 2]) {
        const ua = `ua-curl-${i}`
        const [p] = await curl(tlsPort, [`/p${i}`], ua, ['--http1.1'])
        add(`/p${i}`, ua, 'curl --http1.1', p)
      }
      {
        const ua = 'ua-curl-h2'
        const [p] = await curl(tlsPort, ['/h2'], ua, ['--http2'])
        add('/h2', ua, 'curl --http2', p)
      }
      {
        const ua = 'ua-curl-tls12'
        const [p] = await curl(tlsPort, ['/tls12'], ua, ['--http1.1', '--tls-max', '1.2'])
        add('/tls12', ua, 'curl --tls-max 1.2', p)
      }
      {
        // Two requests on one kept-alive connection: both join its one handshake.
        const ua = 'ua-curl-keepalive'
        const ports = await curl(tlsPort, ['/ka1', '/ka2'], ua, ['--http1.1'])
        assert.equal(ports[0], ports[1], 'curl reused its connection')
        add('/ka1', ua, 'curl keep-alive', ports[0])
        add('/ka2', ua, 'curl keep-alive', ports[1])
      }
      for (const [i, args] of [
        [3, []],
        [4, ['-tls1_2']],
      ] as const) {
        const ua = `ua-openssl-${i}`
        await opensslGet(tlsPort, `/p${i}`, ua, [...args])
        add(`/p${i}`, ua, `openssl s_client ${args.join(' ')}`.trim())
      }
      {
        const ua = 'ua-node-5'
        add('/p5', ua, 'node:https', await nodeGet(tlsPort, '/p5', ua))
      }
      const n = sent.length
      await recorder.stop()
      recorder = undefined

      // Every request decided: joined, or (a failure below) left without a handshake.
      const st = s.correlator.stats
      await waitUntil(
        () => st.requests >= n && st.sessions + st.unmatched >= n,
        () => `${n} requests decided; correlator ${JSON.stringify(st)}`,
        30_000,
      )
      await s.store.writer.flush()
      const window = { from: new Date(startedMs - 60_000), to: new Date(Date.now() + 60_000) }
      const list = async (type: string) =>
        (await s.store.queries.listEvents({ ...window, type, limit: 1000 })).events
      const sessions = (await list('session')) as SessionEvent[]
      const requests = (await list('http')) as HttpEvent[]

      assert.deepEqual(
        {
          requests: st.requests,
          sessions: st.sessions,
          unmatched: st.unmatched,
          noPort: st.noPort,
        },
        { requests: n, sessions: n, unmatched: 0, noPort: 0 },
        `correlator: ${JSON.stringify(st)}`,
      )
      assert.equal(requests.length, n, 'one stored request per request sent')
      assert.equal(sessions.length, n, 'one stored session per request sent')

      const truth = await tsharkJa3Flows(pcap)
      const connections = new Set(sent.map((x) => x.localPort ?? x.path)).size
      assert.equal(truth.length, connections, `tshark flows: ${JSON.stringify(truth)}`)
      const nginxEnd = endpoint(LOOPBACK, tlsPort)
      const ja3s = new Set<string>()
      for (const want of sent) {
        const label = `${want.client} ${want.path}`
        const logged = requests.filter((r) => r.path === want.path)
        const joined = sessions.filter((x) => x.path === want.path)
        assert.equal(logged.length, 1, `${label}: nginx logged it once`)
        assert.equal(joined.length, 1, `${label}: exactly one session`)
        const [r, session] = [logged[0]!, joined[0]!]
        // nginx's $remote_port is the client's port, which the session's handshake carries.
        assert.ok(r.src_port !== null && r.src_port > 0, `${label}: $remote_port logged`)
        if (want.localPort !== undefined) assert.equal(r.src_port, want.localPort, label)
        assert.equal(session.src_port, r.src_port, `${label}: session port = $remote_port`)
        assert.equal(session.src_ip, LOOPBACK)
        assert.equal(session.dst_port, tlsPort)
        // nginx logs the server's address too: joined on the whole flow.
        assert.equal(session.join, 'flow', label)
        assert.equal(session.source, 'nginx', label)
        assert.equal(session.status, 200, label)
        assert.equal(session.user_agent, want.userAgent, `${label}: user agent`)
        // nginx stamps $msec from its cached time (millisecond steps): a request may read a
        // little earlier than its handshake, within the correlator's skew allowance.
        assert.ok(
          session.lag_ms > -DEFAULT_CORRELATION_SKEW_MS && session.lag_ms < 5_000,
          `${label}: lag ${session.lag_ms}`,
        )
        const flow = truth.find(
          (f) => f.client === endpoint(LOOPBACK, session.src_port) && f.server === nginxEnd,
        )
        assert.ok(flow !== undefined, `${label}: tshark saw its connection`)
        assert.equal(flow.ja3.length, 1, `${label}: one ClientHello`)
        assert.equal(session.ja3, flow.ja3[0], `${label}: JA3 equals tshark's`)
        ja3s.add(session.ja3)
      }
      // The clients differ: a JA3 shared by all would prove little.
      assert.ok(ja3s.size >= 3, `distinct JA3s: ${[...ja3s].join(' ')}`)
    } finally {
      await recorder?.stop().catch(() => undefined)
      await nginx?.stop()
      await server?.close()
      rmSync(dir, { recursive: true, force: true })
    }
  },
)
