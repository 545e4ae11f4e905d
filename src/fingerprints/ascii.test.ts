import { test } from 'node:test'
import assert from 'node:assert/strict'
import { AsciiBuilder } from './ascii.ts'

test('decimal and hex output, lists, growth past the initial buffer', () => {
  const b = new AsciiBuilder()
  for (const v of [0, 7, 9, 10, 99, 100, 771, 65535, 65536, 4294967295]) {
    assert.equal(b.reset().dec(v).toString(), String(v))
  }
  assert.equal(b.reset().hex4(0x2f).char(0x2c).hex4(0xc02b).toString(), '002f,c02b')
  assert.equal(b.reset().hexList([1, 0xffff], 2).toString(), '0001,ffff')
  assert.equal(b.reset().decList([4865, 0, 23], 3).toString(), '4865-0-23')
  assert.equal(b.reset().hexList([], 0).toString(), '')
  const many = Array.from({ length: 1000 }, (_, i) => i)
  const s = b.reset().decList(many, many.length).char(0x5f).hexList(many, many.length).toString()
  assert.equal(s, many.join('-') + '_' + many.map((v) => v.toString(16).padStart(4, '0')).join(','))
  assert.equal(b.toString(0, 3), '0-1')
})
