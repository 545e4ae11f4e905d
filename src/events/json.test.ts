import { test } from 'node:test'
import assert from 'node:assert/strict'
import { captureEventJson, jsonString, tlsEventJson } from './json.ts'
import { HTTP_EVENT_FIELDS } from './http.ts'
import { TLS_EVENT_FIELDS, type TlsEvent } from './tls.ts'

const event: TlsEvent = {
  type: 'tls',
  ts: '2024-01-02T03:04:05.123456Z',
  sensor: 'edge-1',
  src_ip: '2001:db8::1',
  src_port: 50000,
  dst_ip: '10.0.0.2',
  dst_port: 443,
  transport: 'tcp',
  hello_index: 1,
  sni: 'we"ird\\name\u0001é',
  alpn: ['h2', '0xabcd', 'a"b'],
  tls_version: '1.3',
  tls_version_negotiated: null,
  ja3: '0123456789abcdef0123456789abcdef',
  ja3_str: '771,4865,0-10,29,0',
  ja4: 't13d1516h2_8daaf6152771_e5627efa2ab1',
  ja4_r: 'r',
  ja4_o: 'o',
  ja4_ro: 'ro',
  ja4_stable: 't13d1515h2_8daaf6152771_aaaaaaaaaaaa',
  resumption: ['psk', 'early_data'],
  ja3s: null,
  ja3s_str: null,
  ja4s: null,
  ja4s_r: null,
  ja4t: '64240_2-1-3-1-1-4_1460_8',
  ja4ts: null,
  ja4l_c: '2500_64',
  ja4l_s: null,
  tft: '66cb9fd8d4250000',
  tft_stable: '1234',
  cf_ciphers_sha1: 'abc+/=',
  cf_extensions_sha1: null,
  hello_length: 508,
  certs: [
    {
      role: 'server',
      index: 0,
      subject: 'CN=caf\u00e9 "quoted"',
      subject_cn: 'caf\u00e9 "quoted"',
      issuer: 'CN=ca',
      issuer_cn: 'ca',
      sans: ['example.com', '2001:db8::1'],
      not_before: '2024-01-01T00:00:00Z',
      not_after: null,
      serial: '01ab',
      sha256: 'ab'.repeat(32),
      self_signed: false,
      ja4x: 'a373a9f83c6b_2bab15409345_0f2217ba412e',
      ja4x_r: null,
      anomalies: [],
    },
  ],
  anomalies: ['tls.sni_not_hostname'],
}

test('tlsEventJson round-trips through JSON.parse and is printable ASCII', () => {
  const line = tlsEventJson(event)
  assert.deepEqual(JSON.parse(line), event)
  assert.match(line, /^[\x20-\x7e]*$/)
  const empty = { ...event, alpn: [], anomalies: [], sni: null, ja3: null, certs: [] }
  assert.deepEqual(JSON.parse(tlsEventJson(empty)), empty)
})

test('with printable-ASCII strings the text is exactly JSON.stringify', () => {
  const cert = { ...event.certs[0]!, subject: 'CN=cafe', subject_cn: 'cafe' }
  const plain = { ...event, sni: 'example.com', alpn: ['h2', 'http/1.1'], certs: [cert] }
  assert.equal(tlsEventJson(plain), JSON.stringify(plain))
})

test('the serializer covers every field of the schema, in order', () => {
  assert.deepEqual(Object.keys(JSON.parse(tlsEventJson(event))), [...TLS_EVENT_FIELDS])
})

test('jsonString escapes to ASCII and parses back to the same string', () => {
  for (const s of [
    '',
    'plain',
    'q"uote',
    'back\\slash',
    'nl\n',
    '\u2028',
    '\ud800',
    'ü',
    '\u007f',
    'x\u0000y',
  ]) {
    const j = jsonString(s)
    assert.equal(JSON.parse(j), s)
    assert.match(j, /^[\x20-\x7e]*$/)
  }
  assert.equal(jsonString('é'), '"\\u00e9"')
})

test('http and tcp events: schema field order, printable ASCII, JSON.parse gives them back', () => {
  const http = {
    type: 'http',
    ts: '2024-01-02T03:04:05.123456Z',
    sensor: 'edge-1',
    source: 'capture',
    src_ip: '192.0.2.1',
    src_port: 50000,
    dst_ip: '192.0.2.2',
    dst_port: 80,
    host: 'exämple.com',
    method: 'GET',
    path: '/a"b\\c',
    status: null,
    user_agent: 'curl/8 \u0001',
    request_time_ms: null,
    ja4h: 'ge11nn010000_x_000000000000_000000000000',
    ja4h_r: null,
    ja4h_ro: null,
    tfh: '1',
    ja3: null,
    ja4: null,
    cf_ciphers_sha1: null,
    cf_extensions_sha1: null,
    hello_length: null,
    tls_version: null,
    sni: null,
  } as const
  const line = captureEventJson(http)
  assert.match(line, /^[\x20-\x7e]*$/)
  assert.deepEqual(JSON.parse(line), http)
  assert.deepEqual(Object.keys(JSON.parse(line) as object), [...HTTP_EVENT_FIELDS])
  const tcp = {
    type: 'tcp',
    ts: '2024-01-02T03:04:05.123456Z',
    sensor: 's',
    src_ip: '192.0.2.1',
    src_port: 1,
    dst_ip: '192.0.2.2',
    dst_port: 22,
    ja4t: '64240_2-1-3-1-1-4_1460_8',
    ja4ts: null,
    ja4l_c: null,
    ja4l_s: '5_64',
  } as const
  assert.equal(captureEventJson(tcp), JSON.stringify(tcp))
})
