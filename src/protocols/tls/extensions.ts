/**
 * @module protocols/tls/extensions
 * The extension block of a hello and decoders for the extensions fingerprints use. The block's
 * framing decides whether a hello parses; a malformed extension body only adds an anomaly and
 * decodes to what could be read.
 */

import type { ByteReader } from '../../bytes/reader.ts'
import { MAX_EXTENSIONS } from '../limits.ts'
import { isGrease } from './registry.ts'
import type { TlsAnomaly, TlsExtension } from './types.ts'

/** IANA TLS ExtensionType values this module decodes (see registry.ts for names). */
export const ExtensionType = {
  ServerName: 0x0000,
  SupportedGroups: 0x000a,
  EcPointFormats: 0x000b,
  SignatureAlgorithms: 0x000d,
  Alpn: 0x0010,
  SupportedVersions: 0x002b,
} as const

// One flag per extension type, reset after each block: duplicate detection without a Set.
const seen = new Uint8Array(0x10000)

/**
 * An extension as read from a hello: `bytes[start .. end)` is its body. The `data` view is made
 * when asked for, since most extensions are only counted, never read.
 */
export class WireExtension implements TlsExtension {
  constructor(
    readonly type: number,
    readonly bytes: Uint8Array,
    readonly start: number,
    readonly end: number,
  ) {}

  get data(): Uint8Array {
    return this.bytes.subarray(this.start, this.end)
  }
}

/**
 * Reads `Extension extensions<0..2^16-1>` (RFC 8446 §4.2) from `r`, in wire order, GREASE kept.
 * Throws the reader's Truncated signal when the block or an entry overruns: the caller's
 * `parseWith` turns that into a failed hello.
 */
export function readExtensionBlock(r: ByteReader, anomalies: TlsAnomaly[]): WireExtension[] {
  const block = r.vec16()
  const out: WireExtension[] = []
  let duplicate = false
  try {
    while (!block.atEnd) {
      // RFC 8446 §4.2: ExtensionType extension_type; opaque extension_data<0..2^16-1>.
      const type = block.u16()
      const len = block.u16()
      const start = block.pos
      block.skip(len)
      if (out.length >= MAX_EXTENSIONS) {
        addAnomaly(anomalies, 'tls.too_many_extensions')
        continue
      }
      // RFC 8446 §4.2: there MUST NOT be more than one extension of the same type in a block.
      if (seen[type] === 1) duplicate = true
      seen[type] = 1
      out.push(new WireExtension(type, block.buf, start, start + len))
    }
  } finally {
    for (const e of out) seen[e.type] = 0
  }
  if (duplicate) addAnomaly(anomalies, 'tls.duplicate_extension')
  return out
}

export function addAnomaly(anomalies: TlsAnomaly[], a: TlsAnomaly): void {
  if (!anomalies.includes(a)) anomalies.push(a)
}

function u16(b: Uint8Array, p: number): number {
  return ((b[p] ?? 0) << 8) | (b[p + 1] ?? 0)
}

/**
 * A `T list<..>` of fixed-size items behind a 1- or 2-byte length, in `d[start .. end)`. A length
 * that disagrees with the extension body, or a partial item, is an anomaly; the whole items that
 * are there are kept.
 */
function decodeList(
  d: Uint8Array,
  start: number,
  end: number,
  lenBytes: 1 | 2,
  itemBytes: 1 | 2,
  bad: TlsAnomaly,
  anomalies: TlsAnomaly[],
): number[] {
  const out: number[] = []
  if (end - start < lenBytes) {
    addAnomaly(anomalies, bad)
    return out
  }
  const declared = lenBytes === 1 ? (d[start] ?? 0) : u16(d, start)
  const avail = end - start - lenBytes
  let n = declared
  if (declared !== avail || declared % itemBytes !== 0 || declared === 0) {
    addAnomaly(anomalies, bad)
    n = Math.min(declared, avail)
  }
  const from = start + lenBytes
  const to = from + n - (n % itemBytes)
  if (itemBytes === 1) for (let p = from; p < to; p++) out.push(d[p] ?? 0)
  else for (let p = from; p < to; p += 2) out.push(u16(d, p))
  return out
}

