/**
 * @module protocols/x509/strings
 * Decoding of the ASN.1 character string types found in certificates (X.680 §41, RFC 5280
 * §4.1.2.4 DirectoryString, §4.2.1.6 IA5String names). Strings never fail: a value that breaks
 * its type's rules is still decoded as well as possible and reported.
 */

import { toHex } from '../../bytes/hex.ts'
import { DerTag, type DerTlv } from './der.ts'

/** Why a string could not be decoded cleanly. */
export type StringProblem = 'unknown_type' | 'bad_chars' | undefined

export interface DecodedString {
  value: string
  problem: StringProblem
}

const utf8Strict = new TextDecoder('utf-8', { fatal: true })
const utf8Lenient = new TextDecoder('utf-8')
const CHUNK = 8_192

/** One character per octet (ISO 8859-1), chunked so long values never overflow the arguments. */
export function latin1(b: Uint8Array): string {
  let s = ''
  // Short values (almost all of them): a plain loop beats spreading into fromCharCode.
  if (b.length <= 64) {
    for (const c of b) s += String.fromCharCode(c)
    return s
  }
  for (let i = 0; i < b.length; i += CHUNK) {
    s += String.fromCharCode(...b.subarray(i, Math.min(b.length, i + CHUNK)))
  }
  return s
}

// X.680 §41.4 Table 10: PrintableString = A-Z a-z 0-9 space ' ( ) + , - . / : = ?
function isPrintableChar(c: number): boolean {
  return (
    (c >= 0x41 && c <= 0x5a) ||
    (c >= 0x61 && c <= 0x7a) ||
    (c >= 0x30 && c <= 0x39) ||
    c === 0x20 ||
    (c >= 0x27 && c <= 0x29) ||
    (c >= 0x2b && c <= 0x2f) ||
    c === 0x3a ||
    c === 0x3d ||
    c === 0x3f
  )
}

function allOctets(b: Uint8Array, ok: (c: number) => boolean): boolean {
  for (const c of b) if (!ok(c)) return false
  return true
}

/** UTF-16BE (BMPString, X.680 §41.16); a lone surrogate becomes U+FFFD. */
function utf16be(b: Uint8Array): DecodedString {
  let problem: StringProblem = b.length % 2 === 0 ? undefined : 'bad_chars'
  const units: number[] = []
  let s = ''
  for (let i = 0; i + 1 < b.length; i += 2) {
    const u = ((b[i] ?? 0) << 8) | (b[i + 1] ?? 0)
    units.push(u)
    if (units.length >= CHUNK) {
      s += String.fromCharCode(...units)
      units.length = 0
    }
  }
  s += String.fromCharCode(...units)
  // Replace unpaired surrogates so the value is valid Unicode everywhere it travels.
  const clean = s.replace(
    /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g,
    '\ufffd',
  )
  if (clean !== s) problem = 'bad_chars'
  return { value: clean, problem }
}

/** UTF-32BE (UniversalString, X.680 §41.16); invalid code points become U+FFFD. */
function utf32be(b: Uint8Array): DecodedString {
  let problem: StringProblem = b.length % 4 === 0 ? undefined : 'bad_chars'
  let s = ''
  for (let i = 0; i + 3 < b.length; i += 4) {
    const cp =
      (((b[i] ?? 0) << 24) | ((b[i + 1] ?? 0) << 16) | ((b[i + 2] ?? 0) << 8) | (b[i + 3] ?? 0)) >>>
      0
    if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
      problem = 'bad_chars'
      s += '\ufffd'
    } else s += String.fromCodePoint(cp)
  }
  return { value: s, problem }
}

/**
 * Decodes a character string TLV. Other types (and constructed, BER-only strings) come back as
 * `#` + hex of the whole TLV, the RFC 4514 §2.4 form for values without a string form.
 */
export function decodeString(t: DerTlv): DecodedString {
  const b = t.content
  if (t.cls !== 'universal' || t.constructed)
    return { value: `#${toHex(t.raw)}`, problem: 'unknown_type' }
  switch (t.tag) {
    case DerTag.UTF8_STRING:
      try {
        return { value: utf8Strict.decode(b), problem: undefined }
      } catch {
        // TextDecoder's only failure mode with `fatal` is invalid UTF-8 input.
        return { value: utf8Lenient.decode(b), problem: 'bad_chars' }
      }
    case DerTag.PRINTABLE_STRING:
      return { value: latin1(b), problem: allOctets(b, isPrintableChar) ? undefined : 'bad_chars' }
    case DerTag.NUMERIC_STRING:
      return {
        value: latin1(b),
        problem: allOctets(b, (c) => c === 0x20 || (c >= 0x30 && c <= 0x39))
          ? undefined
          : 'bad_chars',
      }
    case DerTag.IA5_STRING:
      return { value: latin1(b), problem: allOctets(b, (c) => c < 0x80) ? undefined : 'bad_chars' }
    case DerTag.VISIBLE_STRING:
      return {
        value: latin1(b),
        problem: allOctets(b, (c) => c >= 0x20 && c < 0x7f) ? undefined : 'bad_chars',
      }
    case DerTag.TELETEX_STRING:
      // T.61 in theory; in certificates it almost always carries ISO 8859-1 (as OpenSSL reads it).
      return { value: latin1(b), problem: undefined }
    case DerTag.BMP_STRING:
      return utf16be(b)
    case DerTag.UNIVERSAL_STRING:
      return utf32be(b)
    default:
      return { value: `#${toHex(t.raw)}`, problem: 'unknown_type' }
  }
}
