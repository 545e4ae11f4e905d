/**
 * @module protocols/syslog/decode
 * One syslog message (a UDP datagram, or one frame from `SyslogTcpFramer`) to a typed record.
 * RFC 5424 is recognised by `<PRI>1 `; anything else is read as RFC 3164, including the forms
 * nginx (`<PRI>Mmm dd hh:mm:ss [host ]tag: msg`) and rsyslog (RFC 3339 timestamp in the BSD
 * header) send, and raw lines with no PRI at all (Caddy's `net` writer). Lenient: a malformed
 * part becomes an anomaly and the bytes stay in `message`; nothing here throws on input.
 */

import type { ParseResult } from '../../bytes/reader.ts'
import {
  DEFAULT_FACILITY,
  DEFAULT_SEVERITY,
  RFC5424_MAX_APP_NAME_CHARS,
  RFC5424_MAX_HOSTNAME_CHARS,
  RFC5424_MAX_MSGID_CHARS,
  RFC5424_MAX_PROCID_CHARS,
  RFC5424_MAX_SD_NAME_CHARS,
  daysInMonth,
  normalizeIsoTimestamp,
  type SdElement,
  type SdParam,
} from './encode.ts'

/** Bytes of one message that are parsed; the rest is cut (RFC 5426 §3.2 UDP maximum is 65,507). */
export const MAX_SYSLOG_MESSAGE_BYTES = 65_536
/** SD-ELEMENTs plus SD-PARAMs kept from one message; further ones are parsed past, not kept. */
export const MAX_SYSLOG_SD_ITEMS = 1_024
/** Longest TAG recognised in an RFC 3164 header (RFC 3164 §4.1.3 says 32; rsyslog allows more). */
const MAX_RFC3164_TAG_CHARS = RFC5424_MAX_APP_NAME_CHARS

export type SyslogAnomaly =
  | 'syslog.missing_pri'
  | 'syslog.bad_pri'
  | 'syslog.bad_timestamp'
  | 'syslog.header_truncated'
  | 'syslog.header_field_invalid'
  | 'syslog.bad_structured_data'
  | 'syslog.sd_name_invalid'
  | 'syslog.sd_unescaped_char'
  | 'syslog.duplicate_sd_id'
  | 'syslog.sd_limit'
  | 'syslog.invalid_utf8'
  | 'syslog.message_truncated'

export const SYSLOG_ANOMALIES: Readonly<Record<SyslogAnomaly, string>> = {
  'syslog.missing_pri':
    'No PRI; read as RFC 3164 relay input: user.notice, the whole line is MSG (RFC 3164 §4.3.3).',
  'syslog.bad_pri':
    'PRI is malformed, above 191 or zero-padded (RFC 5424 §6.2.1); unusable ones read as no PRI.',
  'syslog.bad_timestamp':
    'TIMESTAMP is missing, malformed or not a real date (RFC 5424 §6.2.3, RFC 3164 §4.1.2).',
  'syslog.header_truncated': 'The RFC 5424 header ends before all its fields.',
  'syslog.header_field_invalid':
    'A header field is longer than its RFC 5424 §6 limit or holds non-PRINTUSASCII bytes.',
  'syslog.bad_structured_data':
    'STRUCTURED-DATA is malformed (RFC 5424 §6.3); the bytes from the bad element on are MSG.',
  'syslog.sd_name_invalid':
    'An SD-ID or PARAM-NAME is longer than 32 characters or holds forbidden bytes (RFC 5424 §6.3).',
  'syslog.sd_unescaped_char': 'A PARAM-VALUE holds an unescaped `]` (RFC 5424 §6.3.3).',
  'syslog.duplicate_sd_id': 'An SD-ID appears twice in one message (RFC 5424 §6.3.2).',
  'syslog.sd_limit': 'More than MAX_SYSLOG_SD_ITEMS elements and params; the rest were dropped.',
  'syslog.invalid_utf8': 'Text is not valid UTF-8; bad sequences became U+FFFD.',
  'syslog.message_truncated': 'The message is longer than MAX_SYSLOG_MESSAGE_BYTES and was cut.',
}

