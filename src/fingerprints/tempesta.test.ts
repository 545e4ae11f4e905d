import { test } from 'node:test'
import assert from 'node:assert/strict'
import { parseClientHello } from '../protocols/tls/client-hello.ts'
import {
  alpnExt,
  chromeHelloSpec,
  clientHelloBody,
  ecPointFormatsExt,
  ext,
  GREASE_A,
  GREASE_B,
  groupsExt,
  sigAlgsExt,
  sniExt,
  supportedVersionsExt,
  type ClientHelloSpec,
  type Ext,
} from '../protocols/tls/test-helpers/fixtures.ts'
import type { HttpHeader, HttpRequest } from '../protocols/http/types.ts'
import { tfh, tfhFields, tft, tftFields, tftStable } from './tempesta.ts'

function ch(spec: ClientHelloSpec) {
  const r = parseClientHello(clientHelloBody(spec))
  assert.ok(r.ok)
  return r.value
}

function req(method: string, version: number, headers: [string, string][]): HttpRequest {
  const hs: HttpHeader[] = headers.map(([name, value]) => ({ name, value }))
  return { method, target: '/', version, headers: hs, headLength: 0, anomalies: [] }
}

/** sum = sum * 11 + v modulo 2^16, written out independently of the module. */
function fold16(values: number[]): number {
  let s = 0
  for (const v of values) s = (s * 11 + v) % 65536
  return s
}

test('TFt worked example, computed by hand from lib/tf.h and tls_srv.c', () => {
  const hello = ch({
    ciphers: [0x1301, 0x1302],
    extensions: [sniExt('a.example'), groupsExt([0x001d, 0x0017]), alpnExt(['h2', 'http/1.1'])],
  })
  // ciphers: 0x1301 = 4865; 4865 * 11 + 4866 = 58381 = 0xe40d.
  // extension types 0, 10, 16: 0; 0 * 11 + 10 = 10; 10 * 11 + 16 = 126 = 0x007e.
  // groups: the list is 4 bytes, so Tempesta's loop reads 4 values. The scratch buffer holds
  // the SNI body 00 0c 00 00 09 "a.example" overwritten by the groups body 00 04 00 1d 00 17,
  // so the values are 0x001d, 0x0017, then ".e" = 0x2e65 and "xa" = 0x7861 from the SNI body:
  // 29; 29 * 11 + 23 = 342; 342 * 11 + 11877 = 15639; 15639 * 11 + 30817 = 202846 ≡ 6238 = 0x185e.
  // ALPN "h2" (id 2) then "http/1.1" (id 1): (2 << 1) + 1 = 5; SNI present: vhost bit 0x10.
  assert.deepEqual(tftFields(hello), {
    alpn: 5,
    hasUnknownAlpn: false,
    vhostFound: true,
    isAbbreviated: false,
    isTls13: false,
    cipherSuiteHash: 0xe40d,
    extensionTypeHash: 0x007e,
    ellipticCurveHash: 0x185e,
  })
  // u64 little-endian: flags byte, padding byte, then the three hashes.
  assert.equal(tft(hello), '185e007ee40d0015')
})

// tempesta-tech/tempesta-test t_tf/test_tf.py (commit 429293a10a3a1f45947f05f3419d8ba401fe8c1e)
// configures `hash 66cb9fd8d4250000` and `hash 66cb8f00d4250002` as the TFt of its Python
// deproxy clients (HTTP/1 without ALPN, HTTP/2 with ALPN "h2"). Those are the hellos of Python
// ssl on OpenSSL 3.0; these specs repeat their cipher list, extension order and the bodies
// Tempesta reads (recorded here with Python 3 + OpenSSL 3.0.22; other bodies are shortened).
function openssl3Hello(alpn: boolean): ClientHelloSpec {
  const extensions: Ext[] = [
    ecPointFormatsExt([0, 1, 2]),
    groupsExt([0x001d, 0x0017, 0x001e, 0x0019, 0x0018, 0x0100, 0x0101, 0x0102, 0x0103, 0x0104]),
    ext(0x0023),
    ...(alpn ? [alpnExt(['h2'])] : []),
    ext(0x0016),
    ext(0x0017),
    sigAlgsExt([0x0403, 0x0503, 0x0603, 0x0807]),
    supportedVersionsExt([0x0304, 0x0303]),
    ext(0x002d, [1, 1]),
    ext(0x0033, [0, 0]),
    ext(0x0015, new Array<number>(100).fill(0)),
  ]
  return {
    sessionId: new Uint8Array(32).fill(7),
    ciphers: [
      0x1302, 0x1303, 0x1301, 0xc02c, 0xc030, 0xc02b, 0xc02f, 0xcca9, 0xcca8, 0xc024, 0xc028,
      0xc023, 0xc027, 0x009f, 0x009e, 0x006b, 0x0067, 0x00ff,
    ],
    extensions,
  }
}

