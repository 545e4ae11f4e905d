import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { ByteBuilder } from '../../bytes/builder.ts'
import {
  MAX_HANDSHAKE_BYTES,
  MAX_QUIC_CRYPTO_BYTES,
  MAX_QUIC_CRYPTO_PENDING_CHUNKS,
} from '../limits.ts'
import type { HandshakeMessage } from '../tls/types.ts'
import { QuicCryptoStream } from './crypto-stream.ts'

function message(type: number, body: Uint8Array): Uint8Array {
  return new ByteBuilder().u8(type).u24(body.length).bytes(body).build()
}

const body1 = Uint8Array.from({ length: 300 }, (_, i) => (i * 13) & 0xff)
const body2 = Uint8Array.from({ length: 40 }, (_, i) => 255 - i)
const stream = new ByteBuilder().bytes(message(1, body1)).bytes(message(8, body2)).build()

function summary(msgs: HandshakeMessage[]) {
  return msgs.map((m) => [m.type, m.streamOffset, m.recordVersion, m.body.length])
}

const expected = [
  [1, 0, 0x0304, 300],
  [8, 304, 0x0304, 40],
]

test('in order, one push: every message with its stream offset and owned body', () => {
  const s = new QuicCryptoStream()
  const src = stream.slice()
  const msgs = s.push(0, src)
  assert.deepEqual(summary(msgs), expected)
  assert.deepEqual(msgs[0]?.body, body1)
  src.fill(0)
  assert.deepEqual(msgs[0]?.body, body1, 'body is a copy, not a view into the pushed data')
  assert.deepEqual(s.anomalies, [])
  assert.equal(s.contiguousBytes, stream.length)
})

test('every split point, in order and reversed', () => {
  for (let cut = 1; cut < stream.length; cut++) {
    const a = stream.subarray(0, cut)
    const b = stream.subarray(cut)
    const fwd = new QuicCryptoStream()
    assert.deepEqual(summary([...fwd.push(0, a), ...fwd.push(cut, b)]), expected, `fwd ${cut}`)
    const rev = new QuicCryptoStream()
    const msgs = [...rev.push(cut, b), ...rev.push(0, a)]
    assert.deepEqual(summary(msgs), expected, `rev ${cut}`)
    assert.deepEqual(msgs[1]?.body, body2)
  }
})

test('one-byte chunks in reverse order, with every byte sent twice', () => {
  const s = new QuicCryptoStream()
  const out: HandshakeMessage[] = []
  for (let i = stream.length - 1; i >= 0; i--) {
    out.push(...s.push(i, stream.subarray(i, i + 1)))
    out.push(...s.push(i, stream.subarray(i, i + 1)))
  }
  assert.deepEqual(summary(out), expected)
  assert.deepEqual(s.anomalies, [])
})

test('overlaps: the first copy wins, and different bytes are flagged', () => {
  const s = new QuicCryptoStream()
  const forged = stream.slice(10, 200).fill(0xee)
  assert.deepEqual(s.push(0, stream.subarray(0, 150)), [])
  // Overlaps [10, 150) with forged bytes and adds [150, 200).
  assert.deepEqual(s.push(10, forged), [])
  assert.deepEqual(s.anomalies, ['quic.crypto_conflict'])
  const msgs = s.push(100, stream.subarray(100))
  assert.deepEqual(summary(msgs), expected)
  // Bytes [150, 200) came first from the forged chunk; the earlier range kept the original.
  assert.deepEqual(msgs[0]?.body.subarray(0, 146), body1.subarray(0, 146))
  assert.ok(msgs[0]?.body.subarray(146, 196).every((b) => b === 0xee))
})

test('random chunkings, orders and duplicates all yield the same messages', () => {
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.nat(stream.length - 1), fc.integer({ min: 1, max: 80 })), {
        maxLength: 40,
      }),
      (cuts) => {
        const s = new QuicCryptoStream()
        const out: HandshakeMessage[] = []
        for (const [start, len] of cuts)
          out.push(...s.push(start, stream.subarray(start, start + len)))
        // Fill every gap at the end, in one-byte chunks from the back.
        for (let i = stream.length - 1; i >= 0; i--)
          out.push(...s.push(i, stream.subarray(i, i + 1)))
        assert.deepEqual(summary(out), expected)
        assert.deepEqual(s.anomalies, [])
      },
    ),
    { numRuns: 500 },
  )
})

test('limits: bytes past MAX_QUIC_CRYPTO_BYTES, too many gaps, an oversized message', () => {
  const far = new QuicCryptoStream()
  assert.deepEqual(far.push(MAX_QUIC_CRYPTO_BYTES - 1, Uint8Array.of(1, 2, 3)), [])
  assert.deepEqual(far.push(2 ** 53, Uint8Array.of(1)), [])
  assert.deepEqual(far.anomalies, ['quic.crypto_limit'])

  const gaps = new QuicCryptoStream()
  for (let i = 0; i < MAX_QUIC_CRYPTO_PENDING_CHUNKS; i++) gaps.push(10 + i * 2, Uint8Array.of(0))
  assert.deepEqual(gaps.anomalies, [])
  gaps.push(10_000, Uint8Array.of(0))
  assert.deepEqual(gaps.anomalies, ['quic.crypto_too_many_gaps'])
  // A chunk that closes a gap is still accepted when at the cap.
  gaps.push(11, Uint8Array.of(0))
  assert.deepEqual(gaps.anomalies, ['quic.crypto_too_many_gaps'])

  const big = new QuicCryptoStream()
  assert.deepEqual(
    big.push(
      0,
      new ByteBuilder()
        .u8(1)
        .u24(MAX_HANDSHAKE_BYTES + 1)
        .build(),
    ),
    [],
  )
  assert.deepEqual(big.anomalies, ['quic.handshake_too_long'])
  assert.equal(big.isStopped, true)
  assert.deepEqual(big.push(0, stream), [])

  const tail = new QuicCryptoStream()
  tail.push(0, stream.subarray(0, 304))
  assert.deepEqual(tail.push(304, new ByteBuilder().u8(1).u24(MAX_HANDSHAKE_BYTES).build()), [])
  assert.deepEqual(tail.anomalies, ['quic.crypto_limit'])
})

test('never throws on arbitrary pushes', () => {
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.oneof(fc.nat(70_000), fc.integer()), fc.uint8Array({ maxLength: 64 })), {
        maxLength: 30,
      }),
      (pushes) => {
        const s = new QuicCryptoStream()
        for (const [off, data] of pushes) s.push(off, data)
        assert.ok(s.contiguousBytes <= MAX_QUIC_CRYPTO_BYTES)
      },
    ),
    { numRuns: 1_000 },
  )
})
