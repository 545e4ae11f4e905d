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
 */
export function looksLikePlaintextHello(b: Uint8Array, p: number): boolean {
  if (p + TLS_HANDSHAKE_HEADER_BYTES + 2 > b.length) return false
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
 */
export class TlsRecordFramer {
  private buf: Uint8Array = EMPTY
  private len = 0
  /** Offset of `buf[0]` in the pushed stream. */
  private base = 0
  private failed: TlsAnomaly | undefined

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
    let data: Uint8Array
    let end: number
    if (this.len === 0) {
      data = chunk
      end = chunk.length
    } else {
      this.append(chunk)
      data = this.buf
      end = this.len
    }
    let p = 0
    let needMore = 0
    let error: TlsAnomaly | undefined
    while (true) {
      const avail = end - p
      if (avail < TLS_RECORD_HEADER_BYTES) {
        needMore = TLS_RECORD_HEADER_BYTES - avail
        break
      }
      const type = data[p] ?? 0
      const version = u16(data, p + 1)
      const length = u16(data, p + 3)
      error = checkRecordHeader(type, version, length)
      if (error !== undefined) break
      const total = TLS_RECORD_HEADER_BYTES + length
      if (avail < total) {
        needMore = total - avail
        break
      }
      records.push({
        contentType: type,
        version,
        fragment: data.subarray(p + TLS_RECORD_HEADER_BYTES, p + total),
        offset: this.base + p,
      })
      p += total
    }
    if (error !== undefined) {
      this.failed = error
      this.buf = EMPTY
      this.len = 0
      return { records, needMore: 0, error }
    }
    this.base += p
    const rest = end - p
    if (data === chunk) {
      // Keep only the incomplete tail; the caller's chunk is not ours to hold on to.
      if (rest > 0) this.append(chunk.subarray(p))
    } else if (p > 0) {
      // NOTE: fragments returned above are views into `buf`, so the tail moves to a new buffer.
      this.buf = rest > 0 ? this.buf.slice(p, end) : EMPTY
      this.len = rest
    }
    return { records, needMore, error: undefined }
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
