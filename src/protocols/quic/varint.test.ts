import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { ByteReader, parseWith } from '../../bytes/reader.ts'
import { hex } from './test-helpers/vectors.ts'
import { encodeVarint, MAX_VARINT, readVarint } from './varint.ts'

function read(bytes: Uint8Array) {
  const r = new ByteReader(bytes)
  return parseWith('varint', () => [readVarint(r), r.pos])
}

test('RFC 9000 A.1 sample encodings', () => {
  assert.deepEqual(read(hex('c2197c5eff14e88c')), {
    ok: true,
    value: [Number(151_288_809_941_952_652n), 8],
  })
  assert.deepEqual(read(hex('9d7f3e7d')), { ok: true, value: [494_878_333, 4] })
  assert.deepEqual(read(hex('7bbd')), { ok: true, value: [15_293, 2] })
  assert.deepEqual(read(hex('25')), { ok: true, value: [37, 1] })
  // RFC 9000 §16: non-minimal encodings are valid.
  assert.deepEqual(read(hex('4025')), { ok: true, value: [37, 2] })
})

test('length boundaries round-trip with the shortest encoding', () => {
  for (const [v, n] of [
    [0, 1],
    [63, 1],
    [64, 2],
    [16_383, 2],
    [16_384, 4],
    [1_073_741_823, 4],
    [1_073_741_824, 8],
    [Number.MAX_SAFE_INTEGER, 8],
  ] as const) {
    const e = encodeVarint(v)
    assert.equal(e.length, n, `${v}`)
    assert.deepEqual(read(e), { ok: true, value: [v, n] })
  }
  assert.equal(encodeVarint(MAX_VARINT).length, 8)
  assert.deepEqual(read(hex('ffffffffffffffff')), { ok: true, value: [MAX_VARINT, 8] })
  assert.throws(() => encodeVarint(-1), RangeError)
})

test('a truncated varint is a typed failure, never a throw', () => {
  for (const b of ['', '40', '80ffff', 'c0ffffffffffff']) {
    const r = read(hex(b))
    assert.equal(r.ok, false)
    assert.equal(r.ok ? '' : r.error.code, 'truncated')
  }
})

test('any safe integer round-trips', () => {
  fc.assert(
    fc.property(fc.maxSafeNat(), (v) => {
      assert.deepEqual(read(encodeVarint(v)), { ok: true, value: [v, encodeVarint(v).length] })
    }),
  )
})
