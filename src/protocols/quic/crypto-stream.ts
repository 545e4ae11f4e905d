/**
 * @module protocols/quic/crypto-stream
 * Reassembles one direction's CRYPTO stream of the Initial packet number space and yields the
 * TLS handshake messages it carries. QUIC has no TLS record layer (RFC 9001 §4): the stream is a
 * plain sequence of `HandshakeType(1) + uint24 length + body` messages.
 */

import {
  MAX_HANDSHAKE_BYTES,
  MAX_QUIC_CRYPTO_BYTES,
  MAX_QUIC_CRYPTO_PENDING_CHUNKS,
} from '../limits.ts'
import type { HandshakeMessage } from '../tls/types.ts'
import type { QuicAnomaly } from './types.ts'

/** TLS 1.3 is the only version QUIC carries (RFC 9001 §4.2); reported as the record version. */
const QUIC_TLS_VERSION = 0x0304
const HANDSHAKE_HEADER_BYTES = 4
const INITIAL_CAPACITY_BYTES = 2_048

interface Range {
  start: number
  end: number
}

/**
 * One direction's CRYPTO stream. Chunks may arrive out of order, duplicated or overlapping: the
 * first copy of every byte wins. Memory is bounded by `MAX_QUIC_CRYPTO_BYTES` and the number of
 * disjoint ranges by `MAX_QUIC_CRYPTO_PENDING_CHUNKS`.
 */
export class QuicCryptoStream {
  private buf = new Uint8Array(0)
  /** Received byte ranges: sorted, disjoint and never adjacent. */
  private ranges: Range[] = []
  /** Stream offset of the next handshake message. */
  private parsed = 0
  private stopped = false
  private readonly seen = new Set<QuicAnomaly>()

  /** Anomalies met so far, each once, in the order first seen. */
  get anomalies(): QuicAnomaly[] {
    return [...this.seen]
  }

  /** Length of the gap-free prefix received from offset 0. */
  get contiguousBytes(): number {
    const first = this.ranges[0]
    return first !== undefined && first.start === 0 ? first.end : 0
  }

  /** True once the stream stopped yielding messages (a limit was crossed). */
  get isStopped(): boolean {
    return this.stopped
  }

  /** Adds one CRYPTO frame's data; returns the handshake messages it completed (owned bodies). */
  push(offset: number, data: Uint8Array): HandshakeMessage[] {
    if (this.stopped || !Number.isSafeInteger(offset) || offset < 0) return []
    let end = offset + data.length
    if (end > MAX_QUIC_CRYPTO_BYTES) {
      this.seen.add('quic.crypto_limit')
      end = MAX_QUIC_CRYPTO_BYTES
    }
    if (end <= offset) return []
    const merged = mergeRange(this.ranges, offset, end)
    if (merged.length > MAX_QUIC_CRYPTO_PENDING_CHUNKS) {
      this.seen.add('quic.crypto_too_many_gaps')
      return []
    }
    this.reserve(end)
    this.writeNew(offset, end, data)
    this.ranges = merged
    return this.drain()
  }

  private reserve(end: number): void {
    if (end <= this.buf.length) return
    let cap = Math.max(this.buf.length, INITIAL_CAPACITY_BYTES)
    while (cap < end) cap *= 2
    const next = new Uint8Array(Math.min(cap, MAX_QUIC_CRYPTO_BYTES))
    next.set(this.buf)
    this.buf = next
  }

  /** Copies the bytes of [start, end) not yet received; compares the rest (first copy wins). */
  private writeNew(start: number, end: number, data: Uint8Array): void {
    let cursor = start
    for (const r of this.ranges) {
      if (r.end <= cursor) continue
      if (r.start >= end) break
      if (r.start > cursor) this.buf.set(data.subarray(cursor - start, r.start - start), cursor)
      const overlapEnd = Math.min(end, r.end)
      for (let i = Math.max(cursor, r.start); i < overlapEnd; i++) {
        if (this.buf[i] !== data[i - start]) {
          this.seen.add('quic.crypto_conflict')
          break
        }
      }
      cursor = overlapEnd
      if (cursor >= end) return
    }
    this.buf.set(data.subarray(cursor - start, end - start), cursor)
  }

  private drain(): HandshakeMessage[] {
    const out: HandshakeMessage[] = []
    const avail = this.contiguousBytes
    while (avail - this.parsed >= HANDSHAKE_HEADER_BYTES) {
      const at = this.parsed
      const b = this.buf
      const type = b[at] ?? 0
      const length = ((b[at + 1] ?? 0) << 16) | ((b[at + 2] ?? 0) << 8) | (b[at + 3] ?? 0)
      if (length > MAX_HANDSHAKE_BYTES) {
        this.stop('quic.handshake_too_long')
        break
      }
      const end = at + HANDSHAKE_HEADER_BYTES + length
      if (end > MAX_QUIC_CRYPTO_BYTES) {
        this.stop('quic.crypto_limit')
        break
      }
      if (end > avail) break
      out.push({
        type,
        body: b.slice(at + HANDSHAKE_HEADER_BYTES, end),
        recordVersion: QUIC_TLS_VERSION,
        streamOffset: at,
      })
      this.parsed = end
    }
    return out
  }

  private stop(anomaly: QuicAnomaly): void {
    this.seen.add(anomaly)
    this.stopped = true
    this.buf = new Uint8Array(0)
    this.ranges = []
  }
}

/** `ranges` with [start, end) added, merging overlapping and adjacent ranges. */
function mergeRange(ranges: Range[], start: number, end: number): Range[] {
  const out: Range[] = []
  let s = start
  let e = end
  let placed = false
  for (const r of ranges) {
    if (r.end < s) {
      out.push(r)
    } else if (r.start > e) {
      if (!placed) {
        out.push({ start: s, end: e })
        placed = true
      }
      out.push(r)
    } else {
      s = Math.min(s, r.start)
      e = Math.max(e, r.end)
    }
  }
  if (!placed) out.push({ start: s, end: e })
  return out
}
