/**
 * @module protocols/tls/stream
 * Follows one TCP direction: finds where TLS starts, frames records and reassembles handshake
 * messages across records (RFC 8446 §5.1: a message may span records, a record may hold several
 * messages). It stops at the first encrypted byte and never throws.
 */

import {
  MAX_FOLLOWING_BYTES,
  MAX_HANDSHAKE_BYTES,
  MAX_TLS_DIRECTION_BYTES,
  MAX_TLS_PROBE_BYTES,
} from '../limits.ts'
import {
  ContentType,
  HANDSHAKE_START_PROBE_BYTES,
  SSLV2_PROBE_BYTES,
  TLS_HANDSHAKE_HEADER_BYTES,
  TLS_RECORD_HEADER_BYTES,
  TlsRecordFramer,
  looksLikeHandshakeStart,
  looksLikePlaintextHello,
  looksLikeRecordHeader,
  looksLikeSslv2Hello,
  type TlsRecord,
} from './record.ts'
import type { HandshakeMessage, TlsAnomaly } from './types.ts'

export type TlsStreamState = 'probing' | 'tls' | 'sslv2' | 'not_tls' | 'encrypted' | 'done'

export interface TlsHandshakeStreamOptions {
  /** Scan past a non-TLS prefix (STARTTLS, SOCKS, HTTP CONNECT, …) for a TLS start. Default true. */
  probe?: boolean
}

const EMPTY = new Uint8Array(0)

/**
 * Handshake messages of one TCP direction, fed its reassembled bytes in order.
 * @example
 * const s = new TlsHandshakeStream()
 * for (const chunk of chunks) for (const m of s.push(chunk)) if (m.type === 1) parseClientHello(m.body)
 */
export class TlsHandshakeStream {
  private st: TlsStreamState = 'probing'
  private readonly anomalyList: TlsAnomaly[] = []
  private consumed = 0
  private readonly probe: boolean

  // Probing: undecided tail bytes (< HANDSHAKE_START_PROBE_BYTES) and their stream offset.
  private probeBuf: Uint8Array = EMPTY
  private probeOffset = 0
  private startChecked = false

  private readonly framer = new TlsRecordFramer()
  /** Stream offset of the first TLS record byte. */
  private tlsStart = 0
  private ccsSeen = false

  // Handshake reassembly: a partial header, then a partial body.
  private readonly hdr = new Uint8Array(TLS_HANDSHAKE_HEADER_BYTES)
  private hdrFill = 0
  private hdrOffset = 0
  private hdrVersion = 0
  private msgType = 0
  private msgBody: Uint8Array | undefined
  private msgFill = 0
  /** Bytes of an over-long message still to be skipped. */
  private skipBytes = 0
  /** Stream offset of the current push's first byte, and its bytes (for `following`). */
  private pushed = 0
  private pushOffset = 0
  private pushData: Uint8Array = EMPTY

  constructor(opts?: TlsHandshakeStreamOptions) {
    this.probe = opts?.probe ?? true
  }

  get state(): TlsStreamState {
    return this.st
  }

  /** Distinct anomalies seen on this direction, in order of first occurrence. */
  get anomalies(): TlsAnomaly[] {
    return this.anomalyList
  }

  /**
   * Bytes of the direction read so far: a skipped prefix plus complete records. Bytes held for
   * an incomplete record, and bytes pushed after the stream stopped, are not counted.
   */
  get consumedBytes(): number {
    return this.consumed
  }

  /** Complete handshake messages found in `data`. Never throws. */
  push(data: Uint8Array): HandshakeMessage[] {
    const out: HandshakeMessage[] = []
    if (data.length === 0) return out
    this.pushOffset = this.pushed
    this.pushed += data.length
    this.pushData = data
    if (this.st === 'probing') {
      const start = this.findStart(data)
      if (start !== undefined) this.processTls(start, out)
    } else if (this.st === 'tls') {
      this.processTls(data, out)
    }
    // NOTE: never keep the caller's buffer past the call (it may be a view of a large chunk).
    this.pushData = EMPTY
    return out
  }

