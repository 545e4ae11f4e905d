/**
 * @module sources/mapping
 * One parsed JSON log record → an `http` or `tls` event, pure and total: a record that cannot
 * become an event yields a drop reason, never an exception.
 *
 * Accepted shapes (docs/integrations.md has the full field table):
 * - our own events (`"type": "http"` / `"type": "tls"`, the names of `src/events/`);
 * - nginx `log_format … escape=json` with variable names as keys (`remote_addr`, `request_uri`…);
 * - Apache `LogFormat` JSON (the keys of examples/apache/tlsight.conf, and `remote_ip`,
 *   `request_method`, `request` …);
 * - Caddy's JSON access log (`request.remote_ip`, `request.headers["User-Agent"]`, `ts`, …);
 * - Cloudflare Logpush `http_requests` (`ClientIP`, `ClientRequestURI`, `JA3Hash`, `JA4`, …) and
 *   the signalytics / Rules-language names of the ClientHello digests
 *   (`tls_client_ciphers_sha1`, `tls_client_extensions_sha1`, `tls_client_hello_length`).
 *
 * Every format is read through one alias table: for each event field, the first key that is
 * present (not null, `""` or `-`) decides. Format detection only names the `source`.
 */
import type { HttpEvent } from '../events/http.ts'
import type { CertInfo, TlsEvent, Transport } from '../events/tls.ts'
import { isoFromUs } from '../events/time.ts'
import { canonicalIp } from './trust.ts'

/** Why a record (or a datagram, frame, line or connection) did not become an event. */
export type DropReason =
  | 'oversized'
  | 'truncated'
  | 'not_json'
  | 'bad_json'
  | 'bad_syslog'
  | 'unmapped'
  | 'missing_field'
  | 'bad_field'
  | 'untrusted'
  | 'queue_full'
  | 'sink_error'

/** Each drop reason, as docs/integrations.md explains it. */
export const DROP_REASONS: Readonly<Record<DropReason, string>> = {
  oversized: 'A datagram, frame, line or body is longer than its limit.',
  truncated: 'An octet-counted frame was cut short by the end of its connection.',
  not_json: 'No JSON object: neither the bytes nor the syslog MSG hold one.',
  bad_json: 'Text that starts like JSON does not parse.',
  bad_syslog: 'A syslog header is malformed and its MSG holds no JSON.',
  unmapped: 'JSON of no known shape, a non-object value, or an event type we do not collect.',
  missing_field: 'A recognised record lacks the client address, the method or the path.',
  bad_field: 'A field has the wrong type or an impossible value (address, port, status, time).',
  untrusted: 'The sender is outside TLSIGHT_TRUSTED_CIDRS (one count per datagram or connection).',
  queue_full: 'The sink had max_pending_events events in flight and a datagram cannot wait.',
  sink_error: 'The sink rejected the event (the store is down or pushing back).',
}

/** Something changed in a record that was still accepted. */
export type MappingNote = 'field_truncated' | 'field_invalid'

export const MAPPING_NOTES: Readonly<Record<MappingNote, string>> = {
  field_truncated: 'A text field was longer than its limit and was cut.',
  field_invalid: 'An optional field (fingerprint, TLS version…) was malformed and set to null.',
}

export interface MappingContext {
  /** `source` of an http event whose format names none (e.g. `ingest`). */
  source: string
  /** Sensor name of events that do not carry one. */
  sensor: string
  /** Time of events that do not carry one (the syslog header time, or the receive time). */
  now: Date
  /** The same in µs since the epoch, when known more precisely than `now` (RFC 5424 time). */
  nowUs?: number
}

export type MappingResult =
  | { ok: true; event: HttpEvent | TlsEvent; notes: MappingNote[] }
  | { ok: false; reason: DropReason; field?: string }

/** Longest kept Host (RFC 1035 names are at most 253 characters, plus a port). */
export const MAX_HOST_CHARS = 300
/** Longest kept request target (nginx's default large header buffer is 8 KiB). */
export const MAX_PATH_CHARS = 8_192
export const MAX_USER_AGENT_CHARS = 2_048
/** Longest method accepted; a longer one is no HTTP method (RFC 9110 §9.1 token). */
export const MAX_METHOD_CHARS = 32
/** Sensor and source names. */
export const MAX_NAME_CHARS = 255
/** Raw fingerprint strings (`ja3_str`, `ja4_r`, `ja4h_r` …). */
export const MAX_FINGERPRINT_TEXT_CHARS = 16_384
/** Items of one list field (`alpn`, `anomalies`, a certificate's `sans` …). */
export const MAX_LIST_ITEMS = 256
/** Certificates on one tls event (MAX_CERT_CHAIN_LENGTH per side, both sides). */
export const MAX_CERTS = 20
/** Largest ClientHello body length (a 24-bit handshake length, RFC 8446 §4). */
const MAX_HELLO_LENGTH = 0xff_ff_ff
/** Earliest and latest accepted event times, µs since the epoch (years 1970 to 9999). */
const MAX_TIME_US = Date.UTC(9999, 11, 31, 23, 59, 59, 999) * 1000

type Obj = Record<string, unknown>
type Path = string | readonly string[]

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

/** An own property only: `constructor` or `__proto__` of a parsed record are data, not methods. */
function own(o: Obj, k: string): unknown {
  return Object.hasOwn(o, k) ? o[k] : undefined
}

