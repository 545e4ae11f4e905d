import { test } from 'node:test'
import assert from 'node:assert/strict'
import { parseClientHello } from '../protocols/tls/client-hello.ts'
import type { ClientHello } from '../protocols/tls/types.ts'
import {
  alpnExt,
  chromeHelloSpec,
  clientHelloBody,
  ext,
  GREASE_A,
  sigAlgsExt,
  sniExt,
  supportedVersionsExt,
  type ClientHelloSpec,
} from '../protocols/tls/test-helpers/fixtures.ts'
import { hash12 } from './hash.ts'
import { ja4, ja4Alpn, ja4Version, ja4VersionCode } from './ja4.ts'

function hello(spec: ClientHelloSpec, dtls = false): ClientHello {
  const res = parseClientHello(clientHelloBody(spec), { dtls })
  assert.ok(res.ok, 'fixture parses')
  return res.value
}

test('Chrome worked example (FINGERPRINTS.md §2) gives the pinned JA4 and variants', () => {
  const r = ja4(hello(chromeHelloSpec()), 't')
  assert.equal(r.ja4, 't13d1516h2_8daaf6152771_e5627efa2ab1')
  assert.equal(
    r.ja4_r,
    't13d1516h2_002f,0035,009c,009d,1301,1302,1303,c013,c014,c02b,c02c,c02f,c030,cca8,cca9_' +
      '0005,000a,000b,000d,0012,0015,0017,001b,0023,002b,002d,0033,4469,ff01_' +
      '0403,0804,0401,0503,0805,0501,0806,0601',
  )
  assert.equal(r.ja4_o, 't13d1516h2_acb858a92679_8fc3c02244b2')
  assert.equal(
    r.ja4_ro,
    't13d1516h2_1301,1302,1303,c02b,c02f,c02c,c030,cca9,cca8,c013,c014,009c,009d,002f,0035_' +
      'ff01,0033,002d,0005,4469,000d,0010,0023,001b,002b,0000,0012,000a,0017,000b,0015_' +
      '0403,0804,0401,0503,0805,0501,0806,0601',
  )
})

test('signature algorithms stay in wire order (sorted-sigalg trap 0adf69b4533f)', () => {
  const r = ja4(hello(chromeHelloSpec()), 't')
  const sortedSigs =
    '0005,000a,000b,000d,0012,0015,0017,001b,0023,002b,002d,0033,4469,ff01_' +
    '0401,0403,0501,0503,0601,0804,0805,0806'
  assert.equal(hash12(sortedSigs), '0adf69b4533f')
  assert.notEqual(r.ja4.split('_')[2], '0adf69b4533f')
})

test('signature algorithms come only from 0x000d, GREASE removed', () => {
  const spec: ClientHelloSpec = {
    ciphers: [0x1301],
    extensions: [
      // delegated_credentials and signature_algorithms_cert carry lists too; they must be ignored.
      { type: 0x0022, data: sigAlgsExt([0x0807]).data },
      sigAlgsExt([GREASE_A, 0x0403]),
      { type: 0x0032, data: sigAlgsExt([0x0808]).data },
    ],
  }
  const r = ja4(hello(spec), 't')
  assert.equal(r.ja4_r, 't12i010300_1301_000d,0022,0032_0403')
})

test('no signature algorithms: no trailing underscore; empty lists hash to zeros', () => {
  const r = ja4(hello({ ciphers: [0x002f], extensions: [ext(0xff01, [0])] }), 't')
  assert.equal(r.ja4_r, 't12i010100_002f_ff01')
  assert.equal(r.ja4, 't12i010100_' + hash12('002f') + '_' + hash12('ff01'))
  const none = ja4(hello({ ciphers: [] }), 't')
  assert.equal(none.ja4, 't12i000000_000000000000_000000000000')
  assert.equal(none.ja4_o, 't12i000000_000000000000_000000000000')
  assert.equal(none.ja4_r, 't12i000000__')
})

