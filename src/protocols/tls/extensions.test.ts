import { test } from 'node:test'
import assert from 'node:assert/strict'
import { ByteReader, parseWith } from '../../bytes/reader.ts'
import { ByteBuilder } from '../../bytes/builder.ts'
import {
  decodeAlpn,
  decodeEcPointFormats,
  decodeSelectedVersion,
  decodeSignatureAlgorithms,
  decodeSni,
  decodeSupportedGroups,
  decodeSupportedVersions,
  isDnsName,
  readExtensionBlock,
} from './extensions.ts'
import { MAX_EXTENSIONS } from '../limits.ts'
import { alpnExt, ext, extensionBlock, sniExt } from './test-helpers/fixtures.ts'
import type { TlsAnomaly } from './types.ts'

const bytes = (...b: number[]): Uint8Array => Uint8Array.from(b)
const ascii = (s: string): Uint8Array => Uint8Array.from(s, (c) => c.charCodeAt(0))

test('SNI: first host_name, DNS check, IP literal and binary names', () => {
  const a: TlsAnomaly[] = []
  assert.equal(decodeSni(sniExt('www.example.com').data, a), 'www.example.com')
  assert.deepEqual(a, [])
  const ip: TlsAnomaly[] = []
  assert.equal(decodeSni(sniExt('192.0.2.1').data, ip), '192.0.2.1')
  assert.deepEqual(ip, ['tls.sni_not_hostname'])
  const bin: TlsAnomaly[] = []
  const name = new ByteBuilder()
    .vec16((l) => l.u8(0).vec16((n) => n.bytes([0x61, 0x00, 0x62])))
    .build()
  assert.equal(decodeSni(name, bin), undefined)
  assert.deepEqual(bin, ['tls.sni_not_hostname'])
})

test('SNI: non host_name types are skipped, malformed lists flagged', () => {
  const a: TlsAnomaly[] = []
  const other = new ByteBuilder()
    .vec16((l) =>
      l
        .u8(7)
        .vec16((n) => n.ascii('x'))
        .u8(0)
        .vec16((n) => n.ascii('b.example')),
    )
    .build()
  assert.equal(decodeSni(other, a), 'b.example')
  assert.deepEqual(a, [])
  const only: TlsAnomaly[] = []
  assert.equal(
    decodeSni(new ByteBuilder().vec16((l) => l.u8(7).vec16((n) => n.ascii('x'))).build(), only),
    undefined,
  )
  assert.deepEqual(only, [])
  for (const bad of [bytes(), bytes(0), bytes(0, 5, 0, 0, 9), bytes(0, 0)]) {
    const m: TlsAnomaly[] = []
    assert.equal(decodeSni(bad, m), undefined)
    assert.deepEqual(m, ['tls.sni_malformed'])
  }
})

test('isDnsName', () => {
  for (const ok of [
    'a',
    'example.com',
    'xn--bcher-kva.example',
    '_dmarc.example',
    'a-b.c1',
    '1a.2b',
  ]) {
    assert.equal(isDnsName(ascii(ok)), true, ok)
  }
  for (const bad of ['', '1.2.3.4', '::1', 'a..b', '.a', 'a.', 'sp ace', 'a'.repeat(254), 'a/b']) {
    assert.equal(isDnsName(ascii(bad)), false, bad)
  }
})

test('ALPN: raw names in order, empty names kept with an anomaly, malformed partial', () => {
  const a: TlsAnomaly[] = []
  const names = decodeAlpn(alpnExt(['h2', [0xff, 0x00], 'http/1.1']).data, a)
  assert.deepEqual(
    names.map((n) => [...n]),
    [[0x68, 0x32], [0xff, 0x00], [...ascii('http/1.1')]],
  )
  assert.deepEqual(a, [])
  const e: TlsAnomaly[] = []
  assert.equal(decodeAlpn(alpnExt(['', 'h2']).data, e)[0]?.length, 0)
  assert.deepEqual(e, ['tls.alpn_empty_protocol'])
  const m: TlsAnomaly[] = []
  assert.deepEqual(
    decodeAlpn(bytes(0, 6, 2, 0x68, 0x32, 5, 0x61), m).map((n) => n.length),
    [2],
  )
  assert.deepEqual(m, ['tls.alpn_malformed'])
})

