import { test } from 'node:test'
import assert from 'node:assert/strict'
import { MAX_TLS_RECORD_BYTES } from '../limits.ts'
import {
  checkRecordHeader,
  looksLikeHandshakeStart,
  looksLikeRecordHeader,
  looksLikeSslv2Hello,
  TlsRecordFramer,
  type TlsRecord,
} from './record.ts'
import { clientHelloBody, concat, handshake, record } from './test-helpers/fixtures.ts'

const three = concat(
  record(22, Uint8Array.of(1, 2, 3)),
  record(20, Uint8Array.of(1), 0x0303),
  record(23, new Uint8Array(300).fill(7), 0x0303),
)

function summary(recs: TlsRecord[]): string[] {
  return recs.map(
    (r) => `${r.contentType}/${r.version.toString(16)}/${r.fragment.length}@${r.offset}`,
  )
}
const expected = ['22/301/3@0', '20/303/1@8', '23/303/300@14']

test('frames several records from one chunk', () => {
  const out = new TlsRecordFramer().push(three)
  assert.deepEqual(summary(out.records), expected)
  assert.equal(out.needMore, 5)
  assert.equal(out.error, undefined)
  assert.deepEqual([...(out.records[0]?.fragment ?? [])], [1, 2, 3])
})

test('same records at every split point and in one-byte chunks; needMore is exact', () => {
  for (let i = 0; i <= three.length; i++) {
    const f = new TlsRecordFramer()
    const a = f.push(three.subarray(0, i))
    const firstFrags = a.records.map((r) => [...r.fragment])
    const b = f.push(three.subarray(i))
    assert.deepEqual(summary([...a.records, ...b.records]), expected, `split ${i}`)
    // Fragments from the first push were not overwritten by the second.
    assert.deepEqual(
      firstFrags,
      a.records.map((r) => [...r.fragment]),
      `split ${i}`,
    )
    if (i < 5) assert.equal(a.needMore, 5 - i)
    else if (i < 8) assert.equal(a.needMore, 8 - i)
  }
  const f = new TlsRecordFramer()
  const all: TlsRecord[] = []
  const frags: number[][] = []
  for (let i = 0; i < three.length; i++) {
    const out = f.push(three.subarray(i, i + 1))
    for (const r of out.records) frags.push([...r.fragment])
    all.push(...out.records)
  }
  assert.deepEqual(summary(all), expected)
  assert.deepEqual(frags[0], [1, 2, 3])
  assert.equal(f.buffered, 0)
})

test('a header it cannot follow stops the framer once, with the anomaly', () => {
  const f = new TlsRecordFramer()
  const out = f.push(concat(record(22, Uint8Array.of(1)), Uint8Array.of(99, 3, 3, 0, 1, 0)))
  assert.equal(out.records.length, 1)
  assert.equal(out.error, 'tls.bad_content_type')
  assert.equal(f.error, 'tls.bad_content_type')
  const later = f.push(record(22, Uint8Array.of(1)))
  assert.deepEqual(later, { records: [], needMore: 0, error: undefined })
})

test('header checks: version range and the RFC 5246 §6.2.3 length limit', () => {
  assert.equal(checkRecordHeader(22, 0x0301, 10), undefined)
  assert.equal(checkRecordHeader(22, 0x0304, MAX_TLS_RECORD_BYTES), undefined)
  assert.equal(checkRecordHeader(22, 0x0303, MAX_TLS_RECORD_BYTES + 1), 'tls.record_too_long')
  assert.equal(checkRecordHeader(22, 0x0305, 10), 'tls.bad_record_version')
  assert.equal(checkRecordHeader(22, 0xfefd, 10), 'tls.bad_record_version')
  assert.equal(checkRecordHeader(19, 0x0303, 10), 'tls.bad_content_type')
  assert.equal(checkRecordHeader(25, 0x0303, 10), 'tls.bad_content_type')
  const f = new TlsRecordFramer()
  assert.equal(f.push(Uint8Array.of(22, 3, 3, 0xff, 0xff)).error, 'tls.record_too_long')
})

test('start detection helpers', () => {
  const ch = concat(
    record(22, handshake(1, clientHelloBody({ ciphers: [0x1301], extensions: [] }))),
  )
  assert.equal(looksLikeRecordHeader(ch, 0), true)
  assert.equal(looksLikeHandshakeStart(ch, 0), true)
  assert.equal(looksLikeHandshakeStart(ch.subarray(0, 10), 0), false)
  // A handshake record that does not start with a hello is no start when scanning.
  assert.equal(looksLikeHandshakeStart(record(22, handshake(11, new Uint8Array(60))), 0), false)
  // SSL 2.0 CLIENT-HELLO: 0x80 | len, msg_type 1, version 0x0002 or 0x0301.
  assert.equal(looksLikeSslv2Hello(Uint8Array.of(0x80, 0x2e, 1, 0, 2), 0), true)
  assert.equal(looksLikeSslv2Hello(Uint8Array.of(0x80, 0x2e, 1, 3, 1), 0), true)
  assert.equal(looksLikeSslv2Hello(Uint8Array.of(0x80, 0x2e, 4, 0, 2), 0), false)
  assert.equal(looksLikeSslv2Hello(Uint8Array.of(0x16, 0x03, 1, 0, 2), 0), false)
})

test('pull form: the same records as push at every split point, nothing kept after discard', () => {
  for (let i = 0; i <= three.length; i++) {
    const f = new TlsRecordFramer()
    const got: string[] = []
    const frags: number[][] = []
    for (const part of [three.subarray(0, i), three.subarray(i)]) {
      f.begin(part)
      while (f.next()) {
        got.push(
          `${f.recordType}/${f.recordVersion.toString(16)}/${f.fragmentEnd - f.fragmentStart}@${f.recordOffset}`,
        )
        frags.push([...f.recordBytes.subarray(f.fragmentStart, f.fragmentEnd)])
      }
      f.end()
    }
    assert.deepEqual(got, expected, `split ${i}`)
    assert.deepEqual(frags[0], [1, 2, 3], `split ${i}`)
  }
  const f = new TlsRecordFramer()
  f.begin(three.subarray(0, 10))
  while (f.next());
  // The first record (8 bytes) and 2 bytes of the second's 5-byte header.
  assert.equal(f.needMore, 3)
  f.discard()
  assert.equal(f.buffered, 0)
  f.begin(Uint8Array.of(99, 3, 3, 0, 1, 0))
  assert.equal(f.next(), false)
  assert.equal(f.pushError, 'tls.bad_content_type')
  assert.equal(f.needMore, 0)
})
