/**
 * @module protocols/tls/client-hello
 * ClientHello body parser (RFC 8446 §4.1.2, RFC 5246 §7.4.1.2, RFC 6347 §4.2.1 for the DTLS
 * cookie). Every list stays in wire order with GREASE kept: fingerprints normalize on their own.
 */

import { ByteReader, parseWith, type ParseResult } from '../../bytes/reader.ts'
import {
  ExtensionType,
  alpnAt,
  ecPointFormatsAt,
  readExtensionBlock,
  signatureAlgorithmsAt,
  sniAt,
  supportedGroupsAt,
  supportedVersionsAt,
  type WireExtension,
} from './extensions.ts'
import type { ClientHello, TlsAnomaly } from './types.ts'

export interface HelloParseOptions {
  /** The body is a DTLS hello (a cookie follows the session id in a ClientHello). */
  dtls?: boolean
}

/** RFC 8446 §4.1.2: `opaque legacy_session_id<0..32>`. */
export const MAX_SESSION_ID_BYTES = 32
const RANDOM_BYTES = 32

/**
 * Parses a ClientHello body (without the handshake header). Fails only when the fixed structure
 * or the extension block's framing is cut short; anything else becomes an anomaly.
 */
export function parseClientHello(
  body: Uint8Array,
  opts?: HelloParseOptions,
): ParseResult<ClientHello> {
  return parseWith('client_hello', () => readClientHello(new ByteReader(body), opts?.dtls === true))
}

function readClientHello(r: ByteReader, dtls: boolean): ClientHello {
  const anomalies: TlsAnomaly[] = []
  // RFC 8446 §4.1.2: ProtocolVersion legacy_version; Random random.
  const legacyVersion = r.u16()
  const random = r.bytes(RANDOM_BYTES)
  const sessionId = r.bytes(r.u8())
  if (sessionId.length > MAX_SESSION_ID_BYTES) anomalies.push('tls.session_id_too_long')
  // RFC 6347 §4.2.1: opaque cookie<0..2^8-1> (DTLS only).
  const cookie = dtls ? r.bytes(r.u8()) : undefined
  // RFC 8446 §4.1.2: CipherSuite cipher_suites<2..2^16-2>.
  const suites = r.vec16()
  const suiteBytes = suites.remaining
  if (suiteBytes === 0) anomalies.push('tls.no_cipher_suites')
  if (suiteBytes % 2 !== 0) anomalies.push('tls.odd_cipher_suites_length')
  const cipherSuites: number[] = []
  while (suites.remaining >= 2) cipherSuites.push(suites.u16())
  // RFC 8446 §4.1.2: opaque legacy_compression_methods<1..2^8-1>.
  const comp = r.vec8()
  if (comp.remaining === 0) anomalies.push('tls.no_compression_methods')
  const compressionMethods: number[] = []
  while (!comp.atEnd) compressionMethods.push(comp.u8())
  // RFC 5246 §7.4.1.2: the extensions block may be absent altogether (SSL 3.0, old TLS).
  const extensions: WireExtension[] = r.atEnd ? [] : readExtensionBlock(r, anomalies)
  if (!r.atEnd) anomalies.push('tls.trailing_bytes')

  const hello: ClientHello = {
    legacyVersion,
    random,
    sessionId,
    cookie,
    cipherSuites,
    compressionMethods,
    extensions,
    sni: undefined,
    alpn: [],
    supportedVersions: [],
    supportedGroups: [],
    ecPointFormats: [],
    signatureAlgorithms: [],
    bodyLength: r.end - r.start,
    anomalies,
  }
  decodeClientExtensions(hello, extensions, anomalies)
  return hello
}

/** Fills the decoded fields from the first extension of each type. */
function decodeClientExtensions(
  h: ClientHello,
  extensions: readonly WireExtension[],
  anomalies: TlsAnomaly[],
): void {
  let done = 0
  for (const e of extensions) {
    const bit = decodedBit(e.type)
    if (bit === 0 || (done & bit) !== 0) continue
    done |= bit
    const { bytes, start, end } = e
    switch (e.type) {
      case ExtensionType.ServerName:
        h.sni = sniAt(bytes, start, end, anomalies)
        break
      case ExtensionType.Alpn:
        h.alpn = alpnAt(bytes, start, end, anomalies)
        break
      case ExtensionType.SupportedVersions:
        h.supportedVersions = supportedVersionsAt(bytes, start, end, anomalies)
        break
      case ExtensionType.SupportedGroups:
        h.supportedGroups = supportedGroupsAt(bytes, start, end, anomalies)
        break
      case ExtensionType.EcPointFormats:
        h.ecPointFormats = ecPointFormatsAt(bytes, start, end, anomalies)
        break
      case ExtensionType.SignatureAlgorithms:
        h.signatureAlgorithms = signatureAlgorithmsAt(bytes, start, end, anomalies)
        break
    }
  }
}

function decodedBit(type: number): number {
  switch (type) {
    case ExtensionType.ServerName:
      return 1
    case ExtensionType.Alpn:
      return 2
    case ExtensionType.SupportedVersions:
      return 4
    case ExtensionType.SupportedGroups:
      return 8
    case ExtensionType.EcPointFormats:
      return 16
    case ExtensionType.SignatureAlgorithms:
      return 32
    default:
      return 0
  }
}
