/**
 * @module protocols/x509/certificate
 * X.509 v1–v3 certificate parser (RFC 5280 §4.1). Reads what fingerprints and detection need:
 * names, validity, serial, extension OIDs and subjectAltName. No signature is verified and no
 * chain is built.
 */

import { parseWith, type ParseResult } from '../../bytes/reader.ts'
import { toHex } from '../../bytes/hex.ts'
import { formatIp } from '../link/decode.ts'
import { addX509Anomaly, type X509Anomaly } from './anomalies.ts'
import {
  DerReader,
  DerTag,
  decodeBoolean,
  decodeSmallInteger,
  readOid,
  type DerTlv,
} from './der.ts'
import { sha256Hex } from './digest.ts'
import { MAX_X509_EXTENSIONS, MAX_X509_SAN_ENTRIES } from './limits.ts'
import { readName, type NameAttribute } from './name.ts'
import { latin1 } from './strings.ts'
import { decodeTime } from './time.ts'

/** One Extension (RFC 5280 §4.1.2.9), in wire order. */
export interface CertificateExtension {
  /** Dotted extnID; empty when the OID cannot be decoded. */
  oid: string
  /** Lower-case hex of the extnID content octets (`551d11`), the JA4X form. */
  oidHex: string
  critical: boolean
}

/** A subjectAltName entry of a type this parser reads (RFC 5280 §4.2.1.6). */
export interface SubjectAltName {
  type: 'dns' | 'ip' | 'email' | 'uri'
  /** IP addresses as dotted quads or RFC 5952 text; the others as sent. */
  value: string
}

export interface Certificate {
  /** 1, 2 or 3 (the encoded INTEGER + 1); 0 when the version field is unreadable. */
  version: number
  /** Serial number as `openssl x509 -serial` prints it, lower-case: magnitude, `-` if negative. */
  serial: string
  /** Dotted OID of Certificate.signatureAlgorithm (empty if unreadable). */
  signature_algorithm: string
  /** RFC 4514 string, most specific RDN first: `CN=…,O=…,C=…`. */
  issuer: string
  subject: string
  /** Every AttributeTypeAndValue of every RDN, in wire order (JA4X a / b). */
  issuer_attributes: NameAttribute[]
  subject_attributes: NameAttribute[]
  issuer_cn: string | null
  subject_cn: string | null
  /** ISO 8601 UTC (`2024-01-31T12:00:00Z`), or null if unreadable. */
  not_before: string | null
  not_after: string | null
  sans: SubjectAltName[]
  /** Extensions in wire order (JA4X c). */
  extensions: CertificateExtension[]
  /**
   * Issuer and subject Names are byte-identical. This is the name test only: the signature is
   * not verified, so a forged certificate claiming to be self-issued also reports true.
   */
  self_signed: boolean
  /** Lower-case hex SHA-256 of the Certificate's DER encoding. */
  sha256: string
  anomalies: X509Anomaly[]
}

/** RFC 5280 §4.2.1.6 id-ce-subjectAltName (2.5.29.17). */
const SAN_OID_HEX = '551d11'
/** RFC 5280 §4.1.2.2: conforming CAs MUST NOT use serial numbers longer than 20 octets. */
const MAX_SERIAL_OCTETS = 20

// RFC 5280 §4.2.1.6 GeneralName context tags this parser reads.
const GN_RFC822 = 1
const GN_DNS = 2
const GN_URI = 6
const GN_IP = 7

/**
 * Serial as OpenSSL prints it: hex of the magnitude, two digits per octet, leading zero octets
 * dropped (`00` for zero), `-` before a negative value (X.690 §8.3.3 two's complement).
 */
