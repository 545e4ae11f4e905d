import { test } from 'node:test'
import assert from 'node:assert/strict'
import { httpEvent, sessionEvent, tlsEvent } from '../test-helpers/fixtures.ts'
import {
  classify,
  DailyAggregate,
  decodeRows,
  encodeRows,
  fingerprintRows,
  utcSecond,
  type DailyRow,
} from './batch.ts'

const fp = {
  cf_ciphers_sha1: 'GXSPDLP4G3X+prK73a4wBuOaHRc=',
  cf_extensions_sha1: 'ext=',
  hello_length: 508,
}

test('utcSecond: event times to TIMESTAMP seconds (UTC), within the TIMESTAMP range', () => {
  assert.equal(utcSecond('2024-01-02T03:04:05.999999Z'), '2024-01-02 03:04:05')
  assert.equal(utcSecond('2024-01-02T03:04:05Z'), '2024-01-02 03:04:05')
  assert.equal(utcSecond('2024-01-02T05:04:05.5+02:00'), '2024-01-02 03:04:05')
  assert.equal(utcSecond('2024-02-30T00:00:00Z'), null)
  assert.equal(utcSecond('2038-01-19T03:14:08Z'), null)
  assert.equal(utcSecond('1970-01-01T00:00:00Z'), null)
  assert.equal(utcSecond('yesterday'), null)
})

test('classify: counts tls and http events with the three fields, says why others are not', () => {
  const t = classify(tlsEvent(0, { ...fp, ts: '2024-01-02T03:04:05.123456Z' }))
  assert.ok(t.ok)
  assert.equal(t.type, 'tls')
  assert.deepEqual(t.row, {
    ciphers: fp.cf_ciphers_sha1,
    extensions: fp.cf_extensions_sha1,
    hello_length: 508,
    date: '2024-01-02',
    hits: 1,
    first_seen: '2024-01-02 03:04:05',
    last_seen: '2024-01-02 03:04:05',
  })
  assert.equal(classify(httpEvent(0, fp)).ok, true)
  const reason = (e: Parameters<typeof classify>[0]) => {
    const c = classify(e)
    return c.ok ? 'counted' : c.reason
  }
  assert.equal(reason(httpEvent(0)), 'no_fingerprint')
  assert.equal(reason(httpEvent(0, { ...fp, hello_length: null })), 'no_fingerprint')
  assert.equal(reason(sessionEvent(0, fp)), 'other_type')
  assert.equal(reason(httpEvent(0, { ...fp, cf_ciphers_sha1: 'x'.repeat(65) })), 'invalid')
  assert.equal(reason(httpEvent(0, { ...fp, cf_ciphers_sha1: '' })), 'invalid')
  assert.equal(reason(httpEvent(0, { ...fp, hello_length: -1 })), 'invalid')
  assert.equal(reason(httpEvent(0, { ...fp, hello_length: 2 ** 32 })), 'invalid')
  assert.equal(reason(httpEvent(0, { ...fp, ts: '2100-01-01T00:00:00Z' })), 'invalid')
})

test('aggregate: hits summed, least first_seen, greatest last_seen; per date and per fingerprint', () => {
  const agg = new DailyAggregate()
  for (const ts of [
    '2024-01-02T10:00:00Z',
    '2024-01-02T09:00:00Z',
    '2024-01-02T11:00:00Z',
    '2024-01-03T00:00:01Z',
  ]) {
    const c = classify(tlsEvent(0, { ...fp, ts }))
    assert.ok(c.ok)
    agg.add(c.key, c.row)
  }
  assert.equal(agg.events, 4)
  const rows = agg.rows()
  assert.deepEqual(
    rows.map((r) => [r.date, r.hits, r.first_seen, r.last_seen]),
    [
      ['2024-01-02', 3, '2024-01-02 09:00:00', '2024-01-02 11:00:00'],
      ['2024-01-03', 1, '2024-01-03 00:00:01', '2024-01-03 00:00:01'],
    ],
  )
  assert.deepEqual(
    fingerprintRows(rows).map((r) => [r.hits, r.first_seen, r.last_seen]),
    [[4, '2024-01-02 09:00:00', '2024-01-03 00:00:01']],
  )
})

test('spool body: rows round-trip; anything else is refused', () => {
  const rows: DailyRow[] = [
    {
      ciphers: 'a"\\b',
      extensions: 'é',
      hello_length: 0,
      date: '2024-01-02',
      hits: 7,
      first_seen: '2024-01-02 00:00:00',
      last_seen: '2024-01-02 23:59:59',
    },
  ]
  const body = encodeRows(rows)
  assert.equal(body.at(-1), 0x0a)
  assert.deepEqual(decodeRows(body), rows)
  for (const bad of [
    '{"path":"/"}\n',
    '["a","b",1,"2024-01-02",0,"2024-01-02 00:00:00","2024-01-02 00:00:00"]\n',
    '["a","b",1,"2024-01-02",1,"2039-01-02 00:00:00","2024-01-02 00:00:00"]\n',
    '["a","b",-1,"2024-01-02",1,"2024-01-02 00:00:00","2024-01-02 00:00:00"]\n',
    'not json\n',
  ])
    assert.equal(decodeRows(Buffer.from(bad)), null, bad)
})
