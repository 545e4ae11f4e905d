import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import type { HttpEvent } from '../events/http.ts'
import type { TlsEvent } from '../events/tls.ts'
import { NULL_TLS } from './test-helpers.ts'
import {
  MAX_USER_AGENT_CHARS,
  parseTimestampUs,
  recordToEvent,
  type MappingContext,
  type MappingResult,
} from './mapping.ts'

const NOW = new Date(Date.UTC(2026, 10, 22, 12, 0, 0, 500))
const CTX: MappingContext = { source: 'udp', sensor: 'collector-1', now: NOW }

function http(r: MappingResult): HttpEvent {
  assert.ok(r.ok, r.ok ? '' : `dropped: ${r.reason} ${r.field ?? ''}`)
  assert.equal(r.event.type, 'http')
  return r.event as HttpEvent
}

function dropped(r: MappingResult): { reason: string; field?: string } {
  assert.ok(!r.ok, 'expected a drop')
  return r.field === undefined ? { reason: r.reason } : { reason: r.reason, field: r.field }
}

test('nginx: the record examples/nginx/tlsight.conf produces', () => {
  // As nginx 1.22 wrote it (the syslog header removed).
  const rec = JSON.parse(
    '{"msec":"1795361013.638","remote_addr":"127.0.0.1","remote_port":"57318","server_addr":"127.0.0.1","server_port":"18080","host":"127.0.0.1","request_method":"GET","request_uri":"/a?b=1","status":"200","http_user_agent":"Mozilla/5.0 \\"q\\" \u00e9","request_time":"0.012","ssl_protocol":"","ssl_server_name":""}',
  )
  assert.deepEqual(http(recordToEvent(rec, CTX)), {
    type: 'http',
    ts: '2026-11-22T15:23:33.638000Z',
    sensor: 'collector-1',
    source: 'nginx',
    src_ip: '127.0.0.1',
    src_port: 57318,
    dst_ip: '127.0.0.1',
    dst_port: 18080,
    host: '127.0.0.1',
    method: 'GET',
    path: '/a?b=1',
    status: 200,
    user_agent: 'Mozilla/5.0 "q" é',
    request_time_ms: 12,
    ...NULL_TLS,
  })
})

test('nginx: TLS fields, module fingerprints, time_iso8601 and time_local, IPv4-mapped client', () => {
  const e = http(
    recordToEvent(
      {
        time_iso8601: '2026-11-22T10:00:00+01:00',
        remote_addr: '::ffff:203.0.113.9',
        remote_port: '443',
        http_host: 'Example.com:8443',
        request_method: 'POST',
        request_uri: '/login',
        status: 302,
        request_time: 0.0005,
        ssl_protocol: 'TLSv1.3',
        ssl_server_name: 'example.com',
        ja3_hash: '771C4A8B2E6DC3F9BFA1D8C23E0A52D9',
        ja4: 't13d1516h2_8daaf6152771_e5627efa2ab1',
      },
      CTX,
    ),
  )
  assert.equal(e.ts, '2026-11-22T09:00:00.000000Z')
  assert.equal(e.src_ip, '203.0.113.9')
  assert.equal(e.host, 'Example.com:8443')
  assert.equal(e.request_time_ms, 0.5)
  assert.equal(e.tls_version, '1.3')
  assert.equal(e.sni, 'example.com')
  assert.equal(e.ja3, '771c4a8b2e6dc3f9bfa1d8c23e0a52d9')
  assert.equal(e.ja4, 't13d1516h2_8daaf6152771_e5627efa2ab1')
  const local = http(
    recordToEvent(
      {
        time_local: '22/Nov/2026:10:00:00 -0130',
        remote_addr: '2001:db8::7',
        request_method: 'GET',
        request_uri: '/',
      },
      CTX,
    ),
  )
  assert.equal(local.ts, '2026-11-22T11:30:00.000000Z')
  assert.equal(local.src_ip, '2001:db8::7')
  assert.equal(local.status, null)
})

