/**
 * @module store/schema
 * How events map to the raw tables of migrations/0002: one column list per event type, checked
 * against the live tables by a test. Events are checked here, at `write()`, so a bad value is
 * the caller's error at once instead of a batch the store refuses later.
 */
import { AppError } from '../errors.ts'
import { jsonString } from '../events/json.ts'
import { CERT_FIELDS, TLS_EVENT_FIELDS, type TlsEvent } from '../events/tls.ts'
import { HTTP_EVENT_FIELDS, type HttpEvent } from '../events/http.ts'
import { SESSION_EVENT_FIELDS, type SessionEvent } from '../events/session.ts'

export const STORE_EVENT_TYPES = ['tls', 'http', 'session'] as const
export type StoreEventType = (typeof STORE_EVENT_TYPES)[number]

export type StoredTlsEvent = TlsEvent
/** What the writer accepts (an event without `sensor` gets the configured one). */
export type StoreEvent = TlsEvent | HttpEvent | SessionEvent
/** What reads return. */
export type StoredEvent = StoredTlsEvent | HttpEvent | SessionEvent

type Kind =
  | 'ts'
  | 'str'
  | 'str?'
  | 'u16'
  | 'u16?'
  | 'u32?'
  | 'num'
  | 'num?'
  | 'bool'
  | 'strs'
  | 'certs'
  | 'sensor'

interface Column {
  name: string
  kind: Kind
}

const TLS_KINDS: Record<string, Kind> = {
  ts: 'ts',
  sensor: 'sensor',
  src_ip: 'str',
  src_port: 'u16',
  dst_ip: 'str',
  dst_port: 'u16',
  transport: 'str',
  hello_index: 'u16',
  alpn: 'strs',
  resumption: 'strs',
  anomalies: 'strs',
  hello_length: 'u32?',
  certs: 'certs',
}

const HTTP_KINDS: Record<string, Kind> = {
  ts: 'ts',
  sensor: 'sensor',
  source: 'str',
  src_ip: 'str',
  src_port: 'u16?',
  dst_ip: 'str?',
  dst_port: 'u16?',
  method: 'str',
  path: 'str',
  status: 'u16?',
  request_time_ms: 'num?',
  hello_length: 'u32?',
}

const SESSION_KINDS: Record<string, Kind> = {
  ...TLS_KINDS,
  source: 'str',
  method: 'str',
  path: 'str',
  status: 'u16?',
  request_time_ms: 'num?',
  lag_ms: 'num',
  join: 'str',
}

const CERT_KINDS: Record<string, Kind> = {
  role: 'str',
  index: 'u16',
  subject: 'str',
  issuer: 'str',
  sans: 'strs',
  serial: 'str',
  sha256: 'str',
  self_signed: 'bool',
  anomalies: 'strs',
}

/** Columns in field order without `type`; a field listed twice (an event gaining it) once. */
function columns(fields: readonly string[], kinds: Record<string, Kind>): readonly Column[] {
  return [...new Set(fields)]
    .filter((f) => f !== 'type')
    .map((name) => ({ name, kind: kinds[name] ?? 'str?' }))
}

const CERT_COLUMNS = columns(CERT_FIELDS, CERT_KINDS)

export interface TableSpec {
  type: StoreEventType
  /** Table name inside the logs database. */
  table: string
  /** Event fields in order, `type` included (the SELECT list of reads). */
  fields: readonly string[]
  columns: readonly Column[]
}

export const TABLES: Readonly<Record<StoreEventType, TableSpec>> = {
  tls: {
    type: 'tls',
    table: 'tls_events',
    fields: TLS_EVENT_FIELDS,
    columns: columns(TLS_EVENT_FIELDS, TLS_KINDS),
  },
  http: {
    type: 'http',
    table: 'http_events',
    fields: HTTP_EVENT_FIELDS,
    columns: columns(HTTP_EVENT_FIELDS, HTTP_KINDS),
  },
  session: {
    type: 'session',
    table: 'session_events',
    fields: SESSION_EVENT_FIELDS,
    columns: columns(SESSION_EVENT_FIELDS, SESSION_KINDS),
  },
}

