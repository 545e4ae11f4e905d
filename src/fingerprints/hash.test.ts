import { test } from 'node:test'
import assert from 'node:assert/strict'
import { EMPTY_HASH12, hash12, md5Hex } from './hash.ts'

test('md5Hex and hash12 match known digests', () => {
  assert.equal(md5Hex(''), 'd41d8cd98f00b204e9800998ecf8427e')
  assert.equal(md5Hex('abc'), '900150983cd24fb0d6963f7d28e17f72')
  assert.equal(hash12('abc'), 'ba7816bf8f01')
  // The empty-list marker is not the hash of "" (e3b0c44298fc).
  assert.equal(hash12(''), 'e3b0c44298fc')
  assert.equal(EMPTY_HASH12, '000000000000')
})

test('digests stay correct over many and long inputs', async () => {
  const { createHash } = await import('node:crypto')
  const ref = (s: string): string => createHash('sha256').update(s).digest('hex').slice(0, 12)
  for (let i = 0; i < 5000; i++) {
    const s = 'k' + String(i % 2500)
    assert.equal(hash12(s), ref(s))
  }
  const long = 'x'.repeat(5000)
  assert.equal(hash12(long), ref(long))
  assert.equal(md5Hex(long), createHash('md5').update(long).digest('hex'))
})
