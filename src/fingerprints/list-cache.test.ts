import { test } from 'node:test'
import assert from 'node:assert/strict'
import { KeyBuilder, ListCache } from './list-cache.ts'

const fp = (text: string) => ({ text, digest: 'd:' + text })

test('a list is found only with the same values and length', () => {
  const c = new ListCache()
  const k = Uint16Array.of(1, 2, 3, 0)
  assert.equal(c.get(k, 3), undefined)
  c.set(k, 3, fp('123'))
  assert.deepEqual(c.get(Uint16Array.of(1, 2, 3, 9), 3), fp('123'))
  assert.equal(c.get(k, 4), undefined)
  assert.equal(c.get(k, 2), undefined)
  assert.equal(c.get(Uint16Array.of(1, 2, 4), 3), undefined)
  assert.deepEqual(c.get(new Uint16Array(0), 0), undefined)
})

test('slots are reused and never give a wrong value (one slot, many keys)', () => {
  const c = new ListCache(1)
  for (let i = 0; i < 300; i++) {
    const k = Uint16Array.from({ length: 1 + (i % 70) }, (_, j) => (i * 7 + j) & 0xffff)
    c.set(k, k.length, fp(String(i)))
    assert.deepEqual(c.get(k, k.length), fp(String(i)))
    if (i > 0) {
      const prev = Uint16Array.from(
        { length: 1 + ((i - 1) % 70) },
        (_, j) => ((i - 1) * 7 + j) & 0xffff,
      )
      assert.equal(c.get(prev, prev.length), undefined)
    }
  }
})

test('lists longer than the bound are not cached', () => {
  const c = new ListCache()
  const k = new Uint16Array(1000).fill(5)
  assert.deepEqual(c.set(k, 1000, fp('long')), fp('long'))
  assert.equal(c.get(k, 1000), undefined)
})

test('KeyBuilder grows', () => {
  const b = new KeyBuilder()
  for (let i = 0; i < 1000; i++) b.push(i)
  assert.equal(b.length, 1000)
  assert.equal(b.values[999], 999)
  assert.equal(b.reset().length, 0)
})
