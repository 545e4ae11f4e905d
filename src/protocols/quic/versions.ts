/**
 * @module protocols/quic/versions
 * Per-version Initial protection parameters: salt, HKDF labels and the long-header packet type
 * codes. Versions not listed here are parsed only as far as the invariant header (RFC 8999).
 */

import type { QuicPacketType } from './types.ts'

export interface QuicVersionParams {
  name: string
  /** RFC 9001 §5.2 initial_salt. */
  salt: Uint8Array
  keyLabel: string
  ivLabel: string
  hpLabel: string
  /** Packet type for each value of the two type bits (0x30) of the first byte. */
  packetTypes: readonly [QuicPacketType, QuicPacketType, QuicPacketType, QuicPacketType]
}

function hex(s: string): Uint8Array {
  return Uint8Array.from(s.match(/../g) ?? [], (b) => parseInt(b, 16))
}

export const QUIC_V1 = 0x0000_0001
export const QUIC_V2 = 0x6b33_43cf
export const QUIC_DRAFT_29 = 0xff00_001d

// RFC 9000 §17.2 table 5: Initial 0x0, 0-RTT 0x1, Handshake 0x2, Retry 0x3.
const V1_TYPES = ['initial', '0rtt', 'handshake', 'retry'] as const
// RFC 9369 §3.2: Initial 0b01, 0-RTT 0b10, Handshake 0b11, Retry 0b00.
const V2_TYPES = ['retry', 'initial', '0rtt', 'handshake'] as const

// RFC 9001 §5.2.
const V1: QuicVersionParams = {
  name: 'v1',
  salt: hex('38762cf7f55934b34d179ae6a4c80cadccbb7f0a'),
  keyLabel: 'quic key',
  ivLabel: 'quic iv',
  hpLabel: 'quic hp',
  packetTypes: V1_TYPES,
}

// RFC 9369 §3.3.1, §3.3.2.
const V2: QuicVersionParams = {
  name: 'v2',
  salt: hex('0dede3def700a6db819381be6e269dcbf9bd2ed9'),
  keyLabel: 'quicv2 key',
  ivLabel: 'quicv2 iv',
  hpLabel: 'quicv2 hp',
  packetTypes: V2_TYPES,
}

// draft-ietf-quic-tls-29 §5.2; drafts 30 to 32 kept the same salt (draft 33 moved to v1's).
const DRAFT_29: QuicVersionParams = {
  name: 'draft-29',
  salt: hex('afbfec289993d24c9e9786f19c6111e04390a899'),
  keyLabel: 'quic key',
  ivLabel: 'quic iv',
  hpLabel: 'quic hp',
  packetTypes: V1_TYPES,
}

/** Initial protection parameters of `version`, or undefined when it is not one we can open. */
export function quicVersionParams(version: number): QuicVersionParams | undefined {
  if (version === QUIC_V1) return V1
  if (version === QUIC_V2) return V2
  if (version >= QUIC_DRAFT_29 && version <= 0xff00_0020) return DRAFT_29
  return undefined
}
