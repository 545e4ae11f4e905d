/**
 * @module protocols/quic/initial
 * Splits UDP datagrams into coalesced long-header packets (RFC 9000 §12.2, §17.2) and opens
 * Initial packets with keys derived from the client's first Destination Connection ID
 * (RFC 9001 §5.2 - §5.4).
 */

import { ByteReader, parseWith } from '../../bytes/reader.ts'
import { MAX_QUIC_INITIAL_KEY_CACHE_ENTRIES } from '../limits.ts'
import {
  HP_SAMPLE_BYTES,
  aes128GcmOpen,
  deriveInitialKeys,
  headerProtectionMask,
  type QuicInitialKeys,
  type QuicPacketKeys,
} from './crypto.ts'
import type { QuicDatagram, QuicLongHeaderPacket } from './types.ts'
import { readVarint } from './varint.ts'
import { quicVersionParams } from './versions.ts'

/** RFC 9000 §17.2: "In QUIC version 1, this value MUST NOT exceed 20 bytes." */
const MAX_V1_CID_BYTES = 20
/** RFC 9000 §17.2: Header Form bit. */
const LONG_HEADER_FORM = 0x80

/**
 * Splits a UDP datagram into its coalesced long-header packets. Stops at a short-header packet,
 * at trailing zero padding, or at bytes that are not a packet; never throws.
 */
export function parseLongHeaders(datagram: Uint8Array): QuicDatagram {
  const packets: QuicLongHeaderPacket[] = []
  let at = 0
  while (at < datagram.length) {
    const first = datagram[at] ?? 0
    if ((first & LONG_HEADER_FORM) === 0) {
      // NOTE: a zero byte is not a valid short header either (its fixed bit is clear), but some
      // stacks pad datagrams with zeros after the last coalesced packet.
      const padding = datagram.subarray(at).every((b) => b === 0)
      return { packets, stop: padding ? 'padding' : 'short_header', stopOffset: at }
    }
    const r = parseWith('quic long header', () => readLongHeader(datagram, at))
    if (!r.ok) {
      return {
        packets,
        stop: r.error.code === 'truncated' ? 'truncated' : 'malformed',
        stopOffset: at,
      }
    }
    packets.push(r.value)
    at += r.value.bytes.length
  }
  return { packets, stop: 'end', stopOffset: at }
}

function readLongHeader(datagram: Uint8Array, start: number): QuicLongHeaderPacket {
  const r = new ByteReader(datagram, start)
  const firstByte = r.u8()
  // RFC 8999 §5.1: version, then DCID and SCID with 8-bit lengths, are version-independent.
  const version = r.u32()
  const dcidLen = r.u8()
  const params = quicVersionParams(version)
  if (params !== undefined && dcidLen > MAX_V1_CID_BYTES) r.fail('bad_length', 'quic.dcid_length')
  const dcid = r.bytes(dcidLen)
  const scidLen = r.u8()
  if (params !== undefined && scidLen > MAX_V1_CID_BYTES) r.fail('bad_length', 'quic.scid_length')
  const scid = r.bytes(scidLen)
  const whole = (type: QuicLongHeaderPacket['type']): QuicLongHeaderPacket => ({
    version,
    type,
    firstByte,
    dcid,
    scid,
    token: new Uint8Array(0),
    offset: start,
    bytes: datagram.subarray(start),
    pnOffset: -1,
  })
  // RFC 9000 §17.2.1: Version Negotiation (version 0) lists versions to the end of the datagram.
  if (version === 0) return whole('version_negotiation')
  if (params === undefined) return whole('unknown_version')
  const type = params.packetTypes[(firstByte >> 4) & 0x03] ?? 'initial'
  // RFC 9000 §17.2.5: Retry has no Length field; token and integrity tag fill the datagram.
  if (type === 'retry') return whole('retry')
  let token: Uint8Array = new Uint8Array(0)
  if (type === 'initial') {
    // RFC 9000 §17.2.2: Token Length (i), Token (..).
    const tokenLen = readVarint(r)
    if (tokenLen > r.remaining) r.fail('truncated', 'quic.token')
    token = r.bytes(tokenLen)
  }
  // RFC 9000 §17.2: Length (i) covers the Packet Number and the protected payload.
  const length = readVarint(r)
  if (length > r.remaining) r.fail('truncated', 'quic.length')
  const pnOffset = r.pos - start
  return {
    version,
    type,
    firstByte,
    dcid,
    scid,
    token,
    offset: start,
    bytes: datagram.subarray(start, r.pos + length),
    pnOffset,
  }
}

const keyCache = new Map<string, QuicInitialKeys>()

function hex(b: Uint8Array): string {
  let s = ''
  for (const v of b) s += v.toString(16).padStart(2, '0')
  return s
}

/**
 * Initial keys for a connection attempt: both directions use keys derived from the Destination
 * Connection ID of the client's first Initial (RFC 9001 §5.2). Undefined for versions we do not
 * know. Results are cached by (version, DCID).
 */
