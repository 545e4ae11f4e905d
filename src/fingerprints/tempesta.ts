/**
 * @module fingerprints/tempesta
 * Tempesta FW client fingerprints TFt (TLS) and TFh (HTTP), called JA5t/JA5h in 2024 releases.
 * Each is a 64-bit value that Tempesta prints with `%llx` (lower-case hex, no leading zeros, no
 * prefix) in its access log and accepts back in `tft { hash <hex> … }` / `tfh { … }`.
 *
 * Followed from tempesta-tech/tempesta at commit b46d8e91100412159ec8b06e710a2f08a5ceab56:
 * - lib/tf.h: `TlsTft` / `HttpTfh` bit layouts, `COMPUTE_TF_ACCHASH` (sum = sum * 11 + value);
 * - tls/tls_srv.c: `ttls_parse_client_hello` (cipher and extension hashes, `is_tls1_3`,
 *   `is_abbreviated`), `ttls_parse_supported_elliptic_curves`, `ttls_parse_alpn_ext`;
 * - tls/tls_internal.h (2024 version, commit 040c78913a8e220d2c68721ad9226c5f7de5863a):
 *   `css[(TTLS_HS_RBUF_SZ - 10 - 256) / 2]` and the 256-byte extension scratch buffer `ext`;
 * - fw/http_parser.c: the Cookie pair count, the Referer bit, which request headers get an id;
 * - fw/http.h: `tfw_http_meth_t`, `tfw_http_hdr_t` (TF era, the version including lib/tf.h);
 * and fw/tls.c, commit 01050e4296d984f9b2be1c2ff7a5baf7bd2fe280 (`tfw_tls_sni`: `vhost_found`);
 * fw/access_log.c (`"tft=%llx"`, `*(u64 *)&tft`); fw/http_msg.c, commit
 * 00a146049c0ce81dbd6d5b2680253ef5f703532e (`tfw_http_msg_hdr_close`: header count and sum).
 * Layouts are as GCC lays the bit-fields out on x86-64 (first field in the lowest bits) and the
 * 64-bit value is read little-endian. docs/tempesta.md has the tables and every decision.
 */
import type { ClientHello, TlsExtension } from '../protocols/tls/types.ts'
import type { HttpRequest } from '../protocols/http/types.ts'
import { WireExtension } from '../protocols/tls/extensions.ts'
import { isGrease } from '../protocols/tls/registry.ts'
import { KeyBuilder } from './list-cache.ts'

export interface TftOptions {
  /** Fingerprint the hello as if it carried no GREASE value (RFC 8701) anywhere. */
  dropGrease?: boolean
  /**
   * Whether the server has a vhost for the SNI name. Tempesta knows; a passive observer does
   * not, so by default any non-empty SNI counts as found.
   */
  vhostFound?: boolean
}

/** The fields of a TFt value (lib/tf.h `TlsTft`). */
export interface TftFields {
  alpn: number
  hasUnknownAlpn: boolean
  vhostFound: boolean
  isAbbreviated: boolean
  isTls13: boolean
  cipherSuiteHash: number
  extensionTypeHash: number
  ellipticCurveHash: number
}

/** The fields of a TFh value (lib/tf.h `HttpTfh`). */
export interface TfhFields {
  hasReferer: boolean
  headersNum: number
  cookieNum: number
  method: number
  version: number
  summ: number
}