test('Apache: the record examples/apache/tlsight.conf produces', () => {
  const rec = {
    time_us: 1795361030936407,
    remote_ip: '127.0.0.1',
    remote_port: 36970,
    local_ip: '127.0.0.1',
    local_port: 18081,
    host: '127.0.0.1:18081',
    method: 'GET',
    uri: '/index.html?x=1',
    status: 200,
    user_agent: 'curl/7.88.1',
    duration_us: 206,
    tls_protocol: '-',
    tls_sni: '-',
  }
  assert.deepEqual(http(recordToEvent(rec, CTX)), {
    type: 'http',
    ts: '2026-11-22T15:23:50.936407Z',
    sensor: 'collector-1',
    source: 'apache',
    src_ip: '127.0.0.1',
    src_port: 36970,
    dst_ip: '127.0.0.1',
    dst_port: 18081,
    host: '127.0.0.1:18081',
    method: 'GET',
    path: '/index.html?x=1',
    status: 200,
    user_agent: 'curl/7.88.1',
    request_time_ms: 0.206,
    ...NULL_TLS,
  })
})

test('Apache: common names, %r request line and %t time', () => {
  const e = http(
    recordToEvent(
      {
        remote_ip: '198.51.100.4',
        request: 'DELETE /item/7?force=1 HTTP/1.1',
        status: '204',
        time: '[22/Nov/2026:10:00:00 +0000]',
        request_method: 'DELETE',
        tls_protocol: 'TLSv1.2',
        tls_sni: 'api.example.com',
      },
      CTX,
    ),
  )
  assert.equal(e.source, 'apache')
  assert.equal(e.method, 'DELETE')
  assert.equal(e.path, '/item/7?force=1')
  assert.equal(e.status, 204)
  assert.equal(e.ts, '2026-11-22T10:00:00.000000Z')
  assert.equal(e.tls_version, '1.2')
  assert.equal(e.sni, 'api.example.com')
})

test('Caddy: the access log record of Caddy 2.6, plain and over TLS', () => {
  // As caddy 2.6.2 wrote it with examples/caddy/Caddyfile.
  const rec = JSON.parse(
    '{"level":"info","ts":1795361057.3340983,"logger":"http.log.access.log0","msg":"handled request","request":{"remote_ip":"127.0.0.1","remote_port":"50672","proto":"HTTP/1.1","method":"GET","host":"127.0.0.1:18082","uri":"/p?q=1","headers":{"User-Agent":["Mozilla/5.0 x"],"Accept":["*/*"]}},"user_id":"","duration":0.00002137,"size":2,"status":200,"resp_headers":{"Server":["Caddy"],"Content-Type":["text/plain; charset=utf-8"]}}',
  )
  assert.deepEqual(http(recordToEvent(rec, CTX)), {
    type: 'http',
    ts: '2026-11-22T15:24:17.334098Z',
    sensor: 'collector-1',
    source: 'caddy',
    src_ip: '127.0.0.1',
    src_port: 50672,
    dst_ip: null,
    dst_port: null,
    host: '127.0.0.1:18082',
    method: 'GET',
    path: '/p?q=1',
    status: 200,
    user_agent: 'Mozilla/5.0 x',
    request_time_ms: 0.021,
    ...NULL_TLS,
  })
  rec.request.tls = {
    resumed: false,
    version: 772,
    cipher_suite: 4865,
    proto: 'h2',
    server_name: 'shop.example',
  }
  rec.request.headers = { 'user-agent': ['lower/1'] }
  rec.duration = '1.5ms'
  const tls = http(recordToEvent(rec, CTX))
  assert.equal(tls.tls_version, '1.3')
  assert.equal(tls.sni, 'shop.example')
  assert.equal(tls.user_agent, 'lower/1')
  assert.equal(tls.request_time_ms, 1.5)
})

