/**
 * @module protocols/tls/dtls
 * DTLS 1.0 / 1.2 / 1.3 plaintext handshake records of one UDP direction (RFC 6347 §4.1, §4.2.2;
 * RFC 9147 §4): several records per datagram, handshake fragments reassembled by message_seq,
 * retransmissions delivered once. Message bodies come out in TLS form (12-byte header removed).
 */

import {
  MAX_DTLS_PENDING_MESSAGES,
  MAX_HANDSHAKE_BYTES,
  MAX_TLS_DIRECTION_BYTES,
} from '../limits.ts'
import { ContentType } from './record.ts'
import type { HandshakeMessage, TlsAnomaly } from './types.ts'

/** RFC 6347 §4.1: type(1) version(2) epoch(2) sequence_number(6) length(2). */
export const DTLS_RECORD_HEADER_BYTES = 13
/** RFC 6347 §4.2.2: msg_type(1) length(3) message_seq(2) fragment_offset(3) fragment_length(3). */
export const DTLS_HANDSHAKE_HEADER_BYTES = 12

/** RFC 9146 §4 tls12_cid content type. */
const TLS12_CID = 25
/** RFC 9147 §7 ack content type, the highest plaintext type we accept. */
const DTLS_ACK = 26

/** DTLS 1.0 (0xfeff), 1.2 (0xfefd), 1.3 (0xfefc) and OpenSSL's pre-RFC DTLS1_BAD_VER (0x0100). */
export function isDtlsVersion(v: number): boolean {
  return v === 0xfeff || v === 0xfefd || v === 0xfefc || v === 0x0100
}

function u16(b: Uint8Array, p: number): number {
  return ((b[p] ?? 0) << 8) | (b[p + 1] ?? 0)
}

function u24(b: Uint8Array, p: number): number {
  return ((b[p] ?? 0) << 16) | ((b[p + 1] ?? 0) << 8) | (b[p + 2] ?? 0)
}

/**
 * True if the datagram starts with a plaintext DTLS handshake record: content type 22, a DTLS
 * record version, epoch 0 and a length that fits the datagram.
 */
export function looksLikeDtls(datagram: Uint8Array): boolean {
  if (datagram.length < DTLS_RECORD_HEADER_BYTES + DTLS_HANDSHAKE_HEADER_BYTES) return false
  if (datagram[0] !== ContentType.Handshake) return false
  if (!isDtlsVersion(u16(datagram, 1)) || u16(datagram, 3) !== 0) return false
  const len = u16(datagram, 11)
  return len >= DTLS_HANDSHAKE_HEADER_BYTES && DTLS_RECORD_HEADER_BYTES + len <= datagram.length
}

export type DtlsStreamState = 'dtls' | 'encrypted' | 'done'

interface Pending {
  seq: number
  type: number
  body: Uint8Array
  /** One flag per body byte: 1 once received. */
  have: Uint8Array
  received: number
  recordVersion: number
}

/** Handshake messages of one UDP direction, fed whole datagrams in arrival order. */
export class DtlsHandshakeStream {
  private st: DtlsStreamState = 'dtls'
  private readonly anomalyList: TlsAnomaly[] = []
  private readonly pending: Pending[] = []
  /** message_seq values already delivered (RFC 6347 §4.2.2: retransmissions reuse them). */
  private readonly delivered = new Set<number>()
  private handshakeBytes = 0

  get state(): DtlsStreamState {
    return this.st
  }

  get anomalies(): TlsAnomaly[] {
    return this.anomalyList
  }

