/**
 * @module protocols/tls/record
 * TLS record framing (RFC 8446 §5.1, RFC 5246 §6.2.1): an incremental framer that turns a byte
 * stream into complete records and never looks inside them, plus the header checks used to find
 * where TLS starts in a stream.
 */

import { MAX_HANDSHAKE_BYTES, MAX_TLS_RECORD_BYTES } from '../limits.ts'
import type { TlsAnomaly } from './types.ts'

/** RFC 8446 §5.1 ContentType, RFC 6520 heartbeat. */
export const ContentType = {
  ChangeCipherSpec: 20,
  Alert: 21,
  Handshake: 22,
  ApplicationData: 23,
  Heartbeat: 24,
} as const

/** RFC 8446 §4 HandshakeType (plus RFC 6347 §4.3.2 hello_verify_request). */
export const HandshakeType = {
  HelloRequest: 0,
  ClientHello: 1,
  ServerHello: 2,
  HelloVerifyRequest: 3,
  NewSessionTicket: 4,
  EncryptedExtensions: 8,
  Certificate: 11,
  ServerKeyExchange: 12,
  CertificateRequest: 13,
  ServerHelloDone: 14,
  CertificateVerify: 15,
  ClientKeyExchange: 16,
  Finished: 20,
} as const

/** RFC 8446 §5.1: type(1) legacy_record_version(2) length(2). */
export const TLS_RECORD_HEADER_BYTES = 5
/** RFC 8446 §4: msg_type(1) length(3). */
export const TLS_HANDSHAKE_HEADER_BYTES = 4
/** Smallest hello body: version(2) random(32) session_id<0..32>(1) suite(2) compression(1). */
const MIN_HELLO_BODY_BYTES = 38

export interface TlsRecord {
  contentType: number
  version: number
  /** NOTE: a view that is only valid until the next `push` of the framer that produced it. */
  fragment: Uint8Array
  /** Offset of the record header in the bytes pushed to the framer. */
  offset: number
}

export interface FramerOutput {
  records: TlsRecord[]
  /** Bytes still missing to complete the next record (0 once the framer has stopped). */
  needMore: number
  /** Set on the push that met a header the framer cannot follow; later pushes yield nothing. */
  error: TlsAnomaly | undefined
}

/**
 * Checks a record header: a known content type, `legacy_record_version` 0x0300..0x0304 and a
 * length the RFC allows. Returns the anomaly that makes the header unusable, or undefined.
 */
export function checkRecordHeader(
  type: number,
  version: number,
  length: number,
): TlsAnomaly | undefined {
  if (type < ContentType.ChangeCipherSpec || type > ContentType.Heartbeat)
    return 'tls.bad_content_type'
  // RFC 8446 §5.1 / RFC 5246 App. E: SSL 3.0 up to TLS 1.3 all use major version 3.
  if (version >> 8 !== 3 || (version & 0xff) > 4) return 'tls.bad_record_version'
  // RFC 5246 §6.2.3: TLSCiphertext.length MUST NOT exceed 2^14 + 2048.
  if (length > MAX_TLS_RECORD_BYTES) return 'tls.record_too_long'
  return undefined
}

function u16(b: Uint8Array, p: number): number {
  return ((b[p] ?? 0) << 8) | (b[p + 1] ?? 0)
}

function u24(b: Uint8Array, p: number): number {
  return ((b[p] ?? 0) << 16) | ((b[p + 1] ?? 0) << 8) | (b[p + 2] ?? 0)
}

/** True if `b[p]` starts any usable TLS record header (needs 5 bytes). */
export function looksLikeRecordHeader(b: Uint8Array, p: number): boolean {
  if (p + TLS_RECORD_HEADER_BYTES > b.length) return false
  const length = u16(b, p + 3)
  return length > 0 && checkRecordHeader(b[p] ?? 0, u16(b, p + 1), length) === undefined
}

/** Bytes `looksLikeHandshakeStart` needs to decide. */
export const HANDSHAKE_START_PROBE_BYTES = TLS_RECORD_HEADER_BYTES + TLS_HANDSHAKE_HEADER_BYTES + 2