test('Cloudflare Logpush http_requests with JA3/JA4 and the ClientHello digests', () => {
  const rec = {
    ClientIP: '2a06:98c0:3600::103',
    ClientSrcPort: 51234,
    ClientRequestHost: 'www.example.com',
    ClientRequestMethod: 'GET',
    ClientRequestURI: '/search?q=tls',
    ClientRequestPath: '/search',
    ClientRequestUserAgent: 'Mozilla/5.0 (X11; Linux x86_64)',
    ClientSSLProtocol: 'TLSv1.3',
    EdgeResponseStatus: 200,
    EdgeServerIP: '104.16.0.1',
    // unixnano, Logpush's default (a double cannot hold every nanosecond).
    EdgeStartTimestamp: 1795361057334098 * 1000 + 123,
    EdgeEndTimestamp: 1795361057384098 * 1000 + 123,
    JA3Hash: 'cd08e31494f9531f560d64c695473da9',
    JA4: 't13d1516h2_8daaf6152771_02713d6af862',
    RayID: '8f1c2a3b4c5d6e7f',
    tls_client_ciphers_sha1: 'GXSPDLP4G3X+prK73a4wBuOaHRc=',
    tls_client_extensions_sha1: 'OWFiM2I5ZDc0YWI0YWYzZmFkMGU0ZjhlYjhiYmVkMjgxNTU5YTU2Mg==',
    tls_client_hello_length: '508',
  }
  const e = http(recordToEvent(rec, CTX))
  assert.equal(e.source, 'cloudflare')
  assert.equal(e.src_ip, '2a06:98c0:3600::103')
  assert.equal(e.src_port, 51234)
  assert.equal(e.dst_ip, '104.16.0.1')
  assert.equal(e.path, '/search?q=tls')
  assert.equal(e.user_agent, 'Mozilla/5.0 (X11; Linux x86_64)')
  // unixnano: a double keeps it to a quarter of a microsecond.
  assert.equal(e.ts, '2026-11-22T15:24:17.334098Z')
  assert.equal(e.request_time_ms, 50)
  assert.equal(e.ja3, 'cd08e31494f9531f560d64c695473da9')
  assert.equal(e.ja4, 't13d1516h2_8daaf6152771_02713d6af862')
  assert.equal(e.cf_ciphers_sha1, 'GXSPDLP4G3X+prK73a4wBuOaHRc=')
  assert.equal(e.cf_extensions_sha1, rec.tls_client_extensions_sha1)
  assert.equal(e.hello_length, 508)
  assert.equal(e.tls_version, '1.3')
  // RFC 3339 timestamps (timestamp_format=rfc3339) and `none` for plain HTTP.
  const plain = http(
    recordToEvent(
      { ...rec, EdgeStartTimestamp: '2026-11-22T10:00:00Z', ClientSSLProtocol: 'none' },
      CTX,
    ),
  )
  assert.equal(plain.ts, '2026-11-22T10:00:00.000000Z')
  assert.equal(plain.tls_version, null)
})

test('our own http event maps to itself', () => {
  const ev: HttpEvent = {
    type: 'http',
    ts: '2026-11-22T10:00:00.123456Z',
    sensor: 'edge-7',
    source: 'capture',
    src_ip: '192.0.2.10',
    src_port: 50000,
    dst_ip: '192.0.2.1',
    dst_port: 443,
    host: 'example.com',
    method: 'GET',
    path: '/',
    status: null,
    user_agent: 'curl/8.5.0',
    request_time_ms: null,
    ja4h: 'ge11nn020000_4740ae6347b0_000000000000_000000000000',
    ja4h_r: 'ge11nn020000_Host,User-Agent__',
    ja4h_ro: 'ge11nn020000_Host,User-Agent__',
    tfh: '1a2b3c4d',
    ja3: null,
    ja4: null,
    cf_ciphers_sha1: null,
    cf_extensions_sha1: null,
    hello_length: null,
    tls_version: null,
    sni: null,
  }
  assert.deepEqual(http(recordToEvent(JSON.parse(JSON.stringify(ev)), CTX)), ev)
  // Optional fields may be left out; the sensor and time then come from the context.
  const min = http(
    recordToEvent({ type: 'http', src_ip: '192.0.2.10', method: 'GET', path: '/' }, CTX),
  )
  assert.equal(min.sensor, 'collector-1')
  assert.equal(min.source, 'tlsight')
  assert.equal(min.ts, '2026-11-22T12:00:00.500000Z')
  assert.equal(min.src_port, null)
})