test('SNI and ALPN count but are not hashed; _o/_ro keep them', () => {
  const r = ja4(
    hello({ ciphers: [0x002f], extensions: [sniExt('a.example'), alpnExt(['h2'])] }),
    't',
  )
  assert.equal(r.ja4, 't12d0102h2_' + hash12('002f') + '_000000000000')
  assert.equal(r.ja4_r, 't12d0102h2_002f_')
  assert.equal(r.ja4_ro, 't12d0102h2_002f_0000,0010')
  // Only SNI/ALPN: `_o` is zeros too, as the references print it (socks-https-example).
  assert.equal(r.ja4_o, 't12d0102h2_' + hash12('002f') + '_000000000000')
  const more = ja4(
    hello({ ciphers: [0x002f], extensions: [sniExt('a.example'), ext(0x0017)] }),
    't',
  )
  assert.equal(
    more.ja4_o,
    't12d0102h2_'.replace('h2', '00') + hash12('002f') + '_' + hash12('0000,0017'),
  )
})

test('SNI flag is d even when the server_name body is malformed', () => {
  const r = ja4(hello({ ciphers: [0x002f], extensions: [ext(0x0000, [0, 9, 0])] }), 't')
  assert.ok(r.ja4.startsWith('t12d0101'))
})

test('counts are capped at 99 but every value is hashed', () => {
  const ciphers = Array.from({ length: 120 }, (_, i) => 0x0100 + i)
  const exts = Array.from({ length: 105 }, (_, i) => ext(0x1000 + i))
  const r = ja4(hello({ ciphers, extensions: exts }), 't')
  assert.ok(r.ja4.startsWith('t12i999900_'))
  assert.equal(r.ja4_r.split('_')[1]?.split(',').length, 120)
  assert.equal(r.ja4_r.split('_')[2]?.split(',').length, 105)
  // Long lists take the one-string-per-list path; the hashes still match the raw strings.
  const [, rb, rc] = r.ja4_r.split('_')
  assert.equal(r.ja4, 't12i999900_' + hash12(rb ?? '') + '_' + hash12(rc ?? ''))
  const [, ob, oc] = r.ja4_ro.split('_')
  assert.equal(r.ja4_o, 't12i999900_' + hash12(ob ?? '') + '_' + hash12(oc ?? ''))
})

test('version: max non-GREASE supported_versions, else legacy; numeric even if unknown', () => {
  assert.equal(ja4Version([GREASE_A, 0x0304, 0x0303], 0x0303), 0x0304)
  assert.equal(ja4Version([GREASE_A], 0x0301), 0x0301)
  assert.equal(ja4Version([], 0x0302), 0x0302)
  assert.equal(ja4VersionCode(ja4Version([0x7f1c, 0x0304], 0x0303)), '00')
  const codes = [
    0x0304, 0x0303, 0x0302, 0x0301, 0x0300, 0x0002, 0xfeff, 0xfefd, 0xfefc, 0x0100, 0x7f17,
  ]
  assert.deepEqual(codes.map(ja4VersionCode), [
    '13',
    '12',
    '11',
    '10',
    's3',
    's2',
    'd1',
    'd2',
    'd3',
    '00',
    '00',
  ])
  // Record version never matters; legacy 0x0301 with supported_versions 1.3 → 13.
  const r = ja4(
    hello({
      legacyVersion: 0x0301,
      ciphers: [0x1301],
      extensions: [supportedVersionsExt([0x0304])],
    }),
    't',
  )
  assert.ok(r.ja4.startsWith('t13i'))
  // Only GREASE in supported_versions: fall back to legacy_version.
  const g = ja4(
    hello({
      legacyVersion: 0x0303,
      ciphers: [0x1301],
      extensions: [supportedVersionsExt([GREASE_A])],
    }),
    't',
  )
  assert.ok(g.ja4.startsWith('t12i'))
})