test('TFt equals the values Tempesta itself published for OpenSSL 3 clients', () => {
  assert.equal(tft(ch(openssl3Hello(false))), '66cb9fd8d4250000')
  assert.equal(tft(ch(openssl3Hello(true))), '66cb8f00d4250002')
  // 0x66cb is the 10 groups followed by 10 zero values (the overrun into the zeroed buffer).
  const groups = [0x1d, 0x17, 0x1e, 0x19, 0x18, 0x100, 0x101, 0x102, 0x103, 0x104]
  assert.equal(fold16([...groups, ...new Array<number>(10).fill(0)]), 0x66cb)
  assert.notEqual(fold16(groups), 0x66cb)
})

test('TFt prints like %llx: lower-case, no leading zeros', () => {
  // Only the cipher hash is set: 0x002f in bits 16-31.
  assert.equal(tft(ch({ ciphers: [0x002f] })), '2f0000')
  assert.equal(tft(ch({ ciphers: [0xc02f] })), 'c02f0000')
})

test('TFt hashes GREASE as sent; dropGrease removes it from every list', () => {
  const withGrease = ch({
    ciphers: [GREASE_A, 0x1301],
    extensions: [ext(GREASE_B), groupsExt([GREASE_A, 0x001d, 0x0017, 0x0018]), ext(0x0017)],
  })
  const f = tftFields(withGrease)
  assert.equal(f.cipherSuiteHash, fold16([GREASE_A, 0x1301]))
  assert.equal(f.extensionTypeHash, fold16([GREASE_B, 0x000a, 0x0017]))
  // 8-byte list: 8 values, the last four past the list in the zeroed buffer.
  assert.equal(f.ellipticCurveHash, fold16([GREASE_A, 0x1d, 0x17, 0x18, 0, 0, 0, 0]))
  const g = tftFields(withGrease, { dropGrease: true })
  assert.equal(g.cipherSuiteHash, 0x1301)
  assert.equal(g.extensionTypeHash, fold16([0x000a, 0x0017]))
  // 6-byte list without GREASE: 6 values.
  assert.equal(g.ellipticCurveHash, fold16([0x1d, 0x17, 0x18, 0, 0, 0]))
  // Another GREASE value changes tft but not the dropGrease variant.
  const otherGrease = ch({
    ciphers: [0x5a5a, 0x1301],
    extensions: [ext(0x6a6a), groupsExt([0x7a7a, 0x001d, 0x0017, 0x0018]), ext(0x0017)],
  })
  assert.notEqual(tft(otherGrease), tft(withGrease))
  assert.equal(tft(otherGrease, { dropGrease: true }), tft(withGrease, { dropGrease: true }))
})

test('TFt curve hash: 12 or more groups are clamped to the first 11, none read past them', () => {
  const groups = Array.from({ length: 12 }, (_, i) => 0x0100 + i)
  const f = tftFields(ch({ ciphers: [0x1301], extensions: [groupsExt(groups)] }))
  assert.equal(f.ellipticCurveHash, fold16(groups.slice(0, 11)))
  // No supported_groups extension: 0.
  assert.equal(tftFields(ch({ ciphers: [0x1301], extensions: [] })).ellipticCurveHash, 0)
})

test('TFt hashes at most 123 cipher suites (the size of Tempesta css[])', () => {
  const many = Array.from({ length: 130 }, (_, i) => 0xc000 + i)
  assert.equal(tftFields(ch({ ciphers: many })).cipherSuiteHash, fold16(many.slice(0, 123)))
})