function serialText(content: Uint8Array, anomalies: X509Anomaly[]): string {
  if (content.length === 0) {
    addX509Anomaly(anomalies, 'x509.bad_serial')
    return ''
  }
  const first = content[0] ?? 0
  const second = content[1] ?? 0
  // X.690 §8.3.2: the first nine bits must not be all zeros or all ones.
  if (content.length > 1 && ((first === 0 && second < 0x80) || (first === 0xff && second >= 0x80)))
    addX509Anomaly(anomalies, 'x509.bad_serial')
  if (content.length > MAX_SERIAL_OCTETS) addX509Anomaly(anomalies, 'x509.serial_too_long')
  const negative = (first & 0x80) !== 0
  let mag = content
  if (negative) {
    // Magnitude of a two's-complement value: invert and add one.
    mag = content.map((b) => ~b & 0xff)
    for (let i = mag.length - 1; i >= 0; i--) {
      const v = (mag[i] ?? 0) + 1
      mag[i] = v & 0xff
      if (v < 0x100) break
    }
  }
  let i = 0
  while (i < mag.length - 1 && mag[i] === 0) i++
  const hex = toHex(mag.subarray(i))
  if (negative || /^0+$/.test(hex)) addX509Anomaly(anomalies, 'x509.serial_not_positive')
  return negative ? `-${hex}` : hex
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

/** AlgorithmIdentifier (RFC 5280 §4.1.1.2): the algorithm OID, parameters ignored. */
function algorithmOid(d: DerReader, t: DerTlv, anomalies: X509Anomaly[]): string {
  const r = parseWith('x509.algorithm', () => {
    const c = d.children(t, 'x509.algorithm')
    return readOid(c.expect(DerTag.OBJECT_IDENTIFIER, 'x509.algorithm').content).oid ?? ''
  })
  if (!r.ok || r.value === '') {
    addX509Anomaly(anomalies, 'x509.bad_algorithm')
    return ''
  }
  return r.value
}

function readSans(
  d: DerReader,
  extnValue: DerTlv,
  sans: SubjectAltName[],
  anomalies: X509Anomaly[],
): void {
  const r = parseWith('x509.san', () => {
    const outer = d.encapsulated(extnValue, 'x509.san')
    const seq = outer.expect(DerTag.SEQUENCE, 'x509.san')
    if (!outer.atEnd) addX509Anomaly(anomalies, 'x509.bad_san')
    const names = outer.children(seq, 'x509.san')
    // GeneralNames ::= SEQUENCE SIZE (1..MAX) OF GeneralName
    if (names.atEnd) addX509Anomaly(anomalies, 'x509.bad_san')
    while (!names.atEnd) {
      const gn = names.next()
      if (gn.cls !== 'context') {
        addX509Anomaly(anomalies, 'x509.bad_san')
        continue
      }
      let entry: SubjectAltName | undefined
      if (gn.tag === GN_DNS || gn.tag === GN_RFC822 || gn.tag === GN_URI) {
        // IA5String (RFC 5280 §4.2.1.6), IMPLICIT so primitive.
        const ascii = gn.content.every((c) => c < 0x80)
        if (gn.constructed || !ascii) addX509Anomaly(anomalies, 'x509.bad_san')
        if (!gn.constructed) {
          const type = gn.tag === GN_DNS ? 'dns' : gn.tag === GN_URI ? 'uri' : 'email'
          entry = { type, value: latin1(gn.content) }
        }
      } else if (gn.tag === GN_IP) {
        // iPAddress: 4 octets (IPv4) or 16 (IPv6) in a SAN; 8/32 only occur in name constraints.
        if (!gn.constructed && (gn.content.length === 4 || gn.content.length === 16))
          entry = { type: 'ip', value: formatIp(gn.content) }
        else addX509Anomaly(anomalies, 'x509.bad_san')
      }
      if (entry === undefined) continue
      if (sans.length === MAX_X509_SAN_ENTRIES) {
        addX509Anomaly(anomalies, 'x509.too_many_sans')
        return
      }
      sans.push(entry)
    }
  })
  if (!r.ok) addX509Anomaly(anomalies, 'x509.bad_san')
}

function readExtensions(
  d: DerReader,
  wrapper: DerTlv,
  out: CertificateExtension[],
  sans: SubjectAltName[],
  anomalies: X509Anomaly[],
): void {
  const seen = new Set<string>()
  let sanRead = false
  const r = parseWith('x509.extensions', () => {
    // RFC 5280 §4.1: extensions [3] EXPLICIT Extensions, Extensions ::= SEQUENCE SIZE (1..MAX)
    const explicit = d.children(wrapper, 'x509.extensions')
    const seq = explicit.expect(DerTag.SEQUENCE, 'x509.extensions')
    if (!explicit.atEnd) addX509Anomaly(anomalies, 'x509.trailing_bytes')
    const list = explicit.children(seq, 'x509.extensions')
    if (list.atEnd) addX509Anomaly(anomalies, 'x509.bad_extensions')
    while (!list.atEnd) {
      const ext = list.next()
      if (out.length === MAX_X509_EXTENSIONS) {
        addX509Anomaly(anomalies, 'x509.too_many_extensions')
        return
      }
      // A malformed Extension is skipped; its OID still counts when it could be read.
      const one = parseWith('x509.extension', () => {
        if (ext.cls !== 'universal' || ext.tag !== DerTag.SEQUENCE)
          list.fail('bad_value', 'x509.extension')
        const c = list.children(ext, 'x509.extension')
        const id = c.expect(DerTag.OBJECT_IDENTIFIER, 'x509.extension')
        const { hex, oid } = readOid(id.content)
        if (oid === undefined) addX509Anomaly(anomalies, 'x509.bad_oid')
        const e: CertificateExtension = { oid: oid ?? '', oidHex: hex, critical: false }
        out.push(e)
        if (seen.has(hex)) addX509Anomaly(anomalies, 'x509.duplicate_extension')
        seen.add(hex)
        const crit = c.optional('universal', DerTag.BOOLEAN)
        if (crit !== undefined) {
          const v = decodeBoolean(crit.content)
          if (v === undefined) addX509Anomaly(anomalies, 'x509.bad_extension')
          e.critical = v === true
        }
        const value = c.expect(DerTag.OCTET_STRING, 'x509.extension')
        if (!c.atEnd) addX509Anomaly(anomalies, 'x509.bad_extension')
        if (hex === SAN_OID_HEX && !sanRead) {
          sanRead = true
          readSans(c, value, sans, anomalies)
        }
      })
      if (!one.ok) addX509Anomaly(anomalies, 'x509.bad_extension')
    }
  })
  if (!r.ok) addX509Anomaly(anomalies, 'x509.bad_extensions')
}

/**
 * Parses one DER certificate. `{ ok: false }` when the outer structure (Certificate,
 * TBSCertificate and its required fields' framing) cannot be read; problems inside a field are
 * anomalies and the rest of the certificate is still returned.
 * @example parseCertificate(der).value?.subject // 'CN=example.com,O=Example,C=US'
 */
export function parseCertificate(der: Uint8Array): ParseResult<Certificate> {
  return parseWith('x509.certificate', () => {
    const anomalies: X509Anomaly[] = []
    const top = new DerReader(der)
    // RFC 5280 §4.1: Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm, signatureValue }
    const certTlv = top.expect(DerTag.SEQUENCE, 'x509.certificate')
    if (!top.atEnd) addX509Anomaly(anomalies, 'x509.trailing_bytes')
    const cert = top.children(certTlv, 'x509.certificate')
    const tbsTlv = cert.expect(DerTag.SEQUENCE, 'x509.tbs')
    const outerAlg = cert.expect(DerTag.SEQUENCE, 'x509.signature_algorithm')
    cert.expect(DerTag.BIT_STRING, 'x509.signature_value')
    if (!cert.atEnd) addX509Anomaly(anomalies, 'x509.trailing_bytes')

    const tbs = cert.children(tbsTlv, 'x509.tbs')
    // version [0] EXPLICIT Version DEFAULT v1 (§4.1.2.1)
    let version = 1
    const vTlv = tbs.optional('context', 0)
    if (vTlv !== undefined) {
      const v = parseWith('x509.version', () => {
        const c = tbs.children(vTlv, 'x509.version')
        const n = decodeSmallInteger(c.expect(DerTag.INTEGER, 'x509.version').content)
        return c.atEnd ? n : undefined
      })
      const n = v.ok ? v.value : undefined
      if (n === undefined || n > 2) addX509Anomaly(anomalies, 'x509.bad_version')
      version = n === undefined ? 0 : n + 1
    }
    const serial = serialText(tbs.expect(DerTag.INTEGER, 'x509.serial').content, anomalies)
    const innerAlg = tbs.expect(DerTag.SEQUENCE, 'x509.signature')
    const issuerTlv = tbs.expect(DerTag.SEQUENCE, 'x509.issuer')
    const validityTlv = tbs.expect(DerTag.SEQUENCE, 'x509.validity')
    const subjectTlv = tbs.expect(DerTag.SEQUENCE, 'x509.subject')
    tbs.expect(DerTag.SEQUENCE, 'x509.subject_public_key_info')
    tbs.optional('context', 1) // issuerUniqueID [1] IMPLICIT UniqueIdentifier OPTIONAL
    tbs.optional('context', 2) // subjectUniqueID [2] IMPLICIT UniqueIdentifier OPTIONAL
    const extTlv = tbs.optional('context', 3)
    if (!tbs.atEnd) addX509Anomaly(anomalies, 'x509.trailing_bytes')

    const signature_algorithm = algorithmOid(cert, outerAlg, anomalies)
    if (!sameBytes(innerAlg.raw, outerAlg.raw))
      addX509Anomaly(anomalies, 'x509.signature_algorithm_mismatch')

    const issuer = readName(tbs, issuerTlv, anomalies)
    if (issuer.attributes.length === 0) addX509Anomaly(anomalies, 'x509.empty_issuer')

    // Validity ::= SEQUENCE { notBefore Time, notAfter Time } (§4.1.2.5)
    const times: (string | null)[] = []
    const validity = parseWith('x509.validity', () => {
      const c = tbs.children(validityTlv, 'x509.validity')
      for (let i = 0; i < 2; i++) {
        const t = decodeTime(c.next())
        if (t.iso === null) addX509Anomaly(anomalies, 'x509.bad_time')
        else if (!t.rfc5280) addX509Anomaly(anomalies, 'x509.time_not_rfc5280')
        times.push(t.iso)
      }
      if (!c.atEnd) addX509Anomaly(anomalies, 'x509.bad_validity')
    })
    if (!validity.ok) addX509Anomaly(anomalies, 'x509.bad_validity')
    const not_before = times[0] ?? null
    const not_after = times[1] ?? null
    // Fixed-width ISO strings compare in time order.
    if (not_before !== null && not_after !== null && not_before > not_after)
      addX509Anomaly(anomalies, 'x509.validity_inverted')

    const subject = readName(tbs, subjectTlv, anomalies)

    const extensions: CertificateExtension[] = []
    const sans: SubjectAltName[] = []
    if (extTlv !== undefined) {
      if (version !== 3) addX509Anomaly(anomalies, 'x509.extensions_not_v3')
      readExtensions(tbs, extTlv, extensions, sans, anomalies)
    }

    return {
      version,
      serial,
      signature_algorithm,
      issuer: issuer.text,
      subject: subject.text,
      issuer_attributes: issuer.attributes,
      subject_attributes: subject.attributes,
      issuer_cn: issuer.cn,
      subject_cn: subject.cn,
      not_before,
      not_after,
      sans,
      extensions,
      // Byte equality of the encoded Names (RFC 5280 §6.1 compares names, not signatures).
      self_signed: sameBytes(issuerTlv.raw, subjectTlv.raw),
      sha256: sha256Hex(certTlv.raw),
      anomalies,
    }
  })
}
