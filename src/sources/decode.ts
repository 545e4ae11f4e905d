/**
 * @module sources/decode
 * One message (a UDP datagram, a stream frame or an NDJSON line) → events and drop reasons, pure
 * and total. Per message, auto-detected: bare JSON (an object, an array of objects, or NDJSON
 * lines), else syslog (RFC 5424 or RFC 3164, `parseSyslog`) with the JSON in MSG — nginx writes
 * it after its `tag:`, rsyslog's CEE form after `@cee:`, Caddy's `net` writer sends raw lines.
 */
import { parseSyslog, type SyslogMessage } from '../protocols/syslog/index.ts'
import type { HttpEvent } from '../events/http.ts'
import type { TlsEvent } from '../events/tls.ts'
import {
  recordToEvent,
  MAX_NAME_CHARS,
  parseTimestampUs,
  type DropReason,
  type MappingContext,
  type MappingNote,
} from './mapping.ts'

/** Largest message decoded (a UDP datagram carries at most 65,507 bytes, RFC 768 over IPv4). */
export const MAX_RECORD_BYTES = 65_536
/** How far into a syslog MSG a JSON object may start after an unrecognised prefix. */
const MAX_JSON_PREFIX_CHARS = 1_024
/** Characters of a dropped record kept for the log sample. */
export const SAMPLE_CHARS = 200

export interface DecodeContext extends MappingContext {
  /** Limit of this transport (default MAX_RECORD_BYTES). */
  maxRecordBytes?: number
}

export interface Drop {
  reason: DropReason
  /** The field that made a record fail, when there is one. */
  field?: string
  /** The start of the offending text, for the rate-limited log sample. */
  sample: string
}

export interface DecodeOutcome {
  events: (HttpEvent | TlsEvent)[]
  drops: Drop[]
  notes: MappingNote[]
}

const decoder = new TextDecoder('utf-8', { fatal: false })
const LBRACE = 0x7b
const LBRACKET = 0x5b
const LT = 0x3c

function firstSignificant(b: Uint8Array): number {
  let i = 0
  // UTF-8 BOM, then whitespace.
  if (b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf) i = 3
  while (i < b.length) {
    const c = b[i]
    if (c !== 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) break
    i++
  }
  return i
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true })
/** A run of `\xHH` escapes that is not itself escaped (an even number of backslashes before). */
const HEX_ESCAPES = /(?<!\\)((?:\\\\)*)((?:\\x[0-9a-fA-F]{2})+)/g

/** `\xHH…` bytes → JSON `\uXXXX` escapes: as UTF-8 when they are, else one code point each. */
function hexRunToJson(_: string, lead: string, run: string): string {
  const bytes = new Uint8Array(run.length / 4)
  for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt(run.slice(i * 4 + 2, i * 4 + 4), 16)
  let text: string
  try {
    text = strictUtf8.decode(bytes)
  } catch {
    text = String.fromCharCode(...bytes)
  }
  let out = lead
  for (let i = 0; i < text.length; i++)
    out += '\\u' + text.charCodeAt(i).toString(16).padStart(4, '0')
  return out
}

/**
 * JSON text → value. HACK: Apache (`%{User-Agent}i`) and nginx without `escape=json` write
 * non-printable and non-ASCII bytes as `\xHH`, which JSON does not have; on a parse failure such
 * escapes are rewritten to `\uXXXX` (runs decoded as UTF-8) and the text is parsed once more.
 */
function parseJson(text: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(text) }
  } catch {
    if (!text.includes('\\x')) return { ok: false }
  }
  try {
    return { ok: true, value: JSON.parse(text.replace(HEX_ESCAPES, hexRunToJson)) }
  } catch {
    return { ok: false }
  }
}

class Collector {
  readonly out: DecodeOutcome = { events: [], drops: [], notes: [] }

  constructor(readonly ctx: MappingContext) {}

  drop(reason: DropReason, text: string, field?: string): void {
    const d: Drop = { reason, sample: text.slice(0, SAMPLE_CHARS) }
    if (field !== undefined) d.field = field
    this.out.drops.push(d)
  }

  value(v: unknown, text: string): void {
    // A JSON array is a batch of records (Logpush to HTTP destinations can send one).
    if (Array.isArray(v)) {
      for (const item of v) this.record(item, text)
      return
    }
    this.record(v, text)
  }

  record(v: unknown, text: string): void {
    const r = recordToEvent(v, this.ctx)
    if (r.ok) {
      this.out.events.push(r.event)
      for (const n of r.notes) if (!this.out.notes.includes(n)) this.out.notes.push(n)
    } else {
      this.drop(r.reason, text, r.field)
    }
  }