/** RFC 8446 §4.2.7: `NamedGroup named_group_list<2..2^16-1>`. */
export function decodeSupportedGroups(data: Uint8Array, anomalies: TlsAnomaly[]): number[] {
  return supportedGroupsAt(data, 0, data.length, anomalies)
}

/** `decodeSupportedGroups` of `d[start .. end)`. */
export function supportedGroupsAt(
  d: Uint8Array,
  start: number,
  end: number,
  anomalies: TlsAnomaly[],
): number[] {
  return decodeList(d, start, end, 2, 2, 'tls.supported_groups_malformed', anomalies)
}

/** RFC 8422 §5.1.2: `ECPointFormat ec_point_format_list<1..2^8-1>`. */
export function decodeEcPointFormats(data: Uint8Array, anomalies: TlsAnomaly[]): number[] {
  return ecPointFormatsAt(data, 0, data.length, anomalies)
}

/** `decodeEcPointFormats` of `d[start .. end)`. */
export function ecPointFormatsAt(
  d: Uint8Array,
  start: number,
  end: number,
  anomalies: TlsAnomaly[],
): number[] {
  return decodeList(d, start, end, 1, 1, 'tls.ec_point_formats_malformed', anomalies)
}

/** RFC 8446 §4.2.3: `SignatureScheme supported_signature_algorithms<2..2^16-2>`. */
export function decodeSignatureAlgorithms(data: Uint8Array, anomalies: TlsAnomaly[]): number[] {
  return signatureAlgorithmsAt(data, 0, data.length, anomalies)
}

/** `decodeSignatureAlgorithms` of `d[start .. end)`. */
export function signatureAlgorithmsAt(
  d: Uint8Array,
  start: number,
  end: number,
  anomalies: TlsAnomaly[],
): number[] {
  return decodeList(d, start, end, 2, 2, 'tls.signature_algorithms_malformed', anomalies)
}

/** RFC 8446 §4.2.1 (ClientHello form): `ProtocolVersion versions<2..254>`. */
export function decodeSupportedVersions(data: Uint8Array, anomalies: TlsAnomaly[]): number[] {
  return supportedVersionsAt(data, 0, data.length, anomalies)
}

/** `decodeSupportedVersions` of `d[start .. end)`. */
export function supportedVersionsAt(
  d: Uint8Array,
  start: number,
  end: number,
  anomalies: TlsAnomaly[],
): number[] {
  const out = decodeList(d, start, end, 1, 2, 'tls.supported_versions_malformed', anomalies)
  if (out.length > 0 && out.every(isGrease))
    addAnomaly(anomalies, 'tls.supported_versions_only_grease')
  return out
}

/** RFC 8446 §4.2.1 (ServerHello form): a single `ProtocolVersion selected_version`. */
export function decodeSelectedVersion(
  data: Uint8Array,
  anomalies: TlsAnomaly[],
): number | undefined {
  if (data.length !== 2) {
    addAnomaly(anomalies, 'tls.supported_versions_malformed')
    return undefined
  }
  return u16(data, 0)
}

/**
 * RFC 7301 §3.1: `ProtocolName protocol_name_list<2..2^16-1>`, `opaque ProtocolName<1..2^8-1>`.
 * Names are raw byte views, in offer order; an empty name is kept (JA4 reads it as `00`).
 */
export function decodeAlpn(data: Uint8Array, anomalies: TlsAnomaly[]): Uint8Array[] {
  return alpnAt(data, 0, data.length, anomalies)
}