/** nginx and Apache write an empty value as `-` (or `""` with escape=json). */
function absent(v: unknown): boolean {
  return v === undefined || v === null || v === '' || v === '-'
}

/** The value when present, else undefined: what a one-name alias list yields. */
function given(v: unknown): unknown {
  return absent(v) ? undefined : v
}

// ─── Record view ─────────────────────────────────────────────────────────────────────────────
//
// NOTE: a log format writes the same keys in the same order on every record, so where each key
// that mapping reads sits among a record's values is worked out once per key list (a shape). A
// record then costs Object.keys, a comparison of its key list with recent shapes, and
// Object.values, instead of a property probe for each of ~100 alias names, most of them misses.
// A shape seen again also gets each alias list pruned to the keys it has.
//
// Alias lists hold small integers only, so that they stay packed arrays: `a >= 0` is a key (its
// slot, or in a shape's pruned lists its value's index) and `a < 0` is the path `-1 - a` of
// PATHS (or of the shape's `paths`).

/** Each top-level key name that http mapping reads → its slot. */
const SLOTS = new Map<string, number>()

function slot(name: string): number {
  let i = SLOTS.get(name)
  if (i === undefined) {
    i = SLOTS.size
    SLOTS.set(name, i)
  }
  return i
}

/** A path below a top-level key (Caddy's `request.remote_ip`). */
interface Nested {
  /** The top-level key: its slot in PATHS, its value's index in a shape's `paths`. */
  readonly parent: number
  readonly rest: readonly string[]
}

/** Every alias list, by id. */
const LISTS: (readonly number[])[] = []
const PATHS: Nested[] = []

function aliasList(paths: readonly Path[]): number {
  LISTS.push(
    paths.map((p) => {
      if (typeof p === 'string') return slot(p)
      const [parent = '', ...rest] = p
      PATHS.push({ parent: slot(parent), rest })
      return -PATHS.length
    }),
  )
  return LISTS.length - 1
}

/** Where the keys that mapping reads sit among the values of records with one key list. */
interface Shape {
  readonly keys: readonly string[]
  /** Slot → the index of its key's value, or -1. */
  readonly at: readonly number[]
  /** Alias list id → the aliases this shape has, in priority order; made on a second sighting. */
  lists: readonly (readonly number[])[] | undefined
  paths: readonly Nested[]
}

function shapeOf(keys: readonly string[]): Shape {
  const at = new Array<number>(SLOTS.size).fill(-1)
  // A Map, not an object, holds the slots: a `__proto__` or `constructor` key is plain data.
  for (let j = 0; j < keys.length; j++) {
    const i = SLOTS.get(keys[j] ?? '')
    if (i !== undefined) at[i] = j
  }
  return { keys, at, lists: undefined, paths: [] }
}

/** Prunes every alias list to the keys the shape has. */
function prune(sh: Shape): void {
  const paths: Nested[] = []
  const lists: number[][] = []
  for (const list of LISTS) {
    const kept: number[] = []
    for (const a of list) {
      const path = a < 0 ? PATHS[-1 - a] : undefined
      const j = sh.at[path === undefined ? a : path.parent] ?? -1
      if (j < 0) continue
      if (path === undefined) {
        kept.push(j)
      } else {
        paths.push({ parent: j, rest: path.rest })
        kept.push(-paths.length)
      }
    }
    lists.push(kept)
  }
  sh.paths = paths
  sh.lists = lists
}

