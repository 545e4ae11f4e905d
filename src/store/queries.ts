/**
 * @module store/queries
 * Typed reads for the API: top fingerprints of a family over a window, one fingerprint's
 * timeline, addresses / hosts / user agents, filtered pages of events, stored counts. Every
 * value is a bound `{name:Type}` parameter; identifiers (tables, columns) come only from the
 * fixed maps below, chosen by validated keys.
 */
import { AppError } from '../errors.ts'
import type { StoreConfig } from './config.ts'
import type { StoreConnection } from './connection.ts'
import { STORE_EVENT_TYPES, TABLES, type StoredEvent, type StoreEventType } from './schema.ts'

/** Families the rollups aggregate (migrations/0005), with their raw source. */
const FAMILY_SOURCES = {
  ja4: 'tls',
  ja4_stable: 'tls',
  ja3: 'tls',
  ja4s: 'tls',
  ja3s: 'tls',
  ja4t: 'tls',
  tft: 'tls',
  ja4h: 'http',
  tfh: 'http',
} as const satisfies Record<string, 'tls' | 'http'>

export type RollupFamily = keyof typeof FAMILY_SOURCES
export const ROLLUP_FAMILIES = Object.keys(FAMILY_SOURCES).filter(isRollupFamily)

export function isRollupFamily(x: unknown): x is RollupFamily {
  return typeof x === 'string' && Object.hasOwn(FAMILY_SOURCES, x)
}

/** Fingerprint columns an event page can be filtered on (where the table has them). */
export const EVENT_FINGERPRINT_COLUMNS = [
  'ja3',
  'ja3_str',
  'ja4',
  'ja4_r',
  'ja4_o',
  'ja4_ro',
  'ja4_stable',
  'ja3s',
  'ja4s',
  'ja4t',
  'ja4ts',
  'tft',
  'tft_stable',
  'cf_ciphers_sha1',
  'cf_extensions_sha1',
  'ja4h',
  'ja4h_r',
  'ja4h_ro',
  'tfh',
] as const
const FINGERPRINT_COLUMNS: ReadonlySet<string> = new Set(EVENT_FINGERPRINT_COLUMNS)

export const MAX_PAGE_EVENTS = 1000
export const MAX_OFFSET_EVENTS = 100_000
export const MAX_TOP_FINGERPRINTS = 1000

export type Grain = 'minute' | 'day'

/** A time window, `from` inclusive, `to` exclusive; ISO 8601 strings or Dates. */
export interface TimeWindow {
  from: string | Date
  to: string | Date
}

export interface FingerprintSummary {
  fingerprint: string
  events: number
  src_ips: number
  /** Distinct SNI (tls families) or Host (http families). */
  hosts: number
  user_agents: number
  first_seen: string
  last_seen: string
}

export interface TimelinePoint {
  /** Start of the bucket: `2024-01-02T03:04:00Z` per minute, `2024-01-02` per day. */
  t: string
  events: number
  src_ips: number
}

export type Dimension = 'src_ip' | 'host' | 'user_agent'

export interface DimensionValue {
  value: string
  events: number
  last_seen: string
}

export interface EventFilter {
  src_ip?: string
  sensor?: string
  /** SNI for tls, Host for http, either for session. */
  host?: string
  /** http and session events only. */
  user_agent?: string
  fingerprint?: { family: string; value: string }
}

/**
 * Where the next page of a listing starts: events older than `ts`, plus those at `ts` itself
 * after the first `skip` (in the listing's order) — several events can share a timestamp.
 * Unlike an offset, it does not shift when newer events arrive.
 */
export interface EventCursor {
  /** ISO 8601 `…Z`, as events carry it. */
  ts: string
  skip: number
}

export interface EventPage {
  events: StoredEvent[]
  has_more: boolean
  /** Start of the next page when `has_more`, else null. */
  next_cursor: EventCursor | null
}

export interface UserAgentBreakdown {
  user_agent: string
  events: number
  /** `events` over the events of the fingerprint that carry a user agent, in the window. */
  share: number
  src_ips: number
  hosts: number
  first_seen: string
  last_seen: string
}

