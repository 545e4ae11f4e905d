/**
 * @module protocols/quic/test-helpers/packets
 * Builds protected long-header packets field by field (RFC 9000 §17.2, RFC 9001 §5.3 - §5.4).
 */

import { ByteBuilder } from '../../../bytes/builder.ts'
import { aes128GcmSeal, headerProtectionMask, type QuicPacketKeys } from '../crypto.ts'
import { encodeVarint } from '../varint.ts'

export interface LongPacketSpec {
  version: number
  /** The two type bits (0x30 >> 4) as on the wire for this version. */
  typeBits: number
  dcid: Uint8Array
  scid?: Uint8Array
  /** Initial only: written when defined. */
  token?: Uint8Array
  packetNumber: number
  /** 1 to 4. */
  pnLength?: number
  payload: Uint8Array
}

/** A protected packet; `keys` undefined leaves it unprotected and unencrypted (tag-less). */
export function longPacket(spec: LongPacketSpec, keys?: QuicPacketKeys): Uint8Array {
  const pnLength = spec.pnLength ?? 4
  const tag = keys === undefined ? 0 : 16
  const b = new ByteBuilder()
    .u8(0xc0 | (spec.typeBits << 4) | (pnLength - 1))
    .u32(spec.version)
    .u8(spec.dcid.length)
    .bytes(spec.dcid)
    .u8(spec.scid?.length ?? 0)
    .bytes(spec.scid ?? new Uint8Array(0))
  if (spec.token !== undefined) b.bytes(encodeVarint(spec.token.length)).bytes(spec.token)
  b.bytes(encodeVarint(pnLength + spec.payload.length + tag))
  const pnOffset = b.build().length
  for (let i = pnLength - 1; i >= 0; i--) b.u8(Math.floor(spec.packetNumber / 256 ** i) & 0xff)
  const header = b.build()
  if (keys === undefined) return new ByteBuilder().bytes(header).bytes(spec.payload).build()
  const nonce = keys.iv.slice()
  for (let i = 0, pn = spec.packetNumber; i < 8; i++, pn = Math.floor(pn / 256)) {
    nonce[11 - i] = (nonce[11 - i] ?? 0) ^ (pn % 256)
  }
  const sealed = aes128GcmSeal(keys.key, nonce, header, spec.payload)
  const packet = new ByteBuilder().bytes(header).bytes(sealed).build()
  const mask = headerProtectionMask(keys.hp, packet.subarray(pnOffset + 4, pnOffset + 20))
  packet[0] = (packet[0] ?? 0) ^ ((mask[0] ?? 0) & 0x0f)
  for (let i = 0; i < pnLength; i++) {
    packet[pnOffset + i] = (packet[pnOffset + i] ?? 0) ^ (mask[1 + i] ?? 0)
  }
  return packet
}

/** A CRYPTO frame (RFC 9000 §19.6). */
export function cryptoFrame(offset: number, data: Uint8Array): Uint8Array {
  return new ByteBuilder()
    .u8(0x06)
    .bytes(encodeVarint(offset))
    .bytes(encodeVarint(data.length))
    .bytes(data)
    .build()
}

export function concat(...parts: Uint8Array[]): Uint8Array {
  const b = new ByteBuilder()
  for (const p of parts) b.bytes(p)
  return b.build()
}
