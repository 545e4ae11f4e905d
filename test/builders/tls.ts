/** Builders for TLS/DTLS handshake bytes in tests (wire formats of RFC 8446 / RFC 6347). */
import { ByteBuilder } from '../../src/bytes/builder.ts'

export type ExtSpec = [type: number, data: Uint8Array]

export interface HelloSpec {
  legacyVersion?: number
  ciphers: number[]
  extensions?: ExtSpec[] | undefined
  sessionId?: Uint8Array
  compression?: number[]
  /** DTLS cookie (RFC 6347 §4.2.1); presence switches to the DTLS layout. */
  cookie?: Uint8Array
}

/** ClientHello body (without the handshake header). */
export function clientHelloBody(s: HelloSpec): Uint8Array {
  const b = new ByteBuilder()
    .u16(s.legacyVersion ?? 0x0303)
    .zeros(32)
    .vec8((v) => v.bytes(s.sessionId ?? new Uint8Array(32).fill(7)))
  if (s.cookie !== undefined) b.vec8((v) => v.bytes(s.cookie ?? new Uint8Array()))
  b.vec16((v) => s.ciphers.forEach((c) => v.u16(c))).vec8((v) => (s.compression ?? [0]).forEach((c) => v.u8(c)))
  if (s.extensions !== undefined) {
    b.vec16((v) => {
      for (const [t, d] of s.extensions ?? []) v.u16(t).vec16((x) => x.bytes(d))
    })
  }
  return b.build()
}

export function serverHelloBody(s: { version?: number; cipher: number; extensions?: ExtSpec[]; random?: Uint8Array }): Uint8Array {
  const b = new ByteBuilder()
    .u16(s.version ?? 0x0303)
    .bytes(s.random ?? new Uint8Array(32).fill(1))
    .vec8((v) => v.bytes(new Uint8Array(32).fill(7)))
    .u16(s.cipher)
    .u8(0)
  if (s.extensions !== undefined) {
    b.vec16((v) => {
      for (const [t, d] of s.extensions ?? []) v.u16(t).vec16((x) => x.bytes(d))
    })
  }
  return b.build()
}

/** Handshake message: type + 24-bit length + body (RFC 8446 §4). */
export function handshake(type: number, body: Uint8Array): Uint8Array {
  return new ByteBuilder().u8(type).vec24((v) => v.bytes(body)).build()
}

/** TLS record(s) carrying `payload`, split into records of at most `maxFragment` bytes. */
export function records(contentType: number, payload: Uint8Array, version = 0x0301, maxFragment = 16384): Uint8Array {
  const b = new ByteBuilder()
  for (let i = 0; i < payload.length || i === 0; i += maxFragment) {
    const part = payload.subarray(i, i + maxFragment)
    b.u8(contentType).u16(version).vec16((v) => v.bytes(part))
    if (payload.length === 0) break
  }
  return b.build()
}

export const ext = {
  sni: (name: string): ExtSpec => [
    0x0000,
    new ByteBuilder().vec16((l) => l.u8(0).vec16((n) => n.ascii(name))).build(),
  ],
  alpn: (...names: (string | Uint8Array)[]): ExtSpec => [
    0x0010,
    new ByteBuilder()
      .vec16((l) => names.forEach((n) => l.vec8((x) => (typeof n === 'string' ? x.ascii(n) : x.bytes(n)))))
      .build(),
  ],
  u16list: (type: number, values: number[]): ExtSpec => [
    type,
    new ByteBuilder().vec16((l) => values.forEach((v) => l.u16(v))).build(),
  ],
  supportedVersions: (values: number[]): ExtSpec => [
    0x002b,
    new ByteBuilder().vec8((l) => values.forEach((v) => l.u16(v))).build(),
  ],
  pointFormats: (values: number[]): ExtSpec => [
    0x000b,
    new ByteBuilder().vec8((l) => values.forEach((v) => l.u8(v))).build(),
  ],
  raw: (type: number, data: ArrayLike<number> = []): ExtSpec => [type, Uint8Array.from(data)],
}

/**
 * Chrome-like ClientHello (cipher and extension sets of FINGERPRINTS.md's worked example, with
 * GREASE): JA4 `t13d1516h2_8daaf6152771_e5627efa2ab1`.
 */
export function chromeHelloSpec(sni = 'example.com'): HelloSpec {
  return {
    ciphers: [0x0a0a, 0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9, 0xcca8, 0xc013, 0xc014, 0x009c, 0x009d, 0x002f, 0x0035],
    extensions: [
      ext.raw(0x1a1a),
      ext.sni(sni),
      ext.raw(0x0017),
      ext.raw(0xff01, [0]),
      ext.u16list(0x000a, [0x2a2a, 0x001d, 0x0017, 0x0018]),
      ext.pointFormats([0]),
      ext.raw(0x0023),
      ext.alpn('h2', 'http/1.1'),
      ext.raw(0x0005, [1, 0, 0, 0, 0]),
      ext.u16list(0x000d, [0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601]),
      ext.raw(0x0012),
      ext.raw(0x0033, [0, 0]),
      ext.raw(0x002d, [1, 1]),
      ext.supportedVersions([0x3a3a, 0x0304, 0x0303]),
      ext.raw(0x001b, [2, 0, 2]),
      ext.raw(0x4469, [0, 3, 2, 0x68, 0x32]),
      ext.raw(0x2a2a, [0]),
      ext.raw(0x0015, new Array<number>(20).fill(0)),
    ],
  }
}

/** DTLS 1.2 record + handshake header (RFC 6347 §4.1, §4.2.2), one unfragmented message. */
export function dtlsHandshakeRecord(type: number, body: Uint8Array, messageSeq = 0, version = 0xfefd): Uint8Array {
  const hs = new ByteBuilder()
    .u8(type)
    .u24(body.length)
    .u16(messageSeq)
    .u24(0)
    .u24(body.length)
    .bytes(body)
    .build()
  return new ByteBuilder().u8(22).u16(version).u16(0).u16(0).u32(messageSeq).vec16((v) => v.bytes(hs)).build()
}