export interface SyslogMessage {
  format: 'rfc5424' | 'rfc3164'
  facility: number
  severity: number
  /**
   * RFC 3339. RFC 5424: the sender's text (its offset and precision kept, `T`/`Z` upper-cased).
   * RFC 3164: UTC with milliseconds, the year inferred from `now` (the header has none).
   */
  timestamp: string | undefined
  hostname: string | undefined
  /** RFC 5424 APP-NAME, or the RFC 3164 TAG. */
  appName: string | undefined
  /** RFC 5424 PROCID, or the RFC 3164 `tag[pid]` pid. */
  procId: string | undefined
  msgId: string | undefined
  /** Parsed SD-ELEMENTs with unescaped values; empty for RFC 3164. */
  structuredData: SdElement[]
  /** MSG as text, a leading UTF-8 BOM and trailing CR / LF / NUL removed. */
  message: string
  anomalies: SyslogAnomaly[]
}

export interface ParseSyslogOptions {
  /** Reference time for the year of RFC 3164 timestamps (default: the current time). */
  now?: Date | number
  /** Offset from UTC of RFC 3164 senders' local clocks, in minutes (default 0: UTC). */
  rfc3164UtcOffsetMinutes?: number
}

const SP = 0x20
const LT = 0x3c
const GT = 0x3e
const LBRACKET = 0x5b
const RBRACKET = 0x5d
const QUOTE = 0x22
const BACKSLASH = 0x5c
const EQUALS = 0x3d
const COLON = 0x3a
const DASH = 0x2d

const encoder = new TextEncoder()
// ignoreBOM keeps a BOM in the text: only a BOM at the very start of MSG is a marker (§6.4).
const decoder = new TextDecoder('utf-8', { ignoreBOM: true })
const strictDecoder = new TextDecoder('utf-8', { ignoreBOM: true, fatal: true })

/**
 * The whole message as text when it is valid UTF-8, else undefined. One native validate and
 * decode per message costs less than a JS validity scan and a decode per field.
 */
function wholeText(b: Uint8Array, end: number): string | undefined {
  try {
    return strictDecoder.decode(end === b.length ? b : b.subarray(0, end))
  } catch {
    return undefined
  }
}

/**
 * Parses one syslog message. Fails only on an empty message: everything else yields a record,
 * with anomalies for what was wrong.
 * @example parseSyslog('<190>Nov 22 10:00:00 web1 nginx: GET / 200', { now: Date.now() })
 */
export function parseSyslog(
  line: Uint8Array | string,
  options: ParseSyslogOptions = {},
): ParseResult<SyslogMessage> {
  const anomalies: SyslogAnomaly[] = []
  let b: Uint8Array
  if (typeof line === 'string') {
    // Every character is at least one byte, so this cut never loses bytes below the limit.
    b = encoder.encode(
      line.length > MAX_SYSLOG_MESSAGE_BYTES ? line.slice(0, MAX_SYSLOG_MESSAGE_BYTES + 1) : line,
    )
  } else {
    b = line
  }
  let end = b.length
  if (end > MAX_SYSLOG_MESSAGE_BYTES) {
    end = MAX_SYSLOG_MESSAGE_BYTES
    // Do not cut inside a UTF-8 sequence: back off over continuation bytes (10xxxxxx).
    for (let k = 0; k < 3 && ((b[end] ?? 0) & 0xc0) === 0x80; k++) end--
    anomalies.push('syslog.message_truncated')
  }
  // Trailers some senders add to datagrams (LF, CRLF, NUL) are not part of the message.
  while (end > 0) {
    const c = b[end - 1]
    if (c !== 0x0a && c !== 0x0d && c !== 0x00) break
    end--
  }
  if (end === 0) {
    return { ok: false, error: { code: 'truncated', offset: 0, context: 'syslog: empty message' } }
  }
  const p = new Parser(b, end, anomalies)
  return { ok: true, value: p.parse(options) }
}

class Parser {
  pos = 0
  /** The message is valid UTF-8 (so is every field: all fields end at ASCII delimiters). */
  readonly valid: boolean
  /** The message as text when it is all ASCII (byte offsets are then string offsets), or ''. */
  readonly ascii: string