test('ALPN raw-byte rule (FINGERPRINTS.md §2 a.6)', () => {
  const b = (...x: number[]): Uint8Array => Uint8Array.from(x)
  const s = (x: string): Uint8Array => Uint8Array.from(x, (c) => c.charCodeAt(0))
  assert.equal(ja4Alpn(undefined), '00')
  assert.equal(ja4Alpn(b()), '00')
  assert.equal(ja4Alpn(s('h2')), 'h2')
  assert.equal(ja4Alpn(s('http/1.1')), 'h1')
  assert.equal(ja4Alpn(s('spdy/3.1')), 's1')
  assert.equal(ja4Alpn(s('H2')), 'H2')
  assert.equal(ja4Alpn(s('z')), 'zz')
  assert.equal(ja4Alpn(b(0xab)), 'ab')
  assert.equal(ja4Alpn(b(0xab, 0xcd)), 'ad')
  assert.equal(ja4Alpn(b(0x7a, 0xab)), '7b')
  assert.equal(ja4Alpn(b(0x30, 0xab)), '3b')
  assert.equal(ja4Alpn(b(0x61, 0x20)), '60')
  assert.equal(ja4Alpn(b(0xba, 0xad)), 'bd')
  assert.equal(ja4Alpn(s('-+')), '2b')
  assert.equal(ja4Alpn(s('_')), '5f')
  assert.equal(ja4Alpn(b(0x30, 0xab, 0xcd, 0x31)), '01')
})

test('ALPN comes from the first protocol; an empty first name gives 00', () => {
  const first = ja4(hello({ ciphers: [0x1301], extensions: [alpnExt(['http/1.1', 'h2'])] }), 't')
  assert.ok(first.ja4.startsWith('t12i0101h1_'))
  const empty = ja4(hello({ ciphers: [0x1301], extensions: [alpnExt(['', 'h2'])] }), 't')
  assert.ok(empty.ja4.startsWith('t12i010100_'))
  const raw = ja4(hello({ ciphers: [0x1301], extensions: [alpnExt([[0xba, 0xad]])] }), 't')
  assert.ok(raw.ja4.startsWith('t12i0101bd_'))
})

test('transport letter and DTLS version codes', () => {
  const q = ja4(hello({ ciphers: [0x1301], extensions: [supportedVersionsExt([0x0304])] }), 'q')
  assert.ok(q.ja4.startsWith('q13i'))
  const cookie = Uint8Array.of(1, 2, 3)
  for (const [v, code] of [
    [0xfeff, 'dd1'],
    [0xfefd, 'dd2'],
    [0x0100, 'd00'],
  ] as const) {
    const r = ja4(hello({ legacyVersion: v, cookie, ciphers: [0xc02b] }, true), 'd')
    assert.ok(r.ja4.startsWith(code + 'i0100'), r.ja4)
  }
  const d3 = ja4(
    hello(
      {
        legacyVersion: 0xfefd,
        cookie,
        ciphers: [0x1301],
        extensions: [supportedVersionsExt([0xfefc])],
      },
      true,
    ),
    'd',
  )
  assert.ok(d3.ja4.startsWith('dd3i'))
})

test('repeated and permuted hellos: cached parts give the same values as fresh ones', () => {
  const spec = chromeHelloSpec()
  const first = ja4(hello(spec), 't')
  // Chrome permutes its extensions per connection: same JA4, other JA4_o.
  const permuted = { ...spec, extensions: [...(spec.extensions ?? [])].reverse() }
  const p = ja4(hello(permuted), 't')
  assert.equal(p.ja4, first.ja4)
  assert.equal(p.ja4_r, first.ja4_r)
  assert.notEqual(p.ja4_o, first.ja4_o)
  const wireExts = p.ja4_ro.split('_')[2] ?? ''
  assert.equal(p.ja4_o.split('_')[2], hash12(wireExts + '_' + (p.ja4_ro.split('_')[3] ?? '')))
  assert.deepEqual(ja4(hello(spec), 't'), first)
  assert.deepEqual(ja4(hello(permuted), 't'), p)
  // Same cipher list in another order: same sorted part, other wire part.
  const reordered = { ...spec, ciphers: [...spec.ciphers].reverse() }
  const r = ja4(hello(reordered), 't')
  assert.equal(r.ja4.split('_')[1], first.ja4.split('_')[1])
  assert.notEqual(r.ja4_o.split('_')[1], first.ja4_o.split('_')[1])
})
