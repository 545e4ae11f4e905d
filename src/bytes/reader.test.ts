import { test } from 'node:test'
import assert from 'node:assert/strict'
import { ByteReader, parseWith, Truncated } from './reader.ts'
import { ByteBuilder } from './builder.ts'
import { fromHex, hex4, toHex } from './hex.ts'

test('reads big- and little-endian integers', () => {
  const r = new ByteReader(fromHex('01 0203 040506 0708090a 0b0c 0d0e0f10'))
  assert.equal(r.u8(), 1)
  assert.equal(r.u16(), 0x0203)
  assert.equal(r.u24(), 0x040506)
  assert.equal(r.u32(), 0x0708090a)
  assert.equal(r.u16le(), 0x0c0b)
  assert.equal(r.u32le(), 0x100f0e0d)
  assert.ok(r.atEnd)
})

test('u32 of 0xffffffff stays unsigned', () => {
  assert.equal(new ByteReader(fromHex('ffffffff')).u32(), 0xffffffff)
  assert.equal(new ByteReader(fromHex('ffffffff')).u32le(), 0xffffffff)
})

test('a child vector is clamped to its declared length', () => {
  const buf = new ByteBuilder()
    .vec16((b) => b.u8(1).u8(2))
    .u8(9)
    .build()
  const r = new ByteReader(buf)
  const child = r.vec16()
  assert.equal(child.remaining, 2)
  assert.equal(child.u16(), 0x0102)
  assert.throws(() => child.u8(), Truncated)
  assert.equal(r.u8(), 9)
})

test('a vector longer than its parent is truncated, not read past', () => {
  const buf = fromHex('0005 0102')
  const res = parseWith('vec', () => new ByteReader(buf).vec16())
  assert.equal(res.ok, false)
  if (!res.ok) {
    assert.equal(res.error.code, 'truncated')
    assert.equal(res.error.offset, 2)
  }
})

test('an inner reader cannot read the parent bytes after it', () => {
  const buf = fromHex('02 aabb cc')
  const r = new ByteReader(buf)
  const child = r.vec8()
  child.skip(2)
  assert.throws(() => child.peekU8(), Truncated)
  assert.equal(r.u8(), 0xcc)
})

test('fail() carries its code and context', () => {
  const res = parseWith('outer', () => new ByteReader(fromHex('00')).fail('bad_value', 'inner'))
  assert.deepEqual(res, { ok: false, error: { code: 'bad_value', offset: 0, context: 'inner' } })
})

test('other exceptions propagate from parseWith', () => {
  assert.throws(() =>
    parseWith('x', () => {
      throw new RangeError('bug')
    }),
  )
})

test('hex helpers', () => {
  assert.equal(hex4(0x2f), '002f')
  assert.equal(hex4(0xc02b), 'c02b')
  assert.equal(toHex(fromHex('00ff10')), '00ff10')
  assert.throws(() => fromHex('abc'))
})
