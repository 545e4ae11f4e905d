/**
 * System tests of the log collector with real web servers, each run with the configuration we
 * ship (examples/), only its addresses templated: nginx's `syslog:` access log over UDP, Apache's
 * piped log through logger(1) to the UNIX socket, Caddy's `net` output over UDP. Plain HTTP and
 * TLS requests go through each; the events must come out mapped.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { request as httpRequest } from 'node:http'
import { request as httpsRequest } from 'node:https'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { HttpEvent } from '../src/events/http.ts'
import { sourcesConfigFromEnv, startSources, type RunningSources } from '../src/sources/index.ts'
import { collectingSink, recordingLogger, waitFor } from '../src/sources/test-helpers.ts'
import { freePort } from './helpers/ports.ts'
import { daemon, listening, type Daemon } from './helpers/daemon.ts'
import { run } from './helpers/run.ts'
import { allOf, requireTool } from './helpers/tools.ts'

const ROOT = new URL('..', import.meta.url).pathname
const UA = 'tlsight-test/1.0 "quoted" \\ backslash é'
/** node writes header values as Latin-1: send the UTF-8 bytes of UA that way. */
const UA_ON_WIRE = Buffer.from(UA).toString('latin1')

/** The shipped file with each `[from, to]` replaced; a `from` that is missing fails the test. */
function template(file: string, replacements: [string, string][]): string {
  let text = readFileSync(join(ROOT, file), 'utf8')
  for (const [from, to] of replacements) {
    assert.ok(text.includes(from), `${file} no longer contains ${from}`)
    text = text.split(from).join(to)
  }
  return text
}

function get(
  port: number,
  path: string,
  opts: { tls?: string; method?: string } = {},
): Promise<number> {
  return new Promise((resolve, reject) => {
    const common = {
      host: '127.0.0.1',
      port,
      path,
      method: opts.method ?? 'GET',
      headers: { 'user-agent': UA_ON_WIRE, host: opts.tls ?? 'plain.test' },
      agent: false as const,
    }
    const req =
      opts.tls === undefined
        ? httpRequest(common)
        : httpsRequest({ ...common, servername: opts.tls, rejectUnauthorized: false })
    req.on('response', (res) => {
      res.resume()
      res.on('end', () => resolve(res.statusCode ?? 0))
    })
    req.on('error', reject)
    req.end()
  })
}

async function selfSigned(dir: string): Promise<{ cert: string; key: string }> {
  const cert = join(dir, 'cert.pem')
  const key = join(dir, 'key.pem')
  const r = await run('openssl', [
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-subj',
    '/CN=tls.test',
    '-days',
    '2',
    '-keyout',
    key,
    '-out',
    cert,
  ])
  assert.equal(r.code, 0, r.stderr)
  return { cert, key }
}

async function collector(env: Record<string, string>): Promise<{
  sources: RunningSources
  events: HttpEvent[]
}> {
  const c = collectingSink()
  const sources = await startSources(
    sourcesConfigFromEnv({
      TLSIGHT_TCP_PORT: 'off',
      TLSIGHT_UDP_PORT: 'off',
      TLSIGHT_LOG_HOST: '127.0.0.1',
      NODE_NAME: 'collector',
      ...env,
    }),
    c.sink,
    recordingLogger(),
  )
  // Every event in these tests is an http event.
  return { sources, events: c.events as HttpEvent[] }
}

function byPath(events: HttpEvent[], path: string): HttpEvent {
  const e = events.find((x) => x.path === path)
  assert.ok(e !== undefined, `no event for ${path}: ${JSON.stringify(events.map((x) => x.path))}`)
  return e
}