  constructor(
    readonly b: Uint8Array,
    readonly end: number,
    readonly anomalies: SyslogAnomaly[],
  ) {
    const whole = wholeText(b, end)
    this.valid = whole !== undefined
    // Valid UTF-8 decodes to as many UTF-16 units as bytes only when every byte is ASCII.
    this.ascii = whole !== undefined && whole.length === end ? whole : ''
  }

  flag(a: SyslogAnomaly): void {
    if (!this.anomalies.includes(a)) this.anomalies.push(a)
  }

  at(i: number): number {
    return i < this.end ? (this.b[i] ?? -1) : -1
  }

  parse(options: ParseSyslogOptions): SyslogMessage {
    const pri = this.pri()
    if (pri === undefined) {
      // RFC 3164 §4.3.3: no usable PRI → PRI 13 and the whole packet is the MSG content.
      return this.record('rfc3164', DEFAULT_FACILITY * 8 + DEFAULT_SEVERITY, 0)
    }
    if (this.at(this.pos) === 0x31 && this.at(this.pos + 1) === SP) {
      this.pos += 2
      return this.rfc5424(pri)
    }
    return this.rfc3164(pri, options)
  }

  record(format: SyslogMessage['format'], pri: number, msgStart: number): SyslogMessage {
    return {
      format,
      facility: pri >> 3,
      severity: pri & 7,
      timestamp: undefined,
      hostname: undefined,
      appName: undefined,
      procId: undefined,
      msgId: undefined,
      structuredData: [],
      message: this.msg(msgStart),
      anomalies: this.anomalies,
    }
  }

  /** RFC 5424 §6.2.1 PRI = "<" PRIVAL ">", PRIVAL 1*3DIGIT in 0..191. */
  pri(): number | undefined {
    if (this.at(0) !== LT) {
      this.flag('syslog.missing_pri')
      return undefined
    }
    let v = 0
    let i = 1
    while (i <= 3 && isDigit(this.at(i))) v = v * 10 + this.at(i++) - 0x30
    if (i === 1 || this.at(i) !== GT || v > 191) {
      this.flag('syslog.bad_pri')
      return undefined
    }
    // RFC 3164 §4.1.1: no leading zeros unless the value is 0. Still usable, so only flagged.
    if (i > 2 && this.at(1) === 0x30) this.flag('syslog.bad_pri')
    this.pos = i + 1
    return v
  }

  /** Bytes up to the next SP (or the end); moves past that SP. */
  token(): [number, number] {
    const start = this.pos
    let i = start
    while (i < this.end && this.b[i] !== SP) i++
    this.pos = i < this.end ? i + 1 : i
    return [start, i]
  }

  text(start: number, stop: number): string {
    if (this.ascii !== '') return this.ascii.slice(start, stop)
    const bytes = this.b.subarray(start, stop)
    if (!this.valid && !isValidUtf8(bytes)) this.flag('syslog.invalid_utf8')
    return decoder.decode(bytes)
  }

  /** MSG from `start` to the end, a leading BOM removed (RFC 5424 §6.4 MSG-UTF8). */
  msg(start: number): string {
    let s = start
    if (this.at(s) === 0xef && this.at(s + 1) === 0xbb && this.at(s + 2) === 0xbf) s += 3
    return s >= this.end ? '' : this.text(s, this.end)
  }

  /** RFC 5424 §6 header field: NILVALUE → undefined; PRINTUSASCII up to `max` chars. */
  headerField(max: number): string | undefined {
    if (this.pos >= this.end) {
      this.flag('syslog.header_truncated')
      return undefined
    }
    const [start, stop] = this.token()
    if (stop - start === 1 && this.b[start] === DASH) return undefined
    let printable = stop > start
    for (let i = start; i < stop && printable; i++) {
      const c = this.b[i] ?? 0
      printable = c >= 33 && c <= 126
    }
    if (!printable || stop - start > max) this.flag('syslog.header_field_invalid')
    return stop === start ? undefined : this.text(start, stop)
  }