function invalid(message: string): AppError {
  return new AppError('E_INVALID_ARGUMENT', message)
}

const ISO_Z_RE = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?Z$/

/** `YYYY-MM-DD hh:mm:ss.ffffff` (UTC) for a DateTime64(6) parameter; keeps microseconds. */
export function chTime(x: string | Date, name = 'time'): string {
  if (typeof x === 'string') {
    const m = ISO_Z_RE.exec(x)
    if (m !== null) return `${m[1]} ${m[2]}.${(m[3] ?? '').padEnd(6, '0').slice(0, 6)}`
  }
  const d = typeof x === 'string' ? new Date(x) : x
  if (Number.isNaN(d.getTime())) throw invalid(`${name}: not a time: ${String(x)}`)
  return d.toISOString().replace('T', ' ').replace('Z', '000')
}

function window(w: TimeWindow): { from: string; to: string } {
  return { from: chTime(w.from, 'from'), to: chTime(w.to, 'to') }
}

function bounded(name: string, n: number, max: number, min = 1): number {
  if (!Number.isInteger(n) || n < min || n > max)
    throw invalid(`${name} must be an integer in [${min}, ${max}], got ${n}`)
  return n
}

function family(f: string): RollupFamily {
  if (!isRollupFamily(f))
    throw invalid(
      `unknown fingerprint family ${JSON.stringify(f)} (known: ${ROLLUP_FAMILIES.join(', ')})`,
    )
  return f
}

/** Time parameters are UTC whatever the server's time zone. */
const FROM = "{from:DateTime64(6, 'UTC')}"
const TO = "{to:DateTime64(6, 'UTC')}"
const TS_WINDOW = `ts >= ${FROM} AND ts < ${TO}`

export class StoreQueries {
  readonly #conn: StoreConnection
  readonly #logs: string
  readonly #processing: string

  constructor(conn: StoreConnection, config: Pick<StoreConfig, 'db_logs' | 'db_processing'>) {
    this.#conn = conn
    this.#logs = config.db_logs
    this.#processing = config.db_processing
  }

