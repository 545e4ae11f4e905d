/**
 * @module protocols/syslog/encode
 * RFC 5424 message formatting. Header fields are sanitised to their grammar instead of rejected:
 * the encoder is a total function, so an odd host name or tag can never stop an output.
 */

/** RFC 5424 §6 header field limits, in characters (all PRINTUSASCII, so also bytes). */
export const RFC5424_MAX_HOSTNAME_CHARS = 255
export const RFC5424_MAX_APP_NAME_CHARS = 48
export const RFC5424_MAX_PROCID_CHARS = 128
export const RFC5424_MAX_MSGID_CHARS = 32
/** RFC 5424 §6.3: SD-NAME (SD-ID and PARAM-NAME) is 1*32PRINTUSASCII. */
export const RFC5424_MAX_SD_NAME_CHARS = 32
/** RFC 5424 §6.2.3: TIME-SECFRAC is at most 6 digits. */
export const RFC5424_MAX_SECFRAC_DIGITS = 6

/** RFC 5424 §6.3.3 SD-PARAM. A name may repeat inside one element, so params are a list. */
export interface SdParam {
  name: string
  value: string
}

/** RFC 5424 §6.3.1 SD-ELEMENT: `[SD-ID *(SP PARAM-NAME="PARAM-VALUE")]`. */
export interface SdElement {
  id: string
  params: SdParam[]
}

/** RFC 5424 §6.2.1: facility 0..23, severity 0..7 (PRIVAL = facility * 8 + severity). */
export interface SyslogPri {
  facility: number
  severity: number
}

export interface Rfc5424Input {
  pri: SyslogPri
  /** A `Date` or an ISO 8601 / RFC 3339 string; invalid or absent values become NILVALUE. */
  timestamp: Date | string | undefined
  hostname: string | undefined
  appName: string | undefined
  procId?: string
  msgId?: string
  structuredData?: SdElement[]
  message: string
  /**
   * RFC 5424 §6.4 wants a BOM before a UTF-8 MSG, but nginx, rsyslog and util-linux `logger` send
   * none and many receivers keep it as text. `'auto'` (the default) writes it only when MSG has
   * non-ASCII characters: ASCII is valid MSG-ANY, so ASCII output matches those senders byte for
   * byte while non-ASCII output stays conformant.
   */
  bom?: 'auto' | 'always' | 'never'
}

/** RFC 3164 §4.3.3 / RFC 5424 §6.2.1: the PRI a relay assumes when none is usable (user.notice). */
export const DEFAULT_FACILITY = 1
export const DEFAULT_SEVERITY = 5

const NILVALUE = '-'
const BOM = '\uFEFF'

/**
 * Formats one RFC 5424 §6 message: `<PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID SD [MSG]`.
 * Header fields keep only PRINTUSASCII (other characters become `_`) and are cut to their §6
 * limits; empty ones become NILVALUE. No framing or trailer is added (see `octetCountFrame`).
 * @example formatRfc5424({ pri: { facility: 16, severity: 6 }, timestamp: new Date(),
 *   hostname: 'sensor-1', appName: 'tlsight', msgId: 'tls', message: json })
 */
export function formatRfc5424(msg: Rfc5424Input): string {
  const header =
    `<${prival(msg.pri)}>1 ${formatTimestamp(msg.timestamp)}` +
    ` ${headerField(msg.hostname, RFC5424_MAX_HOSTNAME_CHARS)}` +
    ` ${headerField(msg.appName, RFC5424_MAX_APP_NAME_CHARS)}` +
    ` ${headerField(msg.procId, RFC5424_MAX_PROCID_CHARS)}` +
    ` ${headerField(msg.msgId, RFC5424_MAX_MSGID_CHARS)}` +
    ` ${formatStructuredData(msg.structuredData)}`
  // RFC 5424 §6: MSG is optional; an empty one is left out together with its SP.
  if (msg.message === '') return header
  const bom = msg.bom ?? 'auto'
  const withBom = bom === 'always' || (bom === 'auto' && !isAscii(msg.message))
  return `${header} ${withBom ? BOM : ''}${msg.message}`
}

function prival(pri: SyslogPri): number {
  const f = inRange(pri.facility, 23) ? pri.facility : DEFAULT_FACILITY
  const s = inRange(pri.severity, 7) ? pri.severity : DEFAULT_SEVERITY
  return f * 8 + s
}

function inRange(n: number, max: number): boolean {
  return Number.isInteger(n) && n >= 0 && n <= max
}

function isAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0x7f) return false
  return true
}

/** RFC 5424 §6: PRINTUSASCII = %d33-126. */
function isPrintUsAscii(c: number): boolean {
  return c >= 33 && c <= 126
}

