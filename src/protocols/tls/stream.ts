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
} from './record.ts'
import type { HandshakeMessage, TlsAnomaly } from './types.ts'

export type TlsStreamState = 'probing' | 'tls' | 'sslv2' | 'not_tls' | 'encrypted' | 'done'

export interface TlsHandshakeStreamOptions {
  /** Scan past a non-TLS prefix (STARTTLS, SOCKS, HTTP CONNECT, …) for a TLS start. Default true. */
  probe?: boolean
  /**
   * Default true: every message body (and `following`) is the caller's to keep. False: a body
   * that lies whole in one record is a view of the pushed bytes or of the stream's buffer,
   * valid only until the next `push`; for callers that parse at once and keep nothing (no
   * ClientHello held until the server answers), this saves a copy per message.
   */
  ownBodies?: boolean
}

const EMPTY = new Uint8Array(0)
/** Returned by pushes that complete no message (read-only by contract; not frozen, as iterating
 * a frozen array is several times slower in V8). */
const NO_MESSAGES: HandshakeMessage[] = []

const HANDSHAKE_CLIENT_HELLO = 1
/** Bodies up to this size share slabs of SLAB_BYTES; larger ones get their own buffer. */
const MAX_SLAB_BODY_BYTES = 4_096
const SLAB_BYTES = 65_536
let slab = new Uint8Array(SLAB_BYTES)
let slabUsed = 0

/**
 * A zeroed buffer for a message body of `len` bytes. ClientHellos get their own buffer: the
 * engine keeps them (and views into them) until the server answers, and a view into a shared
 * slab would keep the whole slab alive. Other messages are read during the call that returns
 * them, so small ones share slabs: one allocation per 64 KiB instead of one per message.
 */
function newBody(type: number, len: number): Uint8Array {
  if (type === HANDSHAKE_CLIENT_HELLO || len > MAX_SLAB_BODY_BYTES) return new Uint8Array(len)
  if (slabUsed + len > SLAB_BYTES) {
    slab = new Uint8Array(SLAB_BYTES)
    slabUsed = 0
  }
  const body = slab.subarray(slabUsed, slabUsed + len)
  slabUsed += len
  return body
}

