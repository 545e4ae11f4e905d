import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { ByteBuilder } from '../../bytes/builder.ts'
import { parseClientHello } from './client-hello.ts'
import {
  alpnExt,
  chromeHelloSpec,
  clientHelloBody,
  concat,
  ext,
  GREASE_A,
  GREASE_B,
  sniExt,
} from './test-helpers/fixtures.ts'

test('parses the Chrome example: wire order, GREASE kept, decoded extensions', () => {
  const body = clientHelloBody(chromeHelloSpec())
  const r = parseClientHello(body)
  assert.ok(r.ok)
  const h = r.value
  assert.equal(h.legacyVersion, 0x0303)
  assert.equal(h.sessionId.length, 32)
  assert.equal(h.cookie, undefined)
  assert.equal(h.cipherSuites[0], GREASE_A)
  assert.equal(h.cipherSuites.length, 16)
  assert.deepEqual(h.compressionMethods, [0])
  assert.equal(h.extensions.length, 18)
  assert.equal(h.extensions[0]?.type, GREASE_A)
  assert.equal(h.extensions[16]?.type, GREASE_B)
  assert.equal(h.sni, 'www.example.com')
  assert.deepEqual(
    h.alpn.map((a) => String.fromCharCode(...a)),
    ['h2', 'http/1.1'],
  )
  assert.deepEqual(h.supportedVersions, [GREASE_B, 0x0304, 0x0303])
  assert.deepEqual(h.supportedGroups, [GREASE_A, 0x1d, 0x17, 0x18])
  assert.deepEqual(h.ecPointFormats, [0])
  assert.deepEqual(
    h.signatureAlgorithms,
    [0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601],
  )
  assert.equal(h.bodyLength, body.length)
  assert.deepEqual(h.anomalies, [])
})

test('a hello without any extension block is valid (SSL 3.0 / old TLS)', () => {
  const r = parseClientHello(clientHelloBody({ legacyVersion: 0x0300, ciphers: [4, 5] }))
  assert.ok(r.ok)
  assert.deepEqual(r.value.extensions, [])
  assert.equal(r.value.sni, undefined)
  assert.deepEqual(r.value.anomalies, [])
})

test('DTLS: the cookie follows the session id (RFC 6347 §4.2.1)', () => {
  const body = clientHelloBody({
    legacyVersion: 0xfefd,
    cookie: Uint8Array.of(9, 8, 7),
    ciphers: [0xc02b],
    extensions: [],
  })
  const r = parseClientHello(body, { dtls: true })
  assert.ok(r.ok)
  assert.deepEqual([...(r.value.cookie ?? [])], [9, 8, 7])
  assert.deepEqual(r.value.cipherSuites, [0xc02b])
  // Read as TLS the same bytes misparse: the cookie length is taken as the cipher list.
  const asTls = parseClientHello(body)
  assert.ok(!asTls.ok || asTls.value.cipherSuites[0] !== 0xc02b)
})

test('every truncation fails cleanly, never throws', () => {
  const body = clientHelloBody(chromeHelloSpec())
  for (let n = 0; n < body.length; n++) {
    const r = parseClientHello(body.subarray(0, n))
    // Cutting exactly before the extension block leaves a valid extension-less hello.
    if (n === 2 + 32 + 33 + 34 + 2) assert.ok(r.ok, `cut at ${n}`)
    else assert.equal(r.ok, false, `cut at ${n}`)
  }
})

test('structural oddities become anomalies', () => {
  const odd = clientHelloBody({
    ciphers: [],
    sessionId: new Uint8Array(33),
    compression: [],
    extensions: [],
  })
  const r = parseClientHello(odd)
  assert.ok(r.ok)
  assert.deepEqual(r.value.anomalies, [
    'tls.session_id_too_long',
    'tls.no_cipher_suites',
    'tls.no_compression_methods',
  ])
  const trailing = parseClientHello(
    concat(clientHelloBody({ ciphers: [1], extensions: [] }), Uint8Array.of(0)),
  )
  assert.ok(trailing.ok)
  assert.deepEqual(trailing.value.anomalies, ['tls.trailing_bytes'])
  // Odd cipher-suite byte count: three bytes, one whole suite.
  const b = new ByteBuilder()
    .u16(0x0303)
    .zeros(32)
    .u8(0)
    .vec16((v) => v.u16(0x1301).u8(0x13))
    .vec8((v) => v.u8(0))
    .build()
  const oddSuites = parseClientHello(b)
  assert.ok(oddSuites.ok)
  assert.deepEqual(oddSuites.value.cipherSuites, [0x1301])
  assert.deepEqual(oddSuites.value.anomalies, ['tls.odd_cipher_suites_length'])
})

test('bad inner extension bodies do not fail the hello', () => {
  const r = parseClientHello(
    clientHelloBody({
      ciphers: [0x1301],
      extensions: [
        ext(0x0000, [0, 9]),
        ext(0x0010, [0]),
        ext(0x000a, [0, 3, 0]),
        ext(0x002b, [5]),
        ext(0x000d, []),
        sniExt('dup.example'),
      ],
    }),
  )
  assert.ok(r.ok)
  assert.deepEqual(
    r.value.extensions.map((e) => e.type),
    [0, 0x10, 0x0a, 0x2b, 0x0d, 0],
  )
  assert.deepEqual([...r.value.anomalies].sort(), [
    'tls.alpn_malformed',
    'tls.duplicate_extension',
    'tls.signature_algorithms_malformed',
    'tls.sni_malformed',
    'tls.supported_groups_malformed',
    'tls.supported_versions_malformed',
  ])
  assert.equal(r.value.sni, undefined)
})

test('the first of duplicate extensions is decoded', () => {
  const r = parseClientHello(
    clientHelloBody({ ciphers: [1], extensions: [alpnExt(['h2']), alpnExt(['http/1.1'])] }),
  )
  assert.ok(r.ok)
  assert.equal(r.value.alpn.length, 1)
  assert.equal(r.value.alpn[0]?.length, 2)
})

test('fuzz: any bytes give a result, never an exception', () => {
  const base = clientHelloBody(chromeHelloSpec())
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 600 }), fc.boolean(), (bytes, dtls) => {
      const r = parseClientHello(bytes, { dtls })
      assert.equal(typeof r.ok, 'boolean')
    }),
    { numRuns: 500 },
  )
  // Mutations of a real hello reach the extension decoders.
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.nat(base.length - 1), fc.integer({ min: 0, max: 255 })), {
        maxLength: 8,
      }),
      (muts) => {
        const b = base.slice()
        for (const [i, v] of muts) b[i] = v
        parseClientHello(b)
      },
    ),
    { numRuns: 500 },
  )
})