// lib/tf.h: TFW_TF_HASH_CALC_PRIME.
const PRIME = 11
// lib/tf.h: TFW_HTTP_TFH_HEADERS_MAX, TFW_HTTP_TFH_COOKIE_MAX (saturating counters).
const HEADERS_MAX = 63
const COOKIES_MAX = 31
// tls_internal.h: `u16 css[(TTLS_HS_RBUF_SZ - 10 - 256) / 2]` with TTLS_HS_RBUF_SZ = 512
// (ttls.h); suites past the array are skipped without being hashed (TTLS_CH_HS_CS_SKIP).
const MAX_HASHED_CIPHER_SUITES = 123
// tls_internal.h: `unsigned char ext[256]`, the copy of the extension being parsed.
const SCRATCH_BYTES = 256
// ecp.h: TTLS_ECP_DP_MAX.
const ECP_DP_MAX = 12
// The first bytes of that buffer the curve loop can read (see curveHashStep): the 2-byte list
// length, then at most 2 * (ECP_DP_MAX - 1) two-byte values (a list of 11 groups hashes 22).
// Only these are zeroed and copied; the rest of a body is never read.
const SCRATCH_READ_BYTES = 2 + 2 * 2 * (ECP_DP_MAX - 1)
// tls_srv.c `ttls_ext_is_supported`: bodies copied to the scratch buffer before parsing
// (session_ticket, also supported, goes to its own buffer).
function isScratchCopied(type: number): boolean {
  switch (type) {
    case 0x0000:
    case 0x000a:
    case 0x000b:
    case 0x000d:
    case 0x0010:
    case 0x0017:
    case 0xff01:
      return true
    default:
      return false
  }
}
// ttls.h `ttls_alpn_proto_id` as of fw/tls.c 01050e42 (0 means "not configured"): a server
// listening with `proto=h2,https` knows both.
const ALPN_IDS: readonly { name: Uint8Array; id: number }[] = [
  { name: Uint8Array.from('http/1.1', (c) => c.charCodeAt(0)), id: 1 },
  { name: Uint8Array.from('h2', (c) => c.charCodeAt(0)), id: 2 },
]
// Extensions whose presence follows session resumption, as in ja4-stable.ts.
function isResumptionExtension(type: number): boolean {
  return type === 0x0015 || type === 0x0029 || type === 0x002a
}
const EXT_SUPPORTED_GROUPS = 0x000a
const EXT_ALPN = 0x0010
const EXT_SESSION_TICKET = 0x0023
// Up to this many extension types, tft_stable sorts them in place by insertion (no allocation).
const INSERTION_SORT_MAX = 32

// Tempesta's extension buffer (its first SCRATCH_READ_BYTES bytes), reused by every call: the
// fingerprint code is not re-entrant and JS runs one call at a time per isolate.
const scratch = new Uint8Array(SCRATCH_READ_BYTES)
// tft_stable's extension types, reused the same way.
const stableTypes = new KeyBuilder()

/** sum = sum * 11 + value in a C `unsigned short`. */
function acc16(sum: number, value: number): number {
  return (sum * PRIME + value) & 0xffff
}

/** sum = sum * 11 + value in a C `unsigned int` (products stay below 2^53, so exact). */
function acc32(sum: number, value: number): number {
  return (sum * PRIME + value) >>> 0
}

// Character codes of the lower-case hex digits.
const HEX_DIGITS = Uint8Array.from('0123456789abcdef', (c) => c.charCodeAt(0))

/** The character code of the hex digit of `v` at bit `shift`. */
function nibble(v: number, shift: number): number {
  return HEX_DIGITS[(v >>> shift) & 0x0f] ?? 0
}

/**
 * `%llx` of the 64-bit value `hi:lo`: the 16 digits made as one flat string (Number#toString
 * and padStart cost several times more), then the leading zeros dropped.
 */
function hex64(hi: number, lo: number): string {
  const digits = String.fromCharCode(
    nibble(hi, 28),
    nibble(hi, 24),
    nibble(hi, 20),
    nibble(hi, 16),
    nibble(hi, 12),
    nibble(hi, 8),
    nibble(hi, 4),
    nibble(hi, 0),
    nibble(lo, 28),
    nibble(lo, 24),
    nibble(lo, 20),
    nibble(lo, 16),
    nibble(lo, 12),
    nibble(lo, 8),
    nibble(lo, 4),
    nibble(lo, 0),
  )
  const leadingZeros = hi === 0 ? 8 + (Math.clz32(lo) >> 2) : Math.clz32(hi) >> 2
  // Zero itself keeps its last digit.
  return leadingZeros === 0 ? digits : digits.slice(Math.min(leadingZeros, 15))
}