  rfc5424(pri: number): SyslogMessage {
    const rec = this.record('rfc5424', pri, this.end)
    const ts = this.headerField(Number.MAX_SAFE_INTEGER)
    if (ts !== undefined) rec.timestamp = rfc5424Timestamp(ts, this)
    rec.hostname = this.headerField(RFC5424_MAX_HOSTNAME_CHARS)
    rec.appName = this.headerField(RFC5424_MAX_APP_NAME_CHARS)
    rec.procId = this.headerField(RFC5424_MAX_PROCID_CHARS)
    rec.msgId = this.headerField(RFC5424_MAX_MSGID_CHARS)
    if (this.pos >= this.end) {
      this.flag('syslog.header_truncated')
      return rec
    }
    // RFC 5424 §6.3: STRUCTURED-DATA = NILVALUE / 1*SD-ELEMENT.
    let msgStart = this.pos
    let sdComplete = true
    if (this.at(this.pos) === DASH && (this.at(this.pos + 1) === SP || this.pos + 1 === this.end)) {
      msgStart = this.pos + 1
    } else if (this.at(this.pos) === LBRACKET) {
      sdComplete = this.structuredData(rec.structuredData)
      msgStart = this.pos
    } else {
      this.flag('syslog.bad_structured_data')
      sdComplete = false
    }
    // RFC 5424 §6: SD [SP MSG].
    if (sdComplete && msgStart < this.end) {
      if (this.at(msgStart) === SP) msgStart++
      else this.flag('syslog.bad_structured_data')
    }
    rec.message = this.msg(msgStart)
    return rec
  }

  /**
   * Parses SD-ELEMENTs from `pos`, leaving `pos` after the last one, or at the start of the first
   * malformed one (returning false): its bytes are then kept as MSG rather than lost.
   */
  structuredData(out: SdElement[]): boolean {
    let items = 0
    while (this.at(this.pos) === LBRACKET) {
      const elementStart = this.pos
      const el = this.sdElement()
      if (el === undefined) {
        this.flag('syslog.bad_structured_data')
        this.pos = elementStart
        return false
      }
      items += 1 + el.params.length
      if (items > MAX_SYSLOG_SD_ITEMS) {
        this.flag('syslog.sd_limit')
        continue
      }
      if (out.some((e) => e.id === el.id)) this.flag('syslog.duplicate_sd_id')
      out.push(el)
    }
    return true
  }

  /** `[SD-ID *(SP PARAM-NAME="PARAM-VALUE")]`, or undefined when malformed. */
  sdElement(): SdElement | undefined {
    this.pos++ // '['
    const id = this.sdName()
    if (id === undefined) return undefined
    const params: SdParam[] = []
    while (true) {
      const c = this.at(this.pos)
      if (c === RBRACKET) {
        this.pos++
        return { id, params }
      }
      if (c !== SP) return undefined
      this.pos++
      const name = this.sdName()
      if (name === undefined || this.at(this.pos) !== EQUALS) return undefined
      if (this.at(this.pos + 1) !== QUOTE) return undefined
      this.pos += 2
      const value = this.paramValue()
      if (value === undefined) return undefined
      params.push({ name, value })
    }
  }

  /** RFC 5424 §6.3.2 SD-NAME: up to `=`, SP, `]` or `"`. */
  sdName(): string | undefined {
    const start = this.pos
    let valid = true
    while (this.pos < this.end) {
      const c = this.b[this.pos] ?? 0
      if (c === EQUALS || c === SP || c === RBRACKET || c === QUOTE) break
      if (c < 33 || c > 126) valid = false
      this.pos++
    }
    if (this.pos === start) return undefined
    if (!valid || this.pos - start > RFC5424_MAX_SD_NAME_CHARS) this.flag('syslog.sd_name_invalid')
    return this.text(start, this.pos)
  }