  /** Store failures become E_STORAGE_UNAVAILABLE; the API maps codes, not driver errors. */
  async #query<T>(sql: string, params: Record<string, unknown>): Promise<T[]> {
    try {
      return await this.#conn.query<T>(sql, params)
    } catch (e) {
      throw new AppError(
        'E_STORAGE_UNAVAILABLE',
        `store query failed: ${e instanceof Error ? e.message : String(e)}`,
        { cause: e },
      )
    }
  }

  /** Most seen fingerprints of a family in the window, from the per-minute (or per-day) rollup. */
  async topFingerprints(
    q: TimeWindow & { family: string; limit?: number; grain?: Grain },
  ): Promise<FingerprintSummary[]> {
    const grain = q.grain ?? 'minute'
    // Two passes, each over the table ordered for it (migrations/0005): the top N by events from
    // the counts, ordered by time (the window's rows only); then the sketches of those N alone,
    // ordered by fingerprint (their key ranges only). Merging the sketches of every fingerprint
    // of the window would cost far more than the counts.
    const where = `family = {family:String} AND ${bucketWindow(grain)}`
    const sql =
      `SELECT fingerprint, sum(events) AS events, uniqCombinedMerge(12)(src_ips) AS src_ips, ` +
      `uniqCombinedMerge(12)(hosts) AS hosts, uniqCombinedMerge(12)(user_agents) AS user_agents, ` +
      `min(first_seen) AS first_seen, max(last_seen) AS last_seen ` +
      `FROM ${this.#processing}.fingerprint_sketch_${grain} ` +
      `WHERE ${where} AND fingerprint IN (` +
      `SELECT fingerprint FROM ${this.#processing}.fingerprint_count_${grain} WHERE ${where} ` +
      `GROUP BY fingerprint ORDER BY sum(events) DESC, fingerprint LIMIT {limit:UInt32}) ` +
      `GROUP BY fingerprint ORDER BY events DESC, fingerprint LIMIT {limit:UInt32}`
    return this.#query<FingerprintSummary>(sql, {
      family: family(q.family),
      ...window(q),
      limit: bounded('limit', q.limit ?? 100, MAX_TOP_FINGERPRINTS),
    })
  }

  /**
   * Events and distinct addresses of one fingerprint per minute or per day, from the rollup: a
   * bucket counts whole, even where the window starts or ends inside it.
   */
  async fingerprintTimeline(
    q: TimeWindow & { family: string; fingerprint: string; grain?: Grain },
  ): Promise<TimelinePoint[]> {
    const grain = q.grain ?? 'minute'
    // Buckets with only sessions (user agents, no events) are left out.
    const sql =
      `SELECT ${grain} AS t, sum(events) AS events, uniqCombinedMerge(12)(src_ips) AS src_ips ` +
      `FROM ${this.#processing}.fingerprint_sketch_${grain} ` +
      `WHERE family = {family:String} AND fingerprint = {fingerprint:String} ` +
      `AND ${bucketWindow(grain)} GROUP BY t HAVING events > 0 ORDER BY t`
    return this.#query<TimelinePoint>(sql, {
      family: family(q.family),
      fingerprint: q.fingerprint,
      ...window(q),
    })
  }

  /**
   * The client addresses, hosts or user agents seen with one fingerprint, most frequent first,
   * from the raw events. User agents of a tls family come from sessions.
   */
  async fingerprintValues(
    q: TimeWindow & { family: string; fingerprint: string; dimension: Dimension; limit?: number },
  ): Promise<DimensionValue[]> {
    const fam = family(q.family)
    const source = FAMILY_SOURCES[fam]
    let table: string
    let column: string
    if (q.dimension === 'src_ip') {
      table = TABLES[source].table
      column = 'src_ip'
    } else if (q.dimension === 'host') {
      table = TABLES[source].table
      column = source === 'tls' ? 'sni' : 'host'
    } else if (q.dimension === 'user_agent') {
      table = source === 'tls' ? TABLES.session.table : TABLES.http.table
      column = 'user_agent'
    } else {
      throw invalid(`unknown dimension ${JSON.stringify(q.dimension)}`)
    }
    const sql =
      `SELECT assumeNotNull(${column}) AS value, count() AS events, max(ts) AS last_seen ` +
      `FROM ${this.#logs}.${table} ` +
      `WHERE ${fam} = {fingerprint:String} AND ${column} IS NOT NULL AND ${TS_WINDOW} ` +
      `GROUP BY value ORDER BY events DESC, value LIMIT {limit:UInt32}`
    return this.#query<DimensionValue>(sql, {
      fingerprint: q.fingerprint,
      ...window(q),
      limit: bounded('limit', q.limit ?? 100, MAX_TOP_FINGERPRINTS),
    })
  }

  /**
   * Newest first, `limit` per page from `offset` or from a `cursor` (not both); `has_more` when
   * another page follows, `next_cursor` where it starts. Events of equal `ts` keep one order
   * from page to page (TIE_BREAK), so paging neither repeats nor skips them.
   */
  async listEvents(
    q: TimeWindow & {
      type: string
      filter?: EventFilter
      limit?: number
      offset?: number
      cursor?: EventCursor
    },
  ): Promise<EventPage> {
    if (!isType(q.type))
      throw invalid(
        `unknown event type ${JSON.stringify(q.type)} (known: ${STORE_EVENT_TYPES.join(', ')})`,
      )
    const spec = TABLES[q.type]
    const limit = bounded('limit', q.limit ?? 100, MAX_PAGE_EVENTS)
    if (q.cursor !== undefined && q.offset !== undefined && q.offset !== 0)
      throw invalid('offset and cursor cannot be combined')
    const skip =
      q.cursor === undefined
        ? bounded('offset', q.offset ?? 0, MAX_OFFSET_EVENTS, 0)
        : bounded('cursor skip', q.cursor.skip, MAX_OFFSET_EVENTS, 0)
    const where = [TS_WINDOW]
    const params: Record<string, unknown> = { ...window(q), limit: limit + 1, offset: skip }
    if (q.cursor !== undefined) {
      where.push("ts <= {cursor_ts:DateTime64(6, 'UTC')}")
      params['cursor_ts'] = chTime(q.cursor.ts, 'cursor')
    }
    const f = q.filter ?? {}
    if (f.src_ip !== undefined) {
      where.push('src_ip = {src_ip:String}')
      params['src_ip'] = f.src_ip
    }
    if (f.sensor !== undefined) {
      where.push('sensor = {sensor:String}')
      params['sensor'] = f.sensor
    }
    if (f.host !== undefined) {
      where.push(
        q.type === 'tls'
          ? 'sni = {host:String}'
          : q.type === 'http'
            ? 'host = {host:String}'
            : '(sni = {host:String} OR host = {host:String})',
      )
      params['host'] = f.host
    }
    if (f.user_agent !== undefined) {
      if (!spec.fields.includes('user_agent')) throw invalid(`${q.type} events have no user_agent`)
      where.push('user_agent = {user_agent:String}')
      params['user_agent'] = f.user_agent
    }
    if (f.fingerprint !== undefined) {
      const col = f.fingerprint.family
      if (!FINGERPRINT_COLUMNS.has(col) || !spec.fields.includes(col))
        throw invalid(`${q.type} events have no fingerprint ${JSON.stringify(col)}`)
      where.push(`${col} = {fingerprint:String}`)
      params['fingerprint'] = f.fingerprint.value
    }
    const columns = spec.fields.filter((c) => c !== 'type').join(', ')
    const table = `${this.#logs}.${spec.table}`
    const filter = where.join(' AND ')
    // One fingerprint of the table's leading key: the rows of the page are at the end of its key
    // range in each part, but ordering on the tie-break columns too means reading all its rows.
    // Ranking `ts` alone is cheap; the oldest `ts` the page can reach then bounds the range read
    // for the full rows (a granule or so per part).
    let bound = ''
    if (f.fingerprint?.family === LEADING_KEY[q.type]) {
      bound =
        ` AND ts >= (SELECT min(ts) FROM (SELECT ts FROM ${table} WHERE ${filter} ` +
        `ORDER BY ts DESC LIMIT {reach:UInt32}))`
      params['reach'] = skip + limit + 1
    }
    const sql =
      `SELECT {type:String} AS type, ${columns} FROM ${table} ` +
      `WHERE ${filter}${bound} ORDER BY ts DESC, ${TIE_BREAK[q.type]} ` +
      `LIMIT {limit:UInt32} OFFSET {offset:UInt32}`
    params['type'] = q.type
    const rows = await this.#query<StoredEvent>(sql, params)
    const events = rows.slice(0, limit)
    const has_more = rows.length > limit
    return { events, has_more, next_cursor: has_more ? nextCursor(events, q.cursor) : null }
  }

  /** One fingerprint's totals over the window (from the rollup), or null if it was not seen. */
  async fingerprintSummary(
    q: TimeWindow & { family: string; fingerprint: string; grain?: Grain },
  ): Promise<FingerprintSummary | null> {
    const grain = q.grain ?? 'minute'
    const sql =
      `SELECT fingerprint, sum(events) AS events, uniqCombinedMerge(12)(src_ips) AS src_ips, ` +
      `uniqCombinedMerge(12)(hosts) AS hosts, uniqCombinedMerge(12)(user_agents) AS user_agents, ` +
      `min(first_seen) AS first_seen, max(last_seen) AS last_seen ` +
      `FROM ${this.#processing}.fingerprint_sketch_${grain} ` +
      `WHERE family = {family:String} AND fingerprint = {fingerprint:String} ` +
      `AND ${bucketWindow(grain)} GROUP BY fingerprint HAVING events > 0`
    const rows = await this.#query<FingerprintSummary>(sql, {
      family: family(q.family),
      fingerprint: q.fingerprint,
      ...window(q),
    })
    return rows[0] ?? null
  }

  /**
   * The user agents seen with one fingerprint, most frequent first, each with its share, client
   * addresses, hosts and first / last seen. A tls family's user agents come from sessions (the
   * handshakes joined to a request), an http family's from the requests.
   */
  async fingerprintUserAgents(
    q: TimeWindow & { family: string; fingerprint: string; limit?: number },
  ): Promise<UserAgentBreakdown[]> {
    const fam = family(q.family)
    const source = FAMILY_SOURCES[fam]
    const table = source === 'tls' ? TABLES.session.table : TABLES.http.table
    // A session's host is the request's Host, else its SNI; an http event's is its Host.
    const host = source === 'tls' ? 'coalesce(host, sni)' : 'host'
    // `share` is taken over every group (the window function runs before LIMIT).
    const sql =
      `SELECT assumeNotNull(user_agent) AS ua, count() AS events, ` +
      `events / sum(events) OVER () AS share, uniq(src_ip) AS src_ips, ` +
      `uniqIf(assumeNotNull(${host}), isNotNull(${host})) AS hosts, ` +
      `min(ts) AS first_seen, max(ts) AS last_seen ` +
      `FROM ${this.#logs}.${table} ` +
      `WHERE ${fam} = {fingerprint:String} AND user_agent IS NOT NULL AND ${TS_WINDOW} ` +
      `GROUP BY ua ORDER BY events DESC, ua LIMIT {limit:UInt32}`
    const rows = await this.#query<Omit<UserAgentBreakdown, 'user_agent'> & { ua: string }>(sql, {
      fingerprint: q.fingerprint,
      ...window(q),
      limit: bounded('limit', q.limit ?? 100, MAX_TOP_FINGERPRINTS),
    })
    return rows.map(({ ua, ...r }) => ({ user_agent: ua, ...r }))
  }

  /** Stored events per type (optionally within a window). */
  async countEvents(w?: TimeWindow): Promise<Record<StoreEventType, number>> {
    const cond = w === undefined ? '1' : TS_WINDOW
    const sql = STORE_EVENT_TYPES.map(
      (t) =>
        `SELECT '${t}' AS type, count() AS n FROM ${this.#logs}.${TABLES[t].table} WHERE ${cond}`,
    ).join(' UNION ALL ')
    const rows = await this.#query<{ type: string; n: number }>(
      sql,
      w === undefined ? {} : window(w),
    )
    const out: Record<StoreEventType, number> = { tls: 0, http: 0, session: 0 }
    for (const r of rows) if (isType(r.type)) out[r.type] = Number(r.n)
    return out
  }
}