/** RFC 8701 §2: ALPN GREASE identifiers are the two bytes 0x?A 0x?A, both equal. */
function isGreaseAlpn(name: Uint8Array): boolean {
  return name.length === 2 && name[0] === name[1] && ((name[0] ?? 0) & 0x0f) === 0x0a
}

/** The body length of an extension, without making a WireExtension's `data` view. */
function bodyLength(e: TlsExtension): number {
  return e instanceof WireExtension ? e.end - e.start : e.data.length
}

/**
 * Copies the start of the extension body into the scratch buffer, as `memcpy` would, without
 * making a WireExtension's `data` view; returns the body length.
 */
function copyBody(e: TlsExtension): number {
  const wire = e instanceof WireExtension
  const bytes = wire ? e.bytes : e.data
  const start = wire ? e.start : 0
  const length = wire ? e.end - e.start : bytes.length
  const n = Math.min(length, SCRATCH_READ_BYTES)
  for (let i = 0; i < n; i++) scratch[i] = bytes[start + i] ?? 0
  return length
}

/**
 * Copies the supported_groups body with GREASE entries removed into the scratch buffer and
 * returns its length; a malformed body is copied as sent.
 */
function copyGroupsBodyWithoutGrease(e: TlsExtension): number {
  const wire = e instanceof WireExtension
  const body = wire ? e.bytes : e.data
  const start = wire ? e.start : 0
  const length = wire ? e.end - e.start : body.length
  const listBytes = ((body[start] ?? 0) << 8) | (body[start + 1] ?? 0)
  if (length < 2 || listBytes + 2 !== length || listBytes % 2 !== 0) return copyBody(e)
  let kept = 0
  for (let i = 2; i < length; i += 2) {
    const hi = body[start + i] ?? 0
    const lo = body[start + i + 1] ?? 0
    if (isGrease((hi << 8) | lo)) continue
    if (2 + kept < SCRATCH_READ_BYTES) {
      scratch[2 + kept] = hi
      scratch[3 + kept] = lo
    }
    kept += 2
  }
  scratch[0] = kept >> 8
  scratch[1] = kept & 0xff
  return kept + 2
}

/** curveHashStep's answer while the supported_groups extension is still to come. */
const CURVE_PENDING = -1

/**
 * The elliptic-curve hash as tls_srv.c `ttls_parse_supported_elliptic_curves` computes it.
 * NOTE: that loop runs `list_size` times, `list_size` being the list length in bytes (clamped
 * to 11 when the list holds 12 groups or more), so a list of n ≤ 11 groups hashes 2n values:
 * its n groups, then n more read past the list from the scratch buffer, which still holds the
 * bodies of the scratch-copied extensions parsed before it (zeroed at allocation). Emulating the
 * buffer reproduces Tempesta's own published values (`66cb…` in tempesta-test t_tf/test_tf.py is
 * the 10 OpenSSL 3 default groups followed by 10 zero values).
 *
 * One step per scratch-copied extension, in order, from a zeroed buffer: CURVE_PENDING until
 * the hash is known.
 */
function curveHashStep(e: TlsExtension, dropGrease: boolean): number {
  const groups = e.type === EXT_SUPPORTED_GROUPS
  const length = groups && dropGrease ? copyGroupsBodyWithoutGrease(e) : copyBody(e)
  // A larger body makes Tempesta reject the hello ("bad extension size") before parsing it.
  if (length > SCRATCH_BYTES) return 0
  if (!groups) return CURVE_PENDING
  const listBytes = ((scratch[0] ?? 0) << 8) | (scratch[1] ?? 0)
  if (length < 2 || listBytes + 2 !== length || listBytes % 2 !== 0) return 0
  const count = listBytes / 2 + 1 > ECP_DP_MAX ? ECP_DP_MAX - 1 : listBytes
  let sum = 0
  for (let i = 0; i < count; i++) {
    sum = acc16(sum, ((scratch[2 + 2 * i] ?? 0) << 8) | (scratch[3 + 2 * i] ?? 0))
  }
  return sum
}

