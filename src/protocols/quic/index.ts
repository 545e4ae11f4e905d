/**
 * @module protocols/quic
 * QUIC Initial decoding, pure and bounded: `parseLongHeaders` splits a UDP datagram into its
 * coalesced long-header packets, `initialKeys` + `decryptInitial` open Initial packets (v1, v2,
 * drafts 29-32), `parseInitialFrames` walks their frames and `QuicCryptoStream` reassembles CRYPTO
 * data into TLS handshake messages for the TLS parsers.
 */
export type * from './types.ts'
export {
  parseLongHeaders,
  initialKeys,
  decryptInitial,
  decodePacketNumber,
  type DecryptedInitial,
  type DecryptOptions,
  type QuicDecryptError,
  type QuicDecryptResult,
} from './initial.ts'
export {
  parseInitialFrames,
  FrameType,
  type InitialFrames,
  type InitialFramesStop,
  type QuicConnectionClose,
} from './frames.ts'
export { QuicCryptoStream } from './crypto-stream.ts'
export { readVarint, encodeVarint, MAX_VARINT } from './varint.ts'
export {
  quicVersionParams,
  QUIC_V1,
  QUIC_V2,
  QUIC_DRAFT_29,
  type QuicVersionParams,
} from './versions.ts'
export type { QuicInitialKeys, QuicPacketKeys } from './crypto.ts'