test('nginx: examples/nginx/tlsight.conf over UDP syslog, HTTP and TLS', async (t) => {
  const req = allOf(requireTool('nginx', 'nginx'), requireTool('openssl', 'openssl'))
  if (!req.ok) return t.skip(req.skip)
  const dir = mkdtempSync(join(tmpdir(), 'tlsight-nginx-'))
  const { sources, events } = await collector({ TLSIGHT_UDP_PORT: '0' })
  let nginx: Daemon | undefined
  try {
    const udp = sources.addresses.udp?.port
    const [httpPort, tlsPort] = [await freePort(), await freePort()]
    const { cert, key } = await selfSigned(dir)
    writeFileSync(
      join(dir, 'tlsight.conf'),
      template('examples/nginx/tlsight.conf', [['127.0.0.1:9000', `127.0.0.1:${udp}`]]),
    )
    writeFileSync(
      join(dir, 'nginx.conf'),
      `daemon off;
error_log ${dir}/error.log;
pid ${dir}/nginx.pid;
events { worker_connections 64; }
http {
  include ${dir}/tlsight.conf;
  server {
    listen 127.0.0.1:${httpPort};
    listen 127.0.0.1:${tlsPort} ssl;
    ssl_certificate ${cert};
    ssl_certificate_key ${key};
    # nginx before 1.23.4 leaves TLS 1.3 out of its default.
    ssl_protocols TLSv1.2 TLSv1.3;
    location / { return 200 "ok\\n"; }
    location /missing { return 404; }
  }
}
`,
    )
    nginx = daemon('nginx', [
      '-p',
      dir,
      '-c',
      join(dir, 'nginx.conf'),
      '-e',
      join(dir, 'error.log'),
    ])
    await listening(httpPort, nginx)
    assert.equal(await get(httpPort, '/hello?x=1'), 200)
    assert.equal(await get(httpPort, '/missing/thing', { method: 'POST' }), 404)
    assert.equal(await get(tlsPort, '/secure', { tls: 'tls.test' }), 200)
    await waitFor(() => events.length >= 3, 'three nginx events')

    const plain = byPath(events, '/hello?x=1')
    assert.equal(plain.source, 'nginx')
    assert.equal(plain.src_ip, '127.0.0.1')
    assert.ok(plain.src_port !== null && plain.src_port > 0)
    assert.equal(plain.dst_port, httpPort)
    assert.equal(plain.host, 'plain.test')
    assert.equal(plain.method, 'GET')
    assert.equal(plain.status, 200)
    assert.equal(plain.user_agent, UA)
    assert.ok(plain.request_time_ms !== null && plain.request_time_ms >= 0)
    assert.equal(plain.tls_version, null)
    assert.match(plain.ts, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}000Z$/)
    assert.ok(Math.abs(Date.parse(plain.ts) - Date.now()) < 60_000)
    // nginx's syslog header carries its host name.
    assert.notEqual(plain.sensor, '')

    const post = byPath(events, '/missing/thing')
    assert.deepEqual([post.method, post.status], ['POST', 404])

    const tls = byPath(events, '/secure')
    assert.equal(tls.tls_version, '1.3')
    assert.equal(tls.sni, 'tls.test')
    assert.equal(tls.host, 'tls.test')
    assert.equal(tls.dst_port, tlsPort)
    assert.equal(sources.stats.by.udp.dropped.not_json, 0)
  } finally {
    await nginx?.stop()
    await sources.close()
    rmSync(dir, { recursive: true, force: true })
  }
})