export function isStoreEventType(x: unknown): x is StoreEventType {
  return typeof x === 'string' && Object.hasOwn(TABLES, x)
}

// RFC 3339 date-time; fractional digits beyond microseconds are cut by DateTime64(6).
const TS_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:\d{2})$/

function bad(field: string, why: string): AppError {
  return new AppError('E_INVALID_ARGUMENT', `event field ${field}: ${why}`)
}

function isUint(v: unknown, max: number): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= max
}

function stringList(field: string, v: unknown): string {
  if (v === undefined) return '[]'
  if (!Array.isArray(v)) throw bad(field, 'expected an array of strings')
  let out = '['
  for (let i = 0; i < v.length; i++) {
    const x: unknown = v[i]
    if (typeof x !== 'string') throw bad(field, 'expected an array of strings')
    out += (i === 0 ? '' : ',') + jsonString(x)
  }
  return out + ']'
}

function certList(v: unknown, sensor: string): string {
  if (v === undefined) return '[]'
  if (!Array.isArray(v)) throw bad('certs', 'expected an array')
  const parts = v.map((c: unknown, i) => {
    if (typeof c !== 'object' || c === null) throw bad(`certs[${i}]`, 'expected an object')
    return objectJson(c, CERT_COLUMNS, sensor, `certs[${i}].`)
  })
  return '[' + parts.join(',') + ']'
}

/** The JSON text of one value, checked against its column kind. */
function value(name: string, kind: Kind, v: unknown, sensor: string): string {
  switch (kind) {
    case 'ts':
      if (typeof v !== 'string' || !TS_RE.test(v)) throw bad(name, 'expected an RFC 3339 time')
      return '"' + v + '"'
    case 'sensor':
      if (v === undefined || v === null) return jsonString(sensor)
      if (typeof v !== 'string') throw bad(name, 'expected a string')
      return jsonString(v)
    case 'str':
      if (typeof v !== 'string') throw bad(name, 'expected a string')
      return jsonString(v)
    case 'str?':
      if (v === undefined || v === null) return 'null'
      if (typeof v !== 'string') throw bad(name, 'expected a string or null')
      return jsonString(v)
    case 'u16':
      if (!isUint(v, 0xffff)) throw bad(name, 'expected an integer in [0, 65535]')
      return String(v)
    case 'u16?':
      if (v === undefined || v === null) return 'null'
      if (!isUint(v, 0xffff)) throw bad(name, 'expected an integer in [0, 65535] or null')
      return String(v)
    case 'u32?':
      if (v === undefined || v === null) return 'null'
      if (!isUint(v, 0xffff_ffff)) throw bad(name, 'expected an unsigned 32-bit integer')
      return String(v)
    case 'num':
      if (typeof v !== 'number' || !Number.isFinite(v)) throw bad(name, 'expected a number')
      return String(v)
    case 'num?':
      if (v === undefined || v === null) return 'null'
      if (typeof v !== 'number' || !Number.isFinite(v)) throw bad(name, 'expected a number')
      return String(v)
    case 'bool':
      if (typeof v !== 'boolean') throw bad(name, 'expected a boolean')
      return v ? 'true' : 'false'
    case 'strs':
      return stringList(name, v)
    case 'certs':
      return certList(v, sensor)
  }
}

function objectJson(o: object, cols: readonly Column[], sensor: string, path = ''): string {
  let out = '{'
  for (let i = 0; i < cols.length; i++) {
    const col = cols[i]
    if (col === undefined) continue
    out += (i === 0 ? '"' : ',"') + col.name + '":'
    out += value(path + col.name, col.kind, Reflect.get(o, col.name), sensor)
  }
  return out + '}'
}

/** Thrown inside `httpLine` when a value is not the usual kind: the generic path says why. */
const UNUSUAL = Symbol('unusual value')