/** Keeps PRINTUSASCII, replaces anything else with `_`, cuts to `max`; empty → NILVALUE. */
function headerField(value: string | undefined, max: number): string {
  if (value === undefined || value === '') return NILVALUE
  let out = ''
  // Iterate code points so one astral character becomes one `_`, not two.
  for (const ch of value) {
    if (out.length >= max) break
    out += isPrintUsAscii(ch.codePointAt(0) ?? 0) ? ch : '_'
  }
  return out
}

/** RFC 5424 §6.3.2/§6.3.3: SD-NAME is PRINTUSASCII except `=`, SP, `]`, `"`; 1..32 chars. */
function sdName(name: string): string {
  let out = ''
  for (const ch of name) {
    if (out.length >= RFC5424_MAX_SD_NAME_CHARS) break
    const c = ch.codePointAt(0) ?? 0
    out += isPrintUsAscii(c) && ch !== '=' && ch !== ']' && ch !== '"' ? ch : '_'
  }
  return out === '' ? '_' : out
}

/** RFC 5424 §6.3.3: `"`, `\` and `]` MUST be escaped with a backslash inside PARAM-VALUE. */
export function escapeParamValue(value: string): string {
  return value.replace(/["\\\]]/g, '\\$&')
}

function formatStructuredData(sd: SdElement[] | undefined): string {
  if (sd === undefined || sd.length === 0) return NILVALUE
  let out = ''
  for (const el of sd) {
    out += `[${sdName(el.id)}`
    for (const p of el.params) out += ` ${sdName(p.name)}="${escapeParamValue(p.value)}"`
    out += ']'
  }
  return out
}

const ISO_RE =
  /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:[.,](\d+))?([Zz]|[+-]\d{2}:?\d{2})$/

/**
 * RFC 5424 §6.2.3 TIMESTAMP: `YYYY-MM-DDThh:mm:ss.ffffffZ` or with a `±hh:mm` offset. A `Date`
 * carries milliseconds and is written in UTC with 6 fraction digits; an ISO string keeps its own
 * offset and precision (cut to 6 digits, so a nanosecond capture timestamp survives as µs).
 */
export function formatTimestamp(ts: Date | string | undefined): string {
  if (ts === undefined) return NILVALUE
  if (typeof ts !== 'string') return formatDate(ts)
  const iso = normalizeIsoTimestamp(ts.trim())
  if (iso !== undefined) return iso
  // Not ISO-shaped: the string is left to the Date parser, and is NILVALUE if that fails too.
  return ISO_RE.test(ts.trim()) ? NILVALUE : formatDate(new Date(ts))
}

/**
 * An ISO 8601 date-time (`T` or space, `.` or `,`, `Z` or `±hh[:]mm`, any fraction length) as the
 * RFC 5424 §6.2.3 TIMESTAMP with 6 fraction digits, or `undefined` when it is not a real date.
 */
export function normalizeIsoTimestamp(text: string): string | undefined {
  const m = ISO_RE.exec(text)
  if (m === null) return undefined
  const [, y, mo, d, h, mi, s, frac, off] = m
  if (!validDateTime(Number(y), Number(mo), Number(d), Number(h), Number(mi), Number(s))) {
    return undefined
  }
  const fraction =
    frac === undefined ? '' : `.${frac.slice(0, RFC5424_MAX_SECFRAC_DIGITS).padEnd(6, '0')}`
  let offset = (off ?? 'Z').toUpperCase()
  if (offset !== 'Z') {
    const digits = offset.slice(1).replace(':', '')
    if (Number(digits.slice(0, 2)) > 23 || Number(digits.slice(2)) > 59) return undefined
    offset = `${offset[0] ?? '+'}${digits.slice(0, 2)}:${digits.slice(2)}`
  }
  return `${y}-${mo}-${d}T${h}:${mi}:${s}${fraction}${offset}`
}

function formatDate(d: Date): string {
  const ms = d.getTime()
  // RFC 5424 §6.2.3 DATE-FULLYEAR is 4 digits.
  if (!Number.isFinite(ms) || d.getUTCFullYear() < 0 || d.getUTCFullYear() > 9999) return NILVALUE
  const iso = d.toISOString() // YYYY-MM-DDTHH:mm:ss.sssZ
  return `${iso.slice(0, 23)}000Z`
}

/** Calendar check shared with the decoder. Leap seconds are refused (RFC 5424 §6.2.3). */
export function validDateTime(
  y: number,
  mo: number,
  d: number,
  h: number,
  mi: number,
  s: number,
): boolean {
  if (mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || s > 59) return false
  return d <= daysInMonth(y, mo)
}

export function daysInMonth(y: number, mo: number): number {
  if (mo === 2) return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0 ? 29 : 28
  return mo === 4 || mo === 6 || mo === 9 || mo === 11 ? 30 : 31
}