test('TFt flags: ALPN ids and order, unknown protocols, session ticket, no SNI', () => {
  const flags = (extensions: Ext[]) => tftFields(ch({ ciphers: [0x1301], extensions }))
  assert.equal(flags([alpnExt(['h2'])]).alpn, 2)
  assert.equal(flags([alpnExt(['http/1.1'])]).alpn, 1)
  assert.equal(flags([alpnExt(['http/1.1', 'h2'])]).alpn, 4)
  const unknown = flags([alpnExt(['h3', 'h2'])])
  assert.equal(unknown.alpn, 2)
  assert.equal(unknown.hasUnknownAlpn, true)
  assert.equal(flags([]).vhostFound, false)
  assert.equal(flags([ext(0x0023, [1, 2, 3])]).isAbbreviated, true)
  assert.equal(flags([ext(0x0023)]).isAbbreviated, false)
  // The vhost bit is the server's knowledge: callers that know it can say so.
  const sni = ch({ ciphers: [0x1301], extensions: [sniExt('x.test')] })
  assert.equal(tftFields(sni, { vhostFound: false }).vhostFound, false)
})

test('tft_stable: worked example and invariance to GREASE, order and resumption', () => {
  const hello = ch({
    ciphers: [GREASE_A, 0x1301],
    extensions: [ext(GREASE_B), alpnExt(['h2']), groupsExt([GREASE_A, 0x001d]), sniExt('a.test')],
  })
  // ciphers 0x1301; sorted types 0, 10, 16 → 0x007e; groups 0x001d; flags: alpn 2 + vhost 0x10.
  assert.equal(tftStable(hello), '1d007e13010012')
  const chrome = chromeHelloSpec()
  const base = ch(chrome)
  const exts = chrome.extensions ?? []
  const permuted = ch({
    ...chrome,
    ciphers: chrome.ciphers.map((c) => (c === GREASE_A ? 0x9a9a : c)),
    // Rotated order, another GREASE value, no padding, a ticket and a pre_shared_key.
    extensions: [...exts.slice(9), ...exts.slice(0, 9)]
      .filter((e) => e.type !== 0x0015)
      .map((e) =>
        e.type === 0x0023 ? ext(0x0023, [9, 9, 9]) : e.type === GREASE_A ? ext(0x2a2a) : e,
      )
      .concat([ext(0x0029, [0, 0])]),
  })
  assert.notEqual(tft(permuted), tft(base))
  assert.equal(tftStable(permuted), tftStable(base))
})

test('TFh worked example, computed by hand from lib/tf.h, http_msg.c and http_parser.c', () => {
  const r = req('GET', 11, [
    ['Host', 'example.com'],
    ['User-Agent', 'curl/8.5.0'],
    ['Accept', '*/*'],
    ['Cookie', 'a=1; b=2'],
    ['Referer', 'https://x/'],
    ['DNT', '1'],
  ])
  // Host id 4; User-Agent id 9: 4 * 11 + 9 = 53. Accept is raw: "Acce" little-endian =
  // 0x65636341: 53 * 11 + 0x65636341 = 1701012872. Cookie id 10 → 1531272418 (mod 2^32);
  // Referer id 11 → 3959094721; DNT raw "DNT:" = 0x3a544e44 → 1578972559 = 0x5e1d358f.
  assert.deepEqual(tfhFields(r), {
    hasReferer: true,
    headersNum: 6,
    cookieNum: 2,
    method: 3,
    version: 0,
    summ: 0x5e1d358f,
  })
  // low word: referer 1 << 6, 6 headers << 7, 2 cookies << 13, GET (3) << 18 = 0x000c4340.
  assert.equal(tfh(r), '5e1d358f000c4340')
})

test('TFh counters saturate, unknown methods and HTTP/2 set their fields', () => {
  const many: [string, string][] = Array.from({ length: 70 }, (_, i) => [`X-H${i}`, 'v'])
  const cookies = Array.from({ length: 40 }, (_, i) => `c${i}=1`).join('; ')
  const f = tfhFields(req('BREW', 20, [...many, ['cookie', cookies]]))
  assert.equal(f.headersNum, 63)
  assert.equal(f.cookieNum, 31)
  assert.equal(f.method, 17)
  assert.equal(f.version, 1)
  // No headers at all: only the method bits are set (POST = 10, << 18 = 0x280000).
  assert.equal(tfh(req('POST', 11, [])), '280000')
  // Method names are case-sensitive in Tempesta's HTTP/1 parser.
  assert.equal(tfhFields(req('get', 11, [])).method, 17)
})
