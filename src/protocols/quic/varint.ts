/**
 * @module protocols/quic/varint
 * QUIC variable-length integers (RFC 9000 §16): the two high bits of the first byte give the
 * length (1, 2, 4 or 8 bytes), the rest is the value in network byte order.
 */

import type { ByteReader } from '../../bytes/reader.ts'

/** Largest value a varint can hold (2^62 - 1). NOTE: not exact as a double; see `readVarint`. */
export const MAX_VARINT = 2 ** 62 - 1

/**
 * Reads one varint. NOTE: 8-byte values above 2^53 lose precision, which is harmless here: every
 * length or offset that large is far beyond the limits and is rejected anyway.
 */
export function readVarint(r: ByteReader): number {
  const first = r.peekU8()
  switch (first >> 6) {
    case 0:
      return r.u8()
    case 1:
      return r.u16() & 0x3fff
    case 2:
      return (r.u32() & 0x3fffffff) >>> 0
    default: {
      const hi = r.u32() & 0x3fffffff
      const lo = r.u32()
      return hi * 0x1_0000_0000 + lo
    }
  }
}

/** Shortest encoding of `v` (0 <= v <= 2^62 - 1); used to build fixtures. */
export function encodeVarint(v: number): Uint8Array {
  if (!Number.isInteger(v) || v < 0 || v > MAX_VARINT) throw new RangeError(`varint ${v}`)
  if (v < 0x40) return Uint8Array.of(v)
  if (v < 0x4000) return Uint8Array.of(0x40 | (v >> 8), v & 0xff)
  if (v < 0x4000_0000) {
    return Uint8Array.of(0x80 | (v >>> 24), (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff)
  }
  const hi = Math.floor(v / 0x1_0000_0000)
  const lo = v >>> 0
  return Uint8Array.of(
    0xc0 | (hi >>> 24),
    (hi >>> 16) & 0xff,
    (hi >>> 8) & 0xff,
    hi & 0xff,
    lo >>> 24,
    (lo >>> 16) & 0xff,
    (lo >>> 8) & 0xff,
    lo & 0xff,
  )
}