  /**
   * RFC 5424 §6.3.3 PARAM-VALUE after its opening quote, through the closing one. `\"`, `\\` and
   * `\]` are unescaped; a backslash before anything else is kept as is.
   */
  paramValue(): string | undefined {
    const start = this.pos
    let escapes = 0
    let i = start
    for (; i < this.end; i++) {
      const c = this.b[i]
      if (c === QUOTE) break
      if (c === BACKSLASH) {
        const n = this.at(i + 1)
        if (n === QUOTE || n === BACKSLASH || n === RBRACKET) {
          escapes++
          i++
        }
      } else if (c === RBRACKET) {
        this.flag('syslog.sd_unescaped_char')
      }
    }
    if (i >= this.end) return undefined
    this.pos = i + 1
    if (escapes === 0) return this.text(start, i)
    const raw = new Uint8Array(i - start - escapes)
    let o = 0
    for (let k = start; k < i; k++) {
      const c = this.b[k] ?? 0
      if (c === BACKSLASH) {
        const n = this.b[k + 1] ?? 0
        if (n === QUOTE || n === BACKSLASH || n === RBRACKET) {
          raw[o++] = n
          k++
          continue
        }
      }
      raw[o++] = c
    }
    if (!isValidUtf8(raw)) this.flag('syslog.invalid_utf8')
    return decoder.decode(raw)
  }

  rfc3164(pri: number, options: ParseSyslogOptions): SyslogMessage {
    const rec = this.record('rfc3164', pri, this.end)
    const headerStart = this.pos
    const ts = this.bsdTimestamp(options) ?? this.isoTimestamp()
    if (ts === undefined) {
      // RFC 3164 §4.3.2: without a valid TIMESTAMP, everything after PRI is MSG.
      this.flag('syslog.bad_timestamp')
      this.pos = headerStart
      rec.message = this.msg(headerStart)
      return rec
    }
    rec.timestamp = ts.iso
    if (this.pos < this.end) {
      // HACK: nginx with `nohostname` sends `<PRI>TIMESTAMP tag: msg`. A first token that reads
      // as a tag ending in `:` is taken as the tag (host names never end in a colon).
      const save = this.pos
      if (!this.tag(rec, true)) {
        this.pos = save
        const [start, stop] = this.token()
        if (stop > start) rec.hostname = this.text(start, stop)
        this.tag(rec, false)
      }
    }
    rec.message = this.msg(this.pos)
    return rec
  }

  /**
   * RFC 3164 §4.1.3 TAG: `tag:`, `tag[pid]:` or `tag[pid]` then SP. A bare word is not taken as
   * a tag (RFC 3164 §5.4 example 2: "Use the BFG!" is all content). Moves past it on success.
   */
  tag(rec: SyslogMessage, colonRequired: boolean): boolean {
    const start = this.pos
    let i = start
    while (i < this.end && i - start <= MAX_RFC3164_TAG_CHARS) {
      const c = this.b[i]
      if (c === SP || c === LBRACKET || c === RBRACKET || c === COLON) break
      i++
    }
    if (i === start || i - start > MAX_RFC3164_TAG_CHARS) return false
    const tagEnd = i
    let pid: [number, number] | undefined
    if (this.at(i) === LBRACKET) {
      const pidStart = i + 1
      let j = pidStart
      while (j < this.end && j - pidStart <= RFC5424_MAX_PROCID_CHARS) {
        const c = this.b[j]
        if (c === RBRACKET || c === SP) break
        j++
      }
      if (this.at(j) !== RBRACKET) return false
      pid = [pidStart, j]
      i = j + 1
    }
    if (this.at(i) === COLON) {
      i++
      // An IPv6 host name (`fe80::1`) is not `fe80` + colon: a tag's colon ends the token.
      if (colonRequired && i < this.end && this.at(i) !== SP) return false
    } else if (colonRequired || pid === undefined || (i < this.end && this.at(i) !== SP))
      return false
    if (this.at(i) === SP) i++
    rec.appName = this.text(start, tagEnd)
    if (pid !== undefined && pid[1] > pid[0]) rec.procId = this.text(pid[0], pid[1])
    this.pos = i
    return true
  }