const TLS: TlsEvent = {
  type: 'tls',
  ts: '2026-11-22T10:00:00.000001Z',
  sensor: 'sensor-a',
  src_ip: '2001:db8::10',
  src_port: 51515,
  dst_ip: '2001:db8::1',
  dst_port: 443,
  transport: 'quic',
  hello_index: 1,
  sni: 'example.com',
  alpn: ['h3'],
  tls_version: '1.3',
  tls_version_negotiated: '1.3',
  ja3: '0123456789abcdef0123456789abcdef',
  ja3_str: '771,4865-4866,0-10-11,29-23,0',
  ja4: 'q13d0310h3_55b375c5d22e_cd85d2d88918',
  ja4_r: 'q13d0310h3_1301,1302,1303_0000,000a_0403',
  ja4_o: 'q13d0310h3_55b375c5d22e_cd85d2d88918',
  ja4_ro: 'q13d0310h3_1301,1302,1303_0000,000a_0403',
  ja4_stable: 'q13d0310h3_55b375c5d22e_cd85d2d88918',
  resumption: ['psk'],
  ja3s: null,
  ja3s_str: null,
  ja4s: null,
  ja4s_r: null,
  ja4t: null,
  ja4ts: null,
  ja4l_c: null,
  ja4l_s: null,
  tft: '0a1b2c3d4e5f6071',
  tft_stable: null,
  cf_ciphers_sha1: 'GXSPDLP4G3X+prK73a4wBuOaHRc=',
  cf_extensions_sha1: null,
  hello_length: 508,
  certs: [
    {
      role: 'server',
      index: 0,
      subject: 'CN=example.com',
      subject_cn: 'example.com',
      issuer: 'CN=Test CA',
      issuer_cn: 'Test CA',
      sans: ['example.com', 'www.example.com'],
      not_before: '2026-01-01T00:00:00.000000Z',
      not_after: '2027-01-01T00:00:00.000000Z',
      serial: '01ab',
      sha256: 'ab'.repeat(32),
      self_signed: false,
      ja4x: 'a373a9f83c6b_2bab15409345_7bf9a7bf7029',
      ja4x_r: null,
      anomalies: [],
    },
  ],
  anomalies: ['tls.duplicate_extension'],
}

test('our own tls event maps to itself; missing optional fields become null or []', () => {
  const r = recordToEvent(JSON.parse(JSON.stringify(TLS)), CTX)
  assert.ok(r.ok)
  assert.deepEqual(r.event, TLS)
  const min = recordToEvent(
    {
      type: 'tls',
      src_ip: '192.0.2.1',
      src_port: 1,
      dst_ip: '192.0.2.2',
      dst_port: 443,
      ja4: 'x',
    },
    CTX,
  )
  assert.ok(min.ok && min.event.type === 'tls')
  assert.equal(min.event.transport, 'tcp')
  assert.equal(min.event.sensor, 'collector-1')
  assert.deepEqual(min.event.alpn, [])
  assert.deepEqual(min.event.certs, [])
  assert.equal(min.event.ja3s, null)
  for (const [field, value, reason] of [
    ['dst_port', undefined, 'missing_field'],
    ['dst_port', 70000, 'bad_field'],
    ['transport', 'sctp', 'bad_field'],
    ['alpn', 'h2', 'bad_field'],
    ['resumption', ['magic'], 'bad_field'],
    ['certs', [{ role: 'nobody' }], 'bad_field'],
    ['src_ip', 'host.example', 'bad_field'],
  ] as const) {
    const rec: Record<string, unknown> = { ...JSON.parse(JSON.stringify(TLS)), [field]: value }
    assert.deepEqual(dropped(recordToEvent(rec, CTX)).reason, reason, `${field}=${value}`)
  }
})