/** The id of an ALPN protocol name the server knows, else 0. */
function alpnId(name: Uint8Array): number {
  for (const known of ALPN_IDS) {
    const k = known.name
    if (k.length !== name.length) continue
    let i = 0
    while (i < k.length && k[i] === name[i]) i++
    if (i === k.length) return known.id
  }
  return 0
}

/** The ALPN field (bits 0-2) and has_unknown_alpn (bit 3) of the offered names. */
function alpnBits(names: readonly Uint8Array[], dropGrease: boolean): number {
  let alpn = 0
  let unknown = 0
  for (const name of names) {
    if (dropGrease && isGreaseAlpn(name)) continue
    // tls_srv.c `ttls_parse_alpn_ext`: each offered protocol the server knows shifts the 3-bit
    // field left by one and adds its id, in the client's order; any other sets the unknown bit.
    const id = alpnId(name)
    if (id === 0) unknown = 0x08
    else alpn = ((alpn << 1) + id) & 0x07
  }
  return alpn | unknown
}

function vhostFlag(ch: ClientHello, opts: TftOptions | undefined): boolean {
  // fw/tls.c `tfw_tls_sni`: set only for a non-empty server name that maps to a vhost.
  return opts?.vhostFound ?? (ch.sni !== undefined && ch.sni.length > 0)
}

function cipherSuiteHashOf(suites: readonly number[], dropGrease: boolean): number {
  let sum = 0
  let hashed = 0
  for (const cs of suites) {
    if (dropGrease && isGrease(cs)) continue
    if (hashed++ === MAX_HASHED_CIPHER_SUITES) break
    sum = acc16(sum, cs)
  }
  return sum
}

/** The TFt fields of a hello, as Tempesta computes them (see the module comment). */
export function tftFields(ch: ClientHello, opts?: TftOptions): TftFields {
  const drop = opts?.dropGrease === true
  let extensionTypeHash = 0
  let hasAlpn = false
  let ticketSeen = false
  let isAbbreviated = false
  let ellipticCurveHash = CURVE_PENDING
  scratch.fill(0)
  // One pass over the extensions for the type hash, the ALPN and ticket flags and the curve
  // hash. GREASE types are never scratch-copied, ALPN or session_ticket, so dropping them only
  // changes the type hash.
  for (const e of ch.extensions) {
    const type = e.type
    if (drop && isGrease(type)) continue
    extensionTypeHash = acc16(extensionTypeHash, type)
    if (type === EXT_ALPN) hasAlpn = true
    else if (type === EXT_SESSION_TICKET && !ticketSeen) {
      // Tempesta sets is_abbreviated when it accepts the ticket (TLS 1.2 only; it has no TLS 1.3
      // PSK). Passively, a non-empty SessionTicket extension is the resumption attempt.
      ticketSeen = true
      isAbbreviated = bodyLength(e) > 0
    }
    if (ellipticCurveHash === CURVE_PENDING && isScratchCopied(type)) {
      ellipticCurveHash = curveHashStep(e, drop)
    }
  }
  const alpn = hasAlpn ? alpnBits(ch.alpn, drop) : 0
  return {
    alpn: alpn & 0x07,
    hasUnknownAlpn: (alpn & 0x08) !== 0,
    vhostFound: vhostFlag(ch, opts),
    isAbbreviated,
    // tls_srv.c TTLS_CH_HS_VER: "TODO #1031 … Now its always 1.2".
    isTls13: false,
    cipherSuiteHash: cipherSuiteHashOf(ch.cipherSuites, drop),
    extensionTypeHash,
    ellipticCurveHash: ellipticCurveHash === CURVE_PENDING ? 0 : ellipticCurveHash,
  }
}