  private anomaly(a: TlsAnomaly): void {
    if (!this.anomalyList.includes(a)) this.anomalyList.push(a)
  }

  /** Scans for the TLS start; returns the bytes from there once found. */
  private findStart(data: Uint8Array): Uint8Array | undefined {
    let view = data
    if (this.probeBuf.length > 0) {
      view = new Uint8Array(this.probeBuf.length + data.length)
      view.set(this.probeBuf)
      view.set(data, this.probeBuf.length)
    }
    if (!this.startChecked) {
      if (view.length < SSLV2_PROBE_BYTES) {
        this.probeBuf = view === data ? data.slice() : view
        return undefined
      }
      this.startChecked = true
      if (looksLikeSslv2Hello(view, 0)) {
        // RFC 6101 App. E: an SSL 2.0-format hello; not fingerprinted (FINGERPRINTS.md §1).
        this.anomaly('tls.sslv2_hello')
        this.st = 'sslv2'
        this.probeBuf = EMPTY
        return undefined
      }
      if (looksLikeRecordHeader(view, 0)) return this.synced(view, 0)
      if (!this.probe) {
        this.st = 'not_tls'
        this.probeBuf = EMPTY
        return undefined
      }
    }
    const last = view.length - HANDSHAKE_START_PROBE_BYTES
    let i = 0
    for (; i <= last; i++) {
      if (this.probeOffset + i >= MAX_TLS_PROBE_BYTES) {
        this.anomaly('tls.probe_limit')
        this.st = 'not_tls'
        this.consumed = this.probeOffset + i
        this.probeBuf = EMPTY
        return undefined
      }
      if (view[i] === ContentType.Handshake && looksLikeHandshakeStart(view, i)) {
        return this.synced(view, i)
      }
    }
    // Keep the undecided tail (fewer than HANDSHAKE_START_PROBE_BYTES bytes) for the next push.
    const skip = Math.max(0, i)
    this.probeOffset += skip
    this.consumed = this.probeOffset
    this.probeBuf = view.slice(skip)
    return undefined
  }

  private synced(view: Uint8Array, at: number): Uint8Array {
    this.st = 'tls'
    this.tlsStart = this.probeOffset + at
    this.consumed = this.tlsStart
    this.probeBuf = EMPTY
    return view.subarray(at)
  }

  private processTls(data: Uint8Array, out: HandshakeMessage[]): void {
    const res = this.framer.push(data)
    for (const rec of res.records) {
      const recordBytes = TLS_RECORD_HEADER_BYTES + rec.fragment.length
      if (this.consumed - this.tlsStart + recordBytes > MAX_TLS_DIRECTION_BYTES) {
        this.anomaly('tls.direction_limit')
        this.st = 'done'
        return
      }
      this.consumed += recordBytes
      switch (rec.contentType) {
        case ContentType.Handshake:
          this.handshakeRecord(rec, out)
          break
        case ContentType.ChangeCipherSpec:
          // RFC 8446 §5.1: handshake messages MUST NOT be interleaved with other record types.
          if (this.pendingMessage()) this.interleaved()
          this.ccsSeen = true
          break
        case ContentType.ApplicationData:
          this.st = 'encrypted'
          break
        default:
          // Alerts and heartbeats: nothing to collect, keep following.
          if (this.pendingMessage()) this.interleaved()
      }
      if (this.st !== 'tls') return
    }
    if (res.error !== undefined) {
      this.anomaly(res.error)
      this.st = 'done'
    }
  }

  private pendingMessage(): boolean {
    return this.hdrFill > 0 || this.msgBody !== undefined || this.skipBytes > 0
  }

  private interleaved(): void {
    this.anomaly('tls.handshake_interleaved')
    this.hdrFill = 0
    this.msgBody = undefined
    this.skipBytes = 0
  }

