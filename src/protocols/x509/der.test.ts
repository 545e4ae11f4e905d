import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseWith } from '../../bytes/reader.ts'
import { fromHex } from '../../bytes/hex.ts'
import { DerReader, DerTag, decodeBoolean, decodeOid, decodeSmallInteger } from './der.ts'
import { MAX_DER_DEPTH_LEVELS } from './limits.ts'
import { openssl, toolSkip } from './test-helpers/openssl.ts'

test('low and high tag-number forms, class and constructed bits (X.690 §8.1.2)', () => {
  // [APPLICATION 5] primitive "a"; [CONTEXT 3] constructed {}; [PRIVATE 201] primitive (0x81 0x49)
  const d = new DerReader(fromHex('450161 a300 df814900'))
  const a = d.next()
  assert.deepEqual([a.cls, a.constructed, a.tag, [...a.content]], ['application', false, 5, [0x61]])
  const b = d.next()
  assert.deepEqual([b.cls, b.constructed, b.tag, b.content.length], ['context', true, 3, 0])
  const c = d.next()
  assert.deepEqual([c.cls, c.constructed, c.tag, c.offset, c.end], ['private', false, 201, 5, 9])
  assert.ok(d.atEnd)
})

test('short and long definite lengths; indefinite and oversized are refused', () => {
  const long = new Uint8Array(4 + 300)
  long.set([0x04, 0x82, 0x01, 0x2c])
  const t = new DerReader(long).next()
  assert.equal(t.content.length, 300)
  assert.equal(t.contentOffset, 4)
  const read = (hex: string) => parseWith('t', () => new DerReader(fromHex(hex)).next())
  const indefinite = read('30800000')
  assert.ok(!indefinite.ok && indefinite.error.code === 'unsupported')
  const fiveOctets = read('04850000000001')
  assert.ok(!fiveOctets.ok && fiveOctets.error.code === 'limit_exceeded')
  const past = read('040300')
  assert.ok(!past.ok && past.error.code === 'truncated')
  const nonMinimalTag = read('1f800100')
  assert.ok(!nonMinimalTag.ok && nonMinimalTag.error.code === 'bad_value')
  const hugeTag = read('1fffffffff7f00')
  assert.ok(!hugeTag.ok && hugeTag.error.code === 'limit_exceeded')
})

test('nesting deeper than MAX_DER_DEPTH_LEVELS aborts with limit_exceeded', () => {
  // 40 nested empty-ended SEQUENCEs: 30 4e 30 4c … 30 00
  const levels = 40
  const bytes = new Uint8Array(levels * 2)
  for (let i = 0; i < levels; i++) {
    bytes[i * 2] = 0x30
    bytes[i * 2 + 1] = (levels - i - 1) * 2
  }
  let deepest = 0
  const r = parseWith('t', () => {
    let d = new DerReader(bytes)
    for (;;) {
      if (d.atEnd) return
      const t = d.next()
      d = d.children(t, 'nest')
      deepest = d.depth
    }
  })
  assert.ok(!r.ok && r.error.code === 'limit_exceeded')
  assert.equal(deepest, MAX_DER_DEPTH_LEVELS)
})

test('peekIs / optional consume nothing unless matching; expect checks the tag', () => {
  const d = new DerReader(fromHex('a003020102 020105'))
  assert.equal(d.peekIs('context', 1), false)
  assert.equal(d.optional('context', 1), undefined)
  const v = d.optional('context', 0)
  assert.ok(v !== undefined)
  const inner = d.children(v, 'v')
  assert.equal(decodeSmallInteger(inner.expect(DerTag.INTEGER, 'int').content), 2)
  const bad = parseWith('t', () => d.expect(DerTag.SEQUENCE, 'seq'))
  assert.ok(!bad.ok && bad.error.code === 'bad_value' && bad.error.context === 'seq')
})

test(
  'OIDs: dotted form as openssl encodes them, malformed content rejected',
  { skip: toolSkip('openssl', 'openssl') },
  (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'tlsight-der-'))
    t.after(() => rmSync(dir, { recursive: true, force: true }))
    const oids = [
      '1.2.840.113549.1.1.11',
      '2.5.29.17',
      '0.9.2342.19200300.100.1.25',
      '2.999.3',
      // RFC 4122 §C UUID arc: far beyond 2^53.
      '2.25.329800735698586629295641978511506172918',
    ]
    for (const oid of oids) {
      openssl(['asn1parse', '-genstr', `OID:${oid}`, '-noout', '-out', 'oid.der'], dir)
      const der = new Uint8Array(readFileSync(join(dir, 'oid.der')))
      const tlv = new DerReader(der).expect(DerTag.OBJECT_IDENTIFIER, 'oid')
      assert.equal(decodeOid(tlv.content), oid)
    }
  },
)

test('OID edge cases (X.690 §8.19)', () => {
  assert.equal(decodeOid(fromHex('550403')), '2.5.4.3')
  assert.equal(decodeOid(fromHex('00')), '0.0')
  assert.equal(decodeOid(fromHex('27')), '0.39')
  assert.equal(decodeOid(fromHex('28')), '1.0')
  assert.equal(decodeOid(fromHex('50')), '2.0')
  assert.equal(decodeOid(new Uint8Array(0)), undefined)
  assert.equal(decodeOid(fromHex('5586')), undefined) // ends inside a subidentifier
  assert.equal(decodeOid(fromHex('558001')), undefined) // leading 0x80: not minimal
  assert.equal(decodeOid(new Uint8Array(200).fill(1)), undefined) // over MAX_OID_BYTES
})

test('small integers and booleans', () => {
  assert.equal(decodeSmallInteger(fromHex('02')), 2)
  assert.equal(decodeSmallInteger(fromHex('00ff')), 255)
  assert.equal(decodeSmallInteger(fromHex('ff')), undefined)
  assert.equal(decodeSmallInteger(fromHex('0100000000')), undefined)
  assert.equal(decodeBoolean(fromHex('ff')), true)
  assert.equal(decodeBoolean(fromHex('00')), false)
  assert.equal(decodeBoolean(fromHex('0000')), undefined)
})