test('bad and missing fields drop the record, naming the field', () => {
  const base = { remote_addr: '192.0.2.1', request_method: 'GET', request_uri: '/' }
  const cases: [Record<string, unknown>, string, string][] = [
    [{ ...base, remote_addr: '192.0.2.300' }, 'bad_field', 'src_ip'],
    [{ ...base, remote_addr: 'unix:' }, 'bad_field', 'src_ip'],
    [{ ...base, remote_addr: 7 }, 'bad_field', 'src_ip'],
    [{ ...base, remote_port: '65536' }, 'bad_field', 'src_port'],
    [{ ...base, remote_port: -1 }, 'bad_field', 'src_port'],
    [{ ...base, remote_port: 1.5 }, 'bad_field', 'src_port'],
    [{ ...base, status: 1000 }, 'bad_field', 'status'],
    [{ ...base, status: 42 }, 'bad_field', 'status'],
    [{ ...base, status: 'OK' }, 'bad_field', 'status'],
    [{ ...base, request_method: 'GE T' }, 'bad_field', 'method'],
    [{ ...base, request_method: 'X'.repeat(33) }, 'bad_field', 'method'],
    [{ ...base, request_uri: { a: 1 } }, 'bad_field', 'path'],
    [{ ...base, time_iso8601: '2026-02-30T00:00:00Z' }, 'bad_field', 'ts'],
    [{ ...base, time_iso8601: 'yesterday' }, 'bad_field', 'ts'],
    [{ ...base, msec: -5 }, 'bad_field', 'ts'],
    [{ ...base, time_iso8601: '0050-01-01T00:00:00Z' }, 'bad_field', 'ts'],
    [{ request_method: 'GET', request_uri: '/' }, 'missing_field', 'src_ip'],
    [{ remote_addr: '192.0.2.1', request_uri: '/' }, 'missing_field', 'method'],
    [{ remote_addr: '192.0.2.1', request_method: 'GET' }, 'missing_field', 'path'],
    [{ ...base, request_method: '-' }, 'missing_field', 'method'],
    [{ tls_client_ciphers_sha1: 'GXSPDLP4G3X+prK73a4wBuOaHRc=' }, 'missing_field', 'src_ip'],
  ]
  for (const [rec, reason, field] of cases)
    assert.deepEqual(dropped(recordToEvent(rec, CTX)), { reason, field }, JSON.stringify(rec))
  // Caddy writes status 0 for a request that got no response.
  assert.equal(http(recordToEvent({ ...base, status: 0 }, CTX)).status, null)
})

test('records of no known shape are unmapped, prototype keys are data', () => {
  for (const v of [
    null,
    42,
    'text',
    [],
    {},
    { level: 'info', msg: 'server started' },
    { constructor: 'x', toString: 'y', __proto__: 'z' },
    JSON.parse('{"__proto__":{"remote_addr":"192.0.2.1"}}'),
    { type: 'tcp', ts: '2026-11-22T10:00:00Z', sensor: 's', src_ip: '192.0.2.1' },
  ]) {
    assert.deepEqual(dropped(recordToEvent(v, CTX)), { reason: 'unmapped' }, JSON.stringify(v))
  }
})

test('aliases: our name first, whatever the key order; absent values fall through', () => {
  const base = { request_method: 'GET', request_uri: '/' }
  const src = (rec: Record<string, unknown>) => {
    const once = http(recordToEvent({ ...base, ...rec }, CTX)).src_ip
    assert.equal(http(recordToEvent({ ...base, ...rec }, CTX)).src_ip, once)
    return once
  }
  // Key order in the record does not matter, alias order does.
  assert.equal(
    src({ ClientIP: '192.0.2.3', remote_addr: '192.0.2.2', src_ip: '192.0.2.1' }),
    '192.0.2.1',
  )
  assert.equal(src({ client_ip: '192.0.2.4', remote_ip: '192.0.2.3' }), '192.0.2.3')
  // `-`, "" and null are absent: the next alias decides.
  assert.equal(
    src({
      src_ip: '-',
      remote_addr: '',
      remote_ip: null,
      client_ip: '192.0.2.4',
      ClientIP: '192.0.2.5',
    }),
    '192.0.2.4',
  )
  // A present value of the wrong type is not skipped: it is a bad field.
  assert.deepEqual(dropped(recordToEvent({ ...base, src_ip: 5, remote_addr: '192.0.2.2' }, CTX)), {
    reason: 'bad_field',
    field: 'src_ip',
  })
  // Absent everywhere: a missing field.
  assert.deepEqual(dropped(recordToEvent({ ...base, src_ip: '-', remote_addr: null }, CTX)), {
    reason: 'missing_field',
    field: 'src_ip',
  })
})