/** `src[from .. to)` copied into a body buffer (see `newBody`). */
function copyBody(type: number, src: Uint8Array, from: number, to: number): Uint8Array {
  if (type === HANDSHAKE_CLIENT_HELLO || to - from > MAX_SLAB_BODY_BYTES) return src.slice(from, to)
  const body = newBody(type, to - from)
  body.set(src.subarray(from, to))
  return body
}

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
  private readonly ownBodies: boolean

  // Probing: undecided tail bytes (< HANDSHAKE_START_PROBE_BYTES) and their stream offset.
  private probeBuf: Uint8Array = EMPTY
  private probeOffset = 0
  private startChecked = false

  private readonly framer = new TlsRecordFramer()
  /** Stream offset of the first TLS record byte. */
  private tlsStart = 0
  private ccsSeen = false

  // Handshake reassembly: a partial header, then a partial body.
  /** A handshake header split across records (rare): made when first needed. */
  private hdr: Uint8Array = EMPTY
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
  /** Messages of the current push (allocated on the first one). */
  private found: HandshakeMessage[] = NO_MESSAGES

  constructor(opts?: TlsHandshakeStreamOptions) {
    this.probe = opts?.probe ?? true
    this.ownBodies = opts?.ownBodies ?? true
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

  /**
   * Complete handshake messages found in `data`. Never throws. The array is the caller's, except
   * the shared empty one returned when there are none (not to be modified).
   */
  push(data: Uint8Array): HandshakeMessage[] {
    if (data.length === 0) return NO_MESSAGES
    this.pushOffset = this.pushed
    this.pushed += data.length
    this.pushData = data
    if (this.st === 'probing') {
      const start = this.findStart(data)
      if (start !== undefined) this.processTls(start)
    } else if (this.st === 'tls') {
      this.processTls(data)
    }
    // NOTE: never keep the caller's buffer past the call (it may be a view of a large chunk).
    this.pushData = EMPTY
    const out = this.found
    this.found = NO_MESSAGES
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
    // Positions from `limit` on are past MAX_TLS_PROBE_BYTES of the stream.
    const limit = MAX_TLS_PROBE_BYTES - this.probeOffset
    let i = 0
    while (i <= last) {
      if (i >= limit) {
        this.anomaly('tls.probe_limit')
        this.st = 'not_tls'
        this.consumed = this.probeOffset + i
        this.probeBuf = EMPTY
        return undefined
      }
      // Only a handshake content type byte can start TLS: let the native search skip the rest.
      const stop = Math.min(last + 1, limit)
      const j = view.indexOf(ContentType.Handshake, i)
      if (j < 0 || j >= stop) {
        i = stop
        continue
      }
      if (looksLikeHandshakeStart(view, j)) return this.synced(view, j)
      i = j + 1
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

  private processTls(data: Uint8Array): void {
    const f = this.framer
    f.begin(data)
    while (f.next()) {
      const recordBytes = TLS_RECORD_HEADER_BYTES + f.fragmentEnd - f.fragmentStart
      if (this.consumed - this.tlsStart + recordBytes > MAX_TLS_DIRECTION_BYTES) {
        this.anomaly('tls.direction_limit')
        this.st = 'done'
        break
      }
      this.consumed += recordBytes
      switch (f.recordType) {
        case ContentType.Handshake:
          this.handshakeRecord(f)
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
      if (this.st !== 'tls') break
    }
    if (this.st !== 'tls') {
      // Nothing more is read from this direction.
      f.discard()
      return
    }
    if (f.pushError !== undefined) {
      this.anomaly(f.pushError)
      this.st = 'done'
    }
    // Views returned by this push may point into the framer's buffer (see ownBodies).
    f.end(!this.ownBodies)
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

  /** The record the framer just framed; its fragment is `frag[start .. end)`. */
  private handshakeRecord(f: TlsRecordFramer): void {
    const frag = f.recordBytes
    const start = f.fragmentStart
    const end = f.fragmentEnd
    if (start === end) {
      // RFC 8446 §5.1: zero-length fragments of Handshake type MUST NOT be sent.
      this.anomaly('tls.empty_record')
      return
    }
    // After ChangeCipherSpec, handshake records are encrypted (TLS <= 1.2 Finished), except the
    // plaintext second hello of a TLS 1.3 middlebox-compatible HelloRetryRequest exchange
    // (RFC 8446 App. D.4: the dummy CCS precedes the second ClientHello / follows the HRR).
    if (this.ccsSeen && !this.pendingMessage() && !looksLikePlaintextHello(frag, start, end)) {
      this.st = 'encrypted'
      return
    }
    // Stream offset of the fragment's first byte, minus `start`: add a position in `frag`.
    const base = this.tlsStart + f.recordOffset + TLS_RECORD_HEADER_BYTES - start
    const recVersion = f.recordVersion
    let p = start
    while (p < end) {
      if (this.skipBytes > 0) {
        const k = Math.min(this.skipBytes, end - p)
        this.skipBytes -= k
        p += k
        continue
      }
      if (this.msgBody === undefined) {
        let type: number
        let len: number
        let msgOffset: number
        let version: number
        if (this.hdrFill === 0 && end - p >= TLS_HANDSHAKE_HEADER_BYTES) {
          // RFC 8446 §4: msg_type(1) uint24 length.
          type = frag[p] ?? 0
          len = ((frag[p + 1] ?? 0) << 16) | ((frag[p + 2] ?? 0) << 8) | (frag[p + 3] ?? 0)
          msgOffset = base + p
          version = recVersion
          p += TLS_HANDSHAKE_HEADER_BYTES
        } else {
          if (this.hdrFill === 0) {
            this.hdrOffset = base + p
            this.hdrVersion = recVersion
          }
          if (this.hdr.length === 0) this.hdr = new Uint8Array(TLS_HANDSHAKE_HEADER_BYTES)
          while (this.hdrFill < TLS_HANDSHAKE_HEADER_BYTES && p < end)
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
        if (end - p >= len) {
          // Common case: the whole body is in this record; copy it out of the framer's bytes.
          const body = this.ownBodies ? copyBody(type, frag, p, p + len) : frag.subarray(p, p + len)
          this.emit(type, body, version, msgOffset)
          p += len
          continue
        }
        this.msgType = type
        this.msgBody = newBody(type, len)
        this.msgFill = 0
        this.hdrOffset = msgOffset
        this.hdrVersion = version
      }
      const body = this.msgBody
      const k = Math.min(body.length - this.msgFill, end - p)
      body.set(frag.subarray(p, p + k), this.msgFill)
      this.msgFill += k
      p += k
      if (this.msgFill === body.length) {
        this.emit(this.msgType, body, this.hdrVersion, this.hdrOffset)
        this.msgBody = undefined
      }
    }
  }

  private emit(type: number, body: Uint8Array, version: number, offset: number): void {
    const m = this.message(type, body, version, offset)
    if (this.found === NO_MESSAGES) this.found = [m]
    else this.found.push(m)
  }

  private message(
    type: number,
    body: Uint8Array,
    version: number,
    offset: number,
  ): HandshakeMessage {
    const m: HandshakeMessage = { type, body, recordVersion: version, streamOffset: offset }
    if (type === 2) {
      // Keep the bytes after a ServerHello that arrived with it (see parseServerHello).
      const at = offset + TLS_HANDSHAKE_HEADER_BYTES + body.length - this.pushOffset
      if (at >= 0 && at < this.pushData.length) {
        const to = Math.min(at + MAX_FOLLOWING_BYTES, this.pushData.length)
        m.following = this.ownBodies
          ? copyBody(type, this.pushData, at, to)
          : this.pushData.subarray(at, to)
      }
    }
    return m
  }
}
