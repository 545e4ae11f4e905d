/** @module protocols/quic/types — QUIC long-header packets, Initial frames and anomaly codes. */

/** Typed anomaly codes of the QUIC decoders; detection rules match on them. */
export type QuicAnomaly =
  /** CRYPTO bytes beyond `MAX_QUIC_CRYPTO_BYTES` were dropped. */
  | 'quic.crypto_limit'
  /** A CRYPTO chunk was dropped: it would leave more than `MAX_QUIC_CRYPTO_PENDING_CHUNKS` ranges. */
  | 'quic.crypto_too_many_gaps'
  /** A retransmitted CRYPTO range carried different bytes than the first copy (first one kept). */
  | 'quic.crypto_conflict'
  /** A handshake message declared more than `MAX_HANDSHAKE_BYTES`. */
  | 'quic.handshake_too_long'

/** Long-header packet types (RFC 9000 §17.2, RFC 9369 §3.2), plus the two version-less cases. */
export type QuicPacketType =
  | 'initial'
  | '0rtt'
  | 'handshake'
  | 'retry'
  /** Version 0 (RFC 9000 §17.2.1). */
  | 'version_negotiation'
  /** A version we cannot decode past the invariant header (RFC 8999 §5.1). */
  | 'unknown_version'

/** One long-header packet found in a UDP datagram. Byte fields are views into the datagram. */
export interface QuicLongHeaderPacket {
  version: number
  type: QuicPacketType
  /** First byte as on the wire (still header-protected for Initial / 0-RTT / Handshake). */
  firstByte: number
  dcid: Uint8Array
  scid: Uint8Array
  /** Initial only (RFC 9000 §17.2.2); empty otherwise. */
  token: Uint8Array
  /** Offset of the packet in the datagram. */
  offset: number
  /** The whole packet: header, packet number and protected payload. */
  bytes: Uint8Array
  /**
   * Offset of the Packet Number field within `bytes` (Initial, 0-RTT, Handshake); -1 for Retry,
   * Version Negotiation and unknown versions.
   */
  pnOffset: number
}

/** Why the datagram walk stopped. */
export type QuicDatagramStop =
  /** Every byte belonged to a packet. */
  | 'end'
  /** A short-header (1-RTT) packet follows; it runs to the end of the datagram (RFC 9000 §12.2). */
  | 'short_header'
  /** Only zero bytes follow (datagram padding after the last packet). */
  | 'padding'
  /** A packet's header or Length field ran past the end of the datagram. */
  | 'truncated'
  /** Bytes that are not a QUIC packet (e.g. a connection ID longer than version 1 allows). */
  | 'malformed'

export interface QuicDatagram {
  packets: QuicLongHeaderPacket[]
  stop: QuicDatagramStop
  /** Offset in the datagram where the walk stopped (its length when `stop` is `'end'`). */
  stopOffset: number
}

/** One CRYPTO frame's payload (RFC 9000 §19.6). `data` is a view into the decrypted payload. */
export interface CryptoChunk {
  offset: number
  data: Uint8Array
}
