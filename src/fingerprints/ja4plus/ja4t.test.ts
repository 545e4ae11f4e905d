import { test } from 'node:test'
import assert from 'node:assert/strict'
import { ja4t } from './ja4t.ts'
import { ja4l } from './ja4l.ts'

const opt = (...b: number[]): Uint8Array => Uint8Array.from(b)

test('JA4T lists every option kind in wire order, NOP and trailing EOL padding included', () => {
  // MSS 1460, NOP, WS 8, NOP, NOP, SACK permitted: Linux-like SYN.
  assert.equal(ja4t(64240, opt(2, 4, 5, 180, 1, 3, 3, 8, 1, 1, 4, 2)), '64240_2-1-3-1-1-4_1460_8')
  // macOS: MSS, NOP, WS, NOP, NOP, TS, SACK, EOL, EOL.
  const ts = [8, 10, 0, 0, 0, 1, 0, 0, 0, 0]
  assert.equal(
    ja4t(65535, opt(2, 4, 5, 180, 1, 3, 3, 4, 1, 1, ...ts, 4, 2, 0, 0)),
    '65535_2-1-3-1-1-8-4-0-0_1460_4',
  )
})

test('JA4T uses 00 for no options, a missing MSS and window scale 0', () => {
  assert.equal(ja4t(8192, opt()), '8192_00_00_00')
  assert.equal(ja4t(8192, opt(2, 4, 5, 160, 1, 3, 3, 0, 1, 1)), '8192_2-1-3-1-1_1440_00')
  assert.equal(ja4t(8192, opt(1, 1, 4, 2)), '8192_1-1-4_00_00')
})

test('JA4T stops at a malformed option length', () => {
  assert.equal(ja4t(1024, opt(2, 4, 5, 180, 8, 0)), '1024_2-8_1460_00')
})

test('JA4L halves the delta, truncates, and appends the TTL', () => {
  assert.equal(ja4l(1_000_000, 1_000_005, 64), '2_64')
  assert.equal(ja4l(1_000_000, 2_500_001, 128), '750000_128')
  assert.equal(ja4l(10, 5, 64), null)
})
