import { test } from 'node:test'
import assert from 'node:assert/strict'
import { FAMILIES, familySwitches, parseFamilies } from './families.ts'

test('every family is on by default', () => {
  assert.ok(FAMILIES.every((f) => familySwitches()[f]))
})

test('turning JA4+ off leaves JA3, JA3S, JA4 and ja4_stable on', () => {
  const sw = familySwitches(FAMILIES, false)
  assert.deepEqual(
    FAMILIES.filter((f) => sw[f]),
    ['ja3', 'ja3s', 'ja4', 'ja4_stable', 'certs', 'tft', 'tfh', 'cf'],
  )
})

test('a selection is parsed, deduplicated, and unknown names are reported', () => {
  assert.deepEqual(parseFamilies('JA4, ja3,ja4'), { ok: true, value: ['ja4', 'ja3'] })
  assert.deepEqual(parseFamilies('ja4,ja5,x'), { ok: false, unknown: ['ja5', 'x'] })
  const sw = familySwitches(['ja4s'], false)
  assert.equal(sw.ja4s, false)
})