  private handshakeRecord(rec: TlsRecord, out: HandshakeMessage[]): void {
    const frag = rec.fragment
    const n = frag.length
    if (n === 0) {
      // RFC 8446 §5.1: zero-length fragments of Handshake type MUST NOT be sent.
      this.anomaly('tls.empty_record')
      return
    }
    // After ChangeCipherSpec, handshake records are encrypted (TLS <= 1.2 Finished), except the
    // plaintext second hello of a TLS 1.3 middlebox-compatible HelloRetryRequest exchange
    // (RFC 8446 App. D.4: the dummy CCS precedes the second ClientHello / follows the HRR).
    if (this.ccsSeen && !this.pendingMessage() && !looksLikePlaintextHello(frag, 0)) {
      this.st = 'encrypted'
      return
    }
    const fragOffset = rec.offset + TLS_RECORD_HEADER_BYTES
    let p = 0
    while (p < n) {
      if (this.skipBytes > 0) {
        const k = Math.min(this.skipBytes, n - p)
        this.skipBytes -= k
        p += k
        continue
      }
      if (this.msgBody === undefined) {
        let type: number
        let len: number
        let msgOffset: number
        let version: number
        if (this.hdrFill === 0 && n - p >= TLS_HANDSHAKE_HEADER_BYTES) {
          // RFC 8446 §4: msg_type(1) uint24 length.
          type = frag[p] ?? 0
          len = ((frag[p + 1] ?? 0) << 16) | ((frag[p + 2] ?? 0) << 8) | (frag[p + 3] ?? 0)
          msgOffset = this.tlsStart + fragOffset + p
          version = rec.version
          p += TLS_HANDSHAKE_HEADER_BYTES
        } else {
          if (this.hdrFill === 0) {
            this.hdrOffset = this.tlsStart + fragOffset + p
            this.hdrVersion = rec.version
          }
          while (this.hdrFill < TLS_HANDSHAKE_HEADER_BYTES && p < n)
            this.hdr[this.hdrFill++] = frag[p++] ?? 0
          if (this.hdrFill < TLS_HANDSHAKE_HEADER_BYTES) break
          this.hdrFill = 0
          type = this.hdr[0] ?? 0
          len = ((this.hdr[1] ?? 0) << 16) | ((this.hdr[2] ?? 0) << 8) | (this.hdr[3] ?? 0)
          msgOffset = this.hdrOffset
          version = this.hdrVersion
        }
        if (len > MAX_HANDSHAKE_BYTES) {
          this.anomaly('tls.handshake_too_long')
          this.skipBytes = len
          continue
        }
        if (n - p >= len) {
          // Common case: the whole body is in this record; copy it out of the framer's view.
          out.push(this.message(type, frag.slice(p, p + len), version, msgOffset))
          p += len
          continue
        }
        this.msgType = type
        this.msgBody = new Uint8Array(len)
        this.msgFill = 0
        this.hdrOffset = msgOffset
        this.hdrVersion = version
      }
      const body = this.msgBody
      const k = Math.min(body.length - this.msgFill, n - p)
      body.set(frag.subarray(p, p + k), this.msgFill)
      this.msgFill += k
      p += k
      if (this.msgFill === body.length) {
        out.push(this.message(this.msgType, body, this.hdrVersion, this.hdrOffset))
        this.msgBody = undefined
      }
    }
  }

  private message(type: number, body: Uint8Array, version: number, offset: number): HandshakeMessage {
    const m: HandshakeMessage = { type, body, recordVersion: version, streamOffset: offset }
    if (type === 2) {
      // Keep the bytes after a ServerHello that arrived with it (see parseServerHello).
      const at = offset + TLS_HANDSHAKE_HEADER_BYTES + body.length - this.pushOffset
      if (at >= 0 && at < this.pushData.length) {
        m.following = this.pushData.slice(at, at + MAX_FOLLOWING_BYTES)
      }
    }
    return m
  }
}
