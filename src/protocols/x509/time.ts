/**
 * @module protocols/x509/time
 * Validity times (RFC 5280 §4.1.2.5) to ISO 8601 UTC (`2024-01-31T12:00:00Z`).
 */

import { DerTag, type DerTlv } from './der.ts'
import { latin1 } from './strings.ts'

export interface DecodedTime {
  /** ISO 8601 UTC with seconds, or null when the value cannot be read. */
  iso: string | null
  /** False when readable but not in the RFC 5280 form (see `decodeTime`). */
  rfc5280: boolean
}

// X.680 §47 UTCTime / §46 GeneralizedTime, with the optional parts BER allows: seconds,
// fractions (GeneralizedTime), and a zone offset or (GeneralizedTime only) no zone at all.
const UTC_TIME = /^(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)?(Z|[+-]\d{4})$/
const GENERALIZED_TIME = /^(\d{4})(\d\d)(\d\d)(\d\d)(\d\d)?(\d\d)?(?:[.,]\d+)?(Z|[+-]\d{4})?$/
const STRICT_UTC_TIME = /^\d{12}Z$/
const STRICT_GENERALIZED_TIME = /^\d{14}Z$/
/** RFC 5280 §4.1.2.5: dates through 2049 MUST be UTCTime, from 2050 on GeneralizedTime. */
const FIRST_GENERALIZED_YEAR = 2050

const BAD: DecodedTime = { iso: null, rfc5280: false }
const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
const ZERO = 0x30
const Z = 0x5a

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0')
}

/**
 * Decodes a UTCTime or GeneralizedTime TLV. RFC 5280 form: UTCTime `YYMMDDHHMMSSZ` (YY >= 50 is
 * 19YY, else 20YY, §4.1.2.5.1) for years up to 2049, GeneralizedTime `YYYYMMDDHHMMSSZ` without
 * fractions (§4.1.2.5.2) from 2050. Other BER forms are converted to UTC (fractions dropped, a
 * missing zone read as UTC) and flagged `rfc5280: false`; out-of-range fields give null.
 */
export function decodeTime(t: DerTlv): DecodedTime {
  if (t.cls !== 'universal' || t.constructed) return BAD
  const b = t.content
  const fast = strictForm(t.tag, b)
  if (fast !== undefined) return fast
  const s = latin1(b)
  let year: number
  let m: RegExpExecArray | null
  let strict: boolean
  if (t.tag === DerTag.UTC_TIME) {
    m = UTC_TIME.exec(s)
    if (m === null) return BAD
    const yy = Number(m[1])
    year = yy >= 50 ? 1900 + yy : 2000 + yy
    strict = STRICT_UTC_TIME.test(s)
  } else if (t.tag === DerTag.GENERALIZED_TIME) {
    m = GENERALIZED_TIME.exec(s)
    if (m === null) return BAD
    year = Number(m[1])
    strict = STRICT_GENERALIZED_TIME.test(s) && year >= FIRST_GENERALIZED_YEAR
  } else return BAD
  const month = Number(m[2])
  const day = Number(m[3])
  const hour = Number(m[4])
  const minute = Number(m[5] ?? '0')
  const second = Number(m[6] ?? '0')
  const zone = m[7] ?? 'Z'
  let offsetMinutes = 0
  if (zone !== 'Z') {
    const oh = Number(zone.slice(1, 3))
    const om = Number(zone.slice(3, 5))
    if (oh > 23 || om > 59) return BAD
    offsetMinutes = (zone.startsWith('-') ? -1 : 1) * (oh * 60 + om)
  }
  // Leap seconds (60) are not representable in X.509 validity and are rejected.
  if (month < 1 || month > 12 || hour > 23 || minute > 59 || second > 59) return BAD
  const d = new Date(0)
  d.setUTCFullYear(year, month - 1, day)
  if (d.getUTCMonth() !== month - 1 || d.getUTCDate() !== day) return BAD
  d.setUTCHours(hour, minute - offsetMinutes, second, 0)
  const y = d.getUTCFullYear()
  if (y < 0 || y > 9999) return BAD
  const iso =
    `${pad(y, 4)}-${pad(d.getUTCMonth() + 1, 2)}-${pad(d.getUTCDate(), 2)}T` +
    `${pad(d.getUTCHours(), 2)}:${pad(d.getUTCMinutes(), 2)}:${pad(d.getUTCSeconds(), 2)}Z`
  return { iso, rfc5280: strict }
}

function isLeap(y: number): boolean {
  return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0
}

/**
 * The RFC 5280 forms (`YYMMDDHHMMSSZ`, `YYYYMMDDHHMMSSZ`) straight from the octets, without a
 * regular expression or a Date; `undefined` sends anything else to the general path.
 */
function strictForm(tag: number, b: Uint8Array): DecodedTime | undefined {
  const yearDigits = tag === DerTag.UTC_TIME ? 2 : tag === DerTag.GENERALIZED_TIME ? 4 : 0
  if (yearDigits === 0 || b.length !== yearDigits + 11 || b[b.length - 1] !== Z) return undefined
  const digits: number[] = []
  for (let i = 0; i < b.length - 1; i++) {
    const d = (b[i] ?? 0) - ZERO
    if (d < 0 || d > 9) return undefined
    digits.push(d)
  }
  const num = (at: number, n: number): number => {
    let v = 0
    for (let i = at; i < at + n; i++) v = v * 10 + (digits[i] ?? 0)
    return v
  }
  let year = num(0, yearDigits)
  if (yearDigits === 2) year += year >= 50 ? 1900 : 2000
  const o = yearDigits
  const month = num(o, 2)
  const day = num(o + 2, 2)
  const hour = num(o + 4, 2)
  const minute = num(o + 6, 2)
  const second = num(o + 8, 2)
  const dim = month === 2 && isLeap(year) ? 29 : (DAYS_IN_MONTH[month - 1] ?? 0)
  if (month < 1 || day < 1 || day > dim || hour > 23 || minute > 59 || second > 59) return BAD
  const iso =
    `${pad(year, 4)}-${pad(month, 2)}-${pad(day, 2)}T` +
    `${pad(hour, 2)}:${pad(minute, 2)}:${pad(second, 2)}Z`
  return { iso, rfc5280: yearDigits === 2 || year >= FIRST_GENERALIZED_YEAR }
}