/**
 * HACK: the strict test used when scanning past a non-TLS prefix (STARTTLS, SOCKS, CONNECT,
 * MySQL SSLRequest): a handshake record whose first message is a ClientHello or ServerHello with
 * a plausible 24-bit length and a 3.x hello version. Needs `HANDSHAKE_START_PROBE_BYTES`.
 */
export function looksLikeHandshakeStart(b: Uint8Array, p: number): boolean {
  if (p + HANDSHAKE_START_PROBE_BYTES > b.length) return false
  if (b[p] !== ContentType.Handshake) return false
  const recLen = u16(b, p + 3)
  if (checkRecordHeader(ContentType.Handshake, u16(b, p + 1), recLen) !== undefined) return false
  // The hello header and its version must sit in this first record.
  if (recLen < TLS_HANDSHAKE_HEADER_BYTES + 2) return false
  return looksLikePlaintextHello(b, p + TLS_RECORD_HEADER_BYTES)
}

/**
 * True if the handshake bytes at `p` start a plaintext ClientHello / ServerHello: type 1 or 2,
 * a 24-bit length a hello can have, and a 3.x `legacy_version` (RFC 8446 §4.1.2, §4.1.3).
 * Reads nothing at or past `end`.
 */
export function looksLikePlaintextHello(b: Uint8Array, p: number, end = b.length): boolean {
  if (p + TLS_HANDSHAKE_HEADER_BYTES + 2 > end) return false
  const type = b[p]
  if (type !== HandshakeType.ClientHello && type !== HandshakeType.ServerHello) return false
  const len = u24(b, p + 1)
  if (len < MIN_HELLO_BODY_BYTES || len > MAX_HANDSHAKE_BYTES) return false
  return b[p + 4] === 3 && (b[p + 5] ?? 0xff) <= 4
}

/** Bytes `looksLikeSslv2Hello` needs to decide. */
export const SSLV2_PROBE_BYTES = 5

/**
 * RFC 6101 App. E.1 / RFC 5246 App. E.2: an SSL 2.0 CLIENT-HELLO has a 2-byte record header with
 * the high bit set, msg_type 1 and a version of 0x0002 or 0x03xx (needs 5 bytes).
 */
export function looksLikeSslv2Hello(b: Uint8Array, p: number): boolean {
  if (p + SSLV2_PROBE_BYTES > b.length) return false
  const b0 = b[p] ?? 0
  if ((b0 & 0x80) === 0) return false
  const len = ((b0 & 0x7f) << 8) | (b[p + 1] ?? 0)
  // msg_type(1) version(2) three u16 lengths(6) challenge(>= 16): at least 25 bytes.
  if (len < 25 || b[p + 2] !== 1) return false
  const major = b[p + 3]
  const minor = b[p + 4] ?? 0xff
  return (major === 0 && minor === 2) || (major === 3 && minor <= 4)
}

const EMPTY = new Uint8Array(0)

/**
 * Incremental record framer: `push` bytes in any chunking, get the complete records. It holds at
 * most one incomplete record (bounded by MAX_TLS_RECORD_BYTES) and never parses fragments.
 *
 * Besides `push`, a pull form frames without allocating: `begin(chunk)`, then `next()` until it
 * returns false, each record read from the `record*` fields, then `end()` (or `discard()` when
 * the caller stops reading the stream). The fields are valid only until the next call.
 */
export class TlsRecordFramer {
  private buf: Uint8Array = EMPTY
  private len = 0
  /** Offset of `buf[0]` in the pushed stream. */
  private base = 0
  private failed: TlsAnomaly | undefined

  /** ContentType of the record `next()` framed. */
  recordType = 0
  recordVersion = 0
  /** The record's fragment is `recordBytes[fragmentStart .. fragmentEnd)`. */
  recordBytes: Uint8Array = EMPTY
  fragmentStart = 0
  fragmentEnd = 0
  /** Offset of the record header in the bytes pushed to the framer. */
  recordOffset = 0
  /** After `next()` returned false: bytes still missing for the next record (0 on error). */
  needMore = 0
  /** After `next()` returned false: the anomaly met by this push, if it stopped the framer. */
  pushError: TlsAnomaly | undefined

  // The push in progress: the bytes being framed (the caller's chunk or `buf`) and the position.
  private chunk: Uint8Array = EMPTY
  private src: Uint8Array = EMPTY
  private pos = 0
  private srcEnd = 0

