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

/** Families the rollup views of migrations/0003 aggregate, with their raw source. */
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
const FINGERPRINT_COLUMNS = new Set([
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
])

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
  fingerprint?: { family: string; value: string }
}

export interface EventPage {
  events: StoredEvent[]
  has_more: boolean
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
    const sql =
      `SELECT fingerprint, sum(events) AS events, uniqMerge(src_ips) AS src_ips, ` +
      `uniqMerge(hosts) AS hosts, uniqMerge(user_agents) AS user_agents, ` +
      `min(first_seen) AS first_seen, max(last_seen) AS last_seen ` +
      `FROM ${this.#processing}.fingerprint_${grain} ` +
      `WHERE family = {family:String} AND ${bucketWindow(grain)} ` +
      `GROUP BY fingerprint HAVING events > 0 ` +
      `ORDER BY events DESC, fingerprint LIMIT {limit:UInt32}`
    return this.#query<FingerprintSummary>(sql, {
      family: family(q.family),
      ...window(q),
      limit: bounded('limit', q.limit ?? 100, MAX_TOP_FINGERPRINTS),
    })
  }

  /** Events and distinct addresses of one fingerprint per minute or per day. */
  async fingerprintTimeline(
    q: TimeWindow & { family: string; fingerprint: string; grain?: Grain },
  ): Promise<TimelinePoint[]> {
    const grain = q.grain ?? 'minute'
    const sql =
      `SELECT ${grain} AS t, sum(events) AS events, uniqMerge(src_ips) AS src_ips ` +
      `FROM ${this.#processing}.fingerprint_${grain} ` +
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

  /** Newest first, `limit` per page from `offset`; `has_more` when another page follows. */
  async listEvents(
    q: TimeWindow & { type: string; filter?: EventFilter; limit?: number; offset?: number },
  ): Promise<EventPage> {
    if (!isType(q.type))
      throw invalid(
        `unknown event type ${JSON.stringify(q.type)} (known: ${STORE_EVENT_TYPES.join(', ')})`,
      )
    const spec = TABLES[q.type]
    const limit = bounded('limit', q.limit ?? 100, MAX_PAGE_EVENTS)
    const offset = bounded('offset', q.offset ?? 0, MAX_OFFSET_EVENTS, 0)
    const where = [TS_WINDOW]
    const params: Record<string, unknown> = { ...window(q), limit: limit + 1, offset }
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
    if (f.fingerprint !== undefined) {
      const col = f.fingerprint.family
      if (!FINGERPRINT_COLUMNS.has(col) || !spec.fields.includes(col))
        throw invalid(`${q.type} events have no fingerprint ${JSON.stringify(col)}`)
      where.push(`${col} = {fingerprint:String}`)
      params['fingerprint'] = f.fingerprint.value
    }
    const columns = spec.fields.filter((c) => c !== 'type').join(', ')
    const sql =
      `SELECT {type:String} AS type, ${columns} FROM ${this.#logs}.${spec.table} ` +
      `WHERE ${where.join(' AND ')} ORDER BY ts DESC LIMIT {limit:UInt32} OFFSET {offset:UInt32}`
    params['type'] = q.type
    const rows = await this.#query<StoredEvent>(sql, params)
    return { events: rows.slice(0, limit), has_more: rows.length > limit }
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

function isType(x: string): x is StoreEventType {
  return Object.hasOwn(TABLES, x)
}

function bucketWindow(grain: Grain): string {
  return grain === 'minute'
    ? `minute >= toStartOfMinute(${FROM}) AND minute < ${TO}`
    : `day >= toDate(${FROM}) AND day < toDate(${TO}) + 1`
}
