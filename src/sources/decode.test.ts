import { test } from 'node:test'
import assert from 'node:assert/strict'
import { formatRfc5424 } from '../protocols/syslog/index.ts'
import type { HttpEvent } from '../events/http.ts'
import { decodeMessage, type DecodeContext, type DecodeOutcome } from './decode.ts'
import { NULL_TLS } from './test-helpers.ts'

const enc = new TextEncoder()
const NOW = new Date(Date.UTC(2026, 10, 22, 12))
const CTX: DecodeContext = { source: 'udp', sensor: 'collector-1', now: NOW }

function decode(text: string | Uint8Array, ctx: DecodeContext = CTX): DecodeOutcome {
  return decodeMessage(typeof text === 'string' ? enc.encode(text) : text, ctx)
}

function one(out: DecodeOutcome): HttpEvent {
  assert.deepEqual(out.drops, [])
  assert.equal(out.events.length, 1)
  const e = out.events[0]!
  assert.equal(e.type, 'http')
  return e as HttpEvent
}

const NGINX_JSON =
  '{"msec":"1795361013.638","remote_addr":"127.0.0.1","remote_port":"57318","host":"a.example","request_method":"GET","request_uri":"/a?b=1","status":"200","http_user_agent":"curl/8","request_time":"0.000"}'

test('nginx syslog: RFC 3164 with host and tag, and with nohostname', () => {
  const e = one(decode(`<190>Nov 22 15:23:33 web1 nginx: ${NGINX_JSON}`))
  assert.equal(e.source, 'nginx')
  // The syslog host names the events; the record's own time wins over the header's.
  assert.equal(e.sensor, 'web1')
  assert.equal(e.ts, '2026-11-22T15:23:33.638000Z')
  assert.equal(e.path, '/a?b=1')
  const noHost = one(decode(`<190>Nov 22 15:23:33 nginx: ${NGINX_JSON}\n`))
  assert.equal(noHost.sensor, 'collector-1')
})

test('Caddy net output: a raw JSON line with a trailing LF', () => {
  const line =
    '{"level":"info","ts":1795361057.3340983,"logger":"http.log.access.log0","msg":"handled request","request":{"remote_ip":"127.0.0.1","remote_port":"50672","proto":"HTTP/1.1","method":"GET","host":"h","uri":"/p","headers":{"User-Agent":["x/1"]}},"duration":0.001,"status":200}\n'
  const e = one(decode(line))
  assert.equal(e.source, 'caddy')
  assert.equal(e.user_agent, 'x/1')
})

test('RFC 5424 with JSON MSG: the header time (µs, offset) stands in for a missing ts', () => {
  const msg = formatRfc5424({
    pri: { facility: 16, severity: 6 },
    timestamp: '2026-11-22T13:00:00.123456+01:00',
    hostname: 'web2',
    appName: 'apache',
    procId: '77',
    structuredData: [{ id: 'meta@32473', params: [{ name: 'k', value: 'v]' }] }],
    message: '{"remote_ip":"192.0.2.5","request":"GET /x HTTP/1.1","status":200}',
  })
  const e = one(decode(msg))
  assert.equal(e.ts, '2026-11-22T12:00:00.123456Z')
  assert.equal(e.sensor, 'web2')
  assert.equal(e.source, 'apache')
  assert.equal(e.method, 'GET')
})

test('our own events as `tlsight analyze --format syslog` writes them keep their sensor', () => {
  const line =
    '<134>1 2026-11-22T10:00:00.000001Z sensor-9 tlsight 4242 tls - {"type":"tls","ts":"2026-11-22T10:00:00.000001Z","sensor":"sensor-9","src_ip":"192.0.2.1","src_port":5,"dst_ip":"192.0.2.2","dst_port":443,"transport":"tcp","ja4":"t13d1516h2_8daaf6152771_e5627efa2ab1"}'
  const out = decode(line)
  assert.deepEqual(out.drops, [])
  assert.equal(out.events[0]?.type, 'tls')
  assert.equal(out.events[0]?.sensor, 'sensor-9')
})

test('logger (bsdutils) local format, CEE cookie, and an unrecognised tag before the JSON', () => {
  const rec = '{"remote_ip":"192.0.2.5","method":"GET","uri":"/"}'
  assert.equal(decode(`<13>Nov 22 15:23:36 apache: ${rec}`).events.length, 1)
  assert.equal(decode(`<13>Nov 22 15:23:36 host app: @cee: ${rec}`).events.length, 1)
  assert.equal(decode(`<13>Nov 22 15:23:36 host my app/x[1]: ${rec}`).events.length, 1)
})

