/**
 * @module protocols/tls/test-helpers/fixtures
 * Builders for TLS / DTLS byte fixtures and the split-feeding helper used by the stream tests.
 * Every fixture is built from its fields, so a test states the wire format it exercises.
 */

import { ByteBuilder } from '../../../bytes/builder.ts'
import type { HandshakeMessage } from '../types.ts'

export interface Ext {
  type: number
  data: Uint8Array
}

export interface ClientHelloSpec {
  legacyVersion?: number
  random?: Uint8Array
  sessionId?: Uint8Array
  /** DTLS only: when set, a cookie vector follows the session id. */
  cookie?: Uint8Array
  ciphers: number[]
  compression?: number[]
  /** `undefined` leaves the extension block out entirely. */
  extensions?: Ext[]
}

export interface ServerHelloSpec {
  legacyVersion?: number
  random?: Uint8Array
  sessionId?: Uint8Array
  cipher: number
  compression?: number
  extensions?: Ext[]
}

const RANDOM = Uint8Array.from({ length: 32 }, (_, i) => (i * 7 + 3) & 0xff)

export function clientHelloBody(spec: ClientHelloSpec): Uint8Array {
  const b = new ByteBuilder()
    .u16(spec.legacyVersion ?? 0x0303)
    .bytes(spec.random ?? RANDOM)
    .vec8((v) => v.bytes(spec.sessionId ?? new Uint8Array(0)))
  if (spec.cookie !== undefined) {
    const cookie = spec.cookie
    b.vec8((v) => v.bytes(cookie))
  }
  b.vec16((v) => {
    for (const c of spec.ciphers) v.u16(c)
  })
  b.vec8((v) => v.bytes(spec.compression ?? [0]))
  if (spec.extensions !== undefined) b.bytes(extensionBlock(spec.extensions))
  return b.build()
}

export function serverHelloBody(spec: ServerHelloSpec): Uint8Array {
  const b = new ByteBuilder()
    .u16(spec.legacyVersion ?? 0x0303)
    .bytes(spec.random ?? RANDOM)
    .vec8((v) => v.bytes(spec.sessionId ?? new Uint8Array(0)))
    .u16(spec.cipher)
    .u8(spec.compression ?? 0)
  if (spec.extensions !== undefined) b.bytes(extensionBlock(spec.extensions))
  return b.build()
}

export function extensionBlock(exts: Ext[]): Uint8Array {
  return new ByteBuilder()
    .vec16((v) => {
      for (const e of exts) v.u16(e.type).vec16((d) => d.bytes(e.data))
    })
    .build()
}

export function ext(type: number, data: ArrayLike<number> = []): Ext {
  return { type, data: Uint8Array.from(data) }
}

/** RFC 6066 §3 server_name with one host_name. */
export function sniExt(name: string): Ext {
  return {
    type: 0x0000,
    data: new ByteBuilder().vec16((l) => l.u8(0).vec16((n) => n.ascii(name))).build(),
  }
}

/** RFC 7301 ALPN; names as strings (ASCII) or raw bytes. */
export function alpnExt(names: (string | ArrayLike<number>)[]): Ext {
  return {
    type: 0x0010,
    data: new ByteBuilder()
      .vec16((l) => {
        for (const n of names) l.vec8((x) => (typeof n === 'string' ? x.ascii(n) : x.bytes(n)))
      })
      .build(),
  }
}

export function u16ListExt(type: number, values: number[], lenBytes: 1 | 2 = 2): Ext {
  return {
    type,
    data: new ByteBuilder()
      .vec(lenBytes, (l) => {
        for (const v of values) l.u16(v)
      })
      .build(),
  }
}

export const supportedVersionsExt = (v: number[]): Ext => u16ListExt(0x002b, v, 1)
export const groupsExt = (v: number[]): Ext => u16ListExt(0x000a, v)
export const sigAlgsExt = (v: number[]): Ext => u16ListExt(0x000d, v)
export const ecPointFormatsExt = (v: number[]): Ext => ({
  type: 0x000b,
  data: new ByteBuilder().vec8((l) => l.bytes(v)).build(),
})

/** RFC 8446 §4: msg_type(1) length(3) body. */
export function handshake(type: number, body: Uint8Array): Uint8Array {
  return new ByteBuilder().u8(type).u24(body.length).bytes(body).build()
}

/** RFC 8446 §5.1 record: type(1) version(2) length(2) fragment. */
export function record(type: number, fragment: Uint8Array, version = 0x0301): Uint8Array {
  return new ByteBuilder().u8(type).u16(version).u16(fragment.length).bytes(fragment).build()
}

