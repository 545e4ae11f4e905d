/**
 * @module protocols/quic/frames
 * Frames of a decrypted Initial packet (RFC 9000 §19). An Initial may carry only PADDING, PING,
 * ACK, CRYPTO and CONNECTION_CLOSE of type 0x1c (RFC 9000 §17.2.2, §12.4 table 3); anything else
 * ends the walk with a typed stop reason.
 */

import { ByteReader, parseWith } from '../../bytes/reader.ts'
import type { CryptoChunk } from './types.ts'
import { MAX_VARINT, readVarint } from './varint.ts'

/** Frame types handled here (RFC 9000 §19). */
export const FrameType = {
  PADDING: 0x00,
  PING: 0x01,
  ACK: 0x02,
  ACK_ECN: 0x03,
  CRYPTO: 0x06,
  CONNECTION_CLOSE: 0x1c,
} as const

export interface QuicConnectionClose {
  errorCode: number
  /** Type of the frame that triggered the error (0 when unknown). */
  frameType: number
  /** Reason phrase, raw bytes (a view into the payload). */
  reason: Uint8Array
}

export interface InitialFramesStop {
  /** `unknown_frame`: a frame type an Initial may not carry; `truncated`: a frame ran past the end; `bad_value`: a CRYPTO range beyond 2^62 - 1. */
  reason: 'unknown_frame' | 'truncated' | 'bad_value'
  /** Offset in the payload of the frame that stopped the walk. */
  offset: number
  frameType: number
}

export interface InitialFrames {
  /** CRYPTO frame payloads in packet order (views into the payload). */
  crypto: CryptoChunk[]
  /** Frame types in packet order; runs of PADDING appear once. */
  frameTypes: number[]
  paddingBytes: number
  connectionClose: QuicConnectionClose | undefined
  /** Set when the walk ended before the end of the payload. */
  stop: InitialFramesStop | undefined
}

/** Walks the plaintext frames of an Initial packet; never throws. */
export function parseInitialFrames(payload: Uint8Array): InitialFrames {
  const out: InitialFrames = {
    crypto: [],
    frameTypes: [],
    paddingBytes: 0,
    connectionClose: undefined,
    stop: undefined,
  }
  const r = new ByteReader(payload)
  while (!r.atEnd) {
    const at = r.pos
    let frameType = -1
    const step = parseWith('quic frame', () => {
      frameType = readVarint(r)
      return readFrame(r, frameType, out)
    })
    if (!step.ok) {
      const reason = step.error.code === 'truncated' ? 'truncated' : 'bad_value'
      out.stop = { reason, offset: at, frameType }
      break
    }
    if (!step.value) {
      out.stop = { reason: 'unknown_frame', offset: at, frameType }
      break
    }
  }
  return out
}

/** Reads one frame body; false when the type is not one an Initial may carry. */
function readFrame(r: ByteReader, type: number, out: InitialFrames): boolean {
  switch (type) {
    case FrameType.PADDING: {
      // RFC 9000 §19.1: PADDING is a single 0x00 byte; count a whole run at once.
      let n = 1
      while (!r.atEnd && r.peekU8() === 0) {
        r.skip(1)
        n++
      }
      out.paddingBytes += n
      out.frameTypes.push(type)
      return true
    }
    case FrameType.PING:
      out.frameTypes.push(type)
      return true
    case FrameType.ACK:
    case FrameType.ACK_ECN: {
      // RFC 9000 §19.3: Largest Acknowledged, ACK Delay, ACK Range Count, First ACK Range,
      // ACK Range (Gap, ACK Range Length) ..., and for 0x03 the ECT0 / ECT1 / ECN-CE counts.
      readVarint(r)
      readVarint(r)
      const ranges = readVarint(r)
      readVarint(r)
      // NOTE: each range reads at least two bytes, so a huge count ends in a truncation.
      for (let i = 0; i < ranges; i++) {
        readVarint(r)
        readVarint(r)
      }
      if (type === FrameType.ACK_ECN) {
        readVarint(r)
        readVarint(r)
        readVarint(r)
      }
      out.frameTypes.push(type)
      return true
    }
    case FrameType.CRYPTO: {
      // RFC 9000 §19.6: Offset (i), Length (i), Crypto Data; offset + length <= 2^62 - 1.
      const offset = readVarint(r)
      const length = readVarint(r)
      if (offset + length > MAX_VARINT) r.fail('bad_value', 'quic.crypto_range')
      out.crypto.push({ offset, data: r.bytes(length) })
      out.frameTypes.push(type)
      return true
    }
    case FrameType.CONNECTION_CLOSE: {
      // RFC 9000 §19.19: Error Code (i), Frame Type (i), Reason Phrase Length (i), Reason Phrase.
      const errorCode = readVarint(r)
      const frameType = readVarint(r)
      const reason = r.bytes(readVarint(r))
      out.connectionClose = { errorCode, frameType, reason }
      out.frameTypes.push(type)
      return true
    }
    default:
      return false
  }
}