function sameKeys(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

/** Shapes recently seen; a collector fed by a handful of log formats hits one of these. */
const MAX_SHAPES = 16
const shapes: Shape[] = []
let nextShape = 0

function shapeFor(keys: readonly string[]): Shape {
  for (const sh of shapes) {
    if (!sameKeys(sh.keys, keys)) continue
    if (sh.lists === undefined) prune(sh)
    return sh
  }
  // A key list seen once (every record a new one) does not pay for pruning.
  const sh = shapeOf(keys)
  if (shapes.length < MAX_SHAPES) shapes.push(sh)
  else shapes[nextShape] = sh
  nextShape = (nextShape + 1) % MAX_SHAPES
  return sh
}

/** One record: its shape and its values in the order of the shape's keys. */
interface View {
  readonly shape: Shape
  readonly values: readonly unknown[]
}

/**
 * Reads a record's keys once. NOTE: own enumerable keys only, which are all the keys of a parsed
 * JSON object: nothing inherited is read. Object.keys and Object.values list a plain object's
 * properties in the same order.
 */
function viewOf(o: Obj): View {
  return { shape: shapeFor(Object.keys(o)), values: Object.values(o) }
}

function has(v: View, i: number): boolean {
  return (v.shape.at[i] ?? -1) >= 0
}

function hasAny(v: View, slots: readonly number[]): boolean {
  for (const i of slots) if (has(v, i)) return true
  return false
}

/** The record's own value of the key in slot `i`, or undefined. */
function valueAt(v: View, i: number): unknown {
  const j = v.shape.at[i] ?? -1
  return j < 0 ? undefined : v.values[j]
}

/** The value at `rest` below `x`, own properties only. */
function below(x: unknown, rest: readonly string[]): unknown {
  let v = x
  for (const k of rest) {
    if (!isObj(v)) return undefined
    v = own(v, k)
  }
  return v
}

/** The first present value of alias list `id`, or undefined. */
function first(v: View, id: number): unknown {
  const { values, shape } = v
  const pruned = shape.lists
  if (pruned !== undefined) {
    const list = pruned[id] ?? []
    for (let k = 0; k < list.length; k++) {
      const a = list[k] ?? 0
      const path = a < 0 ? shape.paths[-1 - a] : undefined
      const x = path === undefined ? values[a] : below(values[path.parent], path.rest)
      if (!absent(x)) return x
    }
    return undefined
  }
  const list = LISTS[id] ?? []
  for (let k = 0; k < list.length; k++) {
    const a = list[k] ?? 0
    const path = a < 0 ? PATHS[-1 - a] : undefined
    const x = path === undefined ? valueAt(v, a) : below(valueAt(v, path.parent), path.rest)
    if (!absent(x)) return x
  }
  return undefined
}

// ─── Aliases, our schema's name first ────────────────────────────────────────────────────────

const A = {
  src_ip: [
    'src_ip',
    'remote_addr',
    'remote_ip',
    'client_ip',
    'ClientIP',
    ['request', 'remote_ip'],
    ['request', 'client_ip'],
  ],
  src_port: ['src_port', 'remote_port', 'client_port', 'ClientSrcPort', ['request', 'remote_port']],
  dst_ip: ['dst_ip', 'server_addr', 'local_ip', 'EdgeServerIP'],
  dst_port: ['dst_port', 'server_port', 'local_port'],
  host: ['host', 'http_host', ['request', 'host'], 'ClientRequestHost'],
  method: ['method', 'request_method', ['request', 'method'], 'ClientRequestMethod'],
  path: ['path', 'request_uri', 'uri', ['request', 'uri'], 'ClientRequestURI', 'ClientRequestPath'],
  status: ['status', 'EdgeResponseStatus', 'status_code'],
  user_agent: ['user_agent', 'http_user_agent', 'ClientRequestUserAgent'],
  ja3: ['ja3', 'ja3_hash', 'JA3Hash', 'ssl_ja3_hash'],
  ja4: ['ja4', 'JA4', 'ssl_ja4'],
  cf_ciphers_sha1: [
    'cf_ciphers_sha1',
    'tls_client_ciphers_sha1',
    'tls_ciphers_sha1',
    'cf.tls_client_ciphers_sha1',
    'cf.tls_ciphers_sha1',
    'tlsClientCiphersSha1',
  ],
  cf_extensions_sha1: [
    'cf_extensions_sha1',
    'tls_client_extensions_sha1',
    'cf.tls_client_extensions_sha1',
    'tlsClientExtensionsSha1',
  ],
  hello_length: [
    'hello_length',
    'tls_client_hello_length',
    'cf.tls_client_hello_length',
    'tlsClientHelloLength',
  ],
  tls_version: [
    'tls_version',
    'ssl_protocol',
    'tls_protocol',
    'SSL_PROTOCOL',
    ['request', 'tls', 'version'],
    'ClientSSLProtocol',
  ],
  sni: ['sni', 'ssl_server_name', 'tls_sni', 'SSL_TLS_SNI', ['request', 'tls', 'server_name']],
  ts: ['ts', 'time_iso8601', 'time_local', 'msec', 'time_us', 'time', 'timestamp', '@timestamp'],
} as const satisfies Record<string, readonly Path[]>

/** Ids of the alias lists. */
const H = {
  src_ip: aliasList(A.src_ip),
  src_port: aliasList(A.src_port),
  dst_ip: aliasList(A.dst_ip),
  dst_port: aliasList(A.dst_port),
  host: aliasList(A.host),
  method: aliasList(A.method),
  path: aliasList(A.path),
  status: aliasList(A.status),
  user_agent: aliasList(A.user_agent),
  ja3: aliasList(A.ja3),
  ja4: aliasList(A.ja4),
  cf_ciphers_sha1: aliasList(A.cf_ciphers_sha1),
  cf_extensions_sha1: aliasList(A.cf_extensions_sha1),
  hello_length: aliasList(A.hello_length),
  tls_version: aliasList(A.tls_version),
  sni: aliasList(A.sni),
  ts: aliasList(A.ts),
} as const satisfies Record<keyof typeof A, number>

/** Slots of the one-name keys http mapping reads. */
const K = {
  source: slot('source'),
  sensor: slot('sensor'),
  ts: slot('ts'),
  request: slot('request'),
  ja4h: slot('ja4h'),
  ja4h_r: slot('ja4h_r'),
  ja4h_ro: slot('ja4h_ro'),
  tfh: slot('tfh'),
  EdgeStartTimestamp: slot('EdgeStartTimestamp'),
  EdgeEndTimestamp: slot('EdgeEndTimestamp'),
}

const REQUEST_HEADERS = aliasList([['request', 'headers']])

/** Request duration keys and the unit of each. */
const DURATIONS: readonly (readonly [string, 'ms' | 's' | 'us'])[] = [
  ['request_time_ms', 'ms'],
  ['request_time', 's'],
  ['duration_us', 'us'],
  ['request_duration_us', 'us'],
  ['duration_ms', 'ms'],
  ['duration', 's'],
]
const DURATION_SLOTS = DURATIONS.map(([key, unit]) => ({ key, unit, slot: slot(key) }))

const RECOGNISED: readonly number[] = [
  H.src_ip,
  H.method,
  aliasList(['request']),
  H.cf_ciphers_sha1,
  H.ja3,
  H.ja4,
]

/** A record names a client, a request or ClientHello digests. */
function recognised(v: View): boolean {
  for (const id of RECOGNISED) if (first(v, id) !== undefined) return true
  return false
}

const CLOUDFLARE_KEYS = ['ClientIP', 'ClientRequestHost', 'ClientRequestURI', 'EdgeStartTimestamp']
const NGINX_KEYS = ['remote_addr', 'request_uri', 'http_user_agent', 'time_local', 'time_iso8601']
const APACHE_KEYS = ['duration_us', 'time_us', 'remote_ip', 'request_duration_us']
const CLOUDFLARE_SLOTS = CLOUDFLARE_KEYS.map(slot)
const NGINX_SLOTS = NGINX_KEYS.map(slot)
const APACHE_SLOTS = APACHE_KEYS.map(slot)

function detectSource(v: View, fallback: string): string {
  const named = valueAt(v, K.source)
  if (typeof named === 'string' && SOURCE_RE.test(named)) return named
  if (isObj(valueAt(v, K.request))) return 'caddy'
  if (hasAny(v, CLOUDFLARE_SLOTS)) return 'cloudflare'
  if (hasAny(v, NGINX_SLOTS)) return 'nginx'
  if (hasAny(v, APACHE_SLOTS)) return 'apache'
  return fallback
}

const SOURCE_RE = /^[a-z0-9][a-z0-9_.-]{0,31}$/
const JA3_RE = /^[0-9a-f]{32}$/
// JA4 a_b_c: `t13d1516h2` (10 characters), then two 12-hex-digit hashes.
const JA4_RE = /^[a-z0-9]{10}_[0-9a-f]{12}_[0-9a-f]{12}$/
// JA4H a_b_c_d: `ge11cn20enus` (12 characters), then three 12-hex-digit hashes.
const JA4H_RE = /^[a-z0-9]{12}_[0-9a-f]{12}_[0-9a-f]{12}_[0-9a-f]{12}$/
const TFH_RE = /^[0-9a-f]{1,16}$/
// Base64 of a SHA-1 (28 characters) or of its hex text (56): see docs/cloudflare.md.
const CF_SHA1_RE = /^[A-Za-z0-9+/]{20,64}={0,2}$/

/** A failed field read: the record is dropped with this reason. */
class Bad {
  constructor(
    readonly reason: 'bad_field' | 'missing_field',
    readonly field: string,
  ) {}
}

/**
 * Converts the fields of one record, collecting notes; required-field failures throw `Bad`. Each
 * method takes the field's first present value (undefined when none is).
 */
class FieldReader {
  readonly notes: MappingNote[] = []

  note(n: MappingNote): void {
    if (!this.notes.includes(n)) this.notes.push(n)
  }

  /** Text, cut to `max` characters. Numbers are written out; other types are bad. */
  text(field: string, v: unknown, max: number, required = false): string | null {
    if (v === undefined) {
      if (required) throw new Bad('missing_field', field)
      return null
    }
    let s: string
    if (typeof v === 'string') s = v
    else if (typeof v === 'number' && Number.isFinite(v)) s = String(v)
    else throw new Bad('bad_field', field)
    if (s.length > max) {
      this.note('field_truncated')
      // Do not leave half a surrogate pair at the cut.
      const cut = s.charCodeAt(max - 1) >= 0xd800 && s.charCodeAt(max - 1) < 0xdc00 ? max - 1 : max
      s = s.slice(0, cut)
    }
    return s
  }

  /** Text that must match `re`; otherwise null and a note (`lower` folds case first). */
  format(v: unknown, re: RegExp, lower = false): string | null {
    if (v === undefined) return null
    if (typeof v === 'string') {
      const s = lower ? v.toLowerCase() : v
      if (s.length <= MAX_FINGERPRINT_TEXT_CHARS && re.test(s)) return s
    }
    this.note('field_invalid')
    return null
  }

  ip(field: string, v: unknown, required: boolean): string | null {
    if (v === undefined) {
      if (required) throw new Bad('missing_field', field)
      return null
    }
    const ip = typeof v === 'string' ? canonicalIp(v) : undefined
    if (ip === undefined) throw new Bad('bad_field', field)
    return ip
  }

  /** Integer in [min, max] from a number or decimal text; bad otherwise. */
  int(field: string, v: unknown, min: number, max: number): number | null {
    if (v === undefined) return null
    const n = toInt(v)
    if (n === undefined || n < min || n > max) throw new Bad('bad_field', field)
    return n
  }
}

/** Decimal text of 1 to 15 digits (exact in a double) → its value; other types are undefined. */
function toInt(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isSafeInteger(v) ? v : undefined
  if (typeof v !== 'string' || v.length === 0 || v.length > 15) return undefined
  let n = 0
  for (let i = 0; i < v.length; i++) {
    const d = v.charCodeAt(i) - 0x30
    if (d < 0 || d > 9) return undefined
    n = n * 10 + d
  }
  return n
}

const POW10 = [1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12]

/** A finite number, or decimal text `d{1,20}[.d{1,12}]` → its value. */
function toNumber(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) ? v : undefined
  if (typeof v !== 'string') return undefined
  const n = v.length
  let i = 0
  let whole = 0
  for (; i < n; i++) {
    const d = v.charCodeAt(i) - 0x30
    if (d < 0 || d > 9) break
    whole = whole * 10 + d
  }
  const wholeDigits = i
  if (wholeDigits < 1 || wholeDigits > 20) return undefined
  if (i === n) return wholeDigits <= 15 ? whole : Number(v)
  if (v.charCodeAt(i) !== 0x2e) return undefined
  let frac = 0
  for (i++; i < n; i++) {
    const d = v.charCodeAt(i) - 0x30
    if (d < 0 || d > 9) break
    frac = frac * 10 + d
  }
  const fracDigits = i - wholeDigits - 1
  if (fracDigits < 1 || fracDigits > 12 || i !== n) return undefined
  // NOTE: up to 15 digits in all, the digits and the power of ten are exact doubles, so one
  // division rounds correctly: the same double as Number(v), without parsing the text again.
  const scale = POW10[fracDigits] ?? 1
  return wholeDigits + fracDigits <= 15 ? (whole * scale + frac) / scale : Number(v)
}

