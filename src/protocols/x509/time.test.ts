import { test } from 'node:test'
import assert from 'node:assert/strict'
import { DerReader } from './der.ts'
import { decodeTime, type DecodedTime } from './time.ts'

function time(tag: 0x17 | 0x18, text: string): DecodedTime {
  const bytes = Uint8Array.from([tag, text.length, ...Buffer.from(text, 'latin1')])
  return decodeTime(new DerReader(bytes).next())
}
const utc = (s: string) => time(0x17, s)
const gen = (s: string) => time(0x18, s)

test('UTCTime: RFC 5280 §4.1.2.5.1 two-digit years (>= 50 → 19YY, else 20YY)', () => {
  assert.deepEqual(utc('240131120000Z'), { iso: '2024-01-31T12:00:00Z', rfc5280: true })
  assert.deepEqual(utc('491231235959Z'), { iso: '2049-12-31T23:59:59Z', rfc5280: true })
  assert.deepEqual(utc('500101000000Z'), { iso: '1950-01-01T00:00:00Z', rfc5280: true })
  assert.deepEqual(utc('990228000000Z'), { iso: '1999-02-28T00:00:00Z', rfc5280: true })
})

test('GeneralizedTime: RFC 5280 form from 2050 on; earlier years are flagged', () => {
  assert.deepEqual(gen('20500101000000Z'), { iso: '2050-01-01T00:00:00Z', rfc5280: true })
  assert.deepEqual(gen('99991231235959Z'), { iso: '9999-12-31T23:59:59Z', rfc5280: true })
  assert.deepEqual(gen('20240131120000Z'), { iso: '2024-01-31T12:00:00Z', rfc5280: false })
})

test('BER forms: no seconds, zone offsets, fractions, no zone', () => {
  assert.deepEqual(utc('2401311200Z'), { iso: '2024-01-31T12:00:00Z', rfc5280: false })
  // 12:00 at UTC+02:00 is 10:00Z; 23:30 at -01:00 crosses into the next day and month.
  assert.deepEqual(utc('240131120000+0200'), { iso: '2024-01-31T10:00:00Z', rfc5280: false })
  assert.deepEqual(utc('240131233000-0100'), { iso: '2024-02-01T00:30:00Z', rfc5280: false })
  assert.deepEqual(gen('20500101000000.123Z'), { iso: '2050-01-01T00:00:00Z', rfc5280: false })
  assert.deepEqual(gen('2050010112'), { iso: '2050-01-01T12:00:00Z', rfc5280: false })
})

test('impossible dates and garbage give null', () => {
  for (const s of [
    '240230120000Z',
    '241301000000Z',
    '240131240000Z',
    '240131126000Z',
    '240131120060Z',
    '2401311200',
    'abcdefghijklZ',
    '',
    '240131120000+2400',
  ])
    // prettier-ignore
    assert.deepEqual(utc(s), { iso: null, rfc5280: false }, s)
  assert.deepEqual(gen('20230229000000Z').iso, null) // 2023 is not a leap year
  assert.deepEqual(gen('20240229000000Z').iso, '2024-02-29T00:00:00Z')
  assert.deepEqual(gen('99991231235959-0100').iso, null) // past year 9999 in UTC
  // Neither time type: an INTEGER.
  assert.deepEqual(decodeTime(new DerReader(Uint8Array.of(2, 1, 0)).next()).iso, null)
})
