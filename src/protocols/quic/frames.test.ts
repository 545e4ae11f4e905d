import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { ByteBuilder } from '../../bytes/builder.ts'
import { parseInitialFrames } from './frames.ts'
import { concat, cryptoFrame } from './test-helpers/packets.ts'
import { hex } from './test-helpers/vectors.ts'
import { encodeVarint } from './varint.ts'

const v = encodeVarint

test('PADDING, PING, ACK, ACK_ECN, CRYPTO and CONNECTION_CLOSE in one payload', () => {
  const payload = new ByteBuilder()
    .zeros(3)
    .u8(0x01)
    // ACK: largest 10, delay 0, 2 ranges, first range 1, (gap 1, len 2), (gap 0, len 0)
    .u8(0x02)
    .bytes(v(10))
    .bytes(v(0))
    .bytes(v(2))
    .bytes(v(1))
    .bytes(v(1))
    .bytes(v(2))
    .bytes(v(0))
    .bytes(v(0))
    // ACK_ECN: no extra ranges, then ECT0 / ECT1 / CE counts
    .u8(0x03)
    .bytes(v(5))
    .bytes(v(300))
    .bytes(v(0))
    .bytes(v(0))
    .bytes(v(1))
    .bytes(v(2))
    .bytes(v(70_000))
    .bytes(cryptoFrame(100, Uint8Array.of(4, 5)))
    .bytes(cryptoFrame(0, Uint8Array.of(1, 2, 3)))
    // CONNECTION_CLOSE 0x1c: PROTOCOL_VIOLATION (0x0a), frame type 0x06, reason "bad"
    .u8(0x1c)
    .bytes(v(0x0a))
    .bytes(v(0x06))
    .bytes(v(3))
    .ascii('bad')
    .zeros(10)
    .build()
  const f = parseInitialFrames(payload)
  assert.equal(f.stop, undefined)
  assert.deepEqual(f.frameTypes, [0x00, 0x01, 0x02, 0x03, 0x06, 0x06, 0x1c, 0x00])
  assert.equal(f.paddingBytes, 13)
  assert.deepEqual(
    f.crypto.map((c) => [c.offset, [...c.data]]),
    [
      [100, [4, 5]],
      [0, [1, 2, 3]],
    ],
  )
  assert.deepEqual(
    f.connectionClose && { ...f.connectionClose, reason: [...f.connectionClose.reason] },
    {
      errorCode: 0x0a,
      frameType: 0x06,
      reason: [0x62, 0x61, 0x64],
    },
  )
})

test('a frame an Initial may not carry stops the walk and keeps what came before', () => {
  // STREAM (0x08) and a two-byte-encoded type 0x1d are not allowed in Initial packets.
  for (const bad of [hex('08000141'), hex('401d00000000')]) {
    const f = parseInitialFrames(
      concat(cryptoFrame(0, Uint8Array.of(1)), bad, cryptoFrame(1, Uint8Array.of(2))),
    )
    assert.equal(f.crypto.length, 1)
    assert.equal(f.stop?.reason, 'unknown_frame')
    assert.equal(f.stop?.offset, 4)
  }
})

test('truncated frames and out-of-range CRYPTO offsets are typed stops', () => {
  const full = cryptoFrame(0, Uint8Array.of(1, 2, 3, 4))
  for (let n = 1; n < full.length; n++) {
    const f = parseInitialFrames(full.subarray(0, n))
    assert.deepEqual([f.crypto.length, f.stop?.reason, f.stop?.frameType], [0, 'truncated', 0x06])
  }
  const huge = concat(Uint8Array.of(0x06), hex('ffffffffffffffff'), v(4_096), Uint8Array.of(0))
  assert.equal(parseInitialFrames(huge).stop?.reason, 'bad_value')
  // An ACK claiming 2^62 ranges ends in a truncation, not a long loop.
  const ack = concat(Uint8Array.of(0x02), v(1), v(0), hex('ffffffffffffffff'), v(0), v(0), v(0))
  assert.equal(parseInitialFrames(ack).stop?.reason, 'truncated')
  assert.deepEqual(parseInitialFrames(new Uint8Array(0)).frameTypes, [])
})

test('never throws on arbitrary bytes', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
      const f = parseInitialFrames(bytes)
      for (const c of f.crypto) assert.ok(c.data.length <= bytes.length)
    }),
    { numRuns: 5_000 },
  )
})