test('aliases: nested paths keep their place in the priority order', () => {
  // Twice: a key list seen again is read through its pruned alias lists.
  const rec = (o: Record<string, unknown>) => {
    const once = http(recordToEvent(o, CTX))
    assert.deepEqual(http(recordToEvent(o, CTX)), once)
    return once
  }
  // host: host, http_host, request.host, ClientRequestHost.
  const e = rec({
    ClientRequestHost: 'cf.example',
    ClientIP: '-',
    request: {
      host: 'caddy.example',
      remote_ip: '-',
      client_ip: '192.0.2.8',
      method: 'GET',
      uri: '/r',
    },
  })
  assert.equal(e.host, 'caddy.example')
  assert.equal(e.src_ip, '192.0.2.8', 'request.remote_ip is absent: request.client_ip')
  assert.equal(e.path, '/r')
  assert.equal(
    rec({
      http_host: 'h.example',
      request: { host: 'c', remote_ip: '192.0.2.1', method: 'GET', uri: '/' },
    }).host,
    'h.example',
  )
  // A nested path under a key that is not an object yields nothing (and no exception).
  const line = rec({ remote_ip: '192.0.2.5', request: 'GET /x HTTP/1.1', http_host: 'a' })
  assert.equal(line.method, 'GET')
  assert.equal(line.path, '/x')
  // request.tls.version and request.tls.server_name, after every top-level alias.
  const tls = rec({
    request: {
      remote_ip: '192.0.2.1',
      method: 'GET',
      uri: '/',
      tls: { version: 772, server_name: 'n' },
    },
  })
  assert.equal(tls.tls_version, '1.3')
  assert.equal(tls.sni, 'n')
  assert.equal(
    rec({
      ssl_server_name: 's',
      request: { remote_ip: '192.0.2.1', method: 'GET', uri: '/', tls: { server_name: 'n' } },
    }).sni,
    's',
  )
})

test('aliases: inherited keys are never read; `__proto__` and `constructor` keys are data', () => {
  const inherited: object = Object.create({ remote_addr: '192.0.2.1', request_method: 'GET' })
  Object.assign(inherited, { request_uri: '/' })
  assert.deepEqual(dropped(recordToEvent(inherited, CTX)), { reason: 'unmapped' })
  // A record that is recognised by its method, whose only client address is under `__proto__`.
  const proto = JSON.parse(
    '{"__proto__":{"remote_addr":"192.0.2.1"},"constructor":{"remote_addr":"192.0.2.2"},"request_method":"GET","request_uri":"/"}',
  )
  assert.deepEqual(dropped(recordToEvent(proto, CTX)), { reason: 'missing_field', field: 'src_ip' })
  const withProto = JSON.parse(
    '{"__proto__":"x","constructor":"y","toString":"z","remote_addr":"192.0.2.1","request_method":"GET","request_uri":"/"}',
  )
  assert.equal(http(recordToEvent(withProto, CTX)).src_ip, '192.0.2.1')
  // Version names are looked up in a table that has no prototype keys either.
  for (const v of ['constructor', '__proto__', 'toString', 'hasOwnProperty']) {
    const r = recordToEvent({ ...withProto, ssl_protocol: v }, CTX)
    assert.ok(r.ok && r.event.type === 'http')
    assert.equal(r.event.tls_version, null, v)
    assert.deepEqual(r.notes, ['field_invalid'], v)
  }
})

test('records of many key lists, interleaved, map each by its own keys', () => {
  // More key lists than are remembered at once, visited twice in a changing order: each record
  // maps the same whatever was mapped before it.
  const recs: Record<string, unknown>[] = []
  for (let i = 0; i < 40; i++) {
    const rec: Record<string, unknown> = { [`extra_${i}`]: i }
    if (i % 2 === 0) rec.remote_addr = `192.0.2.${i}`
    else rec.client_ip = `192.0.2.${i}`
    if (i % 3 === 0) rec.src_ip = '-'
    rec.request_method = i % 5 === 0 ? 'POST' : 'GET'
    if (i % 4 === 0) rec.request = `PUT /line/${i} HTTP/1.1`
    else rec.request_uri = `/uri/${i}`
    if (i % 7 === 0) rec.status = String(200 + i)
    recs.push(rec)
  }
  const expected = recs.map((r) => JSON.stringify(recordToEvent(r, CTX)))
  for (let round = 0; round < 3; round++) {
    for (let k = 0; k < recs.length; k++) {
      const j = (k * (round * 2 + 1) + round) % recs.length
      assert.equal(JSON.stringify(recordToEvent(recs[j], CTX)), expected[j], `record ${j}`)
      // The same keys with other values.
      const other = { ...recs[j], request_method: 'DELETE' }
      const r = recordToEvent(other, CTX)
      assert.ok(r.ok && r.event.type === 'http')
      assert.equal(r.event.method, 'DELETE')
    }
  }
  const e = http(recordToEvent(recs[4], CTX))
  assert.deepEqual([e.src_ip, e.method, e.path], ['192.0.2.4', 'GET', '/line/4'])
})