/** Splits `payload` into handshake records of at most `size` bytes each. */
export function records(
  type: number,
  payload: Uint8Array,
  size: number,
  version = 0x0303,
): Uint8Array {
  const b = new ByteBuilder()
  for (let p = 0; p < payload.length; p += size)
    b.bytes(record(type, payload.subarray(p, p + size), version))
  return b.build()
}

export function concat(...parts: Uint8Array[]): Uint8Array {
  const b = new ByteBuilder()
  for (const p of parts) b.bytes(p)
  return b.build()
}

export function ascii(s: string): Uint8Array {
  return new ByteBuilder().ascii(s).build()
}

/** RFC 6347 §4.1 record header + fragment. */
export function dtlsRecord(
  type: number,
  fragment: Uint8Array,
  opts: { version?: number; epoch?: number; seq?: number } = {},
): Uint8Array {
  const seq = opts.seq ?? 0
  return new ByteBuilder()
    .u8(type)
    .u16(opts.version ?? 0xfefd)
    .u16(opts.epoch ?? 0)
    .u16(Math.floor(seq / 0x100000000))
    .u32(seq >>> 0)
    .u16(fragment.length)
    .bytes(fragment)
    .build()
}

/** RFC 6347 §4.2.2 handshake fragment of `body` (the whole body by default). */
export function dtlsHandshake(
  type: number,
  messageSeq: number,
  body: Uint8Array,
  offset = 0,
  length = body.length - offset,
): Uint8Array {
  return new ByteBuilder()
    .u8(type)
    .u24(body.length)
    .u16(messageSeq)
    .u24(offset)
    .u24(length)
    .bytes(body.subarray(offset, offset + length))
    .build()
}

export interface StreamLike {
  push(data: Uint8Array): HandshakeMessage[]
}

/**
 * Feeds `bytes` to a fresh stream whole, split at every offset into two chunks, and in one-byte
 * chunks; calls `check` with each run's messages and stream, labelled for assertion messages.
 */
export function forEverySplit<S extends StreamLike>(
  bytes: Uint8Array,
  make: () => S,
  check: (messages: HandshakeMessage[], stream: S, label: string) => void,
): void {
  const whole = make()
  check(whole.push(bytes), whole, 'whole')
  for (let i = 1; i < bytes.length; i++) {
    const s = make()
    const msgs = [...s.push(bytes.slice(0, i)), ...s.push(bytes.slice(i))]
    check(msgs, s, `split at ${i}`)
  }
  const s = make()
  const msgs: HandshakeMessage[] = []
  for (let i = 0; i < bytes.length; i++) msgs.push(...s.push(bytes.slice(i, i + 1)))
  check(msgs, s, 'one-byte chunks')
}

/** GREASE values Chrome would use (RFC 8701). */
export const GREASE_A = 0x0a0a
export const GREASE_B = 0x3a3a

/**
 * The Chrome ClientHello of the FINGERPRINTS.md §2 worked example, GREASE included:
 * JA4 `t13d1516h2_8daaf6152771_e5627efa2ab1`.
 */
export function chromeHelloSpec(): ClientHelloSpec {
  return {
    legacyVersion: 0x0303,
    sessionId: new Uint8Array(32).fill(0x11),
    ciphers: [
      GREASE_A,
      0x1301,
      0x1302,
      0x1303,
      0xc02b,
      0xc02f,
      0xc02c,
      0xc030,
      0xcca9,
      0xcca8,
      0xc013,
      0xc014,
      0x009c,
      0x009d,
      0x002f,
      0x0035,
    ],
    extensions: [
      ext(GREASE_A),
      ext(0xff01, [0]),
      ext(0x0033, [0, 0]),
      ext(0x002d, [1, 1]),
      ext(0x0005, [1, 0, 0, 0, 0]),
      ext(0x4469, [0, 3, 2, 0x68, 0x32]),
      sigAlgsExt([0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601]),
      alpnExt(['h2', 'http/1.1']),
      ext(0x0023),
      ext(0x001b, [2, 0, 2]),
      supportedVersionsExt([GREASE_B, 0x0304, 0x0303]),
      sniExt('www.example.com'),
      ext(0x0012),
      groupsExt([GREASE_A, 0x001d, 0x0017, 0x0018]),
      ext(0x0017),
      ecPointFormatsExt([0]),
      ext(GREASE_B, [0]),
      ext(0x0015, new Array<number>(40).fill(0)),
    ],
  }
}