// ─── Time ────────────────────────────────────────────────────────────────────────────────────

const MONTHS: Readonly<Record<string, number>> = {
  Jan: 0,
  Feb: 1,
  Mar: 2,
  Apr: 3,
  May: 4,
  Jun: 5,
  Jul: 6,
  Aug: 7,
  Sep: 8,
  Oct: 9,
  Nov: 10,
  Dec: 11,
}

// RFC 3339 §5.6 (a space for `T`, a comma for the fraction point and no offset, meaning UTC,
// are accepted too: ISO 8601 allows them and log pipelines write them).
const ISO_RE =
  /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:[.,](\d{1,9}))?(?:([Zz])|([+-])(\d{2}):?(\d{2}))?$/
// nginx `$time_local` and Apache `%t` (Common Log Format): `22/Nov/2026:10:00:00 +0100`.
const CLF_RE =
  /^\[?(\d{2})\/([A-Z][a-z]{2})\/(\d{4}):(\d{2}):(\d{2}):(\d{2}) ([+-])(\d{2})(\d{2})\]?$/

function civilUs(
  y: number,
  mo: number,
  d: number,
  h: number,
  mi: number,
  s: number,
  fracUs: number,
  offsetMin: number,
): number | undefined {
  if (y < 1970 || mo > 11 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60) return
  const ms = Date.UTC(y, mo, d, h, mi, Math.min(s, 59))
  // Date.UTC rolls 31 Feb over into March: a real date comes back with the same day.
  if (new Date(ms).getUTCDate() !== d) return
  return (ms - offsetMin * 60_000) * 1000 + fracUs
}