/** The 64-bit TFt value of the fields, as Tempesta prints it. */
export function tftHex(f: TftFields): string {
  // lib/tf.h: byte 0 = alpn:3, has_unknown_alpn:1, vhost_found:1, is_abbreviated:1,
  // is_tls1_3:1; byte 1 padding; then three unsigned shorts.
  const flags =
    (f.alpn & 0x07) |
    (f.hasUnknownAlpn ? 0x08 : 0) |
    (f.vhostFound ? 0x10 : 0) |
    (f.isAbbreviated ? 0x20 : 0) |
    (f.isTls13 ? 0x40 : 0)
  const hi = ((f.ellipticCurveHash << 16) | f.extensionTypeHash) >>> 0
  const lo = ((f.cipherSuiteHash << 16) | flags) >>> 0
  return hex64(hi, lo)
}

/**
 * Tempesta FW TFt of a ClientHello: lower-case hex as in its access log and `tft` config.
 * GREASE values count, as in Tempesta, unless `dropGrease`.
 */
export function tft(hello: ClientHello, opts?: TftOptions): string {
  return tftHex(tftFields(hello, opts))
}

/** Sorts `v[0 .. n)` ascending in place. */
function sortPrefix(v: Uint16Array, n: number): void {
  if (n > INSERTION_SORT_MAX) {
    v.subarray(0, n).sort()
    return
  }
  for (let i = 1; i < n; i++) {
    const x = v[i] ?? 0
    let j = i - 1
    while (j >= 0 && (v[j] ?? 0) > x) {
      v[j + 1] = v[j] ?? 0
      j--
    }
    v[j + 1] = x
  }
}

/**
 * `tft_stable` (a tlsight variant Tempesta does not accept): TFt of the hello without GREASE,
 * without the resumption-dependent padding / pre_shared_key / early_data extensions, with the
 * extension types hashed in ascending order (browsers permute them per connection), the curve
 * hash over the group list alone (no bytes read past it) and is_abbreviated cleared.
 */
export function tftStable(hello: ClientHello, opts?: Pick<TftOptions, 'vhostFound'>): string {
  const types = stableTypes.reset()
  let hasAlpn = false
  for (const e of hello.extensions) {
    const t = e.type
    if (t === EXT_ALPN) hasAlpn = true
    if (!isGrease(t) && !isResumptionExtension(t)) types.push(t)
  }
  sortPrefix(types.values, types.length)
  let extensionTypeHash = 0
  for (let i = 0; i < types.length; i++) {
    extensionTypeHash = acc16(extensionTypeHash, types.values[i] ?? 0)
  }
  let ellipticCurveHash = 0
  for (const g of hello.supportedGroups)
    if (!isGrease(g)) ellipticCurveHash = acc16(ellipticCurveHash, g)
  // The flags of tftFields(hello, { dropGrease: true, ...opts }), is_abbreviated cleared.
  const alpn = hasAlpn ? alpnBits(hello.alpn, true) : 0
  return tftHex({
    alpn: alpn & 0x07,
    hasUnknownAlpn: (alpn & 0x08) !== 0,
    vhostFound: vhostFlag(hello, opts),
    isAbbreviated: false,
    isTls13: false,
    cipherSuiteHash: cipherSuiteHashOf(hello.cipherSuites, true),
    extensionTypeHash,
    ellipticCurveHash,
  })
}

// fw/http.h `tfw_http_meth_t`; anything else is _TFW_HTTP_METH_UNKNOWN. The HTTP/1 parser
// matches method names case-sensitively.
const METHODS: ReadonlyMap<string, number> = new Map([
  ['COPY', 1],
  ['DELETE', 2],
  ['GET', 3],
  ['HEAD', 4],
  ['LOCK', 5],
  ['MKCOL', 6],
  ['MOVE', 7],
  ['OPTIONS', 8],
  ['PATCH', 9],
  ['POST', 10],
  ['PROPFIND', 11],
  ['PROPPATCH', 12],
  ['PUT', 13],
  ['TRACE', 14],
  ['UNLOCK', 15],
  ['PURGE', 16],
])
const METHOD_UNKNOWN = 17