test('fixed-size lists: wire order kept, malformed bodies decode what is there', () => {
  const a: TlsAnomaly[] = []
  assert.deepEqual(decodeSupportedGroups(bytes(0, 4, 0x0a, 0x0a, 0, 0x1d), a), [0x0a0a, 0x1d])
  assert.deepEqual(decodeSignatureAlgorithms(bytes(0, 4, 8, 4, 4, 3), a), [0x0804, 0x0403])
  assert.deepEqual(decodeEcPointFormats(bytes(2, 0, 1), a), [0, 1])
  assert.deepEqual(decodeSupportedVersions(bytes(4, 0x0a, 0x0a, 3, 4), a), [0x0a0a, 0x0304])
  assert.equal(decodeSelectedVersion(bytes(3, 4), a), 0x0304)
  assert.deepEqual(a, [])

  const odd: TlsAnomaly[] = []
  assert.deepEqual(decodeSupportedGroups(bytes(0, 3, 0, 0x17, 0), odd), [0x17])
  assert.deepEqual(odd, ['tls.supported_groups_malformed'])
  const long: TlsAnomaly[] = []
  assert.deepEqual(decodeSignatureAlgorithms(bytes(0, 8, 4, 3), long), [0x0403])
  assert.deepEqual(long, ['tls.signature_algorithms_malformed'])
  const empty: TlsAnomaly[] = []
  assert.deepEqual(decodeEcPointFormats(bytes(), empty), [])
  assert.deepEqual(empty, ['tls.ec_point_formats_malformed'])
  const grease: TlsAnomaly[] = []
  decodeSupportedVersions(bytes(2, 0x3a, 0x3a), grease)
  assert.deepEqual(grease, ['tls.supported_versions_only_grease'])
  const sel: TlsAnomaly[] = []
  assert.equal(decodeSelectedVersion(bytes(3), sel), undefined)
  assert.deepEqual(sel, ['tls.supported_versions_malformed'])
})

test('extension block: wire order, GREASE kept, duplicates flagged, framing errors fail', () => {
  const a: TlsAnomaly[] = []
  const block = extensionBlock([ext(0x0a0a), ext(0), ext(0x10, [1]), ext(0)])
  const exts = readExtensionBlock(new ByteReader(block), a)
  assert.deepEqual(
    exts.map((e) => e.type),
    [0x0a0a, 0, 0x10, 0],
  )
  assert.deepEqual(a, ['tls.duplicate_extension'])
  // The duplicate table is reset: the same types in a new block are no duplicates.
  const b: TlsAnomaly[] = []
  readExtensionBlock(new ByteReader(extensionBlock([ext(0), ext(0x10)])), b)
  assert.deepEqual(b, [])
  // An entry running past its block fails the whole hello (outer structure).
  const bad = bytes(0, 6, 0, 0, 0, 9, 1, 2)
  assert.equal(parseWith('x', () => readExtensionBlock(new ByteReader(bad), [])).ok, false)
  // ... and leaves the duplicate table clean.
  const c: TlsAnomaly[] = []
  readExtensionBlock(new ByteReader(extensionBlock([ext(0)])), c)
  assert.deepEqual(c, [])
})

test('extension block: more than MAX_EXTENSIONS are dropped with an anomaly', () => {
  const many = Array.from({ length: MAX_EXTENSIONS + 5 }, (_, i) => ext(0x1000 + i))
  const a: TlsAnomaly[] = []
  const exts = readExtensionBlock(new ByteReader(extensionBlock(many)), a)
  assert.equal(exts.length, MAX_EXTENSIONS)
  assert.deepEqual(a, ['tls.too_many_extensions'])
})