/** A timestamp in any accepted form → µs since the epoch, or undefined. */
export function parseTimestampUs(v: unknown): number | undefined {
  let us: number | undefined
  const n = toNumber(v)
  if (n !== undefined) {
    // HACK: epoch numbers come in s (nginx `$msec`, Caddy `ts`), ms, µs (Apache `%{usec}t`) or
    // ns (Cloudflare's default `unixnano`); the magnitude tells which for any date in 1973..5138.
    if (n < 1e11) us = n * 1e6
    else if (n < 1e14) us = n * 1e3
    else if (n < 1e17) us = n
    else us = n / 1e3
    us = Math.round(us)
  } else if (typeof v === 'string') {
    let m = ISO_RE.exec(v)
    if (m !== null) {
      const frac = (m[7] ?? '').padEnd(9, '0')
      const fracUs = Math.round(Number(frac) / 1000)
      const sign = m[9] === '-' ? -1 : 1
      const off = m[9] === undefined ? 0 : sign * (Number(m[10]) * 60 + Number(m[11]))
      if (Math.abs(off) > 1439) return
      us = civilUs(
        Number(m[1]),
        Number(m[2]) - 1,
        Number(m[3]),
        Number(m[4]),
        Number(m[5]),
        Number(m[6]),
        fracUs,
        off,
      )
    } else if ((m = CLF_RE.exec(v)) !== null) {
      const mo = MONTHS[m[2] ?? '']
      if (mo === undefined) return
      const off = (m[7] === '-' ? -1 : 1) * (Number(m[8]) * 60 + Number(m[9]))
      us = civilUs(Number(m[3]), mo, Number(m[1]), Number(m[4]), Number(m[5]), Number(m[6]), 0, off)
    }
  }
  if (us === undefined || !Number.isFinite(us) || us < 0 || us > MAX_TIME_US) return undefined
  return us
}

/** Milliseconds per Go duration unit. */
const GO_DURATION_MS: ReadonlyMap<string, number> = new Map([
  ['ns', 1e-6],
  ['us', 1e-3],
  ['µs', 1e-3],
  ['ms', 1],
  ['s', 1e3],
  ['m', 60e3],
  ['h', 3600e3],
])

/** A Go `time.Duration` string with one unit (Caddy's `duration_format string`) → ms. */
function goDurationMs(s: string): number | undefined {
  const m = /^([0-9]{1,15}(?:\.[0-9]{1,9})?)(ns|us|µs|ms|s|m|h)$/.exec(s)
  if (m === null) return undefined
  const scale = GO_DURATION_MS.get(m[2] ?? 's')
  return scale === undefined ? undefined : Number(m[1]) * scale
}

