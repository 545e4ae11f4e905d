/**
 * @module protocols/tcp/reassembly
 * In-order delivery of one TCP direction's first bytes, as far as handshakes need. Tolerates
 * retransmissions, overlaps (first copy wins, as most stacks and Suricata's default policy),
 * out-of-order segments and captures that start mid-stream. Bounded per direction.
 */
import { MAX_TCP_PENDING_SEGMENTS } from '../limits.ts'

export type TcpStreamAnomaly = 'tcp.pending_limit' | 'tcp.gap_skipped' | 'tcp.stream_limit'

interface Pending {
  rel: number
  data: Uint8Array
}

/** TCP flag bits (RFC 9293 §3.1). */
export const TcpFlag = {
  FIN: 0x01,
  SYN: 0x02,
  RST: 0x04,
  PSH: 0x08,
  ACK: 0x10,
  URG: 0x20,
  ECE: 0x40,
  CWR: 0x80,
} as const

/** Signed distance a − b in 32-bit sequence space (RFC 9293 §3.4 modular comparison). */
function seqDiff(a: number, b: number): number {
  return (a - b) | 0
}

export class TcpStreamReassembler {
  /** Sequence number of stream byte 0; undefined until a SYN or the first data segment. */
  private base: number | undefined
  /** Bytes delivered so far (relative offset of the next expected byte). */
  delivered = 0
  private pending: Pending[] = []
  private pendingBytes = 0
  readonly anomalies: TcpStreamAnomaly[] = []
  /** Set once `maxBytes` were delivered; nothing more is accepted. */
  full = false
  /** Gaps jumped over; a consumer parsing records must resynchronise after each. */
  gaps = 0

  constructor(private readonly maxBytes: number) {}

  get started(): boolean {
    return this.base !== undefined
  }

  /** A SYN fixes the initial sequence number; its data (TCP Fast Open) starts at ISN + 1. */
  syn(seq: number): void {
    if (this.base === undefined) this.base = (seq + 1) >>> 0
  }

  /**
   * Accepts one segment's payload; returns newly contiguous bytes in stream order (views of the
   * input when possible, so callers must copy what they keep beyond the call).
   */
  push(seq: number, payload: Uint8Array, out: Uint8Array[] = []): Uint8Array[] {
    if (this.full || payload.length === 0) return out
    if (this.base === undefined) this.base = seq >>> 0
    const rel = seqDiff(seq, this.base)
    const end = rel + payload.length
    if (end <= this.delivered) return out // retransmission of delivered bytes
    if (rel <= this.delivered) {
      // In order (the common case): the payload itself, no new view.
      this.emit(rel === this.delivered ? payload : payload.subarray(this.delivered - rel), out)
      if (this.pending.length > 0) this.drain(out)
      return out
    }
    this.hold(rel, payload, out)
    return out
  }

  private emit(data: Uint8Array, out: Uint8Array[]): void {
    let chunk = data
    const room = this.maxBytes - this.delivered
    if (chunk.length >= room) {
      chunk = chunk.subarray(0, room)
      this.full = true
      this.anomalies.push('tcp.stream_limit')
      this.pending = []
      this.pendingBytes = 0
    }
    if (chunk.length > 0) {
      out.push(chunk)
      this.delivered += chunk.length
    }
  }

  private hold(rel: number, payload: Uint8Array, out: Uint8Array[]): void {
    if (rel >= this.maxBytes) return // beyond what we would ever deliver
    for (const p of this.pending) {
      if (p.rel === rel && p.data.length >= payload.length) return // duplicate out-of-order copy
    }
    if (
      this.pending.length >= MAX_TCP_PENDING_SEGMENTS ||
      this.pendingBytes + payload.length > this.maxBytes
    ) {
      // A gap that never fills (loss before the capture point): give up on it and continue
      // from the earliest held segment, so later handshakes on the flow are still seen.
      this.anomalies.push('tcp.pending_limit')
      this.skipGap(out)
      if (rel <= this.delivered) {
        if (rel + payload.length > this.delivered)
          this.emit(payload.subarray(this.delivered - rel), out)
        this.drain(out)
        return
      }
    }
    // NOTE: copy, because the caller's buffer is only valid during the call. Kept sorted by
    // offset so draining only ever looks at the head.
    let i = this.pending.length
    while (i > 0 && (this.pending[i - 1]?.rel ?? 0) > rel) i--
    this.pending.splice(i, 0, { rel, data: payload.slice() })
    this.pendingBytes += payload.length
  }

  private drain(out: Uint8Array[]): void {
    while (!this.full) {
      const p = this.pending[0]
      if (p === undefined || p.rel > this.delivered) return
      this.pending.shift()
      this.pendingBytes -= p.data.length
      if (p.rel + p.data.length > this.delivered)
        this.emit(p.data.subarray(this.delivered - p.rel), out)
    }
  }

  /** Jumps over a gap to the earliest held segment. */
  skipGap(out: Uint8Array[] = []): Uint8Array[] {
    if (this.pending.length === 0) return out
    const min = this.pending[0]?.rel ?? this.delivered
    if (min > this.delivered) {
      this.anomalies.push('tcp.gap_skipped')
      this.delivered = min
      this.gaps++
    }
    this.drain(out)
    return out
  }

  get hasPending(): boolean {
    return this.pending.length > 0
  }

  /** Drops buffered segments (the consumer no longer needs this direction). */
  release(): void {
    this.pending = []
    this.pendingBytes = 0
    this.full = true
  }
}