export function initialKeys(version: number, clientDcid: Uint8Array): QuicInitialKeys | undefined {
  const params = quicVersionParams(version)
  if (params === undefined) return undefined
  const id = `${version}:${hex(clientDcid)}`
  const hit = keyCache.get(id)
  if (hit !== undefined) return hit
  const keys = deriveInitialKeys(params, clientDcid)
  if (keyCache.size >= MAX_QUIC_INITIAL_KEY_CACHE_ENTRIES) keyCache.clear()
  keyCache.set(id, keys)
  return keys
}

/** An opened Initial packet. */
export interface DecryptedInitial {
  /** Full packet number (RFC 9000 §17.1, Appendix A.3). */
  packetNumber: number
  /** Packet number length in bytes (1 to 4). */
  packetNumberLength: number
  /** The unprotected header (the AEAD associated data). */
  header: Uint8Array
  /** Plaintext frames (owned). */
  payload: Uint8Array
  /** RFC 9000 §17.2: the Reserved Bits (0x0c) must be zero after header protection is removed. */
  reservedBitsSet: boolean
}

export type QuicDecryptError =
  /** The packet is not an Initial of a version we know. */
  | 'not_initial'
  /** Too short to hold the header-protection sample (RFC 9001 §5.4.2). */
  | 'too_short'
  /** AEAD authentication failed: wrong keys (e.g. the other direction's) or corrupted bytes. */
  | 'auth_failed'

export type QuicDecryptResult =
  { ok: true; value: DecryptedInitial } | { ok: false; error: QuicDecryptError }

export interface DecryptOptions {
  /** Largest packet number received so far in this space (RFC 9000 §A.3); -1 when none. */
  largestPacketNumber?: number
}

/**
 * Removes header protection from an Initial packet and decrypts its payload with one
 * direction's keys (`initialKeys(...).client` for client packets).
 * @example
 * const keys = initialKeys(pkt.version, pkt.dcid)
 * const opened = keys && decryptInitial(pkt, keys.client)
 */
export function decryptInitial(
  packet: QuicLongHeaderPacket,
  keys: QuicPacketKeys,
  options: DecryptOptions = {},
): QuicDecryptResult {
  if (packet.type !== 'initial' || packet.pnOffset < 0) return { ok: false, error: 'not_initial' }
  const bytes = packet.bytes
  const pnOffset = packet.pnOffset
  // RFC 9001 §5.4.2: the sample starts 4 bytes after the start of the Packet Number field.
  const sampleAt = pnOffset + 4
  if (bytes.length < sampleAt + HP_SAMPLE_BYTES) return { ok: false, error: 'too_short' }
  const mask = headerProtectionMask(keys.hp, bytes.subarray(sampleAt, sampleAt + HP_SAMPLE_BYTES))
  // RFC 9001 §5.4.1: long headers protect the low 4 bits of the first byte.
  const first = (bytes[0] ?? 0) ^ ((mask[0] ?? 0) & 0x0f)
  const pnLength = (first & 0x03) + 1
  const header = bytes.slice(0, pnOffset + pnLength)
  header[0] = first
  let truncated = 0
  for (let i = 0; i < pnLength; i++) {
    const b = (header[pnOffset + i] ?? 0) ^ (mask[1 + i] ?? 0)
    header[pnOffset + i] = b
    truncated = truncated * 256 + b
  }
  const packetNumber = decodePacketNumber(
    options.largestPacketNumber ?? -1,
    truncated,
    pnLength * 8,
  )
  const payload = aes128GcmOpen(
    keys.key,
    nonceFor(keys.iv, packetNumber),
    header,
    bytes.subarray(pnOffset + pnLength),
  )
  if (payload === undefined) return { ok: false, error: 'auth_failed' }
  return {
    ok: true,
    value: {
      packetNumber,
      packetNumberLength: pnLength,
      header,
      payload,
      reservedBitsSet: (first & 0x0c) !== 0,
    },
  }
}

/** RFC 9000 Appendix A.3: the packet number closest to largest + 1 with these low bits. */
export function decodePacketNumber(largest: number, truncated: number, bits: number): number {
  const expected = largest + 1
  const win = 2 ** bits
  const hwin = win / 2
  const candidate = Math.floor(expected / win) * win + truncated
  if (candidate <= expected - hwin && candidate < 2 ** 62 - win) return candidate + win
  if (candidate > expected + hwin && candidate >= win) return candidate - win
  return candidate
}

/** RFC 9001 §5.3: nonce = IV XOR the packet number left-padded to the IV length. */
function nonceFor(iv: Uint8Array, packetNumber: number): Uint8Array {
  const nonce = iv.slice()
  let pn = packetNumber
  for (let i = nonce.length - 1; i >= 0 && pn > 0; i--) {
    nonce[i] = (nonce[i] ?? 0) ^ (pn % 256)
    pn = Math.floor(pn / 256)
  }
  return nonce
}