test('Apache: examples/apache/tlsight.conf, piped through logger(1) to the UNIX socket', async (t) => {
  const req = allOf(
    requireTool('apache2', 'apache2'),
    requireTool('logger', 'bsdutils'),
    requireTool('openssl', 'openssl'),
  )
  if (!req.ok) return t.skip(req.skip)
  const dir = mkdtempSync(join(tmpdir(), 'tlsight-apache-'))
  // Apache's children run as www-data when started as root: they must reach the documents.
  chmodSync(dir, 0o755)
  const sock = join(dir, 'log.sock')
  const { sources, events } = await collector({ TLSIGHT_UNIX_SOCKET: sock })
  let apache: Daemon | undefined
  try {
    const [httpPort, tlsPort] = [await freePort(), await freePort()]
    const { cert, key } = await selfSigned(dir)
    mkdirSync(join(dir, 'htdocs'))
    writeFileSync(join(dir, 'htdocs', 'index.html'), 'ok\n')
    writeFileSync(
      join(dir, 'tlsight.conf'),
      template('examples/apache/tlsight.conf', [['/run/tlsight/log.sock', sock]]),
    )
    const modules = '/usr/lib/apache2/modules'
    writeFileSync(
      join(dir, 'httpd.conf'),
      `ServerRoot ${dir}
ServerName localhost
LoadModule mpm_event_module ${modules}/mod_mpm_event.so
LoadModule authz_core_module ${modules}/mod_authz_core.so
LoadModule ssl_module ${modules}/mod_ssl.so
Listen 127.0.0.1:${httpPort}
Listen 127.0.0.1:${tlsPort}
PidFile ${dir}/httpd.pid
ErrorLog ${dir}/error.log
DefaultRuntimeDir ${dir}
Mutex file:${dir} default
DocumentRoot ${dir}/htdocs
<Directory ${dir}/htdocs>
  Require all granted
</Directory>
Include ${dir}/tlsight.conf
<VirtualHost 127.0.0.1:${tlsPort}>
  SSLEngine on
  SSLCertificateFile ${cert}
  SSLCertificateKeyFile ${key}
</VirtualHost>
`,
    )
    // As root Apache's children switch to its User; the default (#-1) would be refused.
    if (process.getuid?.() === 0) {
      writeFileSync(join(dir, 'httpd.conf'), 'User www-data\nGroup www-data\n', { flag: 'a' })
    }
    apache = daemon('apache2', ['-f', join(dir, 'httpd.conf'), '-DFOREGROUND'])
    await listening(httpPort, apache)
    assert.equal(await get(httpPort, '/index.html?q=1'), 200)
    assert.equal(await get(httpPort, '/nope'), 404)
    assert.equal(await get(tlsPort, '/index.html', { tls: 'tls.test' }), 200)
    await waitFor(() => events.length >= 3, 'three Apache events', 10_000)

    const plain = byPath(events, '/index.html?q=1')
    assert.equal(plain.source, 'apache')
    assert.equal(plain.src_ip, '127.0.0.1')
    assert.ok(plain.src_port !== null && plain.src_port > 0)
    assert.equal(plain.dst_ip, '127.0.0.1')
    assert.equal(plain.dst_port, httpPort)
    assert.equal(plain.host, 'plain.test')
    assert.equal(plain.status, 200)
    // Apache wrote é as \xc3\xa9; the collector reads the bytes back as UTF-8.
    assert.equal(plain.user_agent, UA)
    assert.ok(plain.request_time_ms !== null && plain.request_time_ms > 0)
    assert.match(plain.ts, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/)
    assert.equal(byPath(events, '/nope').status, 404)
    const tls = byPath(events, '/index.html')
    assert.equal(tls.tls_version, '1.3')
    assert.equal(tls.sni, 'tls.test')
    assert.equal(sources.stats.by.unix.dropped.bad_json, 0)
  } finally {
    await apache?.stop()
    await sources.close()
    rmSync(dir, { recursive: true, force: true })
  }
})

test('Caddy: examples/caddy/Caddyfile, the net log output over UDP', async (t) => {
  const req = requireTool('caddy', 'caddy')
  if (!req.ok) return t.skip(req.skip)
  const dir = mkdtempSync(join(tmpdir(), 'tlsight-caddy-'))
  const { sources, events } = await collector({ TLSIGHT_UDP_PORT: '0' })
  let caddy: Daemon | undefined
  try {
    const udp = sources.addresses.udp?.port
    const httpPort = await freePort()
    const file = join(dir, 'Caddyfile')
    writeFileSync(
      file,
      template('examples/caddy/Caddyfile', [
        ['udp/127.0.0.1:9000', `udp/127.0.0.1:${udp}`],
        // Any host: the site matches whatever Host the request names.
        ['http://:8080', `http://:${httpPort}`],
      ]),
    )
    caddy = daemon('caddy', ['run', '--adapter', 'caddyfile', '--config', file], {
      ...process.env,
      HOME: dir,
      XDG_DATA_HOME: join(dir, 'data'),
      XDG_CONFIG_HOME: join(dir, 'config'),
    })
    await listening(httpPort, caddy)
    assert.equal(await get(httpPort, '/caddy?x=1'), 200)
    await waitFor(() => events.some((e) => e.path === '/caddy?x=1'), 'a Caddy event')
    const e = byPath(events, '/caddy?x=1')
    assert.equal(e.source, 'caddy')
    assert.equal(e.src_ip, '127.0.0.1')
    assert.ok(e.src_port !== null && e.src_port > 0)
    assert.equal(e.host, 'plain.test')
    assert.equal(e.method, 'GET')
    assert.equal(e.status, 200)
    assert.equal(e.user_agent, UA)
    assert.ok(e.request_time_ms !== null && e.request_time_ms >= 0)
    assert.match(e.ts, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/)
  } finally {
    await caddy?.stop()
    await sources.close()
    rmSync(dir, { recursive: true, force: true })
  }
})
