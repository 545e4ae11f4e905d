/**
 * @module protocols/tls/server-hello
 * ServerHello / HelloRetryRequest body parser (RFC 8446 §4.1.3, §4.1.4; RFC 5246 §7.4.1.3;
 * DTLS uses the same layout, RFC 6347 §4.2.1).
 */

import { ByteReader, parseWith, type ParseResult } from '../../bytes/reader.ts'
import type { HelloParseOptions } from './client-hello.ts'
import { MAX_SESSION_ID_BYTES } from './client-hello.ts'
import {
  ExtensionType,
  addAnomaly,
  alpnAt,
  decodeSelectedVersion,
  readExtensionBlock,
  type WireExtension,
} from './extensions.ts'
import type { ServerHello, TlsAnomaly } from './types.ts'

/** RFC 8446 §4.1.3: a HelloRetryRequest's random is SHA-256("HelloRetryRequest"). */
export const HELLO_RETRY_REQUEST_RANDOM = Uint8Array.of(
  0xcf,
  0x21,
  0xad,
  0x74,
  0xe5,
  0x9a,
  0x61,
  0x11,
  0xbe,
  0x1d,
  0x8c,
  0x02,
  0x1e,
  0x65,
  0xb8,
  0x91,
  0xc2,
  0xa2,
  0x11,
  0x16,
  0x7a,
  0xbb,
  0x8c,
  0x5e,
  0x07,
  0x9e,
  0x09,
  0xe2,
  0xc8,
  0xa8,
  0x33,
  0x9c,
)

const RANDOM_BYTES = 32
const EMPTY = new Uint8Array(0)

/** Parses a ServerHello body (without the handshake header). */
// NOTE: the DTLS ServerHello has no cookie, so `dtls` changes nothing in the layout; the option
// is accepted for symmetry with parseClientHello.
export function parseServerHello(
  body: Uint8Array,
  opts?: HelloParseOptions & { following?: Uint8Array | undefined },
): ParseResult<ServerHello> {
  return parseWith('server_hello', () => readServerHello(new ByteReader(body), opts?.following))
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

function readServerHello(r: ByteReader, following: Uint8Array | undefined): ServerHello {
  const anomalies: TlsAnomaly[] = []
  // RFC 8446 §4.1.3: legacy_version, random, legacy_session_id_echo<0..32>, cipher_suite,
  // legacy_compression_method, extensions<6..2^16-1> (absent in TLS <= 1.2 is fine).
  const legacyVersion = r.u16()
  const random = r.bytes(RANDOM_BYTES)
  // draft-ietf-tls-tls13-21 §4.1.3: up to draft 21 a ServerHello carried the draft version
  // (0x7fNN) and had neither session id nor compression method; draft 22 restored both.
  const early13 = legacyVersion >> 8 === 0x7f && (legacyVersion & 0xff) < 22
  let sessionId: Uint8Array
  let cipherSuite: number
  let compressionMethod: number
  let extensions: WireExtension[] = []
  const sidLen = early13 ? 0 : r.u8()
  if (sidLen > r.remaining && following !== undefined) {
    // HACK: Wireshark (and every tool built on its fields) does not bound the session id by the
    // message: it reads on into the bytes that follow in the segment, then takes the cipher suite
    // and compression method from there and sees no extensions. Draft-14 TLS 1.3 servers
    // (no session id, 0x0304 in legacy_version) hit this; we reproduce the reference values
    // from bytes we hold and flag the hello.
    anomalies.push('tls.session_id_overrun')
    const joined = new Uint8Array(r.remaining + following.length)
    joined.set(r.rest())
    joined.set(following, joined.length - following.length)
    const j = new ByteReader(joined)
    sessionId = j.bytes(sidLen)
    cipherSuite = j.u16()
    compressionMethod = j.u8()
  } else {
    sessionId = early13 ? EMPTY : r.bytes(sidLen)
    if (sessionId.length > MAX_SESSION_ID_BYTES) anomalies.push('tls.session_id_too_long')
    cipherSuite = r.u16()
    compressionMethod = early13 ? 0 : r.u8()
    extensions = r.atEnd ? [] : readExtensionBlock(r, anomalies)
    if (!r.atEnd) anomalies.push('tls.trailing_bytes')
  }

  let selectedVersion: number | undefined
  let alpn: Uint8Array | undefined
  let sawVersion = false
  let sawAlpn = false
  for (const e of extensions) {
    if (e.type === ExtensionType.SupportedVersions && !sawVersion) {
      sawVersion = true
      selectedVersion = decodeSelectedVersion(e.data, anomalies)
    } else if (e.type === ExtensionType.Alpn && !sawAlpn) {
      sawAlpn = true
      // RFC 7301 §3.1: the server's list MUST contain exactly one protocol name.
      const names = alpnAt(e.bytes, e.start, e.end, anomalies)
      if (names.length !== 1) addAnomaly(anomalies, 'tls.alpn_count_invalid')
      alpn = names[0]
    }
  }
  return {
    legacyVersion,
    random,
    sessionId,
    cipherSuite,
    compressionMethod,
    extensions,
    selectedVersion,
    alpn,
    isHelloRetryRequest: sameBytes(random, HELLO_RETRY_REQUEST_RANDOM),
    bodyLength: r.end - r.start,
    anomalies,
  }
}