  /** Bare JSON: one document, or NDJSON when the whole does not parse and holds line breaks. */
  json(text: string): void {
    const whole = parseJson(text)
    if (whole.ok) {
      this.value(whole.value, text)
      return
    }
    if (!text.includes('\n')) {
      this.drop('bad_json', text)
      return
    }
    for (const raw of text.split('\n')) {
      const line = raw.trim()
      if (line === '') continue
      const v = parseJson(line)
      if (v.ok) this.value(v.value, line)
      else this.drop(line.startsWith('{') || line.startsWith('[') ? 'bad_json' : 'not_json', line)
    }
  }
}

/** The JSON text inside a syslog MSG, or undefined. */
function jsonInMessage(msg: string): string | undefined {
  let s = msg.trimStart()
  // rsyslog / CEE: `@cee: {json}`.
  if (s.startsWith('@cee:')) s = s.slice(5).trimStart()
  if (s.startsWith('{') || s.startsWith('[')) return s
  // HACK: a tag the syslog parser did not recognise (`app/sub[12]:` variants) stays in MSG; take
  // the JSON after it when the line ends like an object.
  const brace = s.indexOf('{')
  if (brace > 0 && brace <= MAX_JSON_PREFIX_CHARS && s.trimEnd().endsWith('}'))
    return s.slice(brace)
  return undefined
}

const HEADER_ANOMALIES = new Set<string>([
  'syslog.bad_pri',
  'syslog.bad_timestamp',
  'syslog.header_truncated',
  'syslog.header_field_invalid',
])

/** The syslog host as a sensor name: 1 to MAX_NAME_CHARS printable ASCII characters. */
function hostName(m: SyslogMessage): string | undefined {
  const h = m.hostname
  if (h === undefined || h.length === 0 || h.length > MAX_NAME_CHARS) return undefined
  for (let i = 0; i < h.length; i++) {
    const c = h.charCodeAt(i)
    if (c < 0x21 || c > 0x7e) return undefined
  }
  return h
}

/** The start of a message as text, for a drop's sample. */
function sample(bytes: Uint8Array): string {
  return decoder.decode(bytes.subarray(0, SAMPLE_CHARS))
}

function dropped(reason: DropReason, text: string): DecodeOutcome {
  return { events: [], drops: [{ reason, sample: text.slice(0, SAMPLE_CHARS) }], notes: [] }
}

/**
 * Decodes one message into events. Never throws; every record that is not an event is one drop.
 * @example
 * decodeMessage(datagram, { source: 'syslog', sensor: 'collector-1', now: new Date() })
 */
export function decodeMessage(bytes: Uint8Array, ctx: DecodeContext): DecodeOutcome {
  const max = ctx.maxRecordBytes ?? MAX_RECORD_BYTES
  if (bytes.length > max) return dropped('oversized', sample(bytes))
  const start = firstSignificant(bytes)
  if (start === bytes.length) return dropped('not_json', '')
  const lead = bytes[start]
  if (lead === LBRACE || lead === LBRACKET) {
    const c = new Collector(ctx)
    c.json(decoder.decode(start === 0 ? bytes : bytes.subarray(start)))
    return c.out
  }
  const parsed = parseSyslog(bytes, { now: ctx.now })
  if (!parsed.ok) return dropped('bad_syslog', sample(bytes))
  const m = parsed.value
  const json = jsonInMessage(m.message)
  if (json === undefined) {
    const headerBroken = lead === LT && m.anomalies.some((a) => HEADER_ANOMALIES.has(a))
    return dropped(headerBroken ? 'bad_syslog' : 'not_json', sample(bytes))
  }
  // The sending host names the events it logs; an RFC 5424 time (offset and µs kept) stands in
  // for a record without one. RFC 3164 times have no zone or year, so the receive time is better.
  const host = hostName(m)
  const tsUs = m.format === 'rfc5424' ? parseTimestampUs(m.timestamp) : undefined
  const inner = new Collector(
    tsUs === undefined
      ? { source: ctx.source, sensor: host ?? ctx.sensor, now: ctx.now }
      : { source: ctx.source, sensor: host ?? ctx.sensor, now: new Date(tsUs / 1000), nowUs: tsUs },
  )
  const v = parseJson(json)
  if (v.ok) inner.value(v.value, json)
  else inner.drop('bad_json', json)
  return inner.out
}