function durationMs(r: FieldReader, o: View): number | null {
  for (const { key, unit, slot: i } of DURATION_SLOTS) {
    const v = valueAt(o, i)
    if (absent(v)) continue
    let ms = toNumber(v)
    if (ms !== undefined) ms = unit === 's' ? ms * 1e3 : unit === 'us' ? ms / 1e3 : ms
    else if (typeof v === 'string' && key === 'duration') ms = goDurationMs(v)
    if (ms === undefined || ms < 0) {
      r.note('field_invalid')
      return null
    }
    // Microsecond resolution is all any log has.
    return Math.round(ms * 1000) / 1000
  }
  // Cloudflare: the edge's own start and end times.
  const start = parseTimestampUs(valueAt(o, K.EdgeStartTimestamp))
  const end = parseTimestampUs(valueAt(o, K.EdgeEndTimestamp))
  if (start !== undefined && end !== undefined && end >= start) return (end - start) / 1000
  return null
}

// ─── TLS version names, as the tls event writes them ─────────────────────────────────────────

const VERSION_BY_NUMBER: ReadonlyMap<number, string> = new Map([
  [0x0300, 'ssl3'],
  [0x0301, '1.0'],
  [0x0302, '1.1'],
  [0x0303, '1.2'],
  [0x0304, '1.3'],
])
/** Lower-case names; a Map, so that `constructor` or `__proto__` name no version. */
const VERSION_BY_NAME: ReadonlyMap<string, string> = new Map([
  ['sslv3', 'ssl3'],
  ['ssl3', 'ssl3'],
  ['tlsv1', '1.0'],
  ['tlsv1.0', '1.0'],
  ['tlsv1.1', '1.1'],
  ['tlsv1.2', '1.2'],
  ['tlsv1.3', '1.3'],
  ['1.0', '1.0'],
  ['1.1', '1.1'],
  ['1.2', '1.2'],
  ['1.3', '1.3'],
  ['tls1.2', '1.2'],
  ['tls1.3', '1.3'],
])
/** The same under the spellings servers write (`TLSv1.3`, `SSLv3`), found without folding case. */
const VERSION_BY_SPELLING: ReadonlyMap<string, string> = new Map(
  [...VERSION_BY_NAME].flatMap(([k, v]) => [
    [k, v],
    [k.toUpperCase(), v],
    [k.replace(/^tls|^ssl/, (p) => p.toUpperCase()), v],
  ]),
)

function tlsVersion(r: FieldReader, o: View): string | null {
  const v = first(o, H.tls_version)
  if (v === undefined) return null
  // Cloudflare writes `none` for plain HTTP.
  if (v === 'none' || v === 'NONE') return null
  const name =
    typeof v === 'number'
      ? VERSION_BY_NUMBER.get(v)
      : typeof v === 'string'
        ? (VERSION_BY_SPELLING.get(v) ?? VERSION_BY_NAME.get(v.toLowerCase()))
        : undefined
  if (name === undefined) r.note('field_invalid')
  return name ?? null
}

// ─── http ────────────────────────────────────────────────────────────────────────────────────

function caddyUserAgent(o: View): unknown {
  const headers = first(o, REQUEST_HEADERS)
  if (!isObj(headers)) return undefined
  // Go canonicalises header names (`User-Agent`); look case-insensitively all the same.
  for (const k of Object.keys(headers)) {
    if (k.toLowerCase() !== 'user-agent') continue
    const v = headers[k]
    return Array.isArray(v) ? v[0] : v
  }
  return undefined
}

/** Method and target of a request line (`%r`, `$request`): `GET /x HTTP/1.1`. */
function requestLine(o: View): { method: string; path: string } | undefined {
  const line = valueAt(o, K.request)
  if (typeof line !== 'string') return undefined
  const m = /^(\S+) (\S+)(?: HTTP\/\d(?:\.\d)?)?$/.exec(line)
  return m === null ? undefined : { method: m[1] ?? '', path: m[2] ?? '' }
}

/** The event time: the first present alias, else Cloudflare's start, else the context's. */
function timestamp(field: string, v: unknown, edgeStart: unknown, ctx: MappingContext): string {
  if (v === undefined) {
    // Cloudflare's key is last in line: no other format has it.
    if (absent(edgeStart)) return isoFromUs(ctx.nowUs ?? ctx.now.getTime() * 1000)
    const us = parseTimestampUs(edgeStart)
    if (us === undefined) throw new Bad('bad_field', 'EdgeStartTimestamp')
    return isoFromUs(us)
  }
  const us = parseTimestampUs(v)
  if (us === undefined) throw new Bad('bad_field', field)
  return isoFromUs(us)
}

function sensorOf(r: FieldReader, v: unknown, ctx: MappingContext): string {
  return r.text('sensor', v, MAX_NAME_CHARS) ?? ctx.sensor
}

