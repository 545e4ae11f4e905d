/**
 * @module store/mysql/batch
 * Events → the sink's batches: each event with the three Cloudflare fields is folded into one
 * row per (fingerprint, UTC date) with its hit count and first / last second seen. The
 * fingerprint table's rows are derived from those (sum, min, max over the dates). A batch is
 * spooled as NDJSON, one row per line, so a replay applies exactly what the direct write would.
 */
import type { HttpEvent } from '../../events/http.ts'
import type { TlsEvent } from '../../events/tls.ts'
import { MAX_HASH_CHARS, MAX_HELLO_LENGTH, MAX_TIMESTAMP, MIN_TIMESTAMP } from './schema.ts'

/** Counted per (fingerprint, date). Times are UTC `YYYY-MM-DD HH:MM:SS` (TIMESTAMP precision). */
export interface DailyRow {
  ciphers: string
  extensions: string
  hello_length: number
  /** `YYYY-MM-DD`, the UTC date of the events. */
  date: string
  hits: number
  first_seen: string
  last_seen: string
}

export interface FingerprintRow {
  ciphers: string
  extensions: string
  hello_length: number
  hits: number
  first_seen: string
  last_seen: string
}

/** Why an event was not counted. */
export type IgnoreReason = 'no_fingerprint' | 'invalid' | 'other_type'

/** The event types the sink counts; others (a `session` repeats its `tls`) are ignored. */
export type SinkEventType = 'tls' | 'http'

export type Classified =
  | { ok: true; type: SinkEventType; key: string; row: DailyRow }
  | { ok: false; reason: IgnoreReason }

const ISO_UTC_RE = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}:\d{2})(?:\.\d{1,9})?Z$/

let cachedTsPrefix = ''
let cachedSecond: string | null = null

/**
 * An event time as a UTC `YYYY-MM-DD HH:MM:SS` within the TIMESTAMP range, or null. Events
 * carry `…Z` times with microseconds; anything else ISO 8601 is accepted through Date.parse.
 */
export function utcSecond(ts: string): string | null {
  const m = ISO_UTC_RE.exec(ts)
  if (m !== null) {
    // Events come in time order: validate each second once.
    const prefix = ts.slice(0, 19)
    if (prefix === cachedTsPrefix) return cachedSecond
    const ms = Date.parse(`${prefix}Z`)
    const s = `${m[1] ?? ''} ${m[2] ?? ''}`
    // Date.parse rolls some impossible dates over (Feb 30): require the round trip.
    const ok = !Number.isNaN(ms) && new Date(ms).toISOString().slice(0, 19) === prefix && inRange(s)
    cachedTsPrefix = prefix
    cachedSecond = ok ? s : null
    return cachedSecond
  }
  const ms = Date.parse(ts)
  if (Number.isNaN(ms)) return null
  const iso = new Date(Math.floor(ms / 1000) * 1000).toISOString()
  const s = `${iso.slice(0, 10)} ${iso.slice(11, 19)}`
  return inRange(s) ? s : null
}

function inRange(s: string): boolean {
  return s >= MIN_TIMESTAMP && s <= MAX_TIMESTAMP
}

function validHash(h: string): boolean {
  // NUL separates the parts of an aggregation key, so it cannot be part of a hash.
  return h.length > 0 && h.length <= MAX_HASH_CHARS && !h.includes('\u0000')
}

/** Whether `event` counts, and under which (fingerprint, date) key. */
export function classify(event: { type: string }): Classified {
  if (!isSinkEvent(event)) return { ok: false, reason: 'other_type' }
  const c = event.cf_ciphers_sha1
  const e = event.cf_extensions_sha1
  const l = event.hello_length
  if (c === null || e === null || l === null) return { ok: false, reason: 'no_fingerprint' }
  if (typeof c !== 'string' || typeof e !== 'string' || !validHash(c) || !validHash(e))
    return { ok: false, reason: 'invalid' }
  if (!Number.isSafeInteger(l) || l < 0 || l > MAX_HELLO_LENGTH)
    return { ok: false, reason: 'invalid' }
  const second = typeof event.ts === 'string' ? utcSecond(event.ts) : null
  if (second === null) return { ok: false, reason: 'invalid' }
  const date = second.slice(0, 10)
  return {
    ok: true,
    type: event.type,
    key: `${c}\u0000${e}\u0000${l}\u0000${date}`,
    row: {
      ciphers: c,
      extensions: e,
      hello_length: l,
      date,
      hits: 1,
      first_seen: second,
      last_seen: second,
    },
  }
}