function str(v: unknown): string {
  if (typeof v !== 'string') throw UNUSUAL
  return jsonString(v)
}

function optStr(v: unknown): string {
  if (v === undefined || v === null) return 'null'
  if (typeof v !== 'string') throw UNUSUAL
  return jsonString(v)
}

function optUint(v: unknown, max: number): string {
  if (v === undefined || v === null) return 'null'
  if (!isUint(v, max)) throw UNUSUAL
  return String(v)
}

/**
 * The http line of `objectJson` written out field by field: requests are most of what the log
 * sources store, and the generic loop (a keyed read and a kind switch per column) cost several
 * times more per event. Any value that is not the usual kind goes back to the generic path, which
 * names the field at fault. A test holds the two to the same output.
 */
function httpLine(e: HttpEvent, sensor: string): string | undefined {
  try {
    const ts: unknown = e.ts
    if (typeof ts !== 'string' || !TS_RE.test(ts)) return undefined
    const s: unknown = e.sensor
    const reqTime: unknown = e.request_time_ms
    let rt: string
    if (reqTime === undefined || reqTime === null) rt = 'null'
    else if (typeof reqTime === 'number' && Number.isFinite(reqTime)) rt = String(reqTime)
    else return undefined
    return (
      '{"ts":"' +
      ts +
      '","sensor":' +
      (s === undefined || s === null ? jsonString(sensor) : str(s)) +
      ',"source":' +
      str(e.source) +
      ',"src_ip":' +
      str(e.src_ip) +
      ',"src_port":' +
      optUint(e.src_port, 0xffff) +
      ',"dst_ip":' +
      optStr(e.dst_ip) +
      ',"dst_port":' +
      optUint(e.dst_port, 0xffff) +
      ',"host":' +
      optStr(e.host) +
      ',"method":' +
      str(e.method) +
      ',"path":' +
      str(e.path) +
      ',"status":' +
      optUint(e.status, 0xffff) +
      ',"user_agent":' +
      optStr(e.user_agent) +
      ',"request_time_ms":' +
      rt +
      ',"ja4h":' +
      optStr(e.ja4h) +
      ',"ja4h_r":' +
      optStr(e.ja4h_r) +
      ',"ja4h_ro":' +
      optStr(e.ja4h_ro) +
      ',"tfh":' +
      optStr(e.tfh) +
      ',"ja3":' +
      optStr(e.ja3) +
      ',"ja4":' +
      optStr(e.ja4) +
      ',"cf_ciphers_sha1":' +
      optStr(e.cf_ciphers_sha1) +
      ',"cf_extensions_sha1":' +
      optStr(e.cf_extensions_sha1) +
      ',"hello_length":' +
      optUint(e.hello_length, 0xffff_ffff) +
      ',"tls_version":' +
      optStr(e.tls_version) +
      ',"sni":' +
      optStr(e.sni) +
      '}'
    )
  } catch (err) {
    if (err === UNUSUAL) return undefined
    throw err
  }
}

/** The generic line of an event of `type` (exported for the test that holds `httpLine` to it). */
export function genericLine(event: object, type: StoreEventType, sensor: string): string {
  return objectJson(event, TABLES[type].columns, sensor)
}

/**
 * The table of an event and its JSONEachRow line, built straight from the event (no
 * intermediate row object: this runs once per event on the ingest path). Throws
 * E_INVALID_ARGUMENT for an unknown type or a value that does not fit its column. Fields the
 * table does not have are ignored; missing nullable fields are null, missing lists empty, a
 * missing `sensor` is `sensor`.
 */
export function eventLine(
  event: StoreEvent,
  sensor: string,
): { type: StoreEventType; line: string } {
  const type: unknown = Reflect.get(event, 'type')
  if (!isStoreEventType(type)) throw bad('type', `unknown event type ${JSON.stringify(type)}`)
  if (event.type === 'http') {
    const line = httpLine(event, sensor)
    if (line !== undefined) return { type, line }
  }
  return { type, line: objectJson(event, TABLES[type].columns, sensor) }
}