  /**
   * RFC 3164 §4.1.2 `Mmm dd hh:mm:ss` (day space-padded, as nginx writes it; a zero-padded day
   * is accepted too), with an optional fraction, then SP or the end.
   */
  bsdTimestamp(options: ParseSyslogOptions): { iso: string | undefined } | undefined {
    const p = this.pos
    const month = monthIndex(this.at(p), this.at(p + 1), this.at(p + 2))
    if (month < 0 || this.at(p + 3) !== SP) return undefined
    let i = p + 4
    if (this.at(i) === SP) i++
    let day = 0
    const dayStart = i
    while (i - dayStart < 2 && isDigit(this.at(i))) day = day * 10 + this.at(i++) - 0x30
    if (i === dayStart || this.at(i) !== SP) return undefined
    i++
    const hh = this.twoDigits(i)
    const mm = this.twoDigits(i + 3)
    const ss = this.twoDigits(i + 6)
    if (hh < 0 || mm < 0 || ss < 0 || this.at(i + 2) !== COLON || this.at(i + 5) !== COLON) {
      return undefined
    }
    i += 8
    let ms = 0
    if (this.at(i) === 0x2e && isDigit(this.at(i + 1))) {
      i++
      let scale = 100
      while (isDigit(this.at(i))) {
        ms += (this.at(i++) - 0x30) * scale
        scale /= 10
      }
      ms = Math.floor(ms)
    }
    if (i < this.end && this.at(i) !== SP) return undefined
    this.pos = i < this.end ? i + 1 : i
    const iso = inferYear(month, day, hh, mm, ss, ms, options)
    if (iso === undefined) this.flag('syslog.bad_timestamp')
    return { iso }
  }

  /** rsyslog's forwarding format puts an RFC 3339 timestamp where RFC 3164 has its own. */
  isoTimestamp(): { iso: string | undefined } | undefined {
    const save = this.pos
    const [start, stop] = this.token()
    if (stop - start < 19 || !isDigit(this.at(start))) {
      this.pos = save
      return undefined
    }
    const iso = rfc5424Timestamp(this.text(start, stop), this)
    if (iso === undefined) {
      this.pos = save
      return undefined
    }
    return { iso }
  }

  twoDigits(i: number): number {
    const a = this.at(i)
    const c = this.at(i + 1)
    return isDigit(a) && isDigit(c) ? (a - 0x30) * 10 + (c - 0x30) : -1
  }
}

const STRICT_TIMESTAMP_RE =
  /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.\d{1,6})?(?:Z|[+-](\d{2}):(\d{2}))$/

/**
 * RFC 5424 §6.2.3 TIMESTAMP. A conformant one is returned as sent; a repairable one (lower-case
 * `t`/`z`, more than 6 fraction digits, `+hhmm`) is normalised and flagged; anything else is
 * flagged and dropped.
 */
function rfc5424Timestamp(text: string, p: Parser): string | undefined {
  const m = STRICT_TIMESTAMP_RE.exec(text)
  if (m !== null) {
    const [, y, mo, d, h, mi, s, oh, om] = m
    const dayOk = Number(d) >= 1 && Number(d) <= daysInMonth(Number(y), Number(mo))
    if (
      dayOk &&
      Number(mo) >= 1 &&
      Number(mo) <= 12 &&
      Number(h) <= 23 &&
      Number(mi) <= 59 &&
      Number(s) <= 59 &&
      Number(oh ?? 0) <= 23 &&
      Number(om ?? 0) <= 59
    ) {
      return text
    }
  }
  p.flag('syslog.bad_timestamp')
  return normalizeIsoTimestamp(text)
}

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec']
/** The three bytes of each month name, ORed with 0x20, packed into one number → 0..11. */
const MONTH_BY_CODE = new Map(
  MONTHS.map((m, i) => [(m.charCodeAt(0) << 16) | (m.charCodeAt(1) << 8) | m.charCodeAt(2), i]),
)

/** RFC 3164 §4.1.2 month abbreviation (matched case-insensitively) → 0..11, or -1. */
function monthIndex(a: number, b: number, c: number): number {
  if (a < 0 || b < 0 || c < 0) return -1
  return MONTH_BY_CODE.get(((a | 0x20) << 16) | ((b | 0x20) << 8) | (c | 0x20)) ?? -1
}