/**
 * Order among events of one timestamp: the columns that tell two of them apart, so that every
 * page of a listing sees the same order. Events equal in all of these are interchangeable.
 */
const TIE_BREAK: Readonly<Record<StoreEventType, string>> = {
  tls: 'sensor, src_ip, src_port, dst_ip, dst_port, hello_index',
  http: 'sensor, src_ip, src_port, host, method, path',
  session: 'sensor, src_ip, src_port, hello_index, method, path',
}

/** The first column of each raw table's ORDER BY (migrations/0002). */
const LEADING_KEY: Readonly<Record<StoreEventType, string>> = {
  tls: 'ja4',
  http: 'ja4h',
  session: 'ja4',
}

/** The cursor after `events` (a full page), continuing from `prev` when the page began there. */
function nextCursor(events: readonly StoredEvent[], prev: EventCursor | undefined): EventCursor {
  const last = events[events.length - 1]
  if (last === undefined) throw invalid('a cursor follows a non-empty page')
  let atTs = 0
  for (const e of events) if (e.ts === last.ts) atTs++
  // The whole page at the cursor's own timestamp: those skipped before are still behind us.
  const skip = prev !== undefined && prev.ts === last.ts ? prev.skip + atTs : atTs
  return { ts: last.ts, skip }
}

function isType(x: string): x is StoreEventType {
  return Object.hasOwn(TABLES, x)
}

function bucketWindow(grain: Grain): string {
  return grain === 'minute'
    ? `minute >= toStartOfMinute(${FROM}) AND minute < ${TO}`
    : `day >= toDate(${FROM}) AND day < toDate(${TO}) + 1`
}
