/**
 * @module protocols/x509/name
 * X.501 Names as RFC 5280 §4.1.2.4 encodes them (`SEQUENCE OF RelativeDistinguishedName`, each a
 * `SET OF AttributeTypeAndValue`), flattened to attributes in wire order, plus an RFC 4514 string.
 */

import { parseWith } from '../../bytes/reader.ts'
import { toHex } from '../../bytes/hex.ts'
import { addX509Anomaly, type X509Anomaly } from './anomalies.ts'
import { DerTag, readOid, type DerReader, type DerTlv } from './der.ts'
import { MAX_X509_NAME_ATTRIBUTES } from './limits.ts'
import { decodeString } from './strings.ts'

/** One AttributeTypeAndValue of a Name. */
export interface NameAttribute {
  /** Dotted attribute type, e.g. `2.5.4.3`; empty when the OID cannot be decoded. */
  oid: string
  /** Lower-case hex of the OID's DER content octets (`550403`), the JA4X form. */
  oidHex: string
  /** Decoded string value; values that are not a string type are `#` + hex of their TLV. */
  value: string
}

export interface ParsedName {
  attributes: NameAttribute[]
  /** RFC 4514 string form, see `nameText`. */
  text: string
  /** Value of the last commonName attribute in wire order (the most specific), or null. */
  cn: string | null
}

const CN_OID = '2.5.4.3'

/**
 * Short names for attribute types: RFC 4514 §3 (CN, L, ST, O, OU, C, STREET, DC, UID) plus the
 * descriptors OpenSSL prints for other common types. Anything else is written as a dotted OID.
 */
const SHORT_NAMES: ReadonlyMap<string, string> = new Map([
  ['2.5.4.3', 'CN'],
  ['2.5.4.4', 'SN'],
  ['2.5.4.5', 'serialNumber'],
  ['2.5.4.6', 'C'],
  ['2.5.4.7', 'L'],
  ['2.5.4.8', 'ST'],
  ['2.5.4.9', 'STREET'],
  ['2.5.4.10', 'O'],
  ['2.5.4.11', 'OU'],
  ['2.5.4.12', 'title'],
  ['2.5.4.13', 'description'],
  ['2.5.4.15', 'businessCategory'],
  ['2.5.4.17', 'postalCode'],
  ['2.5.4.42', 'GN'],
  ['2.5.4.43', 'initials'],
  ['2.5.4.44', 'generationQualifier'],
  ['2.5.4.46', 'dnQualifier'],
  ['2.5.4.65', 'pseudonym'],
  ['2.5.4.97', 'organizationIdentifier'],
  ['0.9.2342.19200300.100.1.1', 'UID'],
  ['0.9.2342.19200300.100.1.25', 'DC'],
  ['1.2.840.113549.1.9.1', 'emailAddress'],
  ['1.3.6.1.4.1.311.60.2.1.1', 'jurisdictionL'],
  ['1.3.6.1.4.1.311.60.2.1.2', 'jurisdictionST'],
  ['1.3.6.1.4.1.311.60.2.1.3', 'jurisdictionC'],
])

/**
 * RFC 4514 §2.4 escaping: `"+,;<>\` always, `#` or space at the start, space at the end, and
 * control characters (U+0000..U+001F, U+007F) as `\XX`. Other characters are kept as they are.
 */
export function escapeRfc4514(v: string): string {
  let out = ''
  for (let i = 0; i < v.length; i++) {
    const ch = v.charAt(i)
    const c = v.charCodeAt(i)
    if (c < 0x20 || c === 0x7f) out += `\\${c.toString(16).toUpperCase().padStart(2, '0')}`
    else if ('"+,;<>\\'.includes(ch)) out += `\\${ch}`
    else if ((i === 0 && (ch === '#' || ch === ' ')) || (i === v.length - 1 && ch === ' '))
      out += `\\${ch}`
    else out += ch
  }
  return out
}

interface TextPart {
  rdn: number
  text: string
}

/**
 * RFC 4514 §2.1: RDNs in reverse wire order (most specific first, `CN=…,O=…,C=…`), attributes of
 * a multi-valued RDN joined by `+`. RFC 4514 leaves the order inside an RDN open; like OpenSSL's
 * RFC 2253 output, the whole attribute list is reversed, so it is reversed there too. Types
 * without a short name are dotted OIDs with the value as `#` + hex of its BER encoding (§2.4).
 */
function nameText(parts: readonly TextPart[]): string {
  let out = ''
  for (let i = parts.length - 1; i >= 0; i--) {
    const p = parts[i]
    if (p === undefined) continue
    if (i < parts.length - 1) out += parts[i + 1]?.rdn === p.rdn ? '+' : ','
    out += p.text
  }
  return out
}

/**
 * Reads a Name whose outer SEQUENCE `nameTlv` was already read by `d`. A malformed inner part
 * stops the walk with `x509.bad_name`; attributes read before it are kept.
 */
export function readName(d: DerReader, nameTlv: DerTlv, anomalies: X509Anomaly[]): ParsedName {
  const attributes: NameAttribute[] = []
  const parts: TextPart[] = []
  let cn: string | null = null
  const walked = parseWith('x509.name', () => {
    const rdns = d.children(nameTlv, 'x509.name')
    for (let rdn = 0; !rdns.atEnd; rdn++) {
      const set = rdns.expect(DerTag.SET, 'x509.rdn')
      const atvs = rdns.children(set, 'x509.rdn')
      // X.501: RelativeDistinguishedName ::= SET SIZE (1..MAX) OF AttributeTypeAndValue
      if (atvs.atEnd) addX509Anomaly(anomalies, 'x509.bad_name')
      while (!atvs.atEnd) {
        if (attributes.length === MAX_X509_NAME_ATTRIBUTES) {
          addX509Anomaly(anomalies, 'x509.too_many_name_attributes')
          return
        }
        const atv = atvs.children(atvs.expect(DerTag.SEQUENCE, 'x509.atv'), 'x509.atv')
        const type = atv.expect(DerTag.OBJECT_IDENTIFIER, 'x509.atv')
        const value = atv.next()
        if (!atv.atEnd) addX509Anomaly(anomalies, 'x509.bad_name')
        const { hex, oid } = readOid(type.content)
        if (oid === undefined) addX509Anomaly(anomalies, 'x509.bad_oid')
        const decoded = decodeString(value)
        if (decoded.problem === 'unknown_type')
          addX509Anomaly(anomalies, 'x509.unknown_string_type')
        else if (decoded.problem === 'bad_chars') addX509Anomaly(anomalies, 'x509.bad_string')
        attributes.push({ oid: oid ?? '', oidHex: hex, value: decoded.value })
        if (oid === CN_OID) cn = decoded.value
        const short = oid === undefined ? undefined : SHORT_NAMES.get(oid)
        const text =
          short === undefined
            ? `${oid ?? `#${hex}`}=#${toHex(value.raw)}`
            : `${short}=${decoded.problem === 'unknown_type' ? decoded.value : escapeRfc4514(decoded.value)}`
        parts.push({ rdn, text })
      }
    }
  })
  if (!walked.ok) addX509Anomaly(anomalies, 'x509.bad_name')
  return { attributes, text: nameText(parts), cn }
}