test('over-long text is cut and noted; malformed optional fields are nulled and noted', () => {
  const r = recordToEvent(
    {
      remote_addr: '192.0.2.1',
      request_method: 'GET',
      request_uri: '/',
      http_user_agent: 'A'.repeat(MAX_USER_AGENT_CHARS - 1) + '\u{1F600}',
      ja3: 'not-a-hash',
      ja4: 't13d1516h2_8daaf6152771',
      ssl_protocol: 'TLSv9',
      tls_client_hello_length: '99999999999',
    },
    CTX,
  )
  // An impossible hello length is a bad field, not a nulled one: it is a number out of range.
  assert.deepEqual(dropped(r), { reason: 'bad_field', field: 'hello_length' })
  const ok = recordToEvent(
    {
      remote_addr: '192.0.2.1',
      request_method: 'GET',
      request_uri: '/',
      http_user_agent: 'A'.repeat(MAX_USER_AGENT_CHARS - 1) + '\u{1F600}',
      ja3: 'not-a-hash',
      ja4: 't13d1516h2_8daaf6152771',
      ssl_protocol: 'TLSv9',
    },
    CTX,
  )
  assert.ok(ok.ok && ok.event.type === 'http')
  // The cut does not split the surrogate pair.
  assert.equal(ok.event.user_agent, 'A'.repeat(MAX_USER_AGENT_CHARS - 1))
  assert.equal(ok.event.ja3, null)
  assert.equal(ok.event.ja4, null)
  assert.equal(ok.event.tls_version, null)
  assert.deepEqual(ok.notes.sort(), ['field_invalid', 'field_truncated'])
})

test('timestamps: epoch units by magnitude, RFC 3339 with offsets and fractions', () => {
  const us = Date.UTC(2026, 10, 22, 10, 0, 0) * 1000
  assert.equal(parseTimestampUs(us / 1e6), us)
  assert.equal(parseTimestampUs(us / 1e3), us)
  assert.equal(parseTimestampUs(us), us)
  assert.equal(parseTimestampUs(us * 1e3), us)
  assert.equal(parseTimestampUs('1795341600.25'), us + 250_000)
  assert.equal(parseTimestampUs('2026-11-22T10:00:00.1234567Z'), us + 123_457)
  assert.equal(parseTimestampUs('2026-11-22 10:00:00,5'), us + 500_000)
  assert.equal(parseTimestampUs('2026-11-22T11:30:00+0130'), us)
  assert.equal(parseTimestampUs('2026-11-22T10:00:60Z'), us + 59_000_000)
  for (const bad of ['2026-13-01T00:00:00Z', '2026-11-22T10:00:00+24:00', '', 'NaN', true, {}])
    assert.equal(parseTimestampUs(bad), undefined, String(bad))
})

test('property: decimal text is the number it spells; anything else is not a number', () => {
  const digits = (min: number, max: number) =>
    fc
      .array(fc.constantFrom(...'0123456789'), { minLength: min, maxLength: max })
      .map((d) => d.join(''))
  // `d{1,20}[.d{1,12}]` reads as Number() reads it, to the last bit.
  fc.assert(
    fc.property(digits(1, 20), fc.option(digits(1, 12)), (whole, frac) => {
      const text = frac === null ? whole : `${whole}.${frac}`
      assert.equal(parseTimestampUs(text), parseTimestampUs(Number(text)), text)
    }),
    { numRuns: 20_000 },
  )
  for (const bad of [
    '1.',
    '.5',
    '1e5',
    '-1',
    '+1',
    ' 1',
    '1 ',
    '1.5\n',
    '0x10',
    '1'.repeat(21),
    '1.' + '1'.repeat(13),
  ])
    assert.equal(parseTimestampUs(bad), undefined, bad)
  // The same rule for durations: `request_time` in seconds with ms digits.
  const r = recordToEvent(
    { remote_addr: '192.0.2.1', request_method: 'GET', request_uri: '/', request_time: '0.123' },
    CTX,
  )
  assert.ok(r.ok && r.event.type === 'http')
  assert.equal(r.event.request_time_ms, 123)
})