// RFC 9110 §5.6.2 token: tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." /
// "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA.
const TCHAR = new Uint8Array(128)
for (const c of "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
  TCHAR[c.charCodeAt(0)] = 1

function isToken(s: string): boolean {
  if (s.length === 0) return false
  for (let i = 0; i < s.length; i++) if (TCHAR[s.charCodeAt(i)] !== 1) return false
  return true
}

function mapHttp(o: View, ctx: MappingContext, ours: boolean): MappingResult {
  const r = new FieldReader()
  const src_ip = r.ip('src_ip', first(o, H.src_ip), true) ?? ''
  let method = r.text('method', first(o, H.method), MAX_METHOD_CHARS + 1)
  let path = r.text('path', first(o, H.path), MAX_PATH_CHARS)
  if (method === null || path === null) {
    const line = requestLine(o)
    method ??= line?.method ?? null
    path ??= line?.path.slice(0, MAX_PATH_CHARS) ?? null
  }
  if (method === null) throw new Bad('missing_field', 'method')
  if (path === null) throw new Bad('missing_field', 'path')
  if (method.length > MAX_METHOD_CHARS || !isToken(method)) throw new Bad('bad_field', 'method')
  let status = r.int('status', first(o, H.status), 0, 999)
  // Caddy logs 0 for a request that got no response.
  if (status !== null && status < 100) {
    if (status !== 0) throw new Bad('bad_field', 'status')
    status = null
  }
  let user_agent = r.text('user_agent', first(o, H.user_agent), MAX_USER_AGENT_CHARS)
  if (user_agent === null) {
    const ua = caddyUserAgent(o)
    if (typeof ua === 'string' && ua !== '') {
      if (ua.length > MAX_USER_AGENT_CHARS) r.note('field_truncated')
      user_agent = ua.slice(0, MAX_USER_AGENT_CHARS)
    }
  }
  const event: HttpEvent = {
    type: 'http',
    ts: timestamp('ts', first(o, H.ts), valueAt(o, K.EdgeStartTimestamp), ctx),
    sensor: ours ? sensorOf(r, given(valueAt(o, K.sensor)), ctx) : ctx.sensor,
    // Our own event without a source of its own came from a tlsight sensor.
    source: detectSource(o, ours ? 'tlsight' : ctx.source),
    src_ip,
    src_port: r.int('src_port', first(o, H.src_port), 0, 65_535),
    dst_ip: r.ip('dst_ip', first(o, H.dst_ip), false),
    dst_port: r.int('dst_port', first(o, H.dst_port), 0, 65_535),
    host: r.text('host', first(o, H.host), MAX_HOST_CHARS),
    method,
    path,
    status,
    user_agent,
    request_time_ms: durationMs(r, o),
    ja4h: r.format(given(valueAt(o, K.ja4h)), JA4H_RE),
    ja4h_r: r.text('ja4h_r', given(valueAt(o, K.ja4h_r)), MAX_FINGERPRINT_TEXT_CHARS),
    ja4h_ro: r.text('ja4h_ro', given(valueAt(o, K.ja4h_ro)), MAX_FINGERPRINT_TEXT_CHARS),
    tfh: r.format(given(valueAt(o, K.tfh)), TFH_RE),
    ja3: r.format(first(o, H.ja3), JA3_RE, true),
    ja4: r.format(first(o, H.ja4), JA4_RE),
    cf_ciphers_sha1: r.format(first(o, H.cf_ciphers_sha1), CF_SHA1_RE),
    cf_extensions_sha1: r.format(first(o, H.cf_extensions_sha1), CF_SHA1_RE),
    hello_length: r.int('hello_length', first(o, H.hello_length), 0, MAX_HELLO_LENGTH),
    tls_version: tlsVersion(r, o),
    sni: r.text('sni', first(o, H.sni), MAX_HOST_CHARS),
  }
  return { ok: true, event, notes: r.notes }
}

// ─── tls (our own events only) ───────────────────────────────────────────────────────────────

const TRANSPORTS: readonly Transport[] = ['tcp', 'quic', 'dtls']
const RESUMPTION = ['session_ticket', 'psk', 'early_data', 'session_id']

function list(
  r: FieldReader,
  o: Obj,
  field: string,
  max: number,
  allowed?: readonly string[],
): string[] {
  const v = own(o, field)
  if (absent(v)) return []
  if (!Array.isArray(v)) throw new Bad('bad_field', field)
  const out: string[] = []
  for (const item of v) {
    if (typeof item !== 'string' || (allowed !== undefined && !allowed.includes(item)))
      throw new Bad('bad_field', field)
    if (out.length === MAX_LIST_ITEMS) {
      r.note('field_truncated')
      break
    }
    if (item.length > max) r.note('field_truncated')
    out.push(item.slice(0, max))
  }
  return out
}

function cert(c: unknown, r: FieldReader): CertInfo {
  if (!isObj(c)) throw new Bad('bad_field', 'certs')
  const cr = new FieldReader()
  const role = own(c, 'role')
  const index = cr.int('certs.index', given(own(c, 'index')), 0, MAX_CERTS)
  const selfSigned = own(c, 'self_signed')
  if ((role !== 'server' && role !== 'client') || index === null)
    throw new Bad('bad_field', 'certs')
  const t = (k: string) => cr.text(`certs.${k}`, given(own(c, k)), MAX_FINGERPRINT_TEXT_CHARS)
  const time = (k: string) => {
    const v = own(c, k)
    if (absent(v)) return null
    const us = parseTimestampUs(v)
    if (us === undefined) throw new Bad('bad_field', `certs.${k}`)
    return isoFromUs(us)
  }
  const info: CertInfo = {
    role,
    index,
    subject: t('subject') ?? '',
    subject_cn: t('subject_cn'),
    issuer: t('issuer') ?? '',
    issuer_cn: t('issuer_cn'),
    sans: list(cr, c, 'sans', MAX_HOST_CHARS),
    not_before: time('not_before'),
    not_after: time('not_after'),
    serial: cr.format(given(own(c, 'serial')), /^[0-9a-f]{1,256}$/, true) ?? '',
    sha256: cr.format(given(own(c, 'sha256')), /^[0-9a-f]{64}$/, true) ?? '',
    self_signed: selfSigned === true,
    ja4x: t('ja4x'),
    ja4x_r: t('ja4x_r'),
    anomalies: list(cr, c, 'anomalies', MAX_NAME_CHARS),
  }
  for (const n of cr.notes) r.note(n)
  return info
}

function mapTls(o: Obj, ctx: MappingContext): MappingResult {
  const r = new FieldReader()
  const get = (k: string) => given(own(o, k))
  const port = (k: string) => {
    const p = r.int(k, get(k), 0, 65_535)
    if (p === null) throw new Bad('missing_field', k)
    return p
  }
  const transport = own(o, 'transport') ?? 'tcp'
  if (!TRANSPORTS.some((t) => t === transport)) throw new Bad('bad_field', 'transport')
  const certs = own(o, 'certs')
  if (!absent(certs) && !Array.isArray(certs)) throw new Bad('bad_field', 'certs')
  const fp = (k: string) => r.text(k, get(k), MAX_FINGERPRINT_TEXT_CHARS)
  const event: TlsEvent = {
    type: 'tls',
    ts: timestamp('ts', get('ts'), own(o, 'EdgeStartTimestamp'), ctx),
    sensor: sensorOf(r, get('sensor'), ctx),
    src_ip: r.ip('src_ip', get('src_ip'), true) ?? '',
    src_port: port('src_port'),
    dst_ip: r.ip('dst_ip', get('dst_ip'), true) ?? '',
    dst_port: port('dst_port'),
    transport: transport === 'quic' ? 'quic' : transport === 'dtls' ? 'dtls' : 'tcp',
    hello_index: r.int('hello_index', get('hello_index'), 0, 255) ?? 1,
    sni: r.text('sni', get('sni'), MAX_HOST_CHARS),
    alpn: list(r, o, 'alpn', MAX_NAME_CHARS),
    tls_version: fp('tls_version'),
    tls_version_negotiated: fp('tls_version_negotiated'),
    ja3: r.format(get('ja3'), JA3_RE, true),
    ja3_str: fp('ja3_str'),
    ja4: fp('ja4'),
    ja4_r: fp('ja4_r'),
    ja4_o: fp('ja4_o'),
    ja4_ro: fp('ja4_ro'),
    ja4_stable: fp('ja4_stable'),
    resumption: list(r, o, 'resumption', MAX_NAME_CHARS, RESUMPTION),
    ja3s: r.format(get('ja3s'), JA3_RE, true),
    ja3s_str: fp('ja3s_str'),
    ja4s: fp('ja4s'),
    ja4s_r: fp('ja4s_r'),
    ja4t: fp('ja4t'),
    ja4ts: fp('ja4ts'),
    ja4l_c: fp('ja4l_c'),
    ja4l_s: fp('ja4l_s'),
    tft: r.format(get('tft'), TFH_RE),
    tft_stable: r.format(get('tft_stable'), TFH_RE),
    cf_ciphers_sha1: r.format(get('cf_ciphers_sha1'), CF_SHA1_RE),
    cf_extensions_sha1: r.format(get('cf_extensions_sha1'), CF_SHA1_RE),
    hello_length: r.int('hello_length', get('hello_length'), 0, MAX_HELLO_LENGTH),
    certs: [],
    anomalies: list(r, o, 'anomalies', MAX_NAME_CHARS),
  }
  if (Array.isArray(certs)) {
    for (const c of certs) {
      if (event.certs.length === MAX_CERTS) {
        r.note('field_truncated')
        break
      }
      event.certs.push(cert(c, r))
    }
  }
  return { ok: true, event, notes: r.notes }
}

/**
 * Maps one parsed JSON value to an event, or says why not.
 * @example
 * recordToEvent(JSON.parse(line), { source: 'ingest', sensor: 'edge-1', now: new Date() })
 */
export function recordToEvent(obj: unknown, ctx: MappingContext): MappingResult {
  if (!isObj(obj)) return { ok: false, reason: 'unmapped' }
  try {
    const type = own(obj, 'type')
    if (type === 'tls') return mapTls(obj, ctx)
    const o = viewOf(obj)
    if (type === 'http') return mapHttp(o, ctx, true)
    // Another event type of ours (tcp, session, alert …) is not collected from logs.
    if (typeof type === 'string' && has(o, K.ts) && has(o, K.sensor))
      return { ok: false, reason: 'unmapped' }
    // A record is one of ours to map if it names a client, a request or ClientHello digests.
    if (!recognised(o)) return { ok: false, reason: 'unmapped' }
    return mapHttp(o, ctx, false)
  } catch (e) {
    if (e instanceof Bad) return { ok: false, reason: e.reason, field: e.field }
    throw e
  }
}