test('bare JSON: object, array batch, NDJSON lines; pretty-printed JSON is one record', () => {
  const rec = '{"src_ip":"192.0.2.1","method":"GET","path":"/"}'
  assert.equal(decode(rec).events.length, 1)
  assert.equal(decode(`[${rec},${rec},${rec}]`).events.length, 3)
  const nd = decode(`${rec}\n\n${rec}\r\n{"nope":1}\nplain text\n{"src_ip":\n`)
  assert.equal(nd.events.length, 2)
  assert.deepEqual(
    nd.drops.map((d) => d.reason),
    ['unmapped', 'not_json', 'bad_json'],
  )
  assert.equal(
    decode('{\n  "src_ip": "192.0.2.1",\n  "method": "GET",\n  "path": "/"\n}').events.length,
    1,
  )
  assert.equal(decode('\uFEFF  ' + rec).events.length, 1)
})

test('\\xHH escapes of Apache and nginx (without escape=json) are read back', () => {
  const apache =
    '{"remote_ip":"192.0.2.1","method":"GET","uri":"/a\\x20b","user_agent":"bad\\x01ua \\"q\\" \\\\x41 \\xc3\\xa9 \\xff\\xfe"}'
  const e = one(decode(apache))
  assert.equal(e.path, '/a b')
  // `\\x41` is an escaped backslash followed by `x41`, not an escape; a run of escapes is
  // UTF-8 when it decodes as such, else one code point per byte.
  assert.equal(e.user_agent, 'bad\u0001ua "q" \\x41 é \u00ff\u00fe')
})

test('garbage is counted by reason, never thrown', () => {
  const cases: [string | Uint8Array, string][] = [
    ['', 'not_json'],
    ['\n\r\n', 'not_json'],
    ['hello world', 'not_json'],
    ['<34>Oct 11 22:14:15 mymachine su: plain text', 'not_json'],
    ['<999>garbage', 'bad_syslog'],
    ['<13>1 2026-99-99T00:00:00Z', 'bad_syslog'],
    ['<13>garbage without json', 'bad_syslog'],
    ['{"unterminated":', 'bad_json'],
    ['{"a":1}', 'unmapped'],
    ['"just a string"', 'not_json'],
    ['<13>Nov 22 15:23:36 apache: {broken', 'bad_json'],
    [new Uint8Array([0xff, 0xfe, 0x00, 0x7b]), 'not_json'],
  ]
  for (const [input, reason] of cases) {
    const out = decode(input)
    assert.equal(out.events.length, 0, String(input))
    assert.deepEqual(
      out.drops.map((d) => d.reason),
      [reason],
      JSON.stringify(typeof input === 'string' ? input : [...input]),
    )
  }
})

test('a message over the limit is one oversized drop, with a short sample', () => {
  const big = '{"src_ip":"192.0.2.1","method":"GET","path":"/' + 'a'.repeat(2000) + '"}'
  const out = decode(big, { ...CTX, maxRecordBytes: 1024 })
  assert.equal(out.events.length, 0)
  assert.equal(out.drops[0]?.reason, 'oversized')
  assert.ok((out.drops[0]?.sample.length ?? 0) <= 200)
  assert.equal(decode(big).events.length, 1)
})

test('nginx syslog: ASCII, raw UTF-8 and bad bytes in the JSON decode to the same event', () => {
  const rec = (ua: string) =>
    `{"msec":"1795361013.638","remote_addr":"2001:db8::1","remote_port":"57318","server_addr":"192.0.2.10","server_port":"443","host":"a.example","request_method":"GET","request_uri":"/a?b=1","status":"200","http_user_agent":"${ua}","request_time":"0.012","ssl_protocol":"TLSv1.3","ssl_server_name":"a.example"}`
  const expected: HttpEvent = {
    type: 'http',
    ts: '2026-11-22T15:23:33.638000Z',
    sensor: 'web1',
    source: 'nginx',
    src_ip: '2001:db8::1',
    src_port: 57318,
    dst_ip: '192.0.2.10',
    dst_port: 443,
    host: 'a.example',
    method: 'GET',
    path: '/a?b=1',
    status: 200,
    user_agent: 'ua é',
    request_time_ms: 12,
    ...NULL_TLS,
    tls_version: '1.3',
    sni: 'a.example',
  }
  const header = '<190>Nov 22 15:23:33 web1 nginx: '
  // escape=json writes non-ASCII as \u escapes: the whole datagram is ASCII.
  assert.deepEqual(one(decode(header + rec('ua \\u00e9'))), expected)
  assert.deepEqual(one(decode(header + rec('ua é'))), expected)
  // A byte that is not UTF-8 becomes U+FFFD, as everywhere else.
  const badUa = enc.encode(header + rec('ua \u0000')).map((c) => (c === 0 ? 0xff : c))
  assert.deepEqual(one(decode(badUa)), { ...expected, user_agent: 'ua \uFFFD' })
})