/**
 * RFC 3164 timestamps carry no year: pick the year (now - 1, now, now + 1) that puts the date
 * closest to `now`, so a December message read in January lands in the previous year.
 */
function inferYear(
  month: number,
  day: number,
  hh: number,
  mm: number,
  ss: number,
  ms: number,
  options: ParseSyslogOptions,
): string | undefined {
  if (hh > 23 || mm > 59 || ss > 59 || day < 1) return undefined
  const now = options.now
  const nowMs = now === undefined ? Date.now() : typeof now === 'number' ? now : now.getTime()
  const offsetMin = options.rfc3164UtcOffsetMinutes ?? 0
  const hour = Math.floor(nowMs / 3_600_000)
  // A sender stamps every message of a second alike: the last answer serves while `now` stays
  // in the same hour (the year can only change across a new year's hour).
  const c = lastYear
  if (
    c.hour === hour &&
    c.ms === ms &&
    c.ss === ss &&
    c.mm === mm &&
    c.hh === hh &&
    c.day === day &&
    c.month === month &&
    (c.offsetMin === offsetMin || (Number.isNaN(c.offsetMin) && Number.isNaN(offsetMin)))
  ) {
    return c.iso
  }
  const iso = inferYearUncached(month, day, hh, mm, ss, ms, options, nowMs)
  lastYear = { month, day, hh, mm, ss, ms, offsetMin, hour, iso }
  return iso
}

interface YearAnswer {
  month: number
  day: number
  hh: number
  mm: number
  ss: number
  ms: number
  offsetMin: number
  /** `now` in whole hours since the epoch. */
  hour: number
  iso: string | undefined
}

let lastYear: YearAnswer = {
  month: NaN,
  day: NaN,
  hh: NaN,
  mm: NaN,
  ss: NaN,
  ms: NaN,
  offsetMin: NaN,
  hour: NaN,
  iso: undefined,
}

function inferYearUncached(
  month: number,
  day: number,
  hh: number,
  mm: number,
  ss: number,
  ms: number,
  options: ParseSyslogOptions,
  nowMs: number,
): string | undefined {
  if (!Number.isFinite(nowMs)) return undefined
  const offsetMs = (options.rfc3164UtcOffsetMinutes ?? 0) * 60_000
  const localYear = new Date(nowMs + offsetMs).getUTCFullYear()
  let best: number | undefined
  for (let y = localYear - 1; y <= localYear + 1; y++) {
    if (day > daysInMonth(y, month + 1)) continue
    const t = Date.UTC(y, month, day, hh, mm, ss, ms) - offsetMs
    if (best === undefined || Math.abs(t - nowMs) < Math.abs(best - nowMs)) best = t
  }
  if (best === undefined) return undefined
  const d = new Date(best)
  return Number.isFinite(d.getTime()) ? d.toISOString() : undefined
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39
}

/** RFC 3629 §4 well-formed UTF-8 (no overlongs, no surrogates, at most U+10FFFF). */
export function isValidUtf8(b: Uint8Array): boolean {
  const n = b.length
  let i = 0
  while (i < n) {
    const c = b[i] ?? 0
    if (c < 0x80) {
      i++
      continue
    }
    let need: number
    let min: number
    let max = 0xbf
    if (c >= 0xc2 && c <= 0xdf) {
      need = 1
      min = 0x80
    } else if (c >= 0xe0 && c <= 0xef) {
      need = 2
      min = c === 0xe0 ? 0xa0 : 0x80
      if (c === 0xed) max = 0x9f
    } else if (c >= 0xf0 && c <= 0xf4) {
      need = 3
      min = c === 0xf0 ? 0x90 : 0x80
      if (c === 0xf4) max = 0x8f
    } else {
      return false
    }
    if (i + need >= n) return false
    const c1 = b[i + 1] ?? 0
    if (c1 < min || c1 > max) return false
    for (let k = 2; k <= need; k++) {
      const ck = b[i + k] ?? 0
      if (ck < 0x80 || ck > 0xbf) return false
    }
    i += need + 1
  }
  return true
}
