import { test } from 'node:test'
import assert from 'node:assert/strict'
import { isoFromUs } from './time.ts'

test('microsecond ISO timestamps', () => {
  assert.equal(isoFromUs(0), '1970-01-01T00:00:00.000000Z')
  assert.equal(isoFromUs(1_700_000_000_123_456), '2023-11-14T22:13:20.123456Z')
  assert.equal(isoFromUs(1_700_000_000_000_001), '2023-11-14T22:13:20.000001Z')
})

test('alternating seconds and negative-free rounding stay exact', () => {
  for (const us of [1_700_000_000_999_999, 1_700_000_001_000_000, 1_700_000_000_500_000]) {
    const d = new Date(Math.floor(us / 1000)).toISOString()
    assert.equal(isoFromUs(us).slice(0, 23), d.slice(0, 23))
  }
})