function isSinkEvent(event: { type: string }): event is TlsEvent | HttpEvent {
  return event.type === 'tls' || event.type === 'http'
}

/** Rows of one pending batch, folded as events arrive. */
export class DailyAggregate {
  readonly #rows = new Map<string, DailyRow>()
  #events = 0

  add(key: string, row: DailyRow): void {
    this.#events += row.hits
    const cur = this.#rows.get(key)
    if (cur === undefined) {
      this.#rows.set(key, { ...row })
      return
    }
    cur.hits += row.hits
    if (row.first_seen < cur.first_seen) cur.first_seen = row.first_seen
    if (row.last_seen > cur.last_seen) cur.last_seen = row.last_seen
  }

  get events(): number {
    return this.#events
  }

  /** Rows sorted by key, so concurrent writers take row locks in the same order. */
  rows(): DailyRow[] {
    return [...this.#rows.values()].sort(compareDaily)
  }
}

function compareStr(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}

function compareFp(a: FingerprintRow | DailyRow, b: FingerprintRow | DailyRow): number {
  return (
    compareStr(a.ciphers, b.ciphers) ||
    compareStr(a.extensions, b.extensions) ||
    a.hello_length - b.hello_length
  )
}

function compareDaily(a: DailyRow, b: DailyRow): number {
  return compareStr(a.date, b.date) || compareFp(a, b)
}

/** One row per fingerprint: hits summed, earliest first_seen, latest last_seen; sorted. */
export function fingerprintRows(daily: readonly DailyRow[]): FingerprintRow[] {
  const byFp = new Map<string, FingerprintRow>()
  for (const d of daily) {
    const key = `${d.ciphers}\u0000${d.extensions}\u0000${d.hello_length}`
    const cur = byFp.get(key)
    if (cur === undefined) {
      byFp.set(key, {
        ciphers: d.ciphers,
        extensions: d.extensions,
        hello_length: d.hello_length,
        hits: d.hits,
        first_seen: d.first_seen,
        last_seen: d.last_seen,
      })
      continue
    }
    cur.hits += d.hits
    if (d.first_seen < cur.first_seen) cur.first_seen = d.first_seen
    if (d.last_seen > cur.last_seen) cur.last_seen = d.last_seen
  }
  return [...byFp.values()].sort(compareFp)
}

/** NDJSON body for the spool: `[ciphers, extensions, length, date, hits, first, last]\n` each. */
export function encodeRows(rows: readonly DailyRow[]): Buffer {
  let text = ''
  for (const r of rows)
    text +=
      JSON.stringify([
        r.ciphers,
        r.extensions,
        r.hello_length,
        r.date,
        r.hits,
        r.first_seen,
        r.last_seen,
      ]) + '\n'
  return Buffer.from(text, 'utf8')
}

const DATE_RE = /^\d{4}-\d{2}-\d{2}$/
const SECOND_RE = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/

/** Rows of a spooled body, or null when a line is not a row this module wrote. */
export function decodeRows(body: Buffer): DailyRow[] | null {
  const rows: DailyRow[] = []
  for (const line of body.toString('utf8').split('\n')) {
    if (line === '') continue
    let v: unknown
    try {
      v = JSON.parse(line)
    } catch {
      return null
    }
    if (!Array.isArray(v) || v.length !== 7) return null
    const [c, e, l, date, hits, first, last]: unknown[] = v
    if (typeof c !== 'string' || typeof e !== 'string' || !validHash(c) || !validHash(e))
      return null
    if (typeof l !== 'number' || !Number.isSafeInteger(l) || l < 0 || l > MAX_HELLO_LENGTH)
      return null
    if (typeof hits !== 'number' || !Number.isSafeInteger(hits) || hits < 1) return null
    if (typeof date !== 'string' || !DATE_RE.test(date)) return null
    if (typeof first !== 'string' || !SECOND_RE.test(first) || !inRange(first)) return null
    if (typeof last !== 'string' || !SECOND_RE.test(last) || !inRange(last)) return null
    rows.push({
      ciphers: c,
      extensions: e,
      hello_length: l,
      date,
      hits,
      first_seen: first,
      last_seen: last,
    })
  }
  return rows
}

/** Events a batch stands for. */
export function eventCount(rows: readonly DailyRow[]): number {
  return rows.reduce((n, r) => n + r.hits, 0)
}