/** `decodeAlpn` of `d[start .. end)`. */
export function alpnAt(
  d: Uint8Array,
  start: number,
  bodyEnd: number,
  anomalies: TlsAnomaly[],
): Uint8Array[] {
  const out: Uint8Array[] = []
  if (bodyEnd - start < 2) {
    addAnomaly(anomalies, 'tls.alpn_malformed')
    return out
  }
  const declared = u16(d, start)
  let end = start + 2 + declared
  if (end !== bodyEnd || declared === 0) {
    addAnomaly(anomalies, 'tls.alpn_malformed')
    end = Math.min(end, bodyEnd)
  }
  let p = start + 2
  while (p < end) {
    const len = d[p] ?? 0
    if (p + 1 + len > end) {
      addAnomaly(anomalies, 'tls.alpn_malformed')
      break
    }
    if (len === 0) addAnomaly(anomalies, 'tls.alpn_empty_protocol')
    out.push(d.subarray(p + 1, p + 1 + len))
    p += 1 + len
  }
  return out
}

/** RFC 6066 §3 NameType host_name. */
const HOST_NAME = 0
/** RFC 1035 §2.3.4: 255 octets on the wire, 253 characters in text form. */
const MAX_HOSTNAME_CHARS = 253

/**
 * RFC 6066 §3: `ServerName server_name_list<1..2^16-1>`, each `NameType name_type` +
 * `opaque HostName<1..2^16-1>`. Returns the first host_name as text. A name that is not a DNS
 * name (an IP literal, which RFC 6066 forbids, or odd characters) adds `tls.sni_not_hostname`;
 * it is still returned when printable ASCII, and dropped otherwise.
 */
export function decodeSni(data: Uint8Array, anomalies: TlsAnomaly[]): string | undefined {
  return sniAt(data, 0, data.length, anomalies)
}

/** `decodeSni` of `d[start .. end)`. */
export function sniAt(
  d: Uint8Array,
  start: number,
  bodyEnd: number,
  anomalies: TlsAnomaly[],
): string | undefined {
  if (bodyEnd - start < 2) {
    addAnomaly(anomalies, 'tls.sni_malformed')
    return undefined
  }
  const declared = u16(d, start)
  let end = start + 2 + declared
  if (end !== bodyEnd || declared === 0) {
    addAnomaly(anomalies, 'tls.sni_malformed')
    end = Math.min(end, bodyEnd)
  }
  let p = start + 2
  let nameStart = -1
  let nameEnd = -1
  while (p < end) {
    if (p + 3 > end) {
      addAnomaly(anomalies, 'tls.sni_malformed')
      break
    }
    const type = d[p] ?? 0
    const len = u16(d, p + 1)
    if (p + 3 + len > end) {
      addAnomaly(anomalies, 'tls.sni_malformed')
      break
    }
    if (type === HOST_NAME && nameStart < 0) {
      nameStart = p + 3
      nameEnd = p + 3 + len
    }
    p += 3 + len
  }
  if (nameStart < 0) return undefined
  const name = d.subarray(nameStart, nameEnd)
  if (!isDnsName(name)) addAnomaly(anomalies, 'tls.sni_not_hostname')
  for (const b of name) if (b < 0x20 || b > 0x7e) return undefined
  return ascii.decode(name)
}

// Only printable ASCII reaches it, so any ASCII-compatible decoder gives the same string.
const ascii = new TextDecoder()

/**
 * A DNS host name in the RFC 6066 §3 sense: 1..253 characters of letters, digits, `-`, `_` and
 * `.`, no empty label, and not all digits and dots (a literal IPv4 address).
 */
export function isDnsName(b: Uint8Array): boolean {
  if (b.length === 0 || b.length > MAX_HOSTNAME_CHARS) return false
  let labelLen = 0
  let onlyDigits = true
  for (const c of b) {
    if (c === 0x2e) {
      if (labelLen === 0) return false
      labelLen = 0
      continue
    }
    labelLen++
    if (c >= 0x30 && c <= 0x39) continue
    onlyDigits = false
    const lower = c | 0x20
    if ((lower >= 0x61 && lower <= 0x7a) || c === 0x2d || c === 0x5f) continue
    return false
  }
  return labelLen > 0 && !onlyDigits
}