  /** Complete, not yet delivered handshake messages found in this datagram. Never throws. */
  push(datagram: Uint8Array): HandshakeMessage[] {
    const out: HandshakeMessage[] = []
    let p = 0
    const n = datagram.length
    while (this.st === 'dtls' && p < n) {
      if (n - p < DTLS_RECORD_HEADER_BYTES) {
        // RFC 9147 §4: a unified-header (encrypted) record may have no length; anything else
        // this short is garbage.
        if (((datagram[p] ?? 0) & 0xe0) === 0x20) this.st = 'encrypted'
        else this.anomaly('dtls.bad_record')
        break
      }
      const type = datagram[p] ?? 0
      if ((type & 0xe0) === 0x20) {
        // RFC 9147 §4: DTLS 1.3 ciphertext with the unified header: the handshake is now encrypted.
        this.st = 'encrypted'
        break
      }
      const version = u16(datagram, p + 1)
      const epoch = u16(datagram, p + 3)
      const len = u16(datagram, p + 11)
      if (!isDtlsVersion(version) || type < ContentType.ChangeCipherSpec || type > DTLS_ACK) {
        this.anomaly('dtls.bad_record')
        break
      }
      const start = p + DTLS_RECORD_HEADER_BYTES
      if (start + len > n) {
        this.anomaly('tls.record_length_mismatch')
        break
      }
      p = start + len
      if (epoch !== 0 || type === ContentType.ApplicationData || type === TLS12_CID) {
        // RFC 6347 §4.1: epoch > 0 records are protected by the negotiated keys; RFC 9146 §4:
        // tls12_cid records are always protected.
        this.st = 'encrypted'
        break
      }
      if (type === ContentType.Handshake)
        this.handshakeRecord(datagram.subarray(start, p), version, out)
    }
    return out
  }

  private anomaly(a: TlsAnomaly): void {
    if (!this.anomalyList.includes(a)) this.anomalyList.push(a)
  }

  private handshakeRecord(frag: Uint8Array, version: number, out: HandshakeMessage[]): void {
    let p = 0
    while (p < frag.length && this.st === 'dtls') {
      if (frag.length - p < DTLS_HANDSHAKE_HEADER_BYTES) {
        this.anomaly('dtls.bad_fragment')
        return
      }
      const type = frag[p] ?? 0
      const length = u24(frag, p + 1)
      const seq = u16(frag, p + 4)
      const fragOffset = u24(frag, p + 6)
      const fragLength = u24(frag, p + 9)
      const bodyStart = p + DTLS_HANDSHAKE_HEADER_BYTES
      if (bodyStart + fragLength > frag.length || fragOffset + fragLength > length) {
        this.anomaly('dtls.bad_fragment')
        return
      }
      p = bodyStart + fragLength
      this.handshakeBytes += fragLength
      if (this.handshakeBytes > MAX_TLS_DIRECTION_BYTES) {
        this.anomaly('tls.direction_limit')
        this.st = 'done'
        return
      }
      if (this.delivered.has(seq)) continue
      if (length > MAX_HANDSHAKE_BYTES) {
        this.anomaly('tls.handshake_too_long')
        continue
      }
      const data = frag.subarray(bodyStart, p)
      if (fragOffset === 0 && fragLength === length) {
        // Unfragmented: the common case.
        this.deliver(
          seq,
          { type, body: data.slice(), recordVersion: version, streamOffset: 0 },
          out,
        )
        continue
      }
      this.addFragment(seq, type, length, fragOffset, data, version, out)
    }
  }

  private deliver(seq: number, msg: HandshakeMessage, out: HandshakeMessage[]): void {
    this.delivered.add(seq)
    const i = this.pending.findIndex((m) => m.seq === seq)
    if (i >= 0) this.pending.splice(i, 1)
    out.push(msg)
  }

  private addFragment(
    seq: number,
    type: number,
    length: number,
    offset: number,
    data: Uint8Array,
    version: number,
    out: HandshakeMessage[],
  ): void {
    let m = this.pending.find((x) => x.seq === seq)
    if (m === undefined) {
      if (this.pending.length >= MAX_DTLS_PENDING_MESSAGES) {
        this.anomaly('dtls.too_many_pending_messages')
        return
      }
      m = {
        seq,
        type,
        body: new Uint8Array(length),
        have: new Uint8Array(length),
        received: 0,
        recordVersion: version,
      }
      this.pending.push(m)
    } else if (m.type !== type || m.body.length !== length) {
      // RFC 6347 §4.2.2: every fragment of a message carries the same type and total length.
      this.anomaly('dtls.bad_fragment')
      return
    }
    const { body, have } = m
    for (let i = 0; i < data.length; i++) {
      const at = offset + i
      const b = data[i] ?? 0
      if (have[at] === 1) {
        if (body[at] !== b) this.anomaly('dtls.fragment_overlap_mismatch')
        continue
      }
      have[at] = 1
      body[at] = b
      m.received++
    }
    if (m.received === length) {
      this.deliver(seq, { type, body, recordVersion: m.recordVersion, streamOffset: 0 }, out)
    }
  }
}