  /** The anomaly that stopped the framer, if any. */
  get error(): TlsAnomaly | undefined {
    return this.failed
  }

  /** Bytes pushed that are held waiting for the rest of their record. */
  get buffered(): number {
    return this.len
  }

  push(chunk: Uint8Array): FramerOutput {
    const records: TlsRecord[] = []
    if (this.failed !== undefined) return { records, needMore: 0, error: undefined }
    this.begin(chunk)
    while (this.next()) {
      records.push({
        contentType: this.recordType,
        version: this.recordVersion,
        fragment: this.recordBytes.subarray(this.fragmentStart, this.fragmentEnd),
        offset: this.recordOffset,
      })
    }
    const needMore = this.needMore
    const error = this.pushError
    // NOTE: fragments returned above may be views into `buf`, so its tail moves to a new buffer.
    this.finish(true)
    return { records, needMore, error }
  }

  /** Starts framing `chunk` (pull form); a stopped framer yields nothing. */
  begin(chunk: Uint8Array): void {
    this.needMore = 0
    this.pushError = undefined
    this.pos = 0
    if (this.failed !== undefined) {
      this.chunk = EMPTY
      this.src = EMPTY
      this.srcEnd = 0
      return
    }
    this.chunk = chunk
    if (this.len === 0) {
      this.src = chunk
      this.srcEnd = chunk.length
    } else {
      this.append(chunk)
      this.src = this.buf
      this.srcEnd = this.len
    }
  }

  /** Frames the next complete record of the push; false when there is none (see `needMore`). */
  next(): boolean {
    const data = this.src
    const p = this.pos
    const avail = this.srcEnd - p
    if (avail < TLS_RECORD_HEADER_BYTES) {
      if (this.failed === undefined) this.needMore = TLS_RECORD_HEADER_BYTES - avail
      return false
    }
    const type = data[p] ?? 0
    const version = u16(data, p + 1)
    const length = u16(data, p + 3)
    const error = checkRecordHeader(type, version, length)
    if (error !== undefined) {
      this.failed = error
      this.pushError = error
      this.needMore = 0
      this.buf = EMPTY
      this.len = 0
      this.release()
      return false
    }
    const total = TLS_RECORD_HEADER_BYTES + length
    if (avail < total) {
      this.needMore = total - avail
      return false
    }
    this.recordType = type
    this.recordVersion = version
    this.recordBytes = data
    this.fragmentStart = p + TLS_RECORD_HEADER_BYTES
    this.fragmentEnd = p + total
    this.recordOffset = this.base + p
    this.pos = p + total
    return true
  }

  /**
   * Ends the push: keeps the incomplete tail for the next one. Views of this push's records
   * into the framer's buffer are invalidated (the tail moves within it) unless `keepViews`.
   */
  end(keepViews = false): void {
    this.finish(keepViews)
  }

  /** Ends the push without keeping anything: the caller reads no further in this stream. */
  discard(): void {
    this.buf = EMPTY
    this.len = 0
    this.release()
  }

  private finish(keepViews: boolean): void {
    if (this.src === EMPTY) return
    const p = this.pos
    this.base += p
    const rest = this.srcEnd - p
    if (this.src === this.chunk) {
      // Keep only the incomplete tail; the caller's chunk is not ours to hold on to.
      if (rest > 0) this.append(this.chunk.subarray(p, this.srcEnd))
    } else if (p > 0) {
      if (rest === 0) this.buf = EMPTY
      else if (keepViews) this.buf = this.buf.slice(p, this.srcEnd)
      else this.buf.copyWithin(0, p, this.srcEnd)
      this.len = rest
    }
    this.release()
  }

  /** Drops the references to the push's bytes (they may be a view of a large caller buffer). */
  private release(): void {
    this.chunk = EMPTY
    this.src = EMPTY
    this.srcEnd = 0
    this.pos = 0
    this.recordBytes = EMPTY
  }

  private append(chunk: Uint8Array): void {
    const need = this.len + chunk.length
    if (need > this.buf.length) {
      const grown = new Uint8Array(Math.max(need, this.buf.length * 2, 64))
      grown.set(this.buf.subarray(0, this.len))
      this.buf = grown
    }
    this.buf.set(chunk, this.len)
    this.len = need
  }
}