// fw/http.h `tfw_http_hdr_t` ids of the request headers fw/http_parser.c tags as special
// (TFW_HTTP_PARSE_SPECHDR_VAL); every other header is TFW_HTTP_HDR_RAW and hashed by prefix.
const SPECIAL_HEADERS: ReadonlyMap<string, number> = new Map([
  ['host', 4],
  ['content-length', 5],
  ['content-type', 7],
  ['expect', 8],
  ['user-agent', 9],
  ['cookie', 10],
  ['referer', 11],
  ['if-none-match', 12],
  ['x-tempesta-cache', 13],
  ['connection', 15],
  ['x-forwarded-for', 17],
  ['forwarded', 18],
  ['keep-alive', 19],
  ['transfer-encoding', 20],
  ['content-encoding', 21],
  ['upgrade', 22],
])

/**
 * http_msg.c `tfw_http_req_calc_tfh_summ_for_raw_hdr`: the first four bytes of the stored
 * header, read as a little-endian integer (fewer bytes leave the high bytes zero). The stored
 * HTTP/1 header is `name`, `:`, the whitespace, the value; the whitespace was trimmed from our
 * record, so one SP is assumed (it only matters for names shorter than three characters).
 */
function rawHeaderPrefix(name: string, value: string): number {
  const s = `${name}: ${value}`
  let v = 0
  for (let i = 0; i < 4 && i < s.length; i++) v += (s.charCodeAt(i) & 0xff) * 2 ** (8 * i)
  return v
}

/** The TFh fields of a request head (see the module comment). */
export function tfhFields(req: HttpRequest): TfhFields {
  let summ = 0
  let headers = 0
  let cookies = 0
  let hasReferer = false
  for (const h of req.headers) {
    const lower = h.name.toLowerCase()
    const id = SPECIAL_HEADERS.get(lower)
    headers++
    summ = acc32(summ, id ?? rawHeaderPrefix(h.name, h.value))
    if (lower === 'referer') hasReferer = true
    // http_parser.c `__req_parse_cookie`: +1 each time a cookie-pair starts.
    if (lower === 'cookie') cookies += h.value.split(';').length
  }
  return {
    hasReferer,
    headersNum: Math.min(headers, HEADERS_MAX),
    cookieNum: Math.min(cookies, COOKIES_MAX),
    method: METHODS.get(req.method) ?? METHOD_UNKNOWN,
    // lib/tf.h: TFW_HTTP_TFH_HTTP_REQ = 0, TFW_HTTP_TFH_HTTP2_REQ = 1.
    version: req.version === 20 ? 1 : 0,
    summ,
  }
}

/** The 64-bit TFh value of the fields, as Tempesta prints it. */
export function tfhHex(f: TfhFields): string {
  // lib/tf.h: padding:6, has_referer:1, headers_num:6, cookie_num:5, method:5, version:1 in the
  // low 32 bits; summ in the high 32 bits.
  const lo =
    ((f.hasReferer ? 1 : 0) << 6) |
    ((f.headersNum & 0x3f) << 7) |
    ((f.cookieNum & 0x1f) << 13) |
    ((f.method & 0x1f) << 18) |
    ((f.version & 0x01) << 23)
  return hex64(f.summ >>> 0, lo >>> 0)
}

/**
 * Tempesta FW TFh of a request head: lower-case hex as in its access log and `tfh` config.
 * Exact for HTTP/1.x; for HTTP/2 Tempesta also hashes the pseudo-header fields, which the
 * request record does not carry (see docs/tempesta.md).
 */
export function tfh(req: HttpRequest): string {
  return tfhHex(tfhFields(req))
}
