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

function at(o: Obj, path: Path): unknown {
  if (typeof path === 'string') return own(o, path)
  let v: unknown = o
  for (const k of path) {
    if (!isObj(v)) return undefined
    v = own(v, k)
  }
  return v
}

/** nginx and Apache write an empty value as `-` (or `""` with escape=json). */
function absent(v: unknown): boolean {
  return v === undefined || v === null || v === '' || v === '-'
}

function first(o: Obj, aliases: readonly Path[]): { key: string; value: unknown } | undefined {
  for (const p of aliases) {
    const v = at(o, p)
    if (!absent(v)) return { key: typeof p === 'string' ? p : p.join('.'), value: v }
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

/** Request duration keys and the unit of each. */
const DURATIONS: readonly (readonly [string, 'ms' | 's' | 'us'])[] = [
  ['request_time_ms', 'ms'],
  ['request_time', 's'],
  ['duration_us', 'us'],
  ['request_duration_us', 'us'],
  ['duration_ms', 'ms'],
  ['duration', 's'],
]

const RECOGNISED: readonly (readonly Path[])[] = [
  A.src_ip,
  A.method,
  ['request'],
  A.cf_ciphers_sha1,
  A.ja3,
  A.ja4,
]

const CLOUDFLARE_KEYS = ['ClientIP', 'ClientRequestHost', 'ClientRequestURI', 'EdgeStartTimestamp']
const NGINX_KEYS = ['remote_addr', 'request_uri', 'http_user_agent', 'time_local', 'time_iso8601']
const APACHE_KEYS = ['duration_us', 'time_us', 'remote_ip', 'request_duration_us']

function detectSource(o: Obj, fallback: string): string {
  const named = own(o, 'source')
  if (typeof named === 'string' && SOURCE_RE.test(named)) return named
  if (isObj(own(o, 'request'))) return 'caddy'
  if (CLOUDFLARE_KEYS.some((k) => Object.hasOwn(o, k))) return 'cloudflare'
  if (NGINX_KEYS.some((k) => Object.hasOwn(o, k))) return 'nginx'
  if (APACHE_KEYS.some((k) => Object.hasOwn(o, k))) return 'apache'
  return fallback
}

const SOURCE_RE = /^[a-z0-9][a-z0-9_.-]{0,31}$/
// RFC 9110 §5.6.2 token.
const METHOD_RE = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/
const JA3_RE = /^[0-9a-f]{32}$/
// JA4 a_b_c: `t13d1516h2` (10 characters), then two 12-hex-digit hashes.
const JA4_RE = /^[a-z0-9]{10}_[0-9a-f]{12}_[0-9a-f]{12}$/
// JA4H a_b_c_d: `ge11cn20enus` (12 characters), then three 12-hex-digit hashes.
const JA4H_RE = /^[a-z0-9]{12}_[0-9a-f]{12}_[0-9a-f]{12}_[0-9a-f]{12}$/
const TFH_RE = /^[0-9a-f]{1,16}$/
// Base64 of a SHA-1 (28 characters) or of its hex text (56): see docs/cloudflare.md.
const CF_SHA1_RE = /^[A-Za-z0-9+/]{20,64}={0,2}$/
const INT_RE = /^[0-9]{1,15}$/

/** A failed field read: the record is dropped with this reason. */
class Bad {
  constructor(
    readonly reason: 'bad_field' | 'missing_field',
    readonly field: string,
  ) {}
}

/** Reads fields of one record, collecting notes; required-field failures throw `Bad`. */
class FieldReader {
  readonly notes: MappingNote[] = []

  constructor(readonly o: Obj) {}

  note(n: MappingNote): void {
    if (!this.notes.includes(n)) this.notes.push(n)
  }

  /** Text, cut to `max` characters. Numbers are written out; other types are bad. */
  text(field: string, aliases: readonly Path[], max: number, required = false): string | null {
    const hit = first(this.o, aliases)
    if (hit === undefined) {
      if (required) throw new Bad('missing_field', field)
      return null
    }
    let s: string
    if (typeof hit.value === 'string') s = hit.value
    else if (typeof hit.value === 'number' && Number.isFinite(hit.value)) s = String(hit.value)
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
  format(aliases: readonly Path[], re: RegExp, lower = false): string | null {
    const hit = first(this.o, aliases)
    if (hit === undefined) return null
    if (typeof hit.value === 'string') {
      const s = lower ? hit.value.toLowerCase() : hit.value
      if (s.length <= MAX_FINGERPRINT_TEXT_CHARS && re.test(s)) return s
    }
    this.note('field_invalid')
    return null
  }

  ip(field: string, aliases: readonly Path[], required: boolean): string | null {
    const hit = first(this.o, aliases)
    if (hit === undefined) {
      if (required) throw new Bad('missing_field', field)
      return null
    }
    const ip = typeof hit.value === 'string' ? canonicalIp(hit.value) : undefined
    if (ip === undefined) throw new Bad('bad_field', field)
    return ip
  }

  /** Integer in [min, max] from a number or decimal text; bad otherwise. */
  int(field: string, aliases: readonly Path[], min: number, max: number): number | null {
    const hit = first(this.o, aliases)
    if (hit === undefined) return null
    const n = toInt(hit.value)
    if (n === undefined || n < min || n > max) throw new Bad('bad_field', field)
    return n
  }
}

function toInt(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isSafeInteger(v) ? v : undefined
  if (typeof v === 'string' && INT_RE.test(v)) return Number(v)
  return undefined
}

function toNumber(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) ? v : undefined
  if (typeof v === 'string' && /^[0-9]{1,20}(?:\.[0-9]{1,12})?$/.test(v)) return Number(v)
  return undefined
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

/** A Go `time.Duration` string with one unit (Caddy's `duration_format string`) → ms. */
function goDurationMs(s: string): number | undefined {
  const m = /^([0-9]{1,15}(?:\.[0-9]{1,9})?)(ns|us|µs|ms|s|m|h)$/.exec(s)
  if (m === null) return undefined
  const scale = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1e3, m: 60e3, h: 3600e3 }[m[2] ?? 's']
  return scale === undefined ? undefined : Number(m[1]) * scale
}

function durationMs(r: FieldReader): number | null {
  for (const [key, unit] of DURATIONS) {
    const v = own(r.o, key)
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
  const start = parseTimestampUs(own(r.o, 'EdgeStartTimestamp'))
  const end = parseTimestampUs(own(r.o, 'EdgeEndTimestamp'))
  if (start !== undefined && end !== undefined && end >= start) return (end - start) / 1000
  return null
}

// ─── TLS version names, as the tls event writes them ─────────────────────────────────────────

const VERSION_BY_NUMBER: Readonly<Record<number, string>> = {
  0x0300: 'ssl3',
  0x0301: '1.0',
  0x0302: '1.1',
  0x0303: '1.2',
  0x0304: '1.3',
}
const VERSION_BY_NAME: Readonly<Record<string, string>> = {
  sslv3: 'ssl3',
  ssl3: 'ssl3',
  tlsv1: '1.0',
  'tlsv1.0': '1.0',
  'tlsv1.1': '1.1',
  'tlsv1.2': '1.2',
  'tlsv1.3': '1.3',
  '1.0': '1.0',
  '1.1': '1.1',
  '1.2': '1.2',
  '1.3': '1.3',
  'tls1.2': '1.2',
  'tls1.3': '1.3',
}

function tlsVersion(r: FieldReader): string | null {
  const hit = first(r.o, A.tls_version)
  if (hit === undefined) return null
  const v = hit.value
  // Cloudflare writes `none` for plain HTTP.
  if (v === 'none' || v === 'NONE') return null
  const name =
    typeof v === 'number'
      ? VERSION_BY_NUMBER[v]
      : typeof v === 'string'
        ? VERSION_BY_NAME[v.toLowerCase()]
        : undefined
  if (name === undefined) r.note('field_invalid')
  return name ?? null
}

// ─── http ────────────────────────────────────────────────────────────────────────────────────

function caddyUserAgent(o: Obj): unknown {
  const headers = at(o, ['request', 'headers'])
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
function requestLine(o: Obj): { method: string; path: string } | undefined {
  const line = own(o, 'request')
  if (typeof line !== 'string') return undefined
  const m = /^(\S+) (\S+)(?: HTTP\/\d(?:\.\d)?)?$/.exec(line)
  return m === null ? undefined : { method: m[1] ?? '', path: m[2] ?? '' }
}

function timestamp(
  r: FieldReader,
  field: string,
  aliases: readonly Path[],
  ctx: MappingContext,
): string {
  const hit = first(r.o, aliases)
  if (hit === undefined) {
    // Cloudflare's key is last in line: no other format has it.
    const cf = own(r.o, 'EdgeStartTimestamp')
    if (absent(cf)) return isoFromUs(ctx.nowUs ?? ctx.now.getTime() * 1000)
    const us = parseTimestampUs(cf)
    if (us === undefined) throw new Bad('bad_field', 'EdgeStartTimestamp')
    return isoFromUs(us)
  }
  const us = parseTimestampUs(hit.value)
  if (us === undefined) throw new Bad('bad_field', field)
  return isoFromUs(us)
}

function sensorOf(r: FieldReader, ctx: MappingContext): string {
  return r.text('sensor', ['sensor'], MAX_NAME_CHARS) ?? ctx.sensor
}

function mapHttp(o: Obj, ctx: MappingContext, ours: boolean): MappingResult {
  const r = new FieldReader(o)
  const src_ip = r.ip('src_ip', A.src_ip, true) ?? ''
  let method = r.text('method', A.method, MAX_METHOD_CHARS + 1)
  let path = r.text('path', A.path, MAX_PATH_CHARS)
  if (method === null || path === null) {
    const line = requestLine(o)
    method ??= line?.method ?? null
    path ??= line?.path.slice(0, MAX_PATH_CHARS) ?? null
  }
  if (method === null) throw new Bad('missing_field', 'method')
  if (path === null) throw new Bad('missing_field', 'path')
  if (method.length > MAX_METHOD_CHARS || !METHOD_RE.test(method))
    throw new Bad('bad_field', 'method')
  let status = r.int('status', A.status, 0, 999)
  // Caddy logs 0 for a request that got no response.
  if (status !== null && status < 100) {
    if (status !== 0) throw new Bad('bad_field', 'status')
    status = null
  }
  let user_agent = r.text('user_agent', A.user_agent, MAX_USER_AGENT_CHARS)
  if (user_agent === null) {
    const ua = caddyUserAgent(o)
    if (typeof ua === 'string' && ua !== '') {
      if (ua.length > MAX_USER_AGENT_CHARS) r.note('field_truncated')
      user_agent = ua.slice(0, MAX_USER_AGENT_CHARS)
    }
  }
  const event: HttpEvent = {
    type: 'http',
    ts: timestamp(r, 'ts', A.ts, ctx),
    sensor: ours ? sensorOf(r, ctx) : ctx.sensor,
    // Our own event without a source of its own came from a tlsight sensor.
    source: detectSource(o, ours ? 'tlsight' : ctx.source),
    src_ip,
    src_port: r.int('src_port', A.src_port, 0, 65_535),
    dst_ip: r.ip('dst_ip', A.dst_ip, false),
    dst_port: r.int('dst_port', A.dst_port, 0, 65_535),
    host: r.text('host', A.host, MAX_HOST_CHARS),
    method,
    path,
    status,
    user_agent,
    request_time_ms: durationMs(r),
    ja4h: r.format(['ja4h'], JA4H_RE),
    ja4h_r: r.text('ja4h_r', ['ja4h_r'], MAX_FINGERPRINT_TEXT_CHARS),
    ja4h_ro: r.text('ja4h_ro', ['ja4h_ro'], MAX_FINGERPRINT_TEXT_CHARS),
    tfh: r.format(['tfh'], TFH_RE),
    ja3: r.format(A.ja3, JA3_RE, true),
    ja4: r.format(A.ja4, JA4_RE),
    cf_ciphers_sha1: r.format(A.cf_ciphers_sha1, CF_SHA1_RE),
    cf_extensions_sha1: r.format(A.cf_extensions_sha1, CF_SHA1_RE),
    hello_length: r.int('hello_length', A.hello_length, 0, MAX_HELLO_LENGTH),
    tls_version: tlsVersion(r),
    sni: r.text('sni', A.sni, MAX_HOST_CHARS),
  }
  return { ok: true, event, notes: r.notes }
}

// ─── tls (our own events only) ───────────────────────────────────────────────────────────────

const TRANSPORTS: readonly Transport[] = ['tcp', 'quic', 'dtls']
const RESUMPTION = ['session_ticket', 'psk', 'early_data', 'session_id']

function list(r: FieldReader, field: string, max: number, allowed?: readonly string[]): string[] {
  const v = own(r.o, field)
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
  const cr = new FieldReader(c)
  const role = own(c, 'role')
  const index = cr.int('certs.index', ['index'], 0, MAX_CERTS)
  const selfSigned = own(c, 'self_signed')
  if ((role !== 'server' && role !== 'client') || index === null)
    throw new Bad('bad_field', 'certs')
  const t = (k: string) => cr.text(`certs.${k}`, [k], MAX_FINGERPRINT_TEXT_CHARS)
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
    sans: list(cr, 'sans', MAX_HOST_CHARS),
    not_before: time('not_before'),
    not_after: time('not_after'),
    serial: cr.format(['serial'], /^[0-9a-f]{1,256}$/, true) ?? '',
    sha256: cr.format(['sha256'], /^[0-9a-f]{64}$/, true) ?? '',
    self_signed: selfSigned === true,
    ja4x: t('ja4x'),
    ja4x_r: t('ja4x_r'),
    anomalies: list(cr, 'anomalies', MAX_NAME_CHARS),
  }
  for (const n of cr.notes) r.note(n)
  return info
}

function mapTls(o: Obj, ctx: MappingContext): MappingResult {
  const r = new FieldReader(o)
  const port = (k: string) => {
    const p = r.int(k, [k], 0, 65_535)
    if (p === null) throw new Bad('missing_field', k)
    return p
  }
  const transport = own(o, 'transport') ?? 'tcp'
  if (!TRANSPORTS.some((t) => t === transport)) throw new Bad('bad_field', 'transport')
  const certs = own(o, 'certs')
  if (!absent(certs) && !Array.isArray(certs)) throw new Bad('bad_field', 'certs')
  const fp = (k: string) => r.text(k, [k], MAX_FINGERPRINT_TEXT_CHARS)
  const event: TlsEvent = {
    type: 'tls',
    ts: timestamp(r, 'ts', ['ts'], ctx),
    sensor: sensorOf(r, ctx),
    src_ip: r.ip('src_ip', ['src_ip'], true) ?? '',
    src_port: port('src_port'),
    dst_ip: r.ip('dst_ip', ['dst_ip'], true) ?? '',
    dst_port: port('dst_port'),
    transport: transport === 'quic' ? 'quic' : transport === 'dtls' ? 'dtls' : 'tcp',
    hello_index: r.int('hello_index', ['hello_index'], 0, 255) ?? 1,
    sni: r.text('sni', ['sni'], MAX_HOST_CHARS),
    alpn: list(r, 'alpn', MAX_NAME_CHARS),
    tls_version: fp('tls_version'),
    tls_version_negotiated: fp('tls_version_negotiated'),
    ja3: r.format(['ja3'], JA3_RE, true),
    ja3_str: fp('ja3_str'),
    ja4: fp('ja4'),
    ja4_r: fp('ja4_r'),
    ja4_o: fp('ja4_o'),
    ja4_ro: fp('ja4_ro'),
    ja4_stable: fp('ja4_stable'),
    resumption: list(r, 'resumption', MAX_NAME_CHARS, RESUMPTION),
    ja3s: r.format(['ja3s'], JA3_RE, true),
    ja3s_str: fp('ja3s_str'),
    ja4s: fp('ja4s'),
    ja4s_r: fp('ja4s_r'),
    ja4t: fp('ja4t'),
    ja4ts: fp('ja4ts'),
    ja4l_c: fp('ja4l_c'),
    ja4l_s: fp('ja4l_s'),
    tft: r.format(['tft'], TFH_RE),
    tft_stable: r.format(['tft_stable'], TFH_RE),
    cf_ciphers_sha1: r.format(['cf_ciphers_sha1'], CF_SHA1_RE),
    cf_extensions_sha1: r.format(['cf_extensions_sha1'], CF_SHA1_RE),
    hello_length: r.int('hello_length', ['hello_length'], 0, MAX_HELLO_LENGTH),
    certs: [],
    anomalies: list(r, 'anomalies', MAX_NAME_CHARS),
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
    if (type === 'http') return mapHttp(obj, ctx, true)
    // Another event type of ours (tcp, session, alert …) is not collected from logs.
    if (typeof type === 'string' && Object.hasOwn(obj, 'ts') && Object.hasOwn(obj, 'sensor'))
      return { ok: false, reason: 'unmapped' }
    // A record is one of ours to map if it names a client, a request or ClientHello digests.
    if (!RECOGNISED.some((aliases) => first(obj, aliases) !== undefined))
      return { ok: false, reason: 'unmapped' }
    return mapHttp(obj, ctx, false)
  } catch (e) {
    if (e instanceof Bad) return { ok: false, reason: e.reason, field: e.field }
    throw e
  }
}
